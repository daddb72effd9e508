// RSA-OAEP, CKM_RSA_AES_KEY_WRAP (the Azure SKR test vector) and JWK handling.
#include <catch2/catch.hpp>

#include "common/fixtures.h"
#include "secure/attest/azure_inputs.h"
#include "common/encoding.h"
#include "secure/keyrelease/keyrelease_testutil.h"
#include "secure/keyrelease/rsa.h"

using namespace sealsum;
using namespace sealsum::secure;
using namespace sealsum::secure::keyrelease;

namespace {
std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}
}  // namespace

TEST_CASE("CKM_RSA_AES_KEY_WRAP unwrap matches the confidential-sidecar-containers vector") {
  auto key = RsaPrivateKey::from_pem(read_fixture("attestation/skr/rsa_test_key.pem"));
  REQUIRE(key.ok());
  CHECK(key->modulus_bytes() == 256);
  auto ct = encoding::base64_decode(trim(read_fixture("attestation/skr/ckm_rsa_aes_key_wrap.ciphertext.b64url")), "vector");
  REQUIRE(ct.ok());
  auto expected = encoding::hex_decode(trim(read_fixture("attestation/skr/expected_key.hex")));
  REQUIRE(expected.ok());
  auto out = rsa_aes_key_unwrap(*key, *ct, OaepHash::kSha1);
  REQUIRE(out.ok());
  CHECK(to_hex(out->span()) == to_hex(*expected));

  SECTION("the wrong OAEP hash is refused") {
    CHECK(rsa_aes_key_unwrap(*key, *ct, OaepHash::kSha256).status().code() == Code::kUnauthenticated);
  }
  SECTION("a flipped bit in the RSA block or in the wrapped key is refused") {
    for (size_t pos : {size_t{10}, size_t{256 + 3}, ct->size() - 1}) {
      std::vector<uint8_t> bad = *ct;
      bad[pos] ^= 0x01;
      auto r = rsa_aes_key_unwrap(*key, bad, OaepHash::kSha1);
      CHECK_FALSE(r.ok());
    }
  }
  SECTION("truncated ciphertexts are refused without reading out of bounds") {
    for (size_t n : {size_t{0}, size_t{255}, size_t{256}, size_t{256 + 8}, ct->size() - 1}) {
      CHECK(rsa_aes_key_unwrap(*key, std::span(*ct).first(n), OaepHash::kSha1).status().code() == Code::kDataLoss);
    }
  }
}

TEST_CASE("CKM_RSA_AES_KEY_WRAP round trip with every hash") {
  const RsaPrivateKey& k = testutil::ephemeral_key();
  auto pub = k.public_key();
  REQUIRE(pub.ok());
  std::vector<uint8_t> secret(32);
  for (size_t i = 0; i < secret.size(); ++i) secret[i] = static_cast<uint8_t>(i * 7 + 1);
  for (OaepHash h : {OaepHash::kSha1, OaepHash::kSha256, OaepHash::kSha384}) {
    auto wrapped = rsa_aes_key_wrap(*pub, secret, h);
    REQUIRE(wrapped.ok());
    CHECK(wrapped->size() == k.modulus_bytes() + 40);
    auto back = rsa_aes_key_unwrap(k, *wrapped, h);
    REQUIRE(back.ok());
    CHECK(ct_equal(back->span(), secret));
  }
}

TEST_CASE("RSA-OAEP-256 round trip; another key cannot decrypt") {
  const RsaPrivateKey& k = testutil::ephemeral_key();
  CHECK(k.bits() == 3072);
  auto pub = k.public_key();
  std::vector<uint8_t> msg(32, 0x5A);
  auto ct = pub->oaep_encrypt(msg, OaepHash::kSha256);
  REQUIRE(ct.ok());
  auto pt = k.oaep_decrypt(*ct, OaepHash::kSha256);
  REQUIRE(pt.ok());
  CHECK(ct_equal(pt->span(), msg));
  auto other = RsaPrivateKey::from_pem(read_fixture("attestation/skr/rsa_test_key.pem"));
  CHECK_FALSE(other->oaep_decrypt(*ct, OaepHash::kSha256).ok());
}

TEST_CASE("JWK export and import round trip; weak or malformed keys are refused") {
  const RsaPrivateKey& k = testutil::ephemeral_key();
  nlohmann::json jwk = k.public_key()->to_jwk();
  CHECK(jwk["kty"] == "RSA");
  CHECK(jwk["e"] == "AQAB");
  auto back = RsaPublicKey::from_jwk(jwk);
  REQUIRE(back.ok());
  CHECK(back->to_jwk() == jwk);

  // The real MAA runtime data JWK of the clean-room fixture (2048-bit) parses.
  auto fixture_jwks = nlohmann::json::parse(read_fixture("attestation/azure-cleanroom-maa/public-key-jwks"));
  auto fk = RsaPublicKey::from_jwk(fixture_jwks["keys"][0]);
  REQUIRE(fk.ok());
  CHECK(fk->bits() == 2048);
  auto pem = RsaPublicKey::from_pem(read_fixture("attestation/azure-cleanroom-maa/pub_key.pem"));
  REQUIRE(pem.ok());
  CHECK(pem->to_jwk()["n"] == fixture_jwks["keys"][0]["n"]);

  nlohmann::json bad = jwk;
  bad["e"] = "Aw";  // e = 3
  CHECK_FALSE(RsaPublicKey::from_jwk(bad).ok());
  bad = jwk;
  bad["kty"] = "EC";
  CHECK_FALSE(RsaPublicKey::from_jwk(bad).ok());
  bad = jwk;
  bad["n"] = "AQAB";  // tiny modulus
  CHECK_FALSE(RsaPublicKey::from_jwk(bad).ok());
  bad = jwk;
  bad.erase("n");
  CHECK_FALSE(RsaPublicKey::from_jwk(bad).ok());
  CHECK_FALSE(RsaPublicKey::from_jwk(nlohmann::json::array()).ok());
  bad = jwk;
  bad["n"] = "!!!";
  CHECK_FALSE(RsaPublicKey::from_jwk(bad).ok());
}

TEST_CASE("base64url encoding matches RFC 4648 test vectors") {
  CHECK(encoding::base64url_encode(encoding::as_bytes("")) == "");
  CHECK(encoding::base64url_encode(encoding::as_bytes("f")) == "Zg");
  CHECK(encoding::base64url_encode(encoding::as_bytes("f"), true) == "Zg==");
  CHECK(encoding::base64url_encode(encoding::as_bytes("fo"), true) == "Zm8=");
  CHECK(encoding::base64url_encode(encoding::as_bytes("foobar")) == "Zm9vYmFy");
  std::vector<uint8_t> high = {0xfb, 0xff};
  CHECK(encoding::base64url_encode(high) == "-_8");
  CHECK(encoding::base64_encode(high) == "+/8=");
  auto d = encoding::base64_decode("-_8", "x");
  REQUIRE(d.ok());
  CHECK(*d == high);
  CHECK_FALSE(encoding::base64_decode("a", "x").ok());
}
