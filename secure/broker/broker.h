// The key broker's request handling, independent of any HTTP library (server/kbs_server.cpp is a
// thin shell that routes POST /v1/challenge and POST /v1/release here). The protocol and the
// order of checks are specified in protocol.h.
//
// Contract: every release is appended to the audit log before the answer is returned; if the
// audit record cannot be written the key is NOT released (500). Refusals are audited only for
// requests that are well-formed and carry a valid nonce of this broker (nonce.h), and at most
// max_refusal_lines_per_second of them (the rest are counted on stderr); malformed or nonce-less
// requests get a rate-bounded stderr line instead, so junk cannot grow the fsync'd log. Released key bytes exist
// only in a SecretBuffer and, wrapped, in the reply body.
// Thread safety: challenge() and release() may be called concurrently (nonce store and audit log
// lock internally; the key store is read-only here).
#pragma once

#include <ctime>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "secure/broker/audit.h"
#include "secure/broker/nonce.h"
#include "secure/keyrelease/protocol.h"
#include "secure/broker/store.h"

namespace sealsum::secure::keyrelease {

struct HttpReply {
  int status = 200;
  std::string body;  // JSON
};

struct BrokerOptions {
  int64_t nonce_lifetime_s = kNonceLifetimeSeconds;
  size_t max_consumed_nonces = 1u << 16;  // replay set (nonce.h); challenges themselves are stateless
  size_t max_refusal_lines_per_second = 20;
  Clock clock = system_clock_seconds();
  std::optional<std::time_t> cert_time;  // AMD certificate validity time (default: now)
  int min_ephemeral_bits = kEphemeralRsaBits;
};

class Broker {
 public:
  Broker(KeyStore store, AuditLog audit, BrokerOptions options = {});

  // POST /v1/challenge: 200 {"nonce","expires_in"} (stateless: any number may be issued), or 503
  // when the CSPRNG fails.
  HttpReply challenge();
  // POST /v1/release: see protocol.h.
  HttpReply release(std::string_view body);

  const KeyStore& store() const { return store_; }

 private:
  // Audited refusal (rate-bounded); reject(): refusal of a request without a valid nonce (stderr only).
  HttpReply refuse(const Refusal& r, const std::string& key_id, const std::string& measurement, bool simulated);
  HttpReply reject(const Refusal& r);
  bool take_log_token();
  KeyStore store_;
  AuditLog audit_;
  BrokerOptions options_;
  std::unique_ptr<NonceStore> nonces_;
  std::mutex rate_mu_;  // guards the refusal-line budget below
  int64_t rate_second_ = -1;
  size_t rate_left_ = 0;
  uint64_t rate_suppressed_ = 0;
};

}  // namespace sealsum::secure::keyrelease
