// RSA key handling, OAEP, RS256 and CKM_RSA_AES_KEY_WRAP over OpenSSL 3 EVP (see rsa.h).
#include "secure/keyrelease/rsa.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "secure/aead.h"
#include "common/encoding.h"

namespace sealsum::secure::keyrelease {

void PkeyDeleter::operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }

namespace {

struct CtxFree {
  void operator()(EVP_PKEY_CTX* c) const { EVP_PKEY_CTX_free(c); }
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
  void operator()(EVP_CIPHER_CTX* c) const { EVP_CIPHER_CTX_free(c); }
  void operator()(BIO* b) const { BIO_free(b); }
  void operator()(BIGNUM* b) const { BN_free(b); }
  void operator()(OSSL_PARAM_BLD* b) const { OSSL_PARAM_BLD_free(b); }
  void operator()(OSSL_PARAM* p) const { OSSL_PARAM_free(p); }
};
template <class T>
using Owned = std::unique_ptr<T, CtxFree>;

std::string ossl_error() {
  unsigned long e = ERR_get_error();
  ERR_clear_error();
  if (e == 0) return "unknown OpenSSL error";
  char buf[256];
  ERR_error_string_n(e, buf, sizeof buf);
  return buf;
}

const EVP_MD* md_for(OaepHash h) {
  switch (h) {
    case OaepHash::kSha1: return EVP_sha1();
    case OaepHash::kSha256: return EVP_sha256();
    case OaepHash::kSha384: return EVP_sha384();
  }
  return EVP_sha256();
}

// OAEP padding, hash and MGF1 hash on an encrypt/decrypt context, plus the label if non-empty
// (OpenSSL takes ownership of a copy).
bool set_oaep(EVP_PKEY_CTX* ctx, OaepHash hash, std::span<const uint8_t> label) {
  if (EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_OAEP_PADDING) != 1 ||
      EVP_PKEY_CTX_set_rsa_oaep_md(ctx, md_for(hash)) != 1 || EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, md_for(hash)) != 1) {
    return false;
  }
  if (label.empty()) return true;
  if (label.size() > (64u << 10)) return false;
  void* copy = OPENSSL_memdup(label.data(), label.size());
  if (copy == nullptr) return false;
  if (EVP_PKEY_CTX_set0_rsa_oaep_label(ctx, copy, static_cast<int>(label.size())) != 1) {
    OPENSSL_free(copy);
    return false;
  }
  return true;
}

Status check_rsa(EVP_PKEY* k) {
  if (EVP_PKEY_get_base_id(k) != EVP_PKEY_RSA) return invalid_argument("key is not an RSA key");
  int bits = EVP_PKEY_get_bits(k);
  if (bits < kMinRsaBits || bits > kMaxRsaBits) {
    return invalid_argument("RSA modulus is " + std::to_string(bits) + " bits; accepted: " +
                            std::to_string(kMinRsaBits) + ".." + std::to_string(kMaxRsaBits));
  }
  BIGNUM* e = nullptr;
  if (EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_RSA_E, &e) != 1) return internal_error("cannot read RSA exponent");
  Owned<BIGNUM> eo(e);
  if (!BN_is_word(e, 65537)) return invalid_argument("RSA public exponent is not 65537");
  return Status::ok();
}

std::string bn_b64url(EVP_PKEY* k, const char* name) {
  BIGNUM* bn = nullptr;
  if (EVP_PKEY_get_bn_param(k, name, &bn) != 1) return {};
  Owned<BIGNUM> o(bn);
  std::vector<uint8_t> b(static_cast<size_t>(BN_num_bytes(bn)));
  BN_bn2bin(bn, b.data());
  return encoding::base64url_encode(b);
}

const EVP_CIPHER* wrap_pad_cipher(size_t kek_len) {
  switch (kek_len) {
    case 16: return EVP_aes_128_wrap_pad();
    case 24: return EVP_aes_192_wrap_pad();
    case 32: return EVP_aes_256_wrap_pad();
    default: return nullptr;
  }
}

}  // namespace

Result<RsaPublicKey> RsaPublicKey::adopt(PkeyPtr key) {
  if (!key) return invalid_argument("no public key");
  SEALSUM_RETURN_IF_ERROR(check_rsa(key.get()));
  return RsaPublicKey(std::move(key));
}

Result<RsaPublicKey> RsaPublicKey::from_jwk(const nlohmann::json& jwk) {
  if (!jwk.is_object()) return invalid_argument("JWK is not a JSON object");
  auto kty = jwk.find("kty");
  if (kty == jwk.end() || !kty->is_string() || kty->get<std::string>() != "RSA") {
    return invalid_argument("JWK \"kty\" is not \"RSA\"");
  }
  auto n = jwk.find("n");
  auto e = jwk.find("e");
  if (n == jwk.end() || !n->is_string() || e == jwk.end() || !e->is_string()) {
    return invalid_argument("JWK lacks string members \"n\" and \"e\"");
  }
  if (n->get_ref<const std::string&>().size() > 2048 || e->get_ref<const std::string&>().size() > 16) {
    return invalid_argument("JWK \"n\" or \"e\" is too long");
  }
  SEALSUM_ASSIGN_OR_RETURN(std::vector<uint8_t> nb, encoding::base64_decode(n->get<std::string>(), "JWK \"n\""));
  SEALSUM_ASSIGN_OR_RETURN(std::vector<uint8_t> eb, encoding::base64_decode(e->get<std::string>(), "JWK \"e\""));
  Owned<BIGNUM> nbn(BN_bin2bn(nb.data(), static_cast<int>(nb.size()), nullptr));
  Owned<BIGNUM> ebn(BN_bin2bn(eb.data(), static_cast<int>(eb.size()), nullptr));
  Owned<OSSL_PARAM_BLD> bld(OSSL_PARAM_BLD_new());
  if (!nbn || !ebn || !bld || OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, nbn.get()) != 1 ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, ebn.get()) != 1) {
    return internal_error("building RSA key parameters failed: " + ossl_error());
  }
  Owned<OSSL_PARAM> params(OSSL_PARAM_BLD_to_param(bld.get()));
  Owned<EVP_PKEY_CTX> ctx(EVP_PKEY_CTX_new_from_name(nullptr, "RSA", nullptr));
  EVP_PKEY* raw = nullptr;
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_PUBLIC_KEY, params.get()) != 1) {
    return invalid_argument("JWK is not a valid RSA public key: " + ossl_error());
  }
  return adopt(PkeyPtr(raw));
}

Result<RsaPublicKey> RsaPublicKey::from_pem(std::string_view pem) {
  if (pem.size() > 64 * 1024) return invalid_argument("public key PEM is too large");
  Owned<BIO> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  EVP_PKEY* raw = bio ? PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr) : nullptr;
  if (!raw) return invalid_argument("not a PEM public key: " + ossl_error());
  return adopt(PkeyPtr(raw));
}

int RsaPublicKey::bits() const { return EVP_PKEY_get_bits(key_.get()); }

nlohmann::json RsaPublicKey::to_jwk() const {
  return {{"kty", "RSA"}, {"n", bn_b64url(key_.get(), OSSL_PKEY_PARAM_RSA_N)},
          {"e", bn_b64url(key_.get(), OSSL_PKEY_PARAM_RSA_E)}};
}

std::string RsaPublicKey::to_pem() const {
  Owned<BIO> bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PUBKEY(bio.get(), key_.get()) != 1) return {};
  char* data = nullptr;
  long n = BIO_get_mem_data(bio.get(), &data);
  return n > 0 ? std::string(data, static_cast<size_t>(n)) : std::string();
}

Result<std::vector<uint8_t>> RsaPublicKey::oaep_encrypt(std::span<const uint8_t> plaintext, OaepHash hash,
                                                       std::span<const uint8_t> label) const {
  Owned<EVP_PKEY_CTX> ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, key_.get(), nullptr));
  if (!ctx || EVP_PKEY_encrypt_init(ctx.get()) != 1 || !set_oaep(ctx.get(), hash, label)) {
    return internal_error("RSA-OAEP setup failed: " + ossl_error());
  }
  size_t len = 0;
  if (EVP_PKEY_encrypt(ctx.get(), nullptr, &len, plaintext.data(), plaintext.size()) != 1) {
    return internal_error("RSA-OAEP sizing failed: " + ossl_error());
  }
  std::vector<uint8_t> out(len);
  if (EVP_PKEY_encrypt(ctx.get(), out.data(), &len, plaintext.data(), plaintext.size()) != 1) {
    return invalid_argument("RSA-OAEP encryption failed (message too long for the key?): " + ossl_error());
  }
  out.resize(len);
  return out;
}

Status RsaPublicKey::verify_rs256(std::span<const uint8_t> data, std::span<const uint8_t> signature) const {
  Owned<EVP_MD_CTX> md(EVP_MD_CTX_new());
  if (!md || EVP_DigestVerifyInit(md.get(), nullptr, EVP_sha256(), nullptr, key_.get()) != 1) {
    return internal_error("RS256 verify setup failed: " + ossl_error());
  }
  int rc = EVP_DigestVerify(md.get(), signature.data(), signature.size(), data.data(), data.size());
  ERR_clear_error();
  if (rc != 1) return unauthenticated("RS256 signature does not verify");
  return Status::ok();
}

Result<RsaPrivateKey> RsaPrivateKey::generate(int bits) {
  if (bits < kMinRsaBits || bits > kMaxRsaBits) return invalid_argument("RSA key size out of range");
  EVP_PKEY* raw = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(bits));
  if (!raw) return internal_error("RSA key generation failed: " + ossl_error());
  return RsaPrivateKey(PkeyPtr(raw));
}

Result<RsaPrivateKey> RsaPrivateKey::from_pem(std::string_view pem) {
  if (pem.size() > 64 * 1024) return invalid_argument("private key PEM is too large");
  Owned<BIO> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  EVP_PKEY* raw = bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr) : nullptr;
  if (!raw) return invalid_argument("not a PEM private key: " + ossl_error());
  PkeyPtr k(raw);
  SEALSUM_RETURN_IF_ERROR(check_rsa(k.get()));
  return RsaPrivateKey(std::move(k));
}

int RsaPrivateKey::bits() const { return EVP_PKEY_get_bits(key_.get()); }
size_t RsaPrivateKey::modulus_bytes() const { return static_cast<size_t>(EVP_PKEY_get_size(key_.get())); }

Result<RsaPublicKey> RsaPrivateKey::public_key() const {
  // Round-trip through the public parameters so the result holds no private material.
  Owned<OSSL_PARAM_BLD> bld(OSSL_PARAM_BLD_new());
  BIGNUM *n = nullptr, *e = nullptr;
  EVP_PKEY_get_bn_param(key_.get(), OSSL_PKEY_PARAM_RSA_N, &n);
  EVP_PKEY_get_bn_param(key_.get(), OSSL_PKEY_PARAM_RSA_E, &e);
  Owned<BIGNUM> no(n), eo(e);
  if (!bld || !n || !e || OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, n) != 1 ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, e) != 1) {
    return internal_error("extracting the RSA public key failed: " + ossl_error());
  }
  Owned<OSSL_PARAM> params(OSSL_PARAM_BLD_to_param(bld.get()));
  Owned<EVP_PKEY_CTX> ctx(EVP_PKEY_CTX_new_from_name(nullptr, "RSA", nullptr));
  EVP_PKEY* raw = nullptr;
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_PUBLIC_KEY, params.get()) != 1) {
    return internal_error("extracting the RSA public key failed: " + ossl_error());
  }
  return RsaPublicKey::adopt(PkeyPtr(raw));
}

Result<SecretBuffer> RsaPrivateKey::oaep_decrypt(std::span<const uint8_t> ciphertext, OaepHash hash,
                                                 std::span<const uint8_t> label) const {
  if (ciphertext.size() != modulus_bytes()) {
    return data_loss("RSA-OAEP ciphertext is " + std::to_string(ciphertext.size()) + " bytes, expected " +
                     std::to_string(modulus_bytes()));
  }
  Owned<EVP_PKEY_CTX> ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, key_.get(), nullptr));
  if (!ctx || EVP_PKEY_decrypt_init(ctx.get()) != 1 || !set_oaep(ctx.get(), hash, label)) {
    return internal_error("RSA-OAEP setup failed: " + ossl_error());
  }
  SEALSUM_ASSIGN_OR_RETURN(SecretBuffer out, SecretBuffer::allocate(modulus_bytes(), true));
  size_t len = out.size();
  if (EVP_PKEY_decrypt(ctx.get(), out.data(), &len, ciphertext.data(), ciphertext.size()) != 1) {
    ERR_clear_error();
    return unauthenticated("RSA-OAEP decryption failed: wrong key or corrupted ciphertext");
  }
  out.truncate(len);
  return out;
}

Result<std::vector<uint8_t>> RsaPrivateKey::sign_rs256(std::span<const uint8_t> data) const {
  Owned<EVP_MD_CTX> md(EVP_MD_CTX_new());
  size_t len = 0;
  if (!md || EVP_DigestSignInit(md.get(), nullptr, EVP_sha256(), nullptr, key_.get()) != 1 ||
      EVP_DigestSign(md.get(), nullptr, &len, data.data(), data.size()) != 1) {
    return internal_error("RS256 signing setup failed: " + ossl_error());
  }
  std::vector<uint8_t> sig(len);
  if (EVP_DigestSign(md.get(), sig.data(), &len, data.data(), data.size()) != 1) {
    return internal_error("RS256 signing failed: " + ossl_error());
  }
  sig.resize(len);
  return sig;
}

Result<std::vector<uint8_t>> rsa_aes_key_wrap(const RsaPublicKey& recipient, std::span<const uint8_t> key,
                                              OaepHash hash) {
  if (key.empty() || key.size() > 4096) return invalid_argument("key to wrap must be 1..4096 bytes");
  SEALSUM_ASSIGN_OR_RETURN(SecretBuffer kek, SecretBuffer::allocate(32, true));
  SEALSUM_RETURN_IF_ERROR(random_bytes(kek.span()));
  SEALSUM_ASSIGN_OR_RETURN(std::vector<uint8_t> out, recipient.oaep_encrypt(kek.span(), hash));
  Owned<EVP_CIPHER_CTX> c(EVP_CIPHER_CTX_new());
  if (!c) return internal_error("out of memory");
  EVP_CIPHER_CTX_set_flags(c.get(), EVP_CIPHER_CTX_FLAG_WRAP_ALLOW);
  std::vector<uint8_t> wrapped(key.size() + 16);
  int len = 0;
  if (EVP_EncryptInit_ex(c.get(), EVP_aes_256_wrap_pad(), nullptr, kek.data(), nullptr) != 1 ||
      EVP_EncryptUpdate(c.get(), wrapped.data(), &len, key.data(), static_cast<int>(key.size())) != 1) {
    return internal_error("AES key wrap failed: " + ossl_error());
  }
  int fin = 0;
  if (EVP_EncryptFinal_ex(c.get(), wrapped.data() + len, &fin) != 1) return internal_error("AES key wrap failed");
  wrapped.resize(static_cast<size_t>(len + fin));
  out.insert(out.end(), wrapped.begin(), wrapped.end());
  return out;
}

Result<SecretBuffer> rsa_aes_key_unwrap(const RsaPrivateKey& key, std::span<const uint8_t> ciphertext, OaepHash hash) {
  size_t n = key.modulus_bytes();
  if (ciphertext.size() > 64 * 1024) return data_loss("wrapped key is too large");
  // RFC 5649 output: at least 16 bytes, a multiple of 8.
  if (ciphertext.size() < n + 16 || (ciphertext.size() - n) % 8 != 0) {
    return data_loss("CKM_RSA_AES_KEY_WRAP ciphertext has an impossible length " + std::to_string(ciphertext.size()) +
                     " for a " + std::to_string(n * 8) + "-bit key");
  }
  SEALSUM_ASSIGN_OR_RETURN(SecretBuffer kek, key.oaep_decrypt(ciphertext.first(n), hash));
  const EVP_CIPHER* cipher = wrap_pad_cipher(kek.size());
  if (!cipher) return data_loss("transport key has " + std::to_string(kek.size()) + " bytes, not an AES key size");
  std::span<const uint8_t> wrapped = ciphertext.subspan(n);
  Owned<EVP_CIPHER_CTX> c(EVP_CIPHER_CTX_new());
  if (!c) return internal_error("out of memory");
  EVP_CIPHER_CTX_set_flags(c.get(), EVP_CIPHER_CTX_FLAG_WRAP_ALLOW);
  SEALSUM_ASSIGN_OR_RETURN(SecretBuffer out, SecretBuffer::allocate(wrapped.size(), true));
  int len = 0;
  if (EVP_DecryptInit_ex(c.get(), cipher, nullptr, kek.data(), nullptr) != 1 ||
      EVP_DecryptUpdate(c.get(), out.data(), &len, wrapped.data(), static_cast<int>(wrapped.size())) <= 0) {
    ERR_clear_error();
    return unauthenticated("AES key unwrap (RFC 5649) integrity check failed: wrong key or corrupted ciphertext");
  }
  int fin = 0;
  if (EVP_DecryptFinal_ex(c.get(), out.data() + len, &fin) != 1) {
    ERR_clear_error();
    return unauthenticated("AES key unwrap (RFC 5649) failed");
  }
  out.truncate(static_cast<size_t>(len + fin));
  return out;
}

}  // namespace sealsum::secure::keyrelease
