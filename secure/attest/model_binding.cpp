// Model binding in runtime data (see model_binding.h).
#include "secure/attest/model_binding.h"
#include "common/encoding.h"

#include <algorithm>

#include "secure/attest/azure_inputs.h"

namespace sealsum::secure::attest {
namespace {

using nlohmann::json;

json hex_or_null(const std::optional<Digest256>& d) { return d ? json(to_hex(*d)) : json(nullptr); }

Result<std::optional<Digest256>> digest_member(const json& model, const char* key) {
  auto it = model.find(key);
  if (it == model.end() || it->is_null()) return std::optional<Digest256>();
  if (!it->is_string()) return invalid_argument(std::string("runtime data model.") + key + " must be hex or null");
  auto bytes = encoding::hex_decode(it->get_ref<const std::string&>());
  if (!bytes.ok() || bytes->size() != 32) {
    return invalid_argument(std::string("runtime data model.") + key + " must be 64 hex digits");
  }
  Digest256 d{};
  std::copy(bytes->begin(), bytes->end(), d.begin());
  return std::optional<Digest256>(d);
}

}  // namespace

json model_digests_json(const ModelDigests& m) {
  return json{{"sealed_sha256", hex_or_null(m.sealed_sha256)}, {"sha256", hex_or_null(m.sha256)}};
}

Result<std::optional<ModelDigests>> model_digests_from_runtime_data(std::span<const uint8_t> runtime_data) {
  json j = json::parse(runtime_data.begin(), runtime_data.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return std::optional<ModelDigests>();
  auto it = j.find("model");
  if (it == j.end()) return std::optional<ModelDigests>();
  if (!it->is_object()) return invalid_argument("runtime data \"model\" must be an object");
  for (const auto& [k, v] : it->items()) {
    if (k != "sha256" && k != "sealed_sha256") return invalid_argument("runtime data model." + k + " is not a model digest");
  }
  ModelDigests m;
  SEALSUM_ASSIGN_OR_RETURN(m.sha256, digest_member(*it, "sha256"));
  SEALSUM_ASSIGN_OR_RETURN(m.sealed_sha256, digest_member(*it, "sealed_sha256"));
  return std::optional<ModelDigests>(m);
}

bool model_matches(const ModelDigests& m, const std::vector<std::array<uint8_t, 32>>& pins) {
  return std::any_of(pins.begin(), pins.end(), [&m](const std::array<uint8_t, 32>& p) {
    return (m.sha256 && *m.sha256 == p) || (m.sealed_sha256 && *m.sealed_sha256 == p);
  });
}

std::string describe(const ModelDigests& m) {
  return "sha256 " + (m.sha256 ? to_hex(*m.sha256) : std::string("(none)")) + ", sealed_sha256 " +
         (m.sealed_sha256 ? to_hex(*m.sealed_sha256) : std::string("(none)"));
}

}  // namespace sealsum::secure::attest
