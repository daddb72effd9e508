// AES-256-GCM and HKDF-SHA256: the primitives under the sealed file format (secure/sealed.cpp, a
// streaming AEAD whose per-segment nonces are a random per-file prefix and a counter) and under
// sealed outputs (secure/output_seal.cpp, one message per key, through seal_message()).
//
// Callers outside the sealed stream never pass a nonce: seal_message() draws a fresh random one
// inside and returns it with the ciphertext; open_message() takes back what it returned.
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

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "common/status.h"
#include "secure/secret_buffer.h"

typedef struct evp_cipher_ctx_st EVP_CIPHER_CTX;  // NOLINT: OpenSSL's opaque type

namespace sealsum::secure {

inline constexpr size_t kAesKeySize = 32;
inline constexpr size_t kGcmNonceSize = 12;
inline constexpr size_t kGcmTagSize = 16;
// Largest message one seal()/open() call accepts (OpenSSL's lengths are `int`).
inline constexpr size_t kGcmMaxMessage = size_t{1} << 30;

// The explicit-nonce interface: for the sealed stream's counter nonces (sealed.cpp) and known-answer
// tests only. Everything else uses seal_message() / open_message() below.
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

// One AES-256-GCM message as a wire format stores it (output_seal.cpp: "iv", "ciphertext", "tag").
struct SealedMessage {
  std::array<uint8_t, kGcmNonceSize> nonce{};
  std::vector<uint8_t> ciphertext;
  std::array<uint8_t, kGcmTagSize> tag{};
};

// Encrypts `plaintext` (at most kGcmMaxMessage bytes) under `key` (kAesKeySize bytes) with a fresh
// random 96-bit nonce drawn here from OpenSSL's CSPRNG. Random nonces are safe for up to 2^32
// messages under one key (NIST SP 800-38D §8.3); sealsum's callers derive one key per message.
// kInvalidArgument on a wrong key size or an oversized message, kInternal if OpenSSL fails.
Result<SealedMessage> seal_message(std::span<const uint8_t> key, std::span<const uint8_t> aad,
                                   std::span<const uint8_t> plaintext);
// Verifies and decrypts into locked memory. kUnauthenticated on a wrong key, nonce, AAD, tag or a
// modified ciphertext (no plaintext is returned); kInvalidArgument when the nonce or tag has the
// wrong size or the ciphertext is over kGcmMaxMessage.
Result<SecretBuffer> open_message(std::span<const uint8_t> key, std::span<const uint8_t> aad,
                                  std::span<const uint8_t> nonce, std::span<const uint8_t> ciphertext,
                                  std::span<const uint8_t> tag);

// HKDF-SHA256 (RFC 5869, extract then expand) of `out_len` bytes (1..8160) into a locked
// SecretBuffer. Fails with kInternal if OpenSSL fails, kResourceExhausted if memory cannot be locked.
Result<SecretBuffer> hkdf_sha256(std::span<const uint8_t> ikm, std::span<const uint8_t> salt,
                                 std::span<const uint8_t> info, size_t out_len);

// Fills `out` from OpenSSL's CSPRNG (kInternal if it is not seeded).
Status random_bytes(std::span<uint8_t> out);

}  // namespace sealsum::secure
