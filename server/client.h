// Client side of `sealsum serve`: attest the server, then talk to it on the same connection, pinned
// to the attested TLS key. Used by `sealsum verify` and `sealsum summarize --server`.
//
//   verify_server(opts): fresh 24-byte random nonce -> GET /v1/attestation -> verify_attestation_answer
//     (serve_attest.h) against the relying party's policy (opts.policy: MEASUREMENT, HOST_DATA, model
//     digests, VMPL, TCB, debug, MIGRATE_MA), with the SPKI hash of the TLS connection the answer
//     came over.
//   remote_summarize(opts, body): attests as above on one keep-alive connection; refuses unless
//     accepted; then pins that connection to the attested key and sends POST /v1/summarize on it.
//     Should the connection have to be re-established (the server closed it, or a balancer sent
//     it to another replica), the new handshake fails unless the server's key hashes to the
//     attested value (a certificate-verify callback compares SHA-256(SPKI); no CA is involved), so
//     nothing reaches a server that was not the one attested.
//   No downgrade: over plain http:// only SIMULATED evidence with no TLS key in its runtime data can
//     pass (a --dev server, with a warning); real evidence, or runtime data that names a TLS key,
//     over http:// is refused (tls_key_binding): a relay could be forwarding it.
// Reads are bounded while they stream: the attestation answer to kMaxAttestationAnswerBytes, the
// summary answer to kMaxSummaryAnswerBytes.
// Transport failures are a Status (kUnavailable); a refused attestation is a verdict with
// accepted = false (verify_server) or kPermissionDenied naming the failed checks (remote_summarize).
// Thread safety: reentrant; each call uses its own connection.
#pragma once

#include <array>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/status.h"
#include "server/serve_verify.h"

namespace sealsum::server {

inline constexpr size_t kMaxSummaryAnswerBytes = 4u << 20;

struct RemoteOptions {
  std::string server_url;  // "http://127.0.0.1:8080" or "https://host:port"
  // The relying party's policy (secure/attest/policy.h); "measurements" must not be empty.
  secure::attest::Policy policy;
  bool allow_simulated = false;
  int timeout_s = 120;
};

struct RemoteVerification {
  AttestationVerdict verdict;
  std::string nonce;
  bool tls = false;
  std::vector<std::string> warnings;
};
Result<RemoteVerification> verify_server(const RemoteOptions& opts);

// Attests the server, then sends one request on the same connection pinned to the attested key
// (what remote_summarize and `sealsum proxy` do). When the attestation is refused nothing is sent:
// sent = false and the verification says why. The answer's body is read at most `limit` bytes.
struct AttestedReply {
  RemoteVerification verification;
  bool sent = false;
  int http_status = 0;
  std::string body;
  std::vector<std::string> failed_checks() const;
};
Result<AttestedReply> attested_request(const RemoteOptions& opts, const std::string& method, const std::string& path,
                                       const std::string& body, size_t limit);

struct RemoteSummary {
  RemoteVerification verification;
  int http_status = 0;
  nlohmann::json answer;  // the server's JSON answer (summary or error)
};
Result<RemoteSummary> remote_summarize(const RemoteOptions& opts, const nlohmann::json& request);

// A fresh random nonce (24 bytes, base64url).
Result<std::string> fresh_nonce();

}  // namespace sealsum::server
