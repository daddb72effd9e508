// Managed-identity tokens: the in-place token answer parser (the answers of App Service / ACI,
// IMDS and Microsoft Entra, and corrupt ones), source selection, the resource for a vault, the
// release signer PEM, and the Key Vault kid check. Network round trips: server/serve_azure_test.cpp.
#include <catch2/catch.hpp>

#include "secure/keyrelease/azure.h"
#include "secure/keyrelease/azure_identity.h"
#include "secure/keyrelease/azure_testutil.h"
#include "common/encoding.h"
#include "secure/keyrelease/keyrelease_testutil.h"

using namespace sealsum;
using namespace sealsum::secure;
using namespace sealsum::secure::keyrelease;

namespace {

Result<AccessToken> parse(std::string_view s, int64_t now = 1000) { return parse_token_response(encoding::as_bytes(s), now); }

std::string text_of(const SecretBuffer& b) { return {reinterpret_cast<const char*>(b.data()), b.size()}; }

SecretBuffer secret(std::string_view s) { return std::move(SecretBuffer::copy_of(encoding::as_bytes(s))).value(); }

}  // namespace

TEST_CASE("token answers of the three identity endpoints parse, with their expiry") {
  // IMDS / App Service: times as strings.
  auto imds = parse(R"({"access_token":"eyJ0eXAi.eyJhdWQi.c2ln-_","refresh_token":"","expires_in":"3599",)"
                    R"("expires_on":"1506484173","not_before":"1506480273","resource":"https://vault.azure.net",)"
                    R"("token_type":"Bearer"})");
  REQUIRE(imds.ok());
  CHECK(text_of(imds->value) == "eyJ0eXAi.eyJhdWQi.c2ln-_");
  CHECK(imds->expires_at == 1506484173);
  // Microsoft Entra v2: numbers, expires_in only; nested and escaped members are skipped.
  auto entra = parse(" {\"token_type\":\"Bearer\",\"expires_in\":3599,\"ext\":{\"a\":[1,2.5e3,true,null]},"
                     "\"note\":\"a \\\"q\\\" \\u00e9\",\"access_token\":\"abc.def.ghi\"}\n");
  REQUIRE(entra.ok());
  CHECK(text_of(entra->value) == "abc.def.ghi");
  CHECK(entra->expires_at == 1000 + 3599);
  // No usable expiry (an old App Service date string): expires_at 0, used once.
  auto old = parse(R"({"access_token":"t","expires_on":"09/14/2017 00:00:00 PM +00:00"})");
  REQUIRE(old.ok());
  CHECK(old->expires_at == 0);
  auto huge = parse(R"({"access_token":"t","expires_in":"99999999999999999999"})");
  REQUIRE(huge.ok());
  CHECK(huge->expires_at == 0);
}

TEST_CASE("corrupt token answers are refused without echoing the token") {
  const std::vector<std::string> bad = {
      "",
      "<html>error</html>",
      "[]",
      "{}",
      R"({"token_type":"Bearer"})",
      R"({"access_token":"SECRETTOKEN","token_type":"MAC"})",
      R"({"access_token":"SECRETTOKEN","access_token":"SECRETTOKEN"})",
      R"({"access_token":"SECRET TOKEN"})",
      R"({"access_token":"SECRET\u0041TOKEN"})",
      R"({"access_token":""})",
      R"({"access_token":12})",
      R"({"access_token":"SECRETTOKEN")",
      R"({"access_token":"SECRETTOKEN"} trailing)",
      R"({"access_token":"SECRETTOKEN",})",
      R"({"access_token" "SECRETTOKEN"})",
      R"({"access_token":"SECRETTOKEN","x":[[[[[[[[[[1]]]]]]]]]]})",
      R"({"access_token":"SECRETTOKEN","x":"\q"})",
      R"({"access_token":"SECRETTOKEN","x":tru})",
      std::string("{\"access_token\":\"SECRET\x01TOKEN\"}"),
      "{\"access_token\":\"" + std::string(kMaxAccessTokenBytes + 1, 'A') + "\"}",
  };
  for (const std::string& b : bad) {
    INFO(b.substr(0, 80));
    auto r = parse(b);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == Code::kDataLoss);
    CHECK(r.status().message().find("SECRET") == std::string::npos);
  }
  auto huge = parse(std::string(kMaxTokenResponseBytes + 1, ' '));
  CHECK(huge.status().code() == Code::kResourceExhausted);
}

TEST_CASE("identity source selection follows what the environment offers") {
  IdentityEnvironment env;
  CHECK(*select_identity(env, IdentityKind::kAuto) == IdentityKind::kImds);
  env.federated_token_file = "/var/run/secrets/azure/tokens/azure-identity-token";
  env.client_id = "c";
  CHECK(*select_identity(env, IdentityKind::kAuto) == IdentityKind::kImds);  // no tenant: incomplete
  env.tenant_id = "t";
  CHECK(*select_identity(env, IdentityKind::kAuto) == IdentityKind::kWorkload);
  env.identity_endpoint = "http://127.0.0.1:41741/msi/token";
  CHECK(*select_identity(env, IdentityKind::kAuto) == IdentityKind::kWorkload);  // no header: incomplete
  env.identity_header = secret("h");
  CHECK(*select_identity(env, IdentityKind::kAuto) == IdentityKind::kAppService);
  CHECK(*select_identity(env, IdentityKind::kImds) == IdentityKind::kImds);

  IdentityEnvironment none;
  CHECK(select_identity(none, IdentityKind::kAppService).status().code() == Code::kInvalidArgument);
  auto wl = select_identity(none, IdentityKind::kWorkload);
  REQUIRE_FALSE(wl.ok());
  CHECK(wl.status().message().find("AZURE_FEDERATED_TOKEN_FILE") != std::string::npos);
  CHECK(parse_identity_kind("imds").ok());
  CHECK_FALSE(parse_identity_kind("msi").ok());
}

TEST_CASE("the credential refuses unsafe settings before any request") {
  IdentityEnvironment env;
  env.federated_token_file = "/f";
  env.client_id = "11111111-2222-3333-4444-555555555555";
  env.tenant_id = "t";
  env.authority_host = "http://login.example.com/";
  ManagedIdentityOptions o;
  o.kind = IdentityKind::kWorkload;
  struct NoTransport : HttpTransport {
    Result<HttpResponse> post(const std::string&, const std::string&, const HttpHeaders&) override {
      return unavailable("no network in this test");
    }
  };
  auto t = std::make_shared<NoTransport>();
  CHECK(ManagedIdentityCredential::create(o, std::move(env), t).status().code() == Code::kInvalidArgument);
  IdentityEnvironment e2;
  ManagedIdentityOptions bad_id;
  bad_id.client_id = "x&resource=evil";
  CHECK(ManagedIdentityCredential::create(bad_id, std::move(e2), t).status().code() == Code::kInvalidArgument);
  IdentityEnvironment e3;
  ManagedIdentityOptions imds;
  auto c = ManagedIdentityCredential::create(imds, std::move(e3), t);
  REQUIRE(c.ok());
  // The base transport sends JSON POSTs only: a GET with a secret answer is refused, not sent.
  auto tok = (*c)->token();
  CHECK(tok.status().code() == Code::kUnimplemented);
  CHECK(tok.status().message().find("IMDS") != std::string::npos);
}

TEST_CASE("vault resource, url encoding and endpoint checks") {
  CHECK(key_vault_resource("https://contoso.vault.azure.net") == "https://vault.azure.net");
  CHECK(key_vault_resource("https://contoso.managedhsm.azure.net:443") == "https://managedhsm.azure.net");
  CHECK(key_vault_resource("https://managedhsm.azure.net.evil.com") == "https://vault.azure.net");
  CHECK(encoding::percent_encode("https://vault.azure.net/.default") == "https%3A%2F%2Fvault.azure.net%2F.default");
  AzureSkrConfig c;
  c.maa_endpoint = "https://sharedeus.eus.attest.azure.net";
  c.key_vault_url = "https://v.vault.azure.net";
  CHECK(check_azure_endpoints(c).is_ok());
  c.key_vault_url = "http://127.0.0.1:8080";
  CHECK(check_azure_endpoints(c).is_ok());
  for (const char* bad : {"http://v.vault.azure.net", "https://v.vault.azure.net/keys", "https://u:p@v.vault.azure.net",
                          "https://", "v.vault.azure.net", "https://v.vault.azure.net?x=1"}) {
    c.key_vault_url = bad;
    CHECK(check_azure_endpoints(c).code() == Code::kInvalidArgument);
  }
}

TEST_CASE("release signer PEM: pinned keys and roots; anything else refused") {
  auto key = RsaPrivateKey::generate(2048);
  REQUIRE(key.ok());
  const std::string pub = key->public_key()->to_pem();
  auto t = release_trust_from_pem("comment\n" + pub + pub);
  REQUIRE(t.ok());
  CHECK(t->pinned_public_keys_pem.size() == 2);
  CHECK(t->trusted_roots_pem.empty());
  auto roots = release_trust_from_pem("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n");
  REQUIRE(roots.ok());
  CHECK(roots->trusted_roots_pem.size() == 1);
  CHECK_FALSE(release_trust_from_pem("").ok());
  CHECK_FALSE(release_trust_from_pem("-----BEGIN PRIVATE KEY-----\nAA\n-----END PRIVATE KEY-----\n").ok());
  CHECK_FALSE(release_trust_from_pem("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n").ok());
  CHECK_FALSE(release_trust_from_pem("-----BEGIN PUBLIC KEY-----\nAAAA\n").ok());
  CHECK_FALSE(release_trust_from_pem(std::string(70000, 'x')).ok());
}

TEST_CASE("a release answer for another key of the vault is refused") {
  auto akv = RsaPrivateKey::generate(2048);
  REQUIRE(akv.ok());
  JwsTrust trust;
  trust.pinned_public_keys_pem = {akv->public_key()->to_pem()};
  const RsaPrivateKey& eph = testutil::ephemeral_key();
  std::vector<uint8_t> k(32, 0x5A);
  auto body = testutil::make_akv_release_answer(*akv, {}, "https://v.vault.azure.net/keys/model-key/0123456789abcdef0123456789abcdef",
                                                k, *eph.public_key());
  REQUIRE(body.ok());
  CHECK(unwrap_akv_release(*body, trust, eph, "model-key").ok());
  CHECK(unwrap_akv_release(*body, trust, eph, "model-key/0123456789ABCDEF0123456789abcdef").ok());
  for (const char* other : {"model", "model-key-2", "docs", "model-key/ffffffffffffffffffffffffffffffff"}) {
    INFO(other);
    CHECK(unwrap_akv_release(*body, trust, eph, other).status().code() == Code::kUnauthenticated);
  }
}
