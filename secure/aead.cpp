#include "secure/aead.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include <climits>
#include <utility>

namespace sealsum::secure {

namespace {

// OpenSSL takes `int` lengths; every caller bounds its messages by kGcmMaxMessage.
int as_int(size_t n) { return static_cast<int>(n); }

Status check_shapes(std::span<const uint8_t> nonce, std::span<const uint8_t> aad, std::span<const uint8_t> in,
                    size_t out_size, size_t tag_size) {
  if (nonce.size() != kGcmNonceSize) return internal_error("AES-GCM nonce must be 12 bytes");
  if (tag_size != kGcmTagSize) return internal_error("AES-GCM tag must be 16 bytes");
  if (in.size() != out_size) return internal_error("AES-GCM input and output sizes differ");
  if (in.size() > kGcmMaxMessage || aad.size() > kGcmMaxMessage) {
    return internal_error("AES-GCM message larger than 1 GiB in one call");
  }
  return Status::ok();
}

}  // namespace

Result<Aes256Gcm> Aes256Gcm::create(std::span<const uint8_t> key) {
  if (key.size() != kAesKeySize) return invalid_argument("AES-256-GCM key must be 32 bytes");
  Aes256Gcm a;
  a.enc_ = EVP_CIPHER_CTX_new();
  a.dec_ = EVP_CIPHER_CTX_new();
  if (a.enc_ == nullptr || a.dec_ == nullptr) return resource_exhausted("cannot allocate an AES-GCM context");
  // Expand the key once per context; each message then only sets its nonce.
  if (EVP_EncryptInit_ex(a.enc_, EVP_aes_256_gcm(), nullptr, key.data(), nullptr) != 1 ||
      EVP_DecryptInit_ex(a.dec_, EVP_aes_256_gcm(), nullptr, key.data(), nullptr) != 1) {
    return internal_error("OpenSSL AES-256-GCM initialisation failed");
  }
  return a;
}

Aes256Gcm::Aes256Gcm(Aes256Gcm&& o) noexcept
    : enc_(std::exchange(o.enc_, nullptr)), dec_(std::exchange(o.dec_, nullptr)) {}

Aes256Gcm& Aes256Gcm::operator=(Aes256Gcm&& o) noexcept {
  if (this != &o) {
    release();
    enc_ = std::exchange(o.enc_, nullptr);
    dec_ = std::exchange(o.dec_, nullptr);
  }
  return *this;
}

Aes256Gcm::~Aes256Gcm() { release(); }

void Aes256Gcm::release() {
  // EVP_CIPHER_CTX_free cleanses the expanded key.
  if (enc_ != nullptr) EVP_CIPHER_CTX_free(enc_);
  if (dec_ != nullptr) EVP_CIPHER_CTX_free(dec_);
  enc_ = dec_ = nullptr;
}

Status Aes256Gcm::seal(std::span<const uint8_t> nonce, std::span<const uint8_t> aad, std::span<const uint8_t> in,
                       std::span<uint8_t> out, std::span<uint8_t> tag) {
  SEALSUM_RETURN_IF_ERROR(check_shapes(nonce, aad, in, out.size(), tag.size()));
  if (enc_ == nullptr) return internal_error("AES-GCM context used after move");
  int n = 0;
  if (EVP_EncryptInit_ex(enc_, nullptr, nullptr, nullptr, nonce.data()) != 1) {
    return internal_error("OpenSSL AES-GCM: setting the nonce failed");
  }
  if (!aad.empty() && EVP_EncryptUpdate(enc_, nullptr, &n, aad.data(), as_int(aad.size())) != 1) {
    return internal_error("OpenSSL AES-GCM: associated data failed");
  }
  if (!in.empty() && EVP_EncryptUpdate(enc_, out.data(), &n, in.data(), as_int(in.size())) != 1) {
    return internal_error("OpenSSL AES-GCM: encryption failed");
  }
  uint8_t unused[16];
  if (EVP_EncryptFinal_ex(enc_, unused, &n) != 1 ||
      EVP_CIPHER_CTX_ctrl(enc_, EVP_CTRL_GCM_GET_TAG, as_int(kGcmTagSize), tag.data()) != 1) {
    return internal_error("OpenSSL AES-GCM: finishing the tag failed");
  }
  return Status::ok();
}

Status Aes256Gcm::open(std::span<const uint8_t> nonce, std::span<const uint8_t> aad, std::span<const uint8_t> in,
                       std::span<uint8_t> out, std::span<const uint8_t> tag) {
  SEALSUM_RETURN_IF_ERROR(check_shapes(nonce, aad, in, out.size(), tag.size()));
  if (dec_ == nullptr) return internal_error("AES-GCM context used after move");
  int n = 0;
  if (EVP_DecryptInit_ex(dec_, nullptr, nullptr, nullptr, nonce.data()) != 1) {
    return internal_error("OpenSSL AES-GCM: setting the nonce failed");
  }
  if (!aad.empty() && EVP_DecryptUpdate(dec_, nullptr, &n, aad.data(), as_int(aad.size())) != 1) {
    return internal_error("OpenSSL AES-GCM: associated data failed");
  }
  if (!in.empty() && EVP_DecryptUpdate(dec_, out.data(), &n, in.data(), as_int(in.size())) != 1) {
    wipe(out.data(), out.size());
    return internal_error("OpenSSL AES-GCM: decryption failed");
  }
  // OpenSSL copies the expected tag; the const_cast is for its non-const ctrl signature.
  uint8_t unused[16];
  if (EVP_CIPHER_CTX_ctrl(dec_, EVP_CTRL_GCM_SET_TAG, as_int(kGcmTagSize), const_cast<uint8_t*>(tag.data())) != 1) {
    wipe(out.data(), out.size());
    return internal_error("OpenSSL AES-GCM: setting the tag failed");
  }
  if (EVP_DecryptFinal_ex(dec_, unused, &n) != 1) {  // constant-time tag comparison inside OpenSSL
    wipe(out.data(), out.size());
    return unauthenticated("AES-GCM tag mismatch");
  }
  return Status::ok();
}

Result<SealedMessage> seal_message(std::span<const uint8_t> key, std::span<const uint8_t> aad,
                                   std::span<const uint8_t> plaintext) {
  if (key.size() != kAesKeySize) return invalid_argument("AES-256-GCM key must be 32 bytes");
  if (plaintext.size() > kGcmMaxMessage || aad.size() > kGcmMaxMessage) {
    return invalid_argument("AES-256-GCM message or associated data over 1 GiB");
  }
  SEALSUM_ASSIGN_OR_RETURN(Aes256Gcm gcm, Aes256Gcm::create(key));
  SealedMessage m;
  SEALSUM_RETURN_IF_ERROR(random_bytes(m.nonce));
  m.ciphertext.resize(plaintext.size());
  SEALSUM_RETURN_IF_ERROR(gcm.seal(m.nonce, aad, plaintext, m.ciphertext, m.tag));
  return m;
}

Result<SecretBuffer> open_message(std::span<const uint8_t> key, std::span<const uint8_t> aad,
                                  std::span<const uint8_t> nonce, std::span<const uint8_t> ciphertext,
                                  std::span<const uint8_t> tag) {
  if (key.size() != kAesKeySize) return invalid_argument("AES-256-GCM key must be 32 bytes");
  if (nonce.size() != kGcmNonceSize) return invalid_argument("AES-256-GCM nonce must be 12 bytes");
  if (tag.size() != kGcmTagSize) return invalid_argument("AES-256-GCM tag must be 16 bytes");
  if (ciphertext.size() > kGcmMaxMessage || aad.size() > kGcmMaxMessage) {
    return invalid_argument("AES-256-GCM message or associated data over 1 GiB");
  }
  SEALSUM_ASSIGN_OR_RETURN(Aes256Gcm gcm, Aes256Gcm::create(key));
  SEALSUM_ASSIGN_OR_RETURN(SecretBuffer pt, SecretBuffer::allocate(ciphertext.size()));
  SEALSUM_RETURN_IF_ERROR(gcm.open(nonce, aad, ciphertext, pt.span(), tag));  // wipes pt on failure
  return pt;
}

Result<SecretBuffer> hkdf_sha256(std::span<const uint8_t> ikm, std::span<const uint8_t> salt,
                                 std::span<const uint8_t> info, size_t out_len) {
  if (out_len == 0 || out_len > 255 * 32) return internal_error("HKDF-SHA256 output length out of range");
  SEALSUM_ASSIGN_OR_RETURN(SecretBuffer out, SecretBuffer::allocate(out_len, /*require_lock=*/true));
  EVP_KDF* kdf = EVP_KDF_fetch(nullptr, OSSL_KDF_NAME_HKDF, nullptr);
  EVP_KDF_CTX* ctx = kdf != nullptr ? EVP_KDF_CTX_new(kdf) : nullptr;
  EVP_KDF_free(kdf);
  if (ctx == nullptr) return internal_error("OpenSSL HKDF is unavailable");
  // OSSL_PARAM wants non-const pointers; OpenSSL only reads these buffers.
  char digest[] = "SHA256";
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, digest, 0),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, const_cast<uint8_t*>(ikm.data()), ikm.size()),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, const_cast<uint8_t*>(salt.data()), salt.size()),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, const_cast<uint8_t*>(info.data()), info.size()),
      OSSL_PARAM_construct_end(),
  };
  const int rc = EVP_KDF_derive(ctx, out.data(), out.size(), params);
  EVP_KDF_CTX_free(ctx);  // cleanses the copied key material
  if (rc != 1) return internal_error("OpenSSL HKDF-SHA256 derivation failed");
  return out;
}

Status random_bytes(std::span<uint8_t> out) {
  if (out.empty()) return Status::ok();
  if (out.size() > INT_MAX || RAND_bytes(out.data(), as_int(out.size())) != 1) {
    return internal_error("OpenSSL's random generator failed (is the system entropy source available?)");
  }
  return Status::ok();
}

}  // namespace sealsum::secure
