// A JSON reader for hostile bodies: limits on nesting depth, element count and string length are
// checked by a SAX pass (nlohmann::json::sax_parse) that keeps only counters, so `[[[[...` or a
// million tiny elements cost no memory beyond the body itself; only a body within every limit is
// then built into a DOM (whose size the limits bound).
// Used for `sealsum serve`'s /v1/summarize bodies and the key broker's /v1/release bodies.
// Failure: kInvalidArgument "<what> is not valid JSON", or kResourceExhausted naming the limit
// (nesting depth, elements, string bytes, body bytes). Never echoes the input.
// Thread safety: reentrant.
#pragma once

#include <cstddef>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/status.h"

namespace sealsum::secure {

struct JsonLimits {
  size_t max_bytes = 1u << 20;        // the whole text
  size_t max_depth = 8;               // nested objects/arrays (the top level counts 1)
  size_t max_elements = 256;          // values, keys included
  size_t max_string_bytes = 64u << 10;  // any one string or key, as decoded
};

Result<nlohmann::json> parse_bounded_json(std::string_view text, const JsonLimits& limits, const char* what);

}  // namespace sealsum::secure
