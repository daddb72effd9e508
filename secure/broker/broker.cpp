// Key broker request handling (see broker.h, protocol.h).
#include "secure/broker/broker.h"

#include <iostream>

#include "secure/digest.h"
#include "common/encoding.h"

namespace sealsum::secure::keyrelease {

Broker::Broker(KeyStore store, AuditLog audit, BrokerOptions options)
    : store_(std::move(store)),
      audit_(std::move(audit)),
      options_(std::move(options)),
      nonces_(std::make_unique<NonceStore>(options_.nonce_lifetime_s, options_.max_consumed_nonces, options_.clock)) {}

HttpReply Broker::challenge() {
  auto nonce = nonces_->issue();
  if (!nonce.ok()) {
    return {503, Refusal{503, "unavailable", "nonce", nonce.status().message()}.to_json()};
  }
  nlohmann::json j = {{"nonce", *nonce}, {"expires_in", nonces_->lifetime_s()}};
  return {200, j.dump()};
}

bool Broker::take_log_token() {
  std::lock_guard<std::mutex> lock(rate_mu_);
  const int64_t now = options_.clock();
  if (now != rate_second_) {
    rate_second_ = now;
    rate_left_ = options_.max_refusal_lines_per_second;
    if (rate_suppressed_ > 0) {
      std::cerr << "sealsum kbs: " << rate_suppressed_ << " refusal records suppressed by the rate bound\n";
      rate_suppressed_ = 0;
    }
  }
  if (rate_left_ == 0) {
    ++rate_suppressed_;
    return false;
  }
  --rate_left_;
  return true;
}

HttpReply Broker::reject(const Refusal& r) {
  // Not audited (the request is malformed or carries no valid nonce of ours); the operator sees a
  // rate-bounded line on stderr.
  if (take_log_token()) std::cerr << "sealsum kbs: refused a release request: " << r.check << ": " << r.reason << "\n";
  return {r.http_status, r.to_json()};
}

HttpReply Broker::refuse(const Refusal& r, const std::string& key_id, const std::string& measurement, bool simulated) {
  if (!take_log_token()) return {r.http_status, r.to_json()};
  AuditRecord rec;
  rec.key_id = key_id;
  rec.measurement = measurement;
  rec.simulated = simulated;
  rec.released = false;
  rec.check = r.check;
  rec.reason = r.reason;
  Status st = audit_.append(rec);
  if (!st.is_ok()) std::cerr << "sealsum kbs: " << st.to_string() << "\n";
  return {r.http_status, r.to_json()};
}

HttpReply Broker::release(std::string_view body) {
  auto req = parse_release_request(body);
  if (!req.ok()) {
    int status = req.status().code() == Code::kResourceExhausted ? 413 : 400;
    return reject({status, "bad_request", "request", req.status().message()});
  }
  const std::string& key_id = req->key_id;
  auto rt = parse_runtime_data(req->runtime_data);
  if (!rt.ok()) return reject({400, "bad_request", "runtime_data", rt.status().message()});
  // The nonce is burned here, before anything else can fail, so it is single-use whatever happens;
  // only requests with a nonce of ours (MAC-checked, unexpired, unused) reach the audit log.
  if (rt->nonce.empty()) return reject({403, "refused", "nonce", "runtime data carries no nonce"});
  if (Status st = nonces_->consume(rt->nonce); !st.is_ok()) {
    if (st.code() == Code::kResourceExhausted) return reject({503, "unavailable", "nonce", st.message()});
    return reject({403, "refused", "nonce", st.message()});
  }
  auto ephemeral = RsaPublicKey::from_jwk(rt->key_jwk);
  if (!ephemeral.ok()) {
    return refuse({400, "bad_request", "runtime_data", "ephemeral key: " + ephemeral.status().message()}, key_id, "",
                  false);
  }
  if (ephemeral->bits() < options_.min_ephemeral_bits) {
    return refuse({400, "bad_request", "runtime_data",
                   "ephemeral key has " + std::to_string(ephemeral->bits()) + " bits; at least " +
                       std::to_string(options_.min_ephemeral_bits) + " required"},
                  key_id, "", false);
  }
  auto entry = store_.load(key_id);
  if (!entry.ok()) {
    if (entry.status().code() == Code::kNotFound) {
      return refuse({404, "not_found", "key_id", entry.status().message()}, key_id, "", false);
    }
    std::cerr << "sealsum kbs: " << entry.status().to_string() << "\n";
    return refuse({500, "internal", "store", "the key record could not be loaded; see the broker's log"}, key_id, "",
                  false);
  }
  attest::Policy policy = entry->policy.attestation;
  policy.require_runtime_data = true;
  attest::SnpEvidence evidence = std::move(req->evidence);
  evidence.runtime_data = std::vector<uint8_t>(req->runtime_data.begin(), req->runtime_data.end());
  attest::VerifyOptions vopt;
  vopt.allow_simulated = entry->policy.allow_simulated;
  vopt.now = options_.cert_time;
  attest::VerificationResult vr = attest::verify_evidence(evidence, policy, vopt);
  std::string measurement = vr.report ? to_hex(vr.report->measurement) : "";
  if (!vr.verdict) {
    std::vector<std::string> failed = vr.failed_checks();
    std::string reason;
    for (const attest::Check& c : vr.checks) {
      if (!c.passed) reason += (reason.empty() ? "" : "; ") + c.name + ": " + c.detail;
    }
    return refuse({403, "refused", failed.empty() ? "attestation" : failed.front(), reason}, key_id, measurement,
                  vr.simulated);
  }
  const std::string& output_policy = entry->policy.output_policy;
  auto wrapped =
      ephemeral->oaep_encrypt(entry->key.span(), OaepHash::kSha256, release_wrap_label(key_id, output_policy));
  if (!wrapped.ok()) {
    return refuse({500, "internal", "wrap", wrapped.status().message()}, key_id, measurement, vr.simulated);
  }
  AuditRecord rec;
  rec.key_id = key_id;
  rec.measurement = measurement;
  rec.simulated = vr.simulated;
  rec.released = true;
  rec.reason = vr.simulated ? "all checks passed (SIMULATED TEE accepted by policy allow_simulated)"
                            : "all attestation checks passed";
  if (Status st = audit_.append(rec); !st.is_ok()) {
    std::cerr << "sealsum kbs: " << st.to_string() << "\n";
    return {500, Refusal{500, "internal", "audit", "the audit record could not be written; key not released"}.to_json()};
  }
  nlohmann::json j = {{"key_id", key_id},
                      {"alg", kWrapAlg},
                      {"wrapped_key", encoding::base64url_encode(*wrapped)},
                      {"measurement", measurement}};
  if (!output_policy.empty()) j["output_policy"] = output_policy;
  return {200, j.dump()};
}

}  // namespace sealsum::secure::keyrelease
