// BrokerClient and the hardware evidence source (see client.h).
#include "secure/keyrelease/client.h"

#include <nlohmann/json.hpp>

#include "common/files.h"
#include "secure/attest/azure_inputs.h"
#include "secure/attest/security_context.h"
#include "secure/attest/sev_guest.h"
#include "common/encoding.h"
#include "common/json_access.h"
#include "secure/keyrelease/protocol.h"
#include "secure/keyrelease/rsa.h"

namespace sealsum::secure::keyrelease {

Result<attest::SnpEvidence> HardwareEvidenceSource::load_certificates() const {
  return load_evidence_certificates(options_);
}

Result<attest::SnpEvidence> load_evidence_certificates(const HardwareEvidenceOptions& options_) {
  attest::SnpEvidence e;
  if (options_.security_context_dir) {
    SEALSUM_ASSIGN_OR_RETURN(attest::SecurityContext ctx, attest::read_security_context(*options_.security_context_dir));
    e.signing_cert.assign(ctx.host_amd_cert.vcek_pem.begin(), ctx.host_amd_cert.vcek_pem.end());
    e.chain_pem = ctx.host_amd_cert.chain_pem;
    e.uvm_endorsement = std::move(ctx.uvm_endorsement);
    return e;
  }
  if (options_.host_amd_cert_json) {
    SEALSUM_ASSIGN_OR_RETURN(std::string json, read_file_bounded(*options_.host_amd_cert_json, 1 << 20));
    SEALSUM_ASSIGN_OR_RETURN(attest::HostAmdCertificate hc, attest::parse_host_amd_certificate_json(json));
    e.signing_cert.assign(hc.vcek_pem.begin(), hc.vcek_pem.end());
    e.chain_pem = hc.chain_pem;
  } else if (options_.vcek && options_.cert_chain) {
    SEALSUM_ASSIGN_OR_RETURN(std::string vcek, read_file_bounded(*options_.vcek, 64 * 1024));
    e.signing_cert.assign(vcek.begin(), vcek.end());
    SEALSUM_ASSIGN_OR_RETURN(e.chain_pem, read_file_bounded(*options_.cert_chain, 64 * 1024));
  } else {
    return invalid_argument("hardware evidence needs the host AMD certificate JSON, or a VCEK and its ASK/ARK chain");
  }
  if (options_.uvm_endorsement) {
    SEALSUM_ASSIGN_OR_RETURN(std::string cose, read_file_bounded(*options_.uvm_endorsement, 256 * 1024));
    e.uvm_endorsement = std::vector<uint8_t>(cose.begin(), cose.end());
  }
  return e;
}

Result<attest::SnpEvidence> HardwareEvidenceSource::collect(const std::array<uint8_t, 64>& report_data) {
  if (!certificates_) {
    SEALSUM_ASSIGN_OR_RETURN(attest::SnpEvidence loaded, load_certificates());
    certificates_ = std::move(loaded);
  }
  attest::SnpEvidence e = *certificates_;
  SEALSUM_ASSIGN_OR_RETURN(e.report, attest::get_report_hardware(report_data, options_.vmpl));
  return e;
}

Result<HttpResponse> HttpTransport::send(const HttpRequest& r) {
  if (r.method != "POST" || r.content_type != "application/json" || r.secret_body || r.secret_response ||
      !r.secret_headers.empty()) {
    return unimplemented("this HTTP transport sends plain JSON POSTs only");
  }
  SEALSUM_ASSIGN_OR_RETURN(HttpResponse res, post(r.url, std::string(r.body), r.headers));
  if (r.max_response_bytes != 0 && res.body.size() > r.max_response_bytes) {
    return resource_exhausted("the answer of " + r.url.substr(0, r.url.find('?')) + " exceeds " +
                              std::to_string(r.max_response_bytes) + " bytes");
  }
  return res;
}

Status refusal_status(const std::string& service, int http_status, const std::string& body) {
  Refusal r = parse_refusal(http_status, body);
  std::string msg = service + " answered HTTP " + std::to_string(http_status);
  if (!r.check.empty()) msg += ", failed check \"" + r.check + "\"";
  if (!r.reason.empty()) msg += ": " + r.reason;
  if (http_status == 403 || http_status == 401) return permission_denied(msg);
  if (http_status == 404) return not_found(msg);
  if (http_status >= 500) return unavailable(msg);
  return invalid_argument(msg);
}

Result<ReleasedKey> BrokerClient::release(const std::string& key_id) {
  const std::string service = "key broker " + base_url_;
  SEALSUM_ASSIGN_OR_RETURN(HttpResponse ch, transport_.post(base_url_ + "/v1/challenge", "{}", {}));
  if (ch.status != 200) return refusal_status(service, ch.status, ch.body);
  nlohmann::json cj = nlohmann::json::parse(ch.body, nullptr, false);
  auto challenge_nonce = json_access::string_member(cj, "nonce", {"challenge"}, 256);
  if (!challenge_nonce.ok()) return data_loss(service + " sent a malformed challenge: " + challenge_nonce.status().message());
  std::string nonce = std::move(challenge_nonce).value();

  SEALSUM_ASSIGN_OR_RETURN(RsaPrivateKey ephemeral, RsaPrivateKey::generate(kEphemeralRsaBits));
  SEALSUM_ASSIGN_OR_RETURN(RsaPublicKey pub, ephemeral.public_key());
  ReleaseRequest req;
  req.key_id = key_id;
  req.runtime_data = make_runtime_data(pub, nonce, model_);
  SEALSUM_ASSIGN_OR_RETURN(req.evidence, evidence_.collect(attest::report_data_for_runtime_data(encoding::as_bytes(req.runtime_data))));

  SEALSUM_ASSIGN_OR_RETURN(HttpResponse rel, transport_.post(base_url_ + "/v1/release", encode_release_request(req), {}));
  if (rel.status != 200) return refusal_status(service, rel.status, rel.body);
  nlohmann::json rj = nlohmann::json::parse(rel.body, nullptr, false);
  auto wrapped_b64 = json_access::string_member(rj, "wrapped_key", {"release answer"}, 64 * 1024);
  auto alg = json_access::string_member(rj, "alg", {"release answer"}, 64);
  if (!wrapped_b64.ok() || !alg.ok() || *alg != kWrapAlg) {
    return data_loss(service + " sent a malformed release answer");
  }
  if (auto kid = json_access::string_member(rj, "key_id", {"release answer"}, 256); !kid.ok() || *kid != key_id) {
    return data_loss(service + " answered for another key id");
  }
  ReleasedKey out;
  auto policy = json_access::optional_string(rj, "output_policy", {"release answer"}, kMaxOutputPolicyBytes);
  if (!policy.ok() || (*policy && (*policy)->empty())) return data_loss(service + " sent a malformed output policy");
  out.output_policy = policy->value_or(std::string());
  SEALSUM_ASSIGN_OR_RETURN(std::vector<uint8_t> wrapped,
                           encoding::base64_decode(*wrapped_b64, "wrapped_key"));
  auto key = ephemeral.oaep_decrypt(wrapped, OaepHash::kSha256, release_wrap_label(key_id, out.output_policy));
  if (!key.ok()) {
    return unauthenticated(service + ": the wrapped key does not unwrap with this key id and output policy (the "
                           "answer was altered in transit, or the broker is not the one the data owner used)");
  }
  if (key->size() != 32) {
    return data_loss(service + " released a key of " + std::to_string(key->size()) + " bytes, not 32");
  }
  out.key = std::move(key).value();
  return out;
}

}  // namespace sealsum::secure::keyrelease
