// RS256 JWS parsing, signing and verification against pinned keys or pinned roots (see jws.h).
#include "secure/keyrelease/jws.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include "common/encoding.h"

namespace sealsum::secure::keyrelease {
namespace {

struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
  void operator()(X509_STORE* s) const { X509_STORE_free(s); }
  void operator()(X509_STORE_CTX* c) const { X509_STORE_CTX_free(c); }
  void operator()(STACK_OF(X509) * s) const { sk_X509_pop_free(s, X509_free); }
  void operator()(BIO* b) const { BIO_free(b); }
};
template <class T>
using Owned = std::unique_ptr<T, X509Free>;

Result<Owned<X509>> cert_from_b64_der(const nlohmann::json& v, size_t index) {
  if (!v.is_string()) return data_loss("JWS x5c[" + std::to_string(index) + "] is not a string");
  SEALSUM_ASSIGN_OR_RETURN(std::vector<uint8_t> der,
                           encoding::base64_decode(v.get<std::string>(), "JWS x5c[" + std::to_string(index) + "]"));
  const unsigned char* p = der.data();
  X509* x = d2i_X509(nullptr, &p, static_cast<long>(der.size()));
  if (!x || p != der.data() + der.size()) {
    X509_free(x);
    ERR_clear_error();
    return data_loss("JWS x5c[" + std::to_string(index) + "] is not one DER certificate");
  }
  return Owned<X509>(x);
}

// Verifies the x5c chain to one of the trusted roots; returns the leaf's public key.
Result<RsaPublicKey> leaf_key_from_x5c(const nlohmann::json& x5c, const JwsTrust& trust) {
  if (!x5c.is_array() || x5c.empty() || x5c.size() > 8) {
    return unauthenticated("JWS x5c must be an array of 1..8 certificates");
  }
  Owned<X509_STORE> store(X509_STORE_new());
  Owned<STACK_OF(X509)> untrusted(sk_X509_new_null());
  if (!store || !untrusted) return internal_error("out of memory");
  for (const std::string& pem : trust.trusted_roots_pem) {
    Owned<BIO> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
    X509* root = bio ? PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr) : nullptr;
    if (!root) {
      ERR_clear_error();
      return invalid_argument("a trusted root is not a PEM certificate");
    }
    X509_STORE_add_cert(store.get(), root);
    X509_free(root);
  }
  SEALSUM_ASSIGN_OR_RETURN(Owned<X509> leaf, cert_from_b64_der(x5c[0], 0));
  for (size_t i = 1; i < x5c.size(); ++i) {
    SEALSUM_ASSIGN_OR_RETURN(Owned<X509> c, cert_from_b64_der(x5c[i], i));
    if (sk_X509_push(untrusted.get(), c.get()) <= 0) return internal_error("out of memory");
    c.release();
  }
  Owned<X509_STORE_CTX> ctx(X509_STORE_CTX_new());
  if (!ctx || X509_STORE_CTX_init(ctx.get(), store.get(), leaf.get(), untrusted.get()) != 1) {
    return internal_error("X509 verification setup failed");
  }
  if (trust.now) X509_STORE_CTX_set_time(ctx.get(), 0, *trust.now);
  if (X509_verify_cert(ctx.get()) != 1) {
    int err = X509_STORE_CTX_get_error(ctx.get());
    ERR_clear_error();
    return unauthenticated(std::string("JWS x5c chain does not verify to a trusted root: ") +
                           X509_verify_cert_error_string(err));
  }
  EVP_PKEY* pk = X509_get_pubkey(leaf.get());
  if (!pk) return unauthenticated("JWS x5c leaf has no usable public key");
  auto key = RsaPublicKey::adopt(PkeyPtr(pk));
  if (!key.ok()) return unauthenticated("JWS x5c leaf key: " + key.status().message());
  return key;
}

}  // namespace

Result<JwsParts> parse_jws(std::string_view compact) {
  if (compact.size() > kMaxJwsBytes) return resource_exhausted("JWS exceeds " + std::to_string(kMaxJwsBytes) + " bytes");
  size_t d1 = compact.find('.');
  size_t d2 = d1 == std::string_view::npos ? d1 : compact.find('.', d1 + 1);
  if (d2 == std::string_view::npos || compact.find('.', d2 + 1) != std::string_view::npos) {
    return data_loss("JWS is not three dot-separated parts");
  }
  JwsParts out;
  SEALSUM_ASSIGN_OR_RETURN(std::string header, encoding::base64_decode_text(compact.substr(0, d1), "JWS header"));
  out.header = nlohmann::json::parse(header, nullptr, false);
  if (out.header.is_discarded() || !out.header.is_object()) return data_loss("JWS header is not a JSON object");
  SEALSUM_ASSIGN_OR_RETURN(out.payload, encoding::base64_decode_text(compact.substr(d1 + 1, d2 - d1 - 1), "JWS payload"));
  SEALSUM_ASSIGN_OR_RETURN(out.signature, encoding::base64_decode(compact.substr(d2 + 1), "JWS signature"));
  out.signing_input = std::string(compact.substr(0, d2));
  return out;
}

Result<std::string> verify_jws(std::string_view compact, const JwsTrust& trust) {
  if (trust.empty()) return invalid_argument("no JWS trust anchor configured (pin a signing key or a root certificate)");
  SEALSUM_ASSIGN_OR_RETURN(JwsParts jws, parse_jws(compact));
  auto alg = jws.header.find("alg");
  if (alg == jws.header.end() || !alg->is_string() || alg->get<std::string>() != "RS256") {
    return unauthenticated("JWS \"alg\" is not RS256");
  }
  std::span<const uint8_t> input = encoding::as_bytes(jws.signing_input);
  auto x5c = jws.header.find("x5c");
  if (x5c != jws.header.end() && !trust.trusted_roots_pem.empty()) {
    SEALSUM_ASSIGN_OR_RETURN(RsaPublicKey leaf, leaf_key_from_x5c(*x5c, trust));
    SEALSUM_RETURN_IF_ERROR(leaf.verify_rs256(input, jws.signature).with_context("JWS x5c leaf: "));
    return std::move(jws.payload);
  }
  for (const std::string& pem : trust.pinned_public_keys_pem) {
    SEALSUM_ASSIGN_OR_RETURN(RsaPublicKey key, RsaPublicKey::from_pem(pem));
    if (key.verify_rs256(input, jws.signature).is_ok()) return std::move(jws.payload);
  }
  return unauthenticated(trust.pinned_public_keys_pem.empty()
                             ? "JWS carries no x5c chain and no signing key is pinned"
                             : "JWS signature does not verify under any pinned key");
}

Result<std::string> sign_jws(nlohmann::json header, std::string_view payload, const RsaPrivateKey& key) {
  header["alg"] = "RS256";
  std::string input = encoding::base64url_encode(encoding::as_bytes(header.dump())) + "." + encoding::base64url_encode(encoding::as_bytes(payload));
  SEALSUM_ASSIGN_OR_RETURN(std::vector<uint8_t> sig, key.sign_rs256(encoding::as_bytes(input)));
  return input + "." + encoding::base64url_encode(sig);
}

Status check_jwt_times(const nlohmann::json& claims, std::time_t now, long skew_s) {
  if (!claims.is_object()) return data_loss("JWT claims are not a JSON object");
  auto exp = claims.find("exp");
  if (exp == claims.end() || !exp->is_number_integer()) return data_loss("JWT has no integer \"exp\" claim");
  if (exp->get<long long>() + skew_s < static_cast<long long>(now)) return unauthenticated("JWT has expired");
  auto nbf = claims.find("nbf");
  if (nbf != claims.end()) {
    if (!nbf->is_number_integer()) return data_loss("JWT \"nbf\" is not an integer");
    if (nbf->get<long long>() - skew_s > static_cast<long long>(now)) return unauthenticated("JWT is not yet valid");
  }
  return Status::ok();
}

}  // namespace sealsum::secure::keyrelease
