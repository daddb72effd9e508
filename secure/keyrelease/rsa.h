// RSA pieces of key release: ephemeral wrapping keys, RSA-OAEP, RS256 signatures and the
// CKM_RSA_AES_KEY_WRAP construction Azure Key Vault / Managed HSM use for Secure Key Release.
//
// CKM_RSA_AES_KEY_WRAP (PKCS#11 v2.40 §2.1.21): the sender draws a fresh AES key K_t, encrypts it
// with RSA-OAEP (hash H, MGF1 with the same H, empty label) to the recipient's public key, then
// wraps the target key with K_t by AES Key Wrap with Padding (RFC 5649). The ciphertext is the RSA
// block (exactly modulus-size bytes) followed by the wrapped key. Azure uses H = SHA-1 for the
// "CKM_RSA_AES_KEY_WRAP" enc value, SHA-256 for "RSA_AES_KEY_WRAP_256", SHA-384 for "..._384".
//
// Contract: keys are opaque OpenSSL EVP_PKEY handles owned by these move-only classes. Decrypted
// key material only ever lands in a SecretBuffer; intermediate AES keys are wiped. Public keys
// accepted from the wire are bounded: 2048..8192-bit modulus, public exponent 65537.
// Thread safety: a key object may be used by one thread at a time (OpenSSL contexts are per call,
// so concurrent read-only use is in fact safe, but do not rely on it).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/status.h"
#include "secure/secret_buffer.h"

typedef struct evp_pkey_st EVP_PKEY;  // NOLINT: OpenSSL's opaque type

namespace sealsum::secure::keyrelease {

enum class OaepHash { kSha1, kSha256, kSha384 };

inline constexpr int kMinRsaBits = 2048;
inline constexpr int kMaxRsaBits = 8192;

struct PkeyDeleter {
  void operator()(EVP_PKEY* p) const;
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyDeleter>;

class RsaPublicKey {
 public:
  // A JWK {"kty":"RSA","n":b64url,"e":b64url} (other members ignored). kInvalidArgument when the
  // key is not RSA, the modulus is outside 2048..8192 bits, or e != 65537.
  static Result<RsaPublicKey> from_jwk(const nlohmann::json& jwk);
  // SubjectPublicKeyInfo PEM ("-----BEGIN PUBLIC KEY-----").
  static Result<RsaPublicKey> from_pem(std::string_view pem);
  // Takes ownership of an RSA EVP_PKEY (checked as for from_jwk).
  static Result<RsaPublicKey> adopt(PkeyPtr key);

  int bits() const;
  // {"kty":"RSA","n":...,"e":...} (base64url, no padding, minimal big-endian).
  nlohmann::json to_jwk() const;
  // SubjectPublicKeyInfo PEM (for pinning a signer's key in a configuration file).
  std::string to_pem() const;
  // RSA-OAEP (MGF1 with the same hash); `label` is the OAEP label (empty by default, <= 64 KiB).
  Result<std::vector<uint8_t>> oaep_encrypt(std::span<const uint8_t> plaintext, OaepHash hash,
                                            std::span<const uint8_t> label = {}) const;
  // RSASSA-PKCS1-v1_5 with SHA-256 (JWS "RS256"). kUnauthenticated when it does not verify.
  Status verify_rs256(std::span<const uint8_t> data, std::span<const uint8_t> signature) const;
  EVP_PKEY* pkey() const { return key_.get(); }

 private:
  explicit RsaPublicKey(PkeyPtr k) : key_(std::move(k)) {}
  PkeyPtr key_;
};

class RsaPrivateKey {
 public:
  // A fresh key pair from OpenSSL's CSPRNG (e = 65537). bits in 2048..8192.
  static Result<RsaPrivateKey> generate(int bits);
  // PKCS#1 or PKCS#8 PEM (test vectors, test-double service keys).
  static Result<RsaPrivateKey> from_pem(std::string_view pem);

  int bits() const;
  size_t modulus_bytes() const;
  Result<RsaPublicKey> public_key() const;
  // RSA-OAEP decryption (MGF1 with the same hash) into locked secret memory. The label must be
  // the one the sender used: a different label fails like a wrong key (kUnauthenticated).
  Result<SecretBuffer> oaep_decrypt(std::span<const uint8_t> ciphertext, OaepHash hash,
                                    std::span<const uint8_t> label = {}) const;
  Result<std::vector<uint8_t>> sign_rs256(std::span<const uint8_t> data) const;

 private:
  explicit RsaPrivateKey(PkeyPtr k) : key_(std::move(k)) {}
  PkeyPtr key_;
};

// CKM_RSA_AES_KEY_WRAP with a fresh AES-256 transport key (the sending side: the Key Vault
// test double and tests).
Result<std::vector<uint8_t>> rsa_aes_key_wrap(const RsaPublicKey& recipient, std::span<const uint8_t> key,
                                              OaepHash hash);
// The receiving side: splits at modulus_bytes(), OAEP-decrypts the AES key (16/24/32 bytes) and
// RFC 5649-unwraps the rest. kDataLoss for a malformed ciphertext, kUnauthenticated when OAEP or
// the key-wrap integrity check fails.
Result<SecretBuffer> rsa_aes_key_unwrap(const RsaPrivateKey& key, std::span<const uint8_t> ciphertext, OaepHash hash);

}  // namespace sealsum::secure::keyrelease
