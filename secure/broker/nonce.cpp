// NonceStore (see nonce.h).
#include "secure/broker/nonce.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <chrono>
#include <cstdlib>
#include <iostream>
#include <vector>

#include "secure/aead.h"
#include "common/encoding.h"
#include "secure/secret_buffer.h"

namespace sealsum::secure::keyrelease {
namespace {

constexpr size_t kExpiryBytes = 8, kRandomBytes = 16, kMacBytes = 16;
constexpr size_t kNonceBytes = kExpiryBytes + kRandomBytes + kMacBytes;
constexpr size_t kMaxNonceText = 128;  // base64 of 40 bytes is 54 characters

std::array<uint8_t, kMacBytes> mac_of(const std::array<uint8_t, 32>& key, const uint8_t* data, size_t n) {
  uint8_t full[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  std::array<uint8_t, kMacBytes> out{};
  if (HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), data, n, full, &len) == nullptr || len < kMacBytes) {
    std::cerr << "sealsum kbs: HMAC-SHA-256 failed; cannot issue or check nonces\n";
    std::abort();
  }
  std::copy_n(full, kMacBytes, out.begin());
  wipe(full, sizeof full);
  return out;
}

}  // namespace

Clock system_clock_seconds() {
  return [] {
    return static_cast<int64_t>(
        std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count());
  };
}

NonceStore::NonceStore(int64_t lifetime_s, size_t capacity, Clock clock)
    : lifetime_s_(lifetime_s), capacity_(capacity), clock_(std::move(clock)) {
  if (!random_bytes(key_).is_ok()) {
    std::cerr << "sealsum kbs: the CSPRNG failed; cannot make the nonce key\n";
    std::abort();
  }
}

NonceStore::~NonceStore() { wipe(key_.data(), key_.size()); }

Result<std::string> NonceStore::issue() {
  std::array<uint8_t, kNonceBytes> raw{};
  const uint64_t expiry = static_cast<uint64_t>(clock_() + lifetime_s_);
  for (size_t i = 0; i < kExpiryBytes; ++i) raw[i] = static_cast<uint8_t>(expiry >> (8 * (kExpiryBytes - 1 - i)));
  SEALSUM_RETURN_IF_ERROR(random_bytes(std::span<uint8_t>(raw.data() + kExpiryBytes, kRandomBytes)));
  const auto mac = mac_of(key_, raw.data(), kExpiryBytes + kRandomBytes);
  std::copy(mac.begin(), mac.end(), raw.begin() + kExpiryBytes + kRandomBytes);
  return encoding::base64url_encode(raw);
}

Status NonceStore::consume(std::string_view nonce) {
  const Status unknown = permission_denied("unknown nonce (never issued by this broker, or altered)");
  if (nonce.size() > kMaxNonceText) return unknown;
  auto raw = encoding::base64_decode(nonce, "nonce");
  if (!raw.ok() || raw->size() != kNonceBytes) return unknown;
  const auto mac = mac_of(key_, raw->data(), kExpiryBytes + kRandomBytes);
  if (!ct_equal(mac, std::span<const uint8_t>(raw->data() + kExpiryBytes + kRandomBytes, kMacBytes))) return unknown;
  uint64_t expiry_u = 0;
  for (size_t i = 0; i < kExpiryBytes; ++i) expiry_u = (expiry_u << 8) | (*raw)[i];
  const int64_t expiry = static_cast<int64_t>(expiry_u);
  const int64_t now = clock_();
  if (now > expiry || expiry > now + lifetime_s_) return permission_denied("nonce expired; request a fresh challenge");
  // The replay set is keyed by the canonical (re-encoded) bytes, so another encoding of the same
  // nonce is the same entry.
  std::string canonical = encoding::base64url_encode(*raw);
  std::lock_guard<std::mutex> lock(mu_);
  if (used_.count(canonical) != 0) return permission_denied("nonce already used; request a fresh challenge");
  if (used_.size() >= capacity_) {
    for (auto it = used_.begin(); it != used_.end();) it = it->second < now ? used_.erase(it) : std::next(it);
  }
  if (used_.size() >= capacity_) {
    return resource_exhausted("too many releases within one nonce lifetime (" + std::to_string(capacity_) +
                              "); retry later");
  }
  used_.emplace(std::move(canonical), expiry);
  return Status::ok();
}

size_t NonceStore::consumed() const {
  std::lock_guard<std::mutex> lock(mu_);
  return used_.size();
}

}  // namespace sealsum::secure::keyrelease
