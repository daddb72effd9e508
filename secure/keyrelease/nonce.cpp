// NonceStore (see nonce.h).
#include "secure/keyrelease/nonce.h"

#include <array>
#include <chrono>

#include "secure/aead.h"
#include "secure/keyrelease/encoding.h"

namespace sealsum::secure::keyrelease {

Clock system_clock_seconds() {
  return [] {
    return static_cast<int64_t>(
        std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count());
  };
}

Result<std::string> NonceStore::issue() {
  std::array<uint8_t, 32> raw{};
  SEALSUM_RETURN_IF_ERROR(random_bytes(raw));
  std::string nonce = base64url_encode(raw);
  int64_t now = clock_();
  std::lock_guard<std::mutex> lock(mu_);
  if (expiry_.size() >= capacity_) {
    for (auto it = expiry_.begin(); it != expiry_.end();) it = it->second <= now ? expiry_.erase(it) : std::next(it);
  }
  if (expiry_.size() >= capacity_) {
    return resource_exhausted("too many outstanding challenges (" + std::to_string(capacity_) + "); retry later");
  }
  expiry_[nonce] = now + lifetime_s_;
  return nonce;
}

Status NonceStore::consume(std::string_view nonce) {
  int64_t now = clock_();
  std::lock_guard<std::mutex> lock(mu_);
  auto it = expiry_.find(std::string(nonce));
  if (it == expiry_.end()) return permission_denied("unknown nonce (never issued, or already used)");
  int64_t expiry = it->second;
  expiry_.erase(it);
  if (now > expiry) return permission_denied("nonce expired; request a fresh challenge");
  return Status::ok();
}

size_t NonceStore::outstanding() const {
  std::lock_guard<std::mutex> lock(mu_);
  return expiry_.size();
}

}  // namespace sealsum::secure::keyrelease
