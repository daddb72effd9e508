// AES-256-GCM and HKDF-SHA256: the two primitives under the sealed file format (secure/sealed.cpp).
//
// Thin, checked wrappers over OpenSSL 3 EVP, kept separate so an auditor can compare them with the
// standards (NIST SP 800-38D, RFC 5869) and the known-answer tests in aead_test.cpp in one sitting.
//
// Contract:
//  - Aes256Gcm expands its key once and is then reused for many messages; the caller guarantees a
//    nonce is never used twice with one key (the sealed format derives a fresh key per file).
//  - open() writes plaintext into `out` while it decrypts and checks the tag at the end; on a tag
//    mismatch it wipes `out` and returns kUnauthenticated, so unverified plaintext never escapes.
//  - Messages never contain key or plaintext bytes.
// Thread safety: an Aes256Gcm instance is used by one thread at a time; hkdf_sha256 is reentrant.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "common/status.h"
#include "secure/secret_buffer.h"

typedef struct evp_cipher_ctx_st EVP_CIPHER_CTX;  // NOLINT: OpenSSL's opaque type

namespace sealsum::secure {

inline constexpr size_t kAesKeySize = 32;
inline constexpr size_t kGcmNonceSize = 12;
inline constexpr size_t kGcmTagSize = 16;
// Largest message one seal()/open() call accepts (OpenSSL's lengths are `int`).
inline constexpr size_t kGcmMaxMessage = size_t{1} << 30;

class Aes256Gcm {
 public:
  // key.size() must be kAesKeySize (kInvalidArgument otherwise). The key schedule lives inside
  // OpenSSL's context and is cleansed when the object is destroyed.
  static Result<Aes256Gcm> create(std::span<const uint8_t> key);

  Aes256Gcm(Aes256Gcm&& o) noexcept;
  Aes256Gcm& operator=(Aes256Gcm&& o) noexcept;
  Aes256Gcm(const Aes256Gcm&) = delete;
  Aes256Gcm& operator=(const Aes256Gcm&) = delete;
  ~Aes256Gcm();

  // Encrypts `in` into `out` (same size; may be the same memory) and writes the 16-byte tag.
  Status seal(std::span<const uint8_t> nonce, std::span<const uint8_t> aad, std::span<const uint8_t> in,
              std::span<uint8_t> out, std::span<uint8_t> tag);
  // Decrypts and verifies. On kUnauthenticated `out` has been wiped.
  Status open(std::span<const uint8_t> nonce, std::span<const uint8_t> aad, std::span<const uint8_t> in,
              std::span<uint8_t> out, std::span<const uint8_t> tag);

 private:
  Aes256Gcm() = default;
  void release();
  EVP_CIPHER_CTX* enc_ = nullptr;
  EVP_CIPHER_CTX* dec_ = nullptr;
};

// HKDF-SHA256 (RFC 5869, extract then expand) of `out_len` bytes (1..8160) into a locked
// SecretBuffer. Fails with kInternal if OpenSSL fails, kResourceExhausted if memory cannot be locked.
Result<SecretBuffer> hkdf_sha256(std::span<const uint8_t> ikm, std::span<const uint8_t> salt,
                                 std::span<const uint8_t> info, size_t out_len);

// Fills `out` from OpenSSL's CSPRNG (kInternal if it is not seeded).
Status random_bytes(std::span<uint8_t> out);

}  // namespace sealsum::secure
