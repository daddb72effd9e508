// Output sealing: round trips (X25519 and RSA), tampering, wrong keys and contexts, policy parsing.
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <catch2/catch.hpp>

#include <memory>
#include <string>

#include "common/encoding.h"
#include "secure/keyrelease/rsa.h"
#include "secure/keys.h"
#include "secure/output_seal.h"
#include "secure/sealed_testutil.h"
#include "secure/tls_identity.h"
#include "secure/tls_internal.h"

using namespace sealsum;
using namespace sealsum::secure;
using json = nlohmann::json;

namespace {

std::string as_string(const SecretBuffer& b) { return {reinterpret_cast<const char*>(b.data()), b.size()}; }

OutputPolicy policy_for(const json& jwk) {
  auto p = parse_output_policy({{"mode", "sealed"}, {"consumer", "alice"}, {"key", jwk}});
  REQUIRE(p.ok());
  return *p;
}

// Flips one bit of a base64url member.
json tampered(json sealed, const char* member) {
  auto bytes = encoding::base64_decode(sealed[member].get<std::string>(), member);
  REQUIRE(bytes.ok());
  REQUIRE(!bytes->empty());
  (*bytes)[0] ^= 1;
  sealed[member] = encoding::base64url_encode(*bytes);
  return sealed;
}

}  // namespace

TEST_CASE("output_seal: X25519 round trip, binding and tamper detection", "[output_seal]") {
  auto key = OutputKey::generate_x25519();
  REQUIRE(key.ok());
  const OutputPolicy p = policy_for(key->public_jwk());
  const std::string msg = "the summary text";
  auto sealed = seal_output(p, encoding::as_bytes(msg), "document:a");
  REQUIRE(sealed.ok());
  CHECK((*sealed)["alg"] == kOutputAlgX25519);
  CHECK((*sealed)["consumer"] == "alice");
  CHECK(sealed->dump().find(msg) == std::string::npos);
  auto opened = key->open(*sealed, "document:a");
  REQUIRE(opened.ok());
  CHECK(as_string(*opened) == msg);
  // Two seals of one message differ (fresh ephemeral key and IV).
  auto again = seal_output(p, encoding::as_bytes(msg), "document:a");
  REQUIRE(again.ok());
  CHECK((*again)["ciphertext"] != (*sealed)["ciphertext"]);

  CHECK(key->open(*sealed, "document:b").status().code() == Code::kUnauthenticated);
  json ctx = *sealed;
  ctx["context"] = "document:b";
  CHECK(key->open(ctx, "document:b").status().code() == Code::kUnauthenticated);  // AAD binds the context
  for (const char* m : {"ciphertext", "tag", "iv", "epk"}) {
    INFO(m);
    CHECK_FALSE(key->open(tampered(*sealed, m), "document:a").ok());
  }
  auto other = OutputKey::generate_x25519();
  REQUIRE(other.ok());
  CHECK(other->open(*sealed, "document:a").status().code() == Code::kUnauthenticated);

  // Private JWK export / import round trip.
  auto text = key->private_jwk_text();
  REQUIRE(text.ok());
  const std::string jwk_text = as_string(*text);
  auto back = OutputKey::from_private_jwk(json::parse(jwk_text));
  REQUIRE(back.ok());
  auto reopened = back->open(*sealed, "document:a");
  REQUIRE(reopened.ok());
  CHECK(as_string(*reopened) == msg);
  json wrong_x = json::parse(jwk_text);
  wrong_x["x"] = other->public_jwk()["x"];
  CHECK_FALSE(OutputKey::from_private_jwk(wrong_x).ok());
}

TEST_CASE("output_seal: RSA-OAEP-256 round trip", "[output_seal]") {
  // A consumer's RSA key in PEM, as they would hold it.
  EVP_PKEY* pk = EVP_RSA_gen(2048);
  REQUIRE(pk != nullptr);
  BIO* bio = BIO_new(BIO_s_mem());
  REQUIRE(PEM_write_bio_PrivateKey(bio, pk, nullptr, nullptr, 0, nullptr, nullptr) == 1);
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio, &data);
  const std::string pem(data, static_cast<size_t>(n));
  BIO_free(bio);
  EVP_PKEY_free(pk);
  auto key = OutputKey::from_rsa_pem(pem);
  REQUIRE(key.ok());
  const OutputPolicy p = policy_for(key->public_jwk());
  auto sealed = seal_output(p, encoding::as_bytes(std::string("rsa summary")), "ctx");
  REQUIRE(sealed.ok());
  CHECK((*sealed)["alg"] == kOutputAlgRsa);
  auto opened = key->open(*sealed, "ctx");
  REQUIRE(opened.ok());
  CHECK(as_string(*opened) == "rsa summary");
  CHECK_FALSE(key->open(tampered(*sealed, "encrypted_key"), "ctx").ok());
  CHECK_FALSE(key->open(tampered(*sealed, "ciphertext"), "ctx").ok());
  CHECK(key->open(*sealed, "other").status().code() == Code::kUnauthenticated);
  auto x = OutputKey::generate_x25519();
  REQUIRE(x.ok());
  CHECK(x->open(*sealed, "ctx").status().code() == Code::kInvalidArgument);
  CHECK(key->private_jwk_text().status().code() == Code::kUnimplemented);
}

TEST_CASE("output_seal: policies are strict", "[output_seal]") {
  CHECK(parse_output_policy({{"mode", "plaintext"}}).ok());
  CHECK_FALSE(parse_output_policy({{"mode", "plaintext"}})->sealed);
  auto key = OutputKey::generate_x25519();
  REQUIRE(key.ok());
  const json jwk = key->public_jwk();
  for (const json& bad : {json::array(), json{{"mode", "loud"}}, json{{"mode", "sealed"}},
                          json{{"mode", "sealed"}, {"consumer", "a"}},
                          json{{"mode", "sealed"}, {"consumer", ""}, {"key", jwk}},
                          json{{"mode", "sealed"}, {"consumer", "a"}, {"key", {{"kty", "OKP"}, {"crv", "X25519"}, {"x", "AAAA"}}}},
                          json{{"mode", "sealed"}, {"consumer", "a"}, {"key", {{"kty", "EC"}}}},
                          json{{"mode", "plaintext"}, {"key", jwk}},
                          json{{"mode", "sealed"}, {"consumer", "a"}, {"key", jwk}, {"extra", 1}}}) {
    INFO(bad.dump());
    CHECK(parse_output_policy(bad).status().code() == Code::kInvalidArgument);
  }
  // A low-order X25519 point (all zeros) is refused when sealing.
  json zero = {{"mode", "sealed"}, {"consumer", "a"},
               {"key", {{"kty", "OKP"}, {"crv", "X25519"}, {"x", encoding::base64url_encode(std::array<uint8_t, 32>{})}}}};
  auto zp = parse_output_policy(zero);
  if (zp.ok()) CHECK_FALSE(seal_output(*zp, encoding::as_bytes(std::string("x")), "c").ok());
  CHECK_FALSE(key->open(json{{"alg", "none"}, {"context", "c"}}, "c").ok());
  CHECK_FALSE(key->open(json::array(), "c").ok());
}

TEST_CASE("tls_identity: fresh P-256 key and self-signed certificate with a stable SPKI hash", "[tls_identity]") {
  auto a = TlsIdentity::create();
  auto b = TlsIdentity::create();
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  CHECK(a->spki_sha256() != b->spki_sha256());
  auto again = certificate_spki_sha256(TlsIdentityAccess::certificate(*a));
  REQUIRE(again.ok());
  CHECK(*again == a->spki_sha256());
  CHECK(a->certificate_pem().rfind("-----BEGIN CERTIFICATE-----", 0) == 0);
}

TEST_CASE("output_seal: consumer key files round trip, are 0600 and never overwritten", "[output_seal]") {
  testing::TempDir tmp;
  const std::filesystem::path dir = tmp.path();
  const auto path = dir / "consumer.jwk";
  auto key = OutputKey::generate_x25519();
  REQUIRE(key.ok());
  REQUIRE(write_output_key_file(path, *key).is_ok());
  CHECK((std::filesystem::status(path).permissions() & std::filesystem::perms::all) ==
        (std::filesystem::perms::owner_read | std::filesystem::perms::owner_write));
  CHECK(write_output_key_file(path, *key).code() == Code::kInvalidArgument);  // exists
  auto loaded = load_output_key_file(path);
  REQUIRE(loaded.ok());
  CHECK(loaded->public_jwk() == key->public_jwk());
  auto sealed = seal_output(policy_for(key->public_jwk()), encoding::as_bytes(std::string("s")), "c");
  REQUIRE(sealed.ok());
  CHECK(loaded->open(*sealed, "c").ok());

  std::filesystem::permissions(path, std::filesystem::perms::group_read, std::filesystem::perm_options::add);
  CHECK(load_output_key_file(path).status().code() == Code::kPermissionDenied);
  CHECK(load_output_key_file(dir / "absent.jwk").status().code() == Code::kNotFound);
  // An RSA consumer keeps a PEM private key; the same loader takes it.
  // Owned by unique_ptrs: a failing REQUIRE throws, and must not leak them.
  const std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> pk(EVP_RSA_gen(2048), &EVP_PKEY_free);
  REQUIRE(pk != nullptr);
  const std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), &BIO_free);
  REQUIRE(bio != nullptr);
  REQUIRE(PEM_write_bio_PrivateKey(bio.get(), pk.get(), nullptr, nullptr, 0, nullptr, nullptr) == 1);
  // Two statements: argument evaluation order is unspecified, and clang read `data` (still null)
  // before BIO_get_mem_data set it ("basic_string: construction from null" under tools/sanitize.sh).
  char* data = nullptr;
  const long pem_len = BIO_get_mem_data(bio.get(), &data);
  REQUIRE(pem_len > 0);
  REQUIRE(data != nullptr);
  const std::string pem(data, static_cast<size_t>(pem_len));
  REQUIRE(write_secret_file(dir / "rsa.pem", encoding::as_bytes(pem), "test file").is_ok());
  auto rsa = load_output_key_file(dir / "rsa.pem");
  REQUIRE(rsa.ok());
  auto rsa_sealed = seal_output(policy_for(rsa->public_jwk()), encoding::as_bytes(std::string("r")), "c");
  REQUIRE(rsa_sealed.ok());
  CHECK(rsa->open(*rsa_sealed, "c").ok());
  CHECK(write_output_key_file(dir / "rsa.jwk", *rsa).code() == Code::kUnimplemented);

  for (const std::string bad : {"", "not json", "[]", R"({"kty":"OKP","crv":"X25519","x":"AAAA"})",
                                "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"}) {
    INFO(bad);
    const auto p = dir / "bad.jwk";
    std::filesystem::remove(p);
    REQUIRE(write_secret_file(p, encoding::as_bytes(bad), "test file").is_ok());
    CHECK(load_output_key_file(p).status().code() == Code::kInvalidArgument);
  }
}

TEST_CASE("output_seal: ciphertexts are padded to a size bucket; the padding is bound", "[output_seal]") {
  auto key = OutputKey::generate_x25519();
  REQUIRE(key.ok());
  const OutputPolicy p = policy_for(key->public_jwk());
  auto ct_size = [](const json& s) {
    auto b = encoding::base64_decode(s["ciphertext"].get<std::string>(), "ciphertext");
    REQUIRE(b.ok());
    return b->size();
  };
  for (const std::string& msg : {std::string(), std::string("a"), std::string(200, 'b'), std::string(255, 'c')}) {
    auto s = seal_output(p, encoding::as_bytes(msg), "ctx");
    REQUIRE(s.ok());
    CHECK((*s)["padding"] == kPaddingBucket);
    CHECK(ct_size(*s) == 256);  // the length of the summary does not show
    auto o = key->open(*s, "ctx");
    REQUIRE(o.ok());
    CHECK(as_string(*o) == msg);
  }
  const std::string longer(256, 'd');  // 256 + 1 padding byte: the next bucket
  auto s = seal_output(p, encoding::as_bytes(longer), "ctx");
  REQUIRE(s.ok());
  CHECK(ct_size(*s) == 512);
  // Removing or changing the padding member fails: it is bound in the AAD.
  json stripped = *s;
  stripped.erase("padding");
  CHECK(key->open(stripped, "ctx").status().code() == Code::kUnauthenticated);
  json other = *s;
  other["padding"] = "none";
  CHECK(key->open(other, "ctx").status().code() == Code::kInvalidArgument);
  CHECK(seal_output(p, std::vector<uint8_t>(kMaxSealedOutputBytes, 'x'), "ctx").status().code() ==
        Code::kResourceExhausted);
}

TEST_CASE("output_seal: members of the wrong JSON type are refused, never thrown (fuzz finding)", "[output_seal]") {
  auto key = OutputKey::generate_x25519();
  REQUIRE(key.ok());
  // output_seal_fuzz found this: "alg" an object made json::value() throw and abort the process.
  const json crash = json::parse(R"({"mode":"sealed","consumer":"audiwor","alg":{"kty":"OKP","crv":"X25519","~x":"AAAA"}})");
  CHECK_NOTHROW(parse_output_policy(crash));
  CHECK_FALSE(key->open(crash, "document:x").ok());
  CHECK_FALSE(OutputKey::from_private_jwk(crash).ok());
  for (const char* text : {R"({"alg":1,"context":"document:x"})", R"({"alg":[],"context":[]})",
                           R"({"mode":"sealed","consumer":"c","key":{"kty":{},"crv":[],"x":1}})",
                           R"({"kty":["OKP"],"crv":"X25519","x":"AAAA","d":"AAAA"})"}) {
    INFO(text);
    const json j = json::parse(text);
    CHECK_NOTHROW(parse_output_policy(j));
    CHECK_NOTHROW(key->open(j, "document:x"));
    CHECK_NOTHROW(OutputKey::from_private_jwk(j));
    CHECK_FALSE(key->open(j, "document:x").ok());
  }
}
