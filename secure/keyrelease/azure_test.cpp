// Azure back end: the MAA request body shape (against the real clean-room request), the Key
// Vault release answer (JWS verification + CKM_RSA_AES_KEY_WRAP unwrap), URL validation.
#include <catch2/catch.hpp>

#include "common/fixtures.h"
#include "common/encoding.h"
#include "secure/attest/azure_inputs.h"
#include "secure/keyrelease/azure.h"
#include "secure/keyrelease/azure_testutil.h"
#include "secure/keyrelease/keyrelease_testutil.h"

using namespace sealsum;
using namespace sealsum::secure;
using namespace sealsum::secure::keyrelease;

namespace {

const RsaPrivateKey& akv_key() {
  static RsaPrivateKey* k = new RsaPrivateKey(std::move(RsaPrivateKey::generate(2048)).value());
  return *k;
}

JwsTrust pinned_akv() {
  JwsTrust t;
  t.pinned_public_keys_pem = {akv_key().public_key()->to_pem()};
  return t;
}

}  // namespace

TEST_CASE("MAA request body reproduces the real azure-cleanroom request exactly") {
  std::string fixture = read_fixture("attestation/azure-cleanroom-maa/maa-request.json");
  auto parsed = attest::parse_maa_request_json(fixture);
  REQUIRE(parsed.ok());
  attest::SnpEvidence ev;
  ev.report = parsed->report;
  ev.signing_cert.assign(parsed->vcek_pem.begin(), parsed->vcek_pem.end());
  ev.chain_pem = parsed->chain_pem;
  REQUIRE(parsed->uvm_endorsements.size() == 1);
  ev.uvm_endorsement = parsed->uvm_endorsements[0];
  std::string rt(parsed->runtime_data.begin(), parsed->runtime_data.end());
  auto ours = build_maa_request(ev, rt, 13202930541250959283ull);
  REQUIRE(ours.ok());
  auto a = nlohmann::json::parse(*ours);
  auto b = nlohmann::json::parse(fixture);
  // Inner report JSON first (clearer failure), then the whole body.
  auto inner = [](const nlohmann::json& j) { return *encoding::base64_decode_text(j["report"].get<std::string>(), "r"); };
  CHECK(inner(a) == inner(b));
  CHECK(a["runtimeData"] == b["runtimeData"]);
  CHECK(a["initTimeData"] == b["initTimeData"]);
  CHECK(a["nonce"] == b["nonce"]);
  CHECK(a == b);
  // And it parses back to the same pieces with the attest module's parser.
  auto round = attest::parse_maa_request_json(*ours);
  REQUIRE(round.ok());
  CHECK(round->report == parsed->report);
  CHECK(round->runtime_data == parsed->runtime_data);
  CHECK(round->uvm_endorsements == parsed->uvm_endorsements);

  SECTION("a DER VCEK is converted to PEM") {
    std::string der = read_fixture("attestation/virtee-milan/vcek_milan.der");
    attest::SnpEvidence d = ev;
    d.signing_cert.assign(der.begin(), der.end());
    auto body = build_maa_request(d, rt, 1);
    REQUIRE(body.ok());
    auto back = attest::parse_maa_request_json(*body);
    REQUIRE(back.ok());
    std::string pem = back->vcek_pem, b64;
    REQUIRE(pem.rfind("-----BEGIN CERTIFICATE-----\n", 0) == 0);
    for (const std::string& line : {std::string("-----BEGIN CERTIFICATE-----"), std::string("-----END CERTIFICATE-----")}) {
      pem.erase(pem.find(line), line.size());
    }
    for (char ch : pem) if (ch != '\n') b64 += ch;
    auto decoded = encoding::base64_decode(b64, "pem");
    REQUIRE(decoded.ok());
    CHECK(std::string(decoded->begin(), decoded->end()) == der);
    CHECK(back->chain_pem.find("-----BEGIN CERTIFICATE-----") != std::string::npos);
  }
  SECTION("evidence without certificates is refused") {
    attest::SnpEvidence bare;
    bare.report = ev.report;
    CHECK(build_maa_request(bare, rt, 1).status().code() == Code::kInvalidArgument);
  }
}

TEST_CASE("Key Vault release answer: verified and unwrapped; tampering refused") {
  const RsaPrivateKey& eph = testutil::ephemeral_key();
  auto eph_pub = eph.public_key();
  std::vector<uint8_t> secret(32);
  for (size_t i = 0; i < 32; ++i) secret[i] = static_cast<uint8_t>(0xC0 + i);
  auto body = testutil::make_akv_release_answer(akv_key(), {}, "https://v.vault.azure.net/keys/k/0123", secret, *eph_pub);
  REQUIRE(body.ok());
  auto key = unwrap_akv_release(*body, pinned_akv(), eph);
  REQUIRE(key.ok());
  CHECK(ct_equal(key->span(), secret));

  SECTION("SHA-256 / SHA-384 variants") {
    for (const char* enc : {"RSA_AES_KEY_WRAP_256", "RSA_AES_KEY_WRAP_384"}) {
      auto b = testutil::make_akv_release_answer(akv_key(), {}, "kid", secret, *eph_pub, enc);
      auto k = unwrap_akv_release(*b, pinned_akv(), eph);
      REQUIRE(k.ok());
      CHECK(ct_equal(k->span(), secret));
    }
  }
  SECTION("signed by another key") {
    auto b = testutil::make_akv_release_answer(eph, {}, "kid", secret, *eph_pub);
    CHECK(unwrap_akv_release(*b, pinned_akv(), eph).status().code() == Code::kUnauthenticated);
  }
  SECTION("tampered payload") {
    auto j = nlohmann::json::parse(*body);
    std::string jws = j["value"];
    size_t d1 = jws.find('.'), d2 = jws.rfind('.');
    std::string payload = *encoding::base64_decode_text(jws.substr(d1 + 1, d2 - d1 - 1), "p");
    payload.replace(payload.find("oct-HSM"), 7, "oct-hsm");
    std::string t = jws.substr(0, d1 + 1) + encoding::base64url_encode(encoding::as_bytes(payload)) + jws.substr(d2);
    CHECK(unwrap_akv_release(nlohmann::json{{"value", t}}.dump(), pinned_akv(), eph).status().code() ==
          Code::kUnauthenticated);
  }
  SECTION("wrapped to another ephemeral key") {
    auto other = RsaPrivateKey::from_pem(read_fixture("attestation/skr/rsa_test_key.pem"));
    CHECK_FALSE(unwrap_akv_release(*body, pinned_akv(), *other).ok());
  }
  SECTION("non-symmetric keys and unknown wrappings are refused") {
    auto rsa = testutil::make_akv_release_answer(akv_key(), {}, "kid", secret, *eph_pub, "CKM_RSA_AES_KEY_WRAP", "RSA-HSM");
    CHECK(unwrap_akv_release(*rsa, pinned_akv(), eph).status().code() == Code::kUnimplemented);
    auto enc = testutil::make_akv_release_answer(akv_key(), {}, "kid", secret, *eph_pub, "A256KW");
    CHECK(unwrap_akv_release(*enc, pinned_akv(), eph).status().code() == Code::kUnimplemented);
  }
  SECTION("wrong-typed members of a correctly signed answer are refused, never thrown") {
    auto j = nlohmann::json::parse(*body);
    std::string jws = j["value"];
    size_t d1 = jws.find('.'), d2 = jws.rfind('.');
    const auto payload = nlohmann::json::parse(*encoding::base64_decode_text(jws.substr(d1 + 1, d2 - d1 - 1), "p"));
    const auto key_path = nlohmann::json::json_pointer("/response/key/key");
    std::vector<nlohmann::json> bad;
    for (const char* ptr : {"/response", "/response/key", "/response/key/key", "/response/key/key/kty",
                            "/response/key/key/key_hsm"}) {
      for (const nlohmann::json& v : {nlohmann::json(5), nlohmann::json::array(), nlohmann::json(nullptr)}) {
        nlohmann::json p = payload;
        p[nlohmann::json::json_pointer(ptr)] = v;
        bad.push_back(p);
      }
    }
    nlohmann::json no_kty = payload;
    no_kty[key_path].erase("kty");
    bad.push_back(no_kty);
    for (const auto& p : bad) {
      INFO(p.dump());
      auto signed_jws = sign_jws({{"kid", "kid"}}, p.dump(), akv_key());
      REQUIRE(signed_jws.ok());
      Result<SecretBuffer> r = unwrap_akv_release(nlohmann::json{{"value", *signed_jws}}.dump(), pinned_akv(), eph);
      CHECK_FALSE(r.ok());
    }
  }
  SECTION("malformed answers") {
    for (std::string bad : {"", "{}", "{\"value\": 3}", "{\"value\": \"a.b.c\"}", "[]"}) {
      CHECK_FALSE(unwrap_akv_release(bad, pinned_akv(), eph).ok());
    }
  }
}

TEST_CASE("Key Vault release URLs are built only from valid key names") {
  AzureSkrConfig c;
  c.key_vault_url = "https://v.vault.azure.net";
  auto u = akv_release_url(c, "sealsum-model");
  REQUIRE(u.ok());
  CHECK(*u == "https://v.vault.azure.net/keys/sealsum-model/release?api-version=7.4");
  CHECK(akv_release_url(c, "k/0123456789abcdef0123456789abcdef").ok());
  for (const char* bad : {"", "a b", "../x", "k/xyz", "k/0123456789abcdef0123456789abcdef/x", "a?b", "k#"}) {
    CHECK_FALSE(akv_release_url(c, bad).ok());
  }
}
