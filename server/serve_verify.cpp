// Client-side verification of `sealsum serve` attestation answers (see serve_verify.h). Linked
// into the clients (`sealsum verify`, `summarize --server`, `proxy`), never into sealsum-serve.
#include "server/serve_verify.h"

#include "secure/attest/azure_inputs.h"
#include "common/encoding.h"
#include "secure/keyrelease/protocol.h"

namespace sealsum::server {
namespace {

using json = nlohmann::json;
namespace at = secure::attest;

void add(std::vector<at::Check>& checks, std::string name, bool passed, std::string detail) {
  checks.push_back({std::move(name), passed, std::move(detail)});
}

}  // namespace

json AttestationVerdict::to_json() const {
  json checks_json = json::array();
  for (const auto& c : checks) checks_json.push_back({{"name", c.name}, {"passed", c.passed}, {"detail", c.detail}});
  return {{"verdict", accepted ? "accepted" : "refused"},
          {"accepted", accepted},
          {"simulated", simulated},
          {"measurement", measurement},
          {"host_data", host_data},
          {"model", model ? at::model_digests_json(*model) : json(nullptr)},
          {"tls_spki_sha256", tls_spki ? json(secure::to_hex(*tls_spki)) : json(nullptr)},
          {"checks", checks_json}};
}

AttestationVerdict verify_attestation_answer(std::string_view body, const VerifyExpectations& expect) {
  AttestationVerdict v;
  auto refuse = [&](std::string name, std::string detail) {
    add(v.checks, std::move(name), false, std::move(detail));
    v.accepted = false;
    return v;
  };
  if (body.size() > kMaxAttestationAnswerBytes) return refuse("answer_format", "answer larger than 256 KiB");
  json j = json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return refuse("answer_format", "answer is not a JSON object");
  auto rt = j.find("runtime_data");
  auto evj = j.find("evidence");
  if (rt == j.end() || !rt->is_string() || evj == j.end()) {
    return refuse("answer_format", "answer lacks \"runtime_data\" or \"evidence\"");
  }
  auto runtime = encoding::base64_decode_text(rt->get_ref<const std::string&>(), "runtime_data");
  if (!runtime.ok() || runtime->size() > 16 * 1024) return refuse("answer_format", "\"runtime_data\" is not base64url");
  auto ev = secure::keyrelease::evidence_from_json(*evj);
  if (!ev.ok()) return refuse("answer_format", ev.status().message());
  add(v.checks, "answer_format", true, "");
  if (expect.policy.measurements.empty()) return refuse("measurement_allowed", "the client's allow-list is empty");

  at::Policy policy = expect.policy;
  policy.require_runtime_data = true;
  ev->runtime_data = std::vector<uint8_t>(runtime->begin(), runtime->end());
  at::VerifyOptions vo;
  vo.allow_simulated = expect.allow_simulated;
  at::VerificationResult r = at::verify_evidence(*ev, policy, vo);
  v.simulated = r.simulated;
  if (r.report) {
    v.measurement = secure::to_hex(r.report->measurement);
    v.host_data = secure::to_hex(r.report->host_data);
  }
  v.checks.insert(v.checks.end(), r.checks.begin(), r.checks.end());
  bool ok = r.verdict;
  if (!expect.observed_tls_spki && !r.simulated) {
    // Checked before anything in the runtime data is believed: plain HTTP binds no channel.
    return refuse("tls_key_binding",
                  "real SEV-SNP evidence over plain HTTP binds no channel: a relay could be forwarding it; connect "
                  "with https://");
  }

  // The runtime data the report binds: its nonce, model and TLS key.
  json rd = json::parse(*runtime, nullptr, false);
  const auto purpose = rd.is_object() ? rd.find("purpose") : rd.end();
  if (rd.is_discarded() || !rd.is_object() || purpose == rd.end() || !purpose->is_string() ||
      purpose->get_ref<const std::string&>() != kAttestationPurpose) {
    return refuse("runtime_data_format", "runtime data is not a sealsum-serve attestation object");
  }
  const json nonce = rd.value("nonce", json());
  const bool nonce_ok = nonce.is_string() && nonce.get_ref<const std::string&>() == expect.nonce;
  add(v.checks, "nonce_binding", nonce_ok, nonce_ok ? "" : "the evidence answers a different nonce (replay?)");
  ok = ok && nonce_ok;

  const json tls = rd.value("tls_spki_sha256", json());
  if (tls.is_string()) {
    auto bytes = encoding::hex_decode(tls.get_ref<const std::string&>());
    if (!bytes.ok() || bytes->size() != 32) return refuse("tls_key_binding", "tls_spki_sha256 is not 64 hex digits");
    secure::Digest256 d{};
    std::copy(bytes->begin(), bytes->end(), d.begin());
    v.tls_spki = d;
  } else if (!tls.is_null()) {
    return refuse("tls_key_binding", "tls_spki_sha256 must be hex or null");
  }
  if (auto m = at::model_digests_from_runtime_data(encoding::as_bytes(*runtime)); m.ok()) v.model = *m;
  if (expect.observed_tls_spki) {
    const bool match = v.tls_spki && *v.tls_spki == *expect.observed_tls_spki;
    add(v.checks, "tls_key_binding", match,
        match ? "the attested TLS key is the key of this connection"
              : "the attested TLS key is not the key of this connection (interception?)");
    ok = ok && match;
  } else if (v.tls_spki) {
    add(v.checks, "tls_key_binding", false,
        "the runtime data names a TLS key but this connection has none: something between you and the server "
        "downgraded HTTPS to plain HTTP (a relay); connect with https://");
    ok = false;
  } else {
    add(v.checks, "tls_key_binding", true, "dev server without TLS: the channel is NOT bound to the attested TEE");
  }
  v.accepted = ok;
  return v;
}

}  // namespace sealsum::server
