// Bounded reads of small files and streams (configs, certificates, policies, sealed documents,
// CLI input). Not for secrets: the bytes land in a std::string (secret files use
// secure/keys.h read_secret_file, which reads into locked memory).
//
// read_stream_bounded: reads `in` to its end; kResourceExhausted as soon as more than `limit`
// bytes arrived (it never holds more than limit + one buffer), kDataLoss on a read error. `name`
// labels the input in messages.
// read_file_bounded: the same for the file at `path`; kNotFound when it cannot be opened.
// Thread safety: reentrant.
#pragma once

#include <filesystem>
#include <istream>
#include <string>
#include <string_view>

#include "common/status.h"

namespace sealsum {

Result<std::string> read_stream_bounded(std::istream& in, size_t limit, std::string_view name);
Result<std::string> read_file_bounded(const std::filesystem::path& path, size_t limit);

}  // namespace sealsum
