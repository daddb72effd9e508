// Challenge nonces for the key broker (anti-replay) that no client can exhaust.
//
// issue() is stateless: a nonce is base64url(expiry (8 bytes, big-endian seconds) || 16 CSPRNG
// bytes || HMAC-SHA-256(key, expiry || random)[0..16)), under a random key made at construction
// and never stored or shown. Any number of challenges can be issued without memory.
// consume() checks, in order: the encoding and size, the MAC (constant time), the expiry (not past,
// not beyond one lifetime ahead), then that the nonce was not consumed before, and records it: a
// replay set of consumed, unexpired nonces, at most `capacity` entries (expired ones are dropped
// first). When the replay set is full, consume() refuses (kResourceExhausted, fail closed: a
// replay is never possible); filling it takes `capacity` accepted release requests within one
// lifetime, each carrying a nonce this process issued and a well-formed RSA key.
// Keys are per process: a restarted broker refuses nonces of its previous run.
// Time comes from a caller-supplied clock (seconds), so tests can move it.
// Thread safety: all members are safe to call concurrently (one mutex around the replay set).
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/status.h"

namespace sealsum::secure::keyrelease {

using Clock = std::function<int64_t()>;  // seconds; monotonic enough for expiry
Clock system_clock_seconds();

class NonceStore {
 public:
  // Aborts the process if the CSPRNG cannot make the MAC key (nothing safe to fall back to).
  NonceStore(int64_t lifetime_s, size_t capacity, Clock clock);
  ~NonceStore();
  NonceStore(const NonceStore&) = delete;
  NonceStore& operator=(const NonceStore&) = delete;

  Result<std::string> issue();
  // kPermissionDenied: "unknown nonce (never issued by this broker, or altered)", "nonce expired",
  // "nonce already used"; kResourceExhausted: the replay set is full (retry later).
  Status consume(std::string_view nonce);
  int64_t lifetime_s() const { return lifetime_s_; }
  // Consumed nonces remembered (not yet expired at the last consume()).
  size_t consumed() const;

 private:
  const int64_t lifetime_s_;
  const size_t capacity_;
  Clock clock_;
  std::array<uint8_t, 32> key_{};
  mutable std::mutex mu_;
  std::unordered_map<std::string, int64_t> used_;  // nonce -> its expiry
};

}  // namespace sealsum::secure::keyrelease
