// Client side of `sealsum serve`: attest the server, then talk to it over a channel pinned to the
// attested TLS key. Used by `sealsum verify` and (wired by the lead) `sealsum summarize --server`.
//
//   verify_server(opts): fresh 24-byte random nonce -> GET /v1/attestation -> verify_attestation_answer
//     (serve_attest.h) with the SPKI hash of the TLS connection the answer came over.
//   remote_summarize(opts, body): verify_server; refuse unless accepted; then POST /v1/summarize on
//     a new HTTPS connection whose handshake fails unless the server's key hashes to the attested
//     value (a certificate-verify callback compares SHA-256(SPKI); no CA is involved). For a
//     --dev server on plain HTTP the evidence is still verified but the channel cannot be pinned:
//     `warnings` says so and the caller must show it.
// Transport failures are a Status (kUnavailable); a refused attestation is a verdict with
// accepted = false (verify_server) or kPermissionDenied naming the failed checks (remote_summarize).
// Thread safety: reentrant; each call uses its own connections.
#pragma once

#include <array>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/status.h"
#include "server/serve_attest.h"

namespace sealsum::server {

struct RemoteOptions {
  std::string server_url;  // "http://127.0.0.1:8080" or "https://host:port"
  std::vector<std::array<uint8_t, 48>> measurements;
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

struct RemoteSummary {
  RemoteVerification verification;
  int http_status = 0;
  nlohmann::json answer;  // the server's JSON answer (summary or error)
};
Result<RemoteSummary> remote_summarize(const RemoteOptions& opts, const nlohmann::json& request);

// A fresh random nonce (24 bytes, base64url).
Result<std::string> fresh_nonce();

}  // namespace sealsum::server
