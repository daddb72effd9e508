// The JSON API of `sealsum serve`: request parsing and limits, kept free of HTTP and of the engine so
// it can be unit-tested and fuzzed (serve_api_fuzz.cpp).
//
// POST /v1/summarize body (one JSON object; unknown members are refused so a typo never silently
// falls back to a default):
//   {"text": "..."}            plaintext input (only when the server's policy allows it: --dev or
//                              --allow-plaintext-input), or
//   {"document": "ID"}         a sealed document of the server's --documents directory,
//   plus optional generation parameters, each range-checked:
//     num_beams 1..8, max_length 2..512, max_new_tokens 1..511, min_length 0..511 (< max length),
//     length_penalty -8..8, no_repeat_ngram_size 0..8, repetition_penalty 1..4 (>= 1),
//     early_stopping true|false|"never", truncate (bool, default true: over-long inputs are cut to
//     the model's limit; false: refuse them with 413).
// Failures are ApiError{http status, code, message}; messages name the member and the limit and
// never echo the request's text.
// Thread safety: free functions are reentrant.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"
#include "engine/decoding/generation.h"

namespace sealsum::server {

struct ApiLimits {
  size_t max_body_bytes = 1u << 20;   // larger bodies: 413 before parsing
  size_t max_text_bytes = 256u << 10; // "text" longer than this: 413
  int max_beams = 8;
  int max_length = 512;
};

struct ApiError {
  int http_status = 400;
  std::string code;     // "bad_request", "too_large", "not_found", "forbidden", "busy", "internal"
  std::string message;  // safe to show: names members and limits, never content
  std::string to_json() const;
};

// Generation overrides a request may carry (absent = the model's summarization default).
struct ParamOverrides {
  std::optional<int> num_beams, max_length, max_new_tokens, min_length, no_repeat_ngram_size;
  std::optional<double> length_penalty, repetition_penalty;
  std::optional<decoding::EarlyStopping> early_stopping;
};

struct SummarizeRequest {
  std::optional<std::string> text;      // exactly one of text / document
  std::optional<std::string> document;
  ParamOverrides params;
  bool truncate = true;
};

// Parses and range-checks a request body. `body` may be any bytes (bounded by limits.max_body_bytes).
// The returned variant is either the request or the error to answer with.
struct ParsedRequest {
  std::optional<SummarizeRequest> request;
  ApiError error;
  bool ok() const { return request.has_value(); }
};
ParsedRequest parse_summarize_request(std::string_view body, const ApiLimits& limits);

// Applies overrides to `params` (which starts as the engine's defaults) and re-checks the
// combination (min_length below the effective max length, ...). 400 ApiError on failure.
std::optional<ApiError> apply_overrides(const ParamOverrides& o, const ApiLimits& limits,
                                        decoding::GenerationParams& params);

// Document ids name files in the documents directory: 1..128 of [A-Za-z0-9._-], not starting with '.'.
bool valid_document_id(std::string_view id);

// The OpenAPI 3.0 description served at GET /openapi.json.
std::string openapi_json(const ApiLimits& limits);

}  // namespace sealsum::server
