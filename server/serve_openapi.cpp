// GET /openapi.json: the OpenAPI 3.0 description of `sealsum serve` (see serve_api.h for the
// request rules this mirrors).
#include <nlohmann/json.hpp>

#include "server/serve_api.h"

namespace sealsum::server {

std::string openapi_json(const ApiLimits& limits) {
  using json = nlohmann::json;
  const json error = {{"type", "object"},
                      {"properties", {{"error", {{"type", "string"}}}, {"message", {{"type", "string"}}}}}};
  const json request = {
      {"type", "object"},
      {"additionalProperties", false},
      {"description", "Exactly one of text (when the server allows plaintext input) or document."},
      {"properties",
       {{"text", {{"type", "string"}, {"maxLength", limits.max_text_bytes}}},
        {"document", {{"type", "string"}, {"pattern", "^[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}$"}}},
        {"num_beams", {{"type", "integer"}, {"minimum", 1}, {"maximum", limits.max_beams}}},
        {"max_length", {{"type", "integer"}, {"minimum", 2}, {"maximum", limits.max_length}}},
        {"max_new_tokens", {{"type", "integer"}, {"minimum", 1}, {"maximum", limits.max_length - 1}}},
        {"min_length", {{"type", "integer"}, {"minimum", 0}, {"maximum", limits.max_length - 1}}},
        {"length_penalty", {{"type", "number"}, {"minimum", -8}, {"maximum", 8}}},
        {"repetition_penalty", {{"type", "number"}, {"minimum", 1}, {"maximum", 4}}},
        {"no_repeat_ngram_size", {{"type", "integer"}, {"minimum", 0}, {"maximum", 8}}},
        {"early_stopping", {{"oneOf", json::array({{{"type", "boolean"}}, {{"type", "string"}, {"enum", {"never"}}}})}}},
        {"truncate", {{"type", "boolean"}, {"default", true}}}}}};
  const json timings = {{"type", "object"}, {"additionalProperties", {{"type", "number"}}}};
  const json response = {
      {"type", "object"},
      {"properties",
       {{"summary", {{"type", "string"}, {"description", "absent when the document's policy seals the output"}}},
        {"sealed_summary",
         {{"type", "object"},
          {"description", "the summary sealed to the consumer's key, padded to a size bucket; when present it is "
                          "the only member (no token counts, truncation flag or timings)"}}},
        {"input_tokens", {{"type", "integer"}}},
        {"output_tokens", {{"type", "integer"}}},
        {"truncated", {{"type", "boolean"}}},
        {"timings", timings}}}};
  auto answer = [&](const char* desc, const json& schema) {
    return json{{"description", desc}, {"content", {{"application/json", {{"schema", schema}}}}}};
  };
  json spec = {
      {"openapi", "3.0.3"},
      {"info", {{"title", "sealsum serve"}, {"version", "1"},
                {"description", "Confidential T5/BART summarization inside an attested SEV-SNP guest."}}},
      {"paths",
       {{"/v1/summarize",
         {{"post",
           {{"requestBody", {{"required", true}, {"content", {{"application/json", {{"schema", request}}}}}}},
            {"responses",
             {{"200", answer("the summary", response)},
              {"400", answer("malformed request or parameter out of range", error)},
              {"403", answer("plaintext input not allowed by the server policy, or the document's output "
                             "policies disagree",
                             error)},
              {"404", answer("unknown document", error)},
              {"413", answer("body, text or input tokens over the limit", error)},
              {"503", answer("queue full; retry after the Retry-After header's seconds", error)}}}}}}},
        {"/v1/attestation",
         {{"get",
           {{"parameters",
             json::array({{{"name", "nonce"}, {"in", "query"}, {"required", true},
                           {"schema", {{"type", "string"}, {"pattern", "^[A-Za-z0-9_-]{16,128}$"}}}}})},
            {"responses",
             {{"200", answer("evidence; REPORT_DATA[0:32] = SHA-256(runtime_data), which names the nonce "
                             "and the server's TLS public key",
                             json{{"type", "object"}})},
              {"400", answer("missing or malformed nonce", error)}}}}}}},
        {"/v1/documents",
         {{"get",
           {{"responses",
             {{"200", answer("document ids", json{{"type", "object"}})},
              {"503", answer("the document store (directory or blob container) cannot be listed", error)}}}}}}},
        {"/v1/info", {{"get", {{"responses", {{"200", answer("model, mode, limits", json{{"type", "object"}})}}}}}}},
        {"/healthz", {{"get", {{"responses", {{"200", {{"description", "ok"}}}}}}}}},
        {"/metrics", {{"get", {{"responses", {{"200", {{"description", "Prometheus text format"}}}}}}}}},
        {"/", {{"get", {{"responses", {{"200", {{"description", "the web page"}}}}}}}}}}}};
  return spec.dump(2);
}

}  // namespace sealsum::server
