// The key broker's request handling, independent of any HTTP library (server/kbs_server.cpp is a
// thin shell that routes POST /v1/challenge and POST /v1/release here). The protocol and the
// order of checks are specified in protocol.h.
//
// Contract: every /v1/release outcome is appended to the audit log before the answer is returned;
// if the audit record cannot be written the key is NOT released (500). Released key bytes exist
// only in a SecretBuffer and, wrapped, in the reply body.
// Thread safety: challenge() and release() may be called concurrently (nonce store and audit log
// lock internally; the key store is read-only here).
#pragma once

#include <ctime>
#include <optional>
#include <string>
#include <string_view>

#include "secure/keyrelease/audit.h"
#include "secure/keyrelease/nonce.h"
#include "secure/keyrelease/protocol.h"
#include "secure/keyrelease/store.h"

namespace sealsum::secure::keyrelease {

struct HttpReply {
  int status = 200;
  std::string body;  // JSON
};

struct BrokerOptions {
  int64_t nonce_lifetime_s = kNonceLifetimeSeconds;
  size_t max_outstanding_nonces = 4096;
  Clock clock = system_clock_seconds();
  std::optional<std::time_t> cert_time;  // AMD certificate validity time (default: now)
  int min_ephemeral_bits = kEphemeralRsaBits;
};

class Broker {
 public:
  Broker(KeyStore store, AuditLog audit, BrokerOptions options = {});

  // POST /v1/challenge: 200 {"nonce","expires_in"}, or 503 when too many are outstanding.
  HttpReply challenge();
  // POST /v1/release: see protocol.h.
  HttpReply release(std::string_view body);

  const KeyStore& store() const { return store_; }

 private:
  HttpReply refuse(const Refusal& r, const std::string& key_id, const std::string& measurement, bool simulated);
  KeyStore store_;
  AuditLog audit_;
  BrokerOptions options_;
  NonceStore nonces_;
};

}  // namespace sealsum::secure::keyrelease
