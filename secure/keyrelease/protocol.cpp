// Wire messages of the key-release protocol (see protocol.h for the protocol itself).
#include "secure/keyrelease/protocol.h"

#include "secure/bounded_json.h"
#include "common/encoding.h"
#include "common/json_access.h"

namespace sealsum::secure::keyrelease {
namespace {

using nlohmann::json;

// Outside bytes: limits checked before any DOM (bounded_json.h). The largest member allowed below
// is the 256 KiB UVM endorsement; release requests nest two levels (request -> evidence), runtime
// data four (data -> keys -> JWK -> key_ops).
Result<json> parse_object(std::string_view text, const char* what) {
  JsonLimits limits;
  limits.max_bytes = kMaxRequestBytes;
  limits.max_depth = 6;
  limits.max_elements = 64;
  limits.max_string_bytes = 256 * 1024;
  auto parsed = parse_bounded_json(text, limits, what);
  if (!parsed.ok()) return invalid_argument(parsed.status().message());
  json j = std::move(parsed).value();
  if (!j.is_object()) return invalid_argument(std::string(what) + " is not a JSON object");
  return j;
}

// A string member through the checked accessors (common/json_access.h); an absent optional one is "".
Result<std::string> get_string(const json& j, const char* member, const char* what, size_t max_len, bool required) {
  const json_access::Where where{what, Code::kInvalidArgument};
  if (required) return json_access::string_member(j, member, where, max_len);
  SEALSUM_ASSIGN_OR_RETURN(std::optional<std::string> s, json_access::optional_string(j, member, where, max_len));
  return s.value_or(std::string());
}

Result<std::vector<uint8_t>> get_b64(const json& j, const char* member, const char* what, size_t max_len,
                                     bool required) {
  SEALSUM_ASSIGN_OR_RETURN(std::string s, get_string(j, member, what, max_len, required));
  if (s.empty()) return std::vector<uint8_t>();
  auto r = encoding::base64_decode(s, std::string(what) + " \"" + member + "\"");
  if (!r.ok()) return invalid_argument(r.status().message());
  return r;
}

}  // namespace

std::vector<uint8_t> release_wrap_label(std::string_view key_id, std::string_view output_policy) {
  static constexpr std::string_view kLabel = "sealsum-kbs-release-v1";
  std::vector<uint8_t> out;
  out.reserve(kLabel.size() + key_id.size() + output_policy.size() + 2);
  auto append = [&out](std::string_view s) { out.insert(out.end(), s.begin(), s.end()); };
  append(kLabel);
  out.push_back(0);
  append(key_id);
  out.push_back(0);
  append(output_policy);
  return out;
}

std::string make_runtime_data(const RsaPublicKey& ephemeral, std::string_view nonce,
                              const std::optional<attest::ModelDigests>& model) {
  json jwk = ephemeral.to_jwk();
  jwk["kid"] = kEphemeralKid;
  jwk["key_ops"] = json::array({"encrypt"});
  json rt = {{"keys", json::array({jwk})}};
  if (!nonce.empty()) rt["nonce"] = std::string(nonce);
  if (model) rt["model"] = attest::model_digests_json(*model);
  return rt.dump();
}

Result<RuntimeData> parse_runtime_data(std::string_view bytes) {
  if (bytes.size() > kMaxRuntimeDataBytes) {
    return invalid_argument("runtime data is " + std::to_string(bytes.size()) + " bytes; limit " +
                            std::to_string(kMaxRuntimeDataBytes));
  }
  SEALSUM_ASSIGN_OR_RETURN(json j, parse_object(bytes, "runtime data"));
  RuntimeData out;
  SEALSUM_ASSIGN_OR_RETURN(out.nonce, get_string(j, "nonce", "runtime data", 256, false));
  auto keys = j.find("keys");
  if (keys == j.end() || !keys->is_array() || keys->size() != 1 || !(*keys)[0].is_object()) {
    return invalid_argument("runtime data \"keys\" must be an array of exactly one JWK");
  }
  out.key_jwk = (*keys)[0];
  return out;
}

json evidence_to_json(const attest::SnpEvidence& e) {
  json j = {{"report", encoding::base64url_encode(e.report)}};
  if (!e.signing_cert.empty()) {
    j["signing_cert"] = encoding::base64url_encode(e.signing_cert);
    j["cert_kind"] = e.cert_kind == attest::CertKind::kVlek ? "vlek" : "vcek";
  }
  if (!e.chain_pem.empty()) j["cert_chain"] = e.chain_pem;
  if (e.uvm_endorsement) j["uvm_endorsement"] = encoding::base64url_encode(*e.uvm_endorsement);
  return j;
}

Result<attest::SnpEvidence> evidence_from_json(const json& j) {
  const char* what = "evidence";
  if (!j.is_object()) return invalid_argument("\"evidence\" is not a JSON object");
  attest::SnpEvidence e;
  SEALSUM_ASSIGN_OR_RETURN(e.report, get_b64(j, "report", what, 64 * 1024, true));
  SEALSUM_ASSIGN_OR_RETURN(e.signing_cert, get_b64(j, "signing_cert", what, 64 * 1024, false));
  SEALSUM_ASSIGN_OR_RETURN(std::string kind, get_string(j, "cert_kind", what, 8, false));
  if (kind == "vlek") e.cert_kind = attest::CertKind::kVlek;
  else if (kind.empty() || kind == "vcek") e.cert_kind = attest::CertKind::kVcek;
  else return invalid_argument("evidence \"cert_kind\" must be \"vcek\" or \"vlek\"");
  SEALSUM_ASSIGN_OR_RETURN(e.chain_pem, get_string(j, "cert_chain", what, 64 * 1024, false));
  SEALSUM_ASSIGN_OR_RETURN(std::vector<uint8_t> endorsement, get_b64(j, "uvm_endorsement", what, 256 * 1024, false));
  if (!endorsement.empty()) e.uvm_endorsement = std::move(endorsement);
  return e;
}

std::string encode_release_request(const ReleaseRequest& r) {
  json j = {{"key_id", r.key_id},
            {"runtime_data", encoding::base64url_encode(encoding::as_bytes(r.runtime_data))},
            {"evidence", evidence_to_json(r.evidence)}};
  return j.dump();
}

Result<ReleaseRequest> parse_release_request(std::string_view body) {
  if (body.size() > kMaxRequestBytes) {
    return resource_exhausted("release request is " + std::to_string(body.size()) + " bytes; limit " +
                              std::to_string(kMaxRequestBytes));
  }
  SEALSUM_ASSIGN_OR_RETURN(json j, parse_object(body, "release request"));
  ReleaseRequest r;
  SEALSUM_ASSIGN_OR_RETURN(r.key_id, get_string(j, "key_id", "release request", 64, true));
  SEALSUM_ASSIGN_OR_RETURN(std::vector<uint8_t> rt,
                           get_b64(j, "runtime_data", "release request", kMaxRuntimeDataBytes * 2, true));
  r.runtime_data.assign(rt.begin(), rt.end());
  auto ev = j.find("evidence");
  if (ev == j.end()) return invalid_argument("release request lacks \"evidence\"");
  SEALSUM_ASSIGN_OR_RETURN(r.evidence, evidence_from_json(*ev));
  return r;
}

std::string Refusal::to_json() const {
  return json{{"error", error}, {"check", check}, {"reason", reason}}.dump();
}

Refusal parse_refusal(int http_status, std::string_view body) {
  Refusal r;
  r.http_status = http_status;
  r.error = "http_" + std::to_string(http_status);
  if (body.size() > 64 * 1024) return r;
  json j = json::parse(body, nullptr, false);
  if (j.is_object()) {
    auto take = [&j](const char* k, std::string& out) {
      auto it = j.find(k);
      if (it != j.end() && it->is_string()) out = it->get<std::string>().substr(0, 4096);
    };
    take("error", r.error);
    take("check", r.check);
    take("reason", r.reason);
  }
  return r;
}

}  // namespace sealsum::secure::keyrelease
