// Bounded whole-file reads for the converter. Errors name the file; nothing is logged.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/status.h"

namespace sealsum::convert {

// The file's bytes; kNotFound if it cannot be opened, kResourceExhausted above max_bytes.
Result<std::vector<uint8_t>> read_file_bytes(const std::string& path, uint64_t max_bytes);
// A JSON object from a file of at most max_bytes; kDataLoss naming the file if it does not parse
// or is not an object.
Result<nlohmann::json> read_json_object(const std::string& path, uint64_t max_bytes = 16u << 20);

}  // namespace sealsum::convert
