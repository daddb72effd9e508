// RS256 JWS: pinned-key and x5c-chain verification, tampering, algorithm confusion, JWT times.
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <catch2/catch.hpp>

#include "common/encoding.h"
#include "secure/keyrelease/jws.h"
#include "secure/keyrelease/keyrelease_testutil.h"

using namespace sealsum;
using namespace sealsum::secure::keyrelease;

namespace {

const RsaPrivateKey& signer() {
  static RsaPrivateKey* k = new RsaPrivateKey(std::move(RsaPrivateKey::generate(2048)).value());
  return *k;
}

std::string public_pem(const RsaPrivateKey& k) {
  auto pub = k.public_key();
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PUBKEY(bio, pub->pkey());
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  std::string out(data, static_cast<size_t>(n));
  BIO_free(bio);
  return out;
}

// A certificate for `subject_key` named `cn`, signed by `issuer_key` (issuer name `issuer_cn`).
X509* make_cert(const RsaPrivateKey& subject_key, const std::string& cn, EVP_PKEY* issuer_pkey,
                const std::string& issuer_cn, bool ca, long serial) {
  X509* x = X509_new();
  X509_set_version(x, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(x), serial);
  X509_gmtime_adj(X509_getm_notBefore(x), -3600);
  X509_gmtime_adj(X509_getm_notAfter(x), 3600L * 24 * 365);
  auto pub = subject_key.public_key();
  X509_set_pubkey(x, pub->pkey());
  X509_NAME* name = X509_get_subject_name(x);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  X509_NAME* iname = X509_NAME_new();
  X509_NAME_add_entry_by_txt(iname, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(issuer_cn.c_str()), -1,
                             -1, 0);
  X509_set_issuer_name(x, iname);
  X509_NAME_free(iname);
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, x, x, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, NID_basic_constraints, ca ? "critical,CA:TRUE" : "CA:FALSE");
  X509_add_ext(x, ext, -1);
  X509_EXTENSION_free(ext);
  X509_sign(x, issuer_pkey, EVP_sha256());
  return x;
}

std::string der_b64(X509* x) {
  unsigned char* der = nullptr;
  int n = i2d_X509(x, &der);
  std::string out = encoding::base64_encode({der, static_cast<size_t>(n)});
  OPENSSL_free(der);
  return out;
}

std::string pem_of(X509* x) {
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(bio, x);
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  std::string out(data, static_cast<size_t>(n));
  BIO_free(bio);
  return out;
}

std::string private_pem_of(EVP_PKEY* k) {
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(bio, k, nullptr, nullptr, 0, nullptr, nullptr);
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  std::string out(data, static_cast<size_t>(n));
  BIO_free(bio);
  return out;
}

std::string flip_char(std::string s, size_t pos) {
  s[pos] = s[pos] == 'A' ? 'B' : 'A';
  return s;
}

}  // namespace

TEST_CASE("JWS with a pinned key: verifies and tampering is refused") {
  auto jws = sign_jws({{"kid", "test"}}, "{\"hello\":1}", signer());
  REQUIRE(jws.ok());
  JwsTrust trust;
  trust.pinned_public_keys_pem = {public_pem(signer())};
  auto payload = verify_jws(*jws, trust);
  REQUIRE(payload.ok());
  CHECK(*payload == "{\"hello\":1}");

  size_t d1 = jws->find('.');
  size_t d2 = jws->rfind('.');
  SECTION("tampered payload") {
    std::string t = jws->substr(0, d1 + 1) + encoding::base64url_encode(encoding::as_bytes("{\"hello\":2}")) + jws->substr(d2);
    CHECK(verify_jws(t, trust).status().code() == Code::kUnauthenticated);
  }
  SECTION("tampered signature") {
    CHECK(verify_jws(flip_char(*jws, d2 + 5), trust).status().code() == Code::kUnauthenticated);
  }
  SECTION("a different pinned key") {
    JwsTrust other;
    other.pinned_public_keys_pem = {public_pem(testutil::ephemeral_key())};
    CHECK(verify_jws(*jws, other).status().code() == Code::kUnauthenticated);
  }
  SECTION("alg none / HS256 are refused") {
    for (const char* alg : {"none", "HS256"}) {
      std::string h = encoding::base64url_encode(encoding::as_bytes(std::string("{\"alg\":\"") + alg + "\"}"));
      std::string t = h + jws->substr(d1);
      CHECK(verify_jws(t, trust).status().code() == Code::kUnauthenticated);
    }
  }
  SECTION("no trust configured") { CHECK(verify_jws(*jws, JwsTrust{}).status().code() == Code::kInvalidArgument); }
  SECTION("malformed compact forms") {
    for (std::string bad : {"", "a.b", "a.b.c.d", "!!.e30.AA", ".."}) CHECK_FALSE(verify_jws(bad, trust).ok());
    CHECK(parse_jws(std::string(kMaxJwsBytes + 1, 'A')).status().code() == Code::kResourceExhausted);
  }
}

TEST_CASE("JWS with an x5c chain to a pinned root") {
  // Root and leaf keys as EVP_PKEYs (test-only OpenSSL use) and as RsaPrivateKeys.
  EVP_PKEY* root_pkey = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{2048});
  auto root_priv = RsaPrivateKey::from_pem(private_pem_of(root_pkey));
  REQUIRE(root_priv.ok());
  EVP_PKEY* leaf_pkey = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{2048});
  auto leaf_priv = RsaPrivateKey::from_pem(private_pem_of(leaf_pkey));
  REQUIRE(leaf_priv.ok());

  X509* root = make_cert(*root_priv, "Test Root", root_pkey, "Test Root", true, 1);
  X509* leaf = make_cert(*leaf_priv, "akv.test", root_pkey, "Test Root", false, 2);
  auto jws = sign_jws({{"x5c", {der_b64(leaf), der_b64(root)}}}, "payload", *leaf_priv);
  REQUIRE(jws.ok());

  JwsTrust trust;
  trust.trusted_roots_pem = {pem_of(root)};
  auto ok = verify_jws(*jws, trust);
  REQUIRE(ok.ok());
  CHECK(*ok == "payload");

  SECTION("an untrusted root is refused") {
    EVP_PKEY* other_pkey = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{2048});
    auto other_priv = RsaPrivateKey::from_pem(private_pem_of(other_pkey));
    X509* other_root = make_cert(*other_priv, "Other Root", other_pkey, "Other Root", true, 3);
    JwsTrust wrong;
    wrong.trusted_roots_pem = {pem_of(other_root)};
    CHECK(verify_jws(*jws, wrong).status().code() == Code::kUnauthenticated);
    X509_free(other_root);
    EVP_PKEY_free(other_pkey);
  }
  SECTION("a forged leaf claiming the trusted root as issuer is refused") {
    EVP_PKEY* attacker_pkey = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{2048});
    auto attacker = RsaPrivateKey::from_pem(private_pem_of(attacker_pkey));
    X509* forged = make_cert(*attacker, "akv.test", attacker_pkey, "Test Root", false, 4);
    auto f = sign_jws({{"x5c", {der_b64(forged), der_b64(root)}}}, "payload", *attacker);
    CHECK(verify_jws(*f, trust).status().code() == Code::kUnauthenticated);
    X509_free(forged);
    EVP_PKEY_free(attacker_pkey);
  }
  SECTION("certificates outside their validity are refused") {
    JwsTrust later = trust;
    later.now = std::time(nullptr) + 3600L * 24 * 400;
    CHECK(verify_jws(*jws, later).status().code() == Code::kUnauthenticated);
  }
  SECTION("signature by a key other than the leaf's is refused") {
    auto f = sign_jws({{"x5c", {der_b64(leaf), der_b64(root)}}}, "payload", signer());
    CHECK(verify_jws(*f, trust).status().code() == Code::kUnauthenticated);
  }
  X509_free(root);
  X509_free(leaf);
  EVP_PKEY_free(root_pkey);
  EVP_PKEY_free(leaf_pkey);
}

TEST_CASE("JWT times") {
  nlohmann::json c = {{"exp", 1000}, {"nbf", 500}};
  CHECK(check_jwt_times(c, 700, 0).is_ok());
  CHECK(check_jwt_times(c, 1001, 0).code() == Code::kUnauthenticated);
  CHECK(check_jwt_times(c, 499, 0).code() == Code::kUnauthenticated);
  CHECK(check_jwt_times(nlohmann::json{{"nbf", 1}}, 2, 0).code() == Code::kDataLoss);
}
