// Request parsing and limits of the serve API (see serve_api.h).
#include "server/serve_api.h"

#include <cmath>

#include <nlohmann/json.hpp>

#include "secure/bounded_json.h"

namespace sealsum::server {
namespace {

using json = nlohmann::json;

ApiError bad(std::string message) { return {400, "bad_request", std::move(message)}; }

// Reads an integer member in [lo, hi]; sets err on a wrong type or range.
bool read_int(const json& v, const char* name, int lo, int hi, std::optional<int>& out, ApiError& err) {
  if (!v.is_number_integer()) {
    err = bad(std::string("\"") + name + "\" must be an integer");
    return false;
  }
  const auto x = v.get<int64_t>();
  if (x < lo || x > hi) {
    err = bad(std::string("\"") + name + "\" must be in " + std::to_string(lo) + ".." + std::to_string(hi));
    return false;
  }
  out = static_cast<int>(x);
  return true;
}

bool read_double(const json& v, const char* name, double lo, double hi, std::optional<double>& out, ApiError& err) {
  if (!v.is_number()) {
    err = bad(std::string("\"") + name + "\" must be a number");
    return false;
  }
  const double x = v.get<double>();
  if (!std::isfinite(x) || x < lo || x > hi) {
    err = bad(std::string("\"") + name + "\" must be a number in [" + json(lo).dump() + ", " + json(hi).dump() + "]");
    return false;
  }
  out = x;
  return true;
}

}  // namespace

std::string ApiError::to_json() const {
  return json{{"error", code}, {"message", message}}.dump(-1, ' ', false, json::error_handler_t::replace);
}

bool valid_document_id(std::string_view id) {
  if (id.empty() || id.size() > 128 || id.front() == '.') return false;
  for (char c : id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                    c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

ParsedRequest parse_summarize_request(std::string_view body, const ApiLimits& limits) {
  ParsedRequest out;
  if (body.size() > limits.max_body_bytes) {
    out.error = {413, "too_large", "request body exceeds " + std::to_string(limits.max_body_bytes) + " bytes"};
    return out;
  }
  // Limits before any DOM: one flat object of at most kMaxMembers members; no string beyond the
  // text limit (a longer "text" is the 413 below, any other over-long string is refused here).
  secure::JsonLimits jl;
  jl.max_bytes = limits.max_body_bytes;
  jl.max_depth = 2;
  jl.max_elements = 64;
  jl.max_string_bytes = limits.max_text_bytes;
  auto parsed = secure::parse_bounded_json(body, jl, "request body");
  if (!parsed.ok()) {
    const bool limit = parsed.status().code() == Code::kResourceExhausted;
    out.error = limit ? ApiError{413, "too_large", parsed.status().message()} : bad(parsed.status().message());
    return out;
  }
  json j = std::move(parsed).value();
  if (!j.is_object()) {
    out.error = bad("request body must be a JSON object");
    return out;
  }
  SummarizeRequest r;
  ApiError& err = out.error;
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string& k = it.key();
    const json& v = it.value();
    bool ok = true;
    if (k == "text") {
      if (!v.is_string()) {
        err = bad("\"text\" must be a string");
        return out;
      }
      if (v.get_ref<const std::string&>().size() > limits.max_text_bytes) {
        err = {413, "too_large", "\"text\" exceeds " + std::to_string(limits.max_text_bytes) + " bytes"};
        return out;
      }
      r.text = v.get<std::string>();
    } else if (k == "document") {
      if (!v.is_string() || !valid_document_id(v.get_ref<const std::string&>())) {
        err = bad("\"document\" must be a document id (1..128 of [A-Za-z0-9._-], not starting with '.')");
        return out;
      }
      r.document = v.get<std::string>();
    } else if (k == "num_beams") {
      ok = read_int(v, "num_beams", 1, limits.max_beams, r.params.num_beams, err);
    } else if (k == "max_length") {
      ok = read_int(v, "max_length", 2, limits.max_length, r.params.max_length, err);
    } else if (k == "max_new_tokens") {
      ok = read_int(v, "max_new_tokens", 1, limits.max_length - 1, r.params.max_new_tokens, err);
    } else if (k == "min_length") {
      ok = read_int(v, "min_length", 0, limits.max_length - 1, r.params.min_length, err);
    } else if (k == "no_repeat_ngram_size") {
      ok = read_int(v, "no_repeat_ngram_size", 0, 8, r.params.no_repeat_ngram_size, err);
    } else if (k == "length_penalty") {
      ok = read_double(v, "length_penalty", -8, 8, r.params.length_penalty, err);
    } else if (k == "repetition_penalty") {
      ok = read_double(v, "repetition_penalty", 1, 4, r.params.repetition_penalty, err);
    } else if (k == "early_stopping") {
      if (v.is_boolean()) {
        r.params.early_stopping = v.get<bool>() ? decoding::EarlyStopping::kTrue : decoding::EarlyStopping::kFalse;
      } else if (v.is_string() && v.get_ref<const std::string&>() == "never") {
        r.params.early_stopping = decoding::EarlyStopping::kNever;
      } else {
        err = bad("\"early_stopping\" must be true, false or \"never\"");
        return out;
      }
    } else if (k == "truncate") {
      if (!v.is_boolean()) {
        err = bad("\"truncate\" must be a boolean");
        return out;
      }
      r.truncate = v.get<bool>();
    } else {
      // The member name is the caller's own input but is not document text; cap its length anyway.
      err = bad("unknown member \"" + k.substr(0, 64) + "\" (see GET /openapi.json)");
      return out;
    }
    if (!ok) return out;
  }
  if (r.text.has_value() == r.document.has_value()) {
    err = bad("give exactly one of \"text\" or \"document\"");
    return out;
  }
  out.request = std::move(r);
  return out;
}

std::optional<ApiError> apply_overrides(const ParamOverrides& o, const ApiLimits& limits,
                                        decoding::GenerationParams& p) {
  if (o.num_beams) p.num_beams = *o.num_beams;
  if (o.max_length) {
    p.max_length = *o.max_length;
    p.max_new_tokens.reset();
  }
  if (o.max_new_tokens) p.max_new_tokens = *o.max_new_tokens;
  if (o.min_length) p.min_length = *o.min_length;
  if (o.no_repeat_ngram_size) p.no_repeat_ngram_size = *o.no_repeat_ngram_size;
  if (o.length_penalty) p.length_penalty = *o.length_penalty;
  if (o.repetition_penalty) p.repetition_penalty = *o.repetition_penalty;
  if (o.early_stopping) p.early_stopping = *o.early_stopping;
  p.num_return_sequences = 1;
  // The model's own defaults may exceed the service limits (e.g. a 4-beam, 200-token config is
  // fine; a 16-beam one is not): the limits bind whatever the source of the value.
  if (p.num_beams < 1 || p.num_beams > limits.max_beams) {
    return bad("num_beams (" + std::to_string(p.num_beams) + ") must be in 1.." + std::to_string(limits.max_beams));
  }
  const int max_len = decoding::effective_max_length(p);
  if (max_len > limits.max_length) {
    if (o.max_length || o.max_new_tokens) {
      return bad("the maximum length (" + std::to_string(max_len) + ") must be <= " + std::to_string(limits.max_length));
    }
    p.max_length = limits.max_length;  // a model default above the service limit is clamped
    p.max_new_tokens.reset();
  }
  if (p.min_length >= decoding::effective_max_length(p)) {
    return bad("min_length (" + std::to_string(p.min_length) + ") must be below the maximum length (" +
               std::to_string(decoding::effective_max_length(p)) + ")");
  }
  return std::nullopt;
}

}  // namespace sealsum::server
