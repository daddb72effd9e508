// Single-use, expiring challenge nonces for the key broker (anti-replay).
//
// issue() returns 32 CSPRNG bytes as base64url and remembers them with an expiry; consume()
// succeeds once per nonce and only before expiry; the nonce is forgotten on its first consume()
// whether or not the rest of the release succeeds. At most `capacity` nonces are outstanding:
// issue() first drops expired ones, then refuses (kResourceExhausted) rather than grow without
// bound. Time comes from a caller-supplied clock (seconds), so tests can move it.
// Thread safety: all members are safe to call concurrently (one mutex).
#pragma once

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
  NonceStore(int64_t lifetime_s, size_t capacity, Clock clock)
      : lifetime_s_(lifetime_s), capacity_(capacity), clock_(std::move(clock)) {}

  Result<std::string> issue();
  // kPermissionDenied: "unknown nonce (never issued or already used)" or "nonce expired".
  Status consume(std::string_view nonce);
  int64_t lifetime_s() const { return lifetime_s_; }
  size_t outstanding() const;

 private:
  const int64_t lifetime_s_;
  const size_t capacity_;
  Clock clock_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, int64_t> expiry_;
};

}  // namespace sealsum::secure::keyrelease
