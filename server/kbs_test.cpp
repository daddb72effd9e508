// The key broker and the Azure client over real loopback HTTP (127.0.0.1, free ports):
// `sealsum kbs`'s shell + obtain_key() with the simulated TEE, and the Azure MAA + Key Vault
// client against the stand-in services (kbs_azure_standin.h).
#include <httplib.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <thread>
#include <vector>

#include "common/fixtures.h"
#include "common/encoding.h"
#include "secure/attest/azure_inputs.h"
#include "secure/keyrelease/keyrelease_testutil.h"
#include "server/http_guard_testutil.h"
#include "server/kbs_azure_standin.h"
#include "server/kbs_client.h"
#include "server/kbs_server.h"

using namespace sealsum;
using namespace sealsum::secure;
using namespace sealsum::secure::keyrelease;
using sealsum::secure::keyrelease::testutil::TempDir;

namespace {

std::array<uint8_t, 48> measurement(uint8_t fill) {
  std::array<uint8_t, 48> m{};
  m.fill(fill);
  return m;
}

struct BrokerFixture {
  TempDir dir;
  SealingKey key = std::move(SealingKey::generate("acme-docs-2026")).value();
  std::unique_ptr<Broker> broker;
  std::unique_ptr<server::KbsServer> http;

  BrokerFixture() {
    auto store_dir = dir.path() / "store";
    auto broker_key = dir.path() / "broker.key";
    REQUIRE(KeyStore::init(store_dir, broker_key).is_ok());
    auto store = KeyStore::open(store_dir, broker_key);
    REQUIRE(store.ok());
    REQUIRE(store->register_key(key, testutil::policy_json(0x5E, true)).is_ok());
    auto audit = AuditLog::open(store->audit_log_path());
    REQUIRE(audit.ok());
    broker = std::make_unique<Broker>(std::move(store).value(), std::move(audit).value());
    server::KbsServerOptions o;
    o.log_requests = false;
    http = std::make_unique<server::KbsServer>(*broker, o);
    REQUIRE(http->start().is_ok());
    REQUIRE(http->port() > 0);
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(http->port()); }
  KeyReleaseConfig config(uint8_t fill) const {
    KeyReleaseConfig c;
    c.backend = Backend::kBroker;
    c.broker_url = url();
    c.key_id = "acme-docs-2026";
    c.insecure_simulated_tee = true;
    c.simulated_measurement = measurement(fill);
    return c;
  }
};

}  // namespace

TEST_CASE("obtain_key releases the key from `sealsum kbs` over HTTP to a matching simulated TEE") {
  BrokerFixture f;
  auto key = server::obtain_key(f.config(0x5E));
  REQUIRE(key.ok());
  CHECK(ct_equal(key->key.span(), f.key.bytes()));
}

TEST_CASE("the broker refuses over HTTP with 403 naming the failed check") {
  BrokerFixture f;
  auto key = server::obtain_key(f.config(0x11));
  REQUIRE_FALSE(key.ok());
  CHECK(key.status().code() == Code::kPermissionDenied);
  CHECK(key.status().message().find("measurement_allowed") != std::string::npos);

  KeyReleaseConfig unknown = f.config(0x5E);
  unknown.key_id = "nobody";
  auto r = server::obtain_key(unknown);
  CHECK(r.status().code() == Code::kNotFound);
}

TEST_CASE("the broker's HTTP shell bounds bodies and answers JSON errors") {
  BrokerFixture f;
  httplib::Client cli("127.0.0.1", f.http->port());
  auto big = cli.Post("/v1/release", std::string(kMaxRequestBytes + 1, 'x'), "application/json");
  REQUIRE(big);
  CHECK(big->status == 413);
  auto bad = cli.Post("/v1/release", "{not json", "application/json");
  REQUIRE(bad);
  CHECK(bad->status == 400);
  CHECK(nlohmann::json::parse(bad->body)["error"] == "bad_request");
  auto none = cli.Get("/v1/keys");
  REQUIRE(none);
  CHECK(none->status == 404);
  auto health = cli.Get("/healthz");
  REQUIRE(health);
  CHECK(health->status == 200);
  auto ch = cli.Post("/v1/challenge", "{}", "application/json");
  REQUIRE(ch);
  CHECK(ch->status == 200);
  CHECK(nlohmann::json::parse(ch->body)["nonce"].get<std::string>().size() == 54);  // 40 bytes, nonce.h
}

TEST_CASE("an unreachable broker is kUnavailable, not a hang") {
  KeyReleaseConfig c;
  c.broker_url = "http://127.0.0.1:1";
  c.key_id = "k";
  c.insecure_simulated_tee = true;
  CHECK(server::obtain_key(c).status().code() == Code::kUnavailable);
  CHECK_FALSE(server::split_url("ftp://x/y").ok());
  CHECK_FALSE(server::split_url("http://").ok());
  auto s = server::split_url("https://v.vault.azure.net/keys/k/release?api-version=7.4");
  REQUIRE(s.ok());
  CHECK(s->first == "https://v.vault.azure.net");
  CHECK(s->second == "/keys/k/release?api-version=7.4");
}

namespace {

// The simulated TEE's report with the certificate pieces of the real clean-room MAA request: the
// stand-in MAA (like the real one) requires a VCEK chain in the request body, and verifies the
// simulated report through the verifier's simulated path (which does not use the chain).
class SimulatedWithFixtureCerts : public EvidenceSource {
 public:
  explicit SimulatedWithFixtureCerts(uint8_t fill) {
    attest::SimulatedOptions o;
    o.measurement = measurement(fill);
    sim_ = std::move(SimulatedEvidenceSource::create(o)).value();
    auto req = attest::parse_maa_request_json(read_fixture("attestation/azure-cleanroom-maa/maa-request.json"));
    if (!req.ok()) throw std::runtime_error("cannot parse maa-request.json");
    vcek_ = req->vcek_pem;
    chain_ = req->chain_pem;
  }
  Result<attest::SnpEvidence> collect(const std::array<uint8_t, 64>& report_data) override {
    SEALSUM_ASSIGN_OR_RETURN(attest::SnpEvidence e, sim_->collect(report_data));
    e.signing_cert.assign(vcek_.begin(), vcek_.end());
    e.chain_pem = chain_;
    return e;
  }

 private:
  std::unique_ptr<SimulatedEvidenceSource> sim_;
  std::string vcek_, chain_;
};

}  // namespace

TEST_CASE("Azure client round trip: MAA attest -> Key Vault release -> JWS verify -> unwrap") {
  std::vector<uint8_t> secret(32);
  for (size_t i = 0; i < secret.size(); ++i) secret[i] = static_cast<uint8_t>(0x40 + i);
  server::testutil::AzureStandin azure(to_hex(measurement(0x7A)), secret, "sealsum-model", "aad-token");

  AzureSkrConfig c;
  c.maa_endpoint = azure.url();
  c.key_vault_url = azure.url();
  c.access_token = std::make_shared<FixedAccessToken>(SecretBuffer::copy_of(encoding::as_bytes("aad-token")).value());
  c.release_trust.pinned_public_keys_pem = {azure.akv_public_pem()};
  server::HttplibTransport transport;
  SimulatedWithFixtureCerts tee(0x7A);

  auto key = AzureSkrClient(c, transport, tee).release("sealsum-model");
  INFO(key.status().to_string());
  REQUIRE(key.ok());
  CHECK(ct_equal(key->key.span(), secret));
  CHECK(azure.maa_calls == 1);
  CHECK(azure.release_calls == 1);

  SECTION("a different measurement is refused by the release policy") {
    SimulatedWithFixtureCerts other(0x7B);
    auto r = AzureSkrClient(c, transport, other).release("sealsum-model");
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == Code::kPermissionDenied);
  }
  SECTION("a wrong bearer token is refused") {
    AzureSkrConfig w = c;
    w.access_token = std::make_shared<FixedAccessToken>(SecretBuffer::copy_of(encoding::as_bytes("stolen")).value());
    CHECK(AzureSkrClient(w, transport, tee).release("sealsum-model").status().code() == Code::kPermissionDenied);
  }
  SECTION("a release answer signed by an untrusted key is refused") {
    azure.sign_with_wrong_key = true;
    CHECK(AzureSkrClient(c, transport, tee).release("sealsum-model").status().code() == Code::kUnauthenticated);
  }
  SECTION("an unknown key name") {
    CHECK(AzureSkrClient(c, transport, tee).release("other-key").status().code() == Code::kNotFound);
  }
  SECTION("obtain_key with the bare simulated TEE says why Azure cannot work") {
    KeyReleaseConfig k;
    k.backend = Backend::kAzure;
    k.key_id = "sealsum-model";
    k.insecure_simulated_tee = true;
    k.azure = c;
    auto r = server::obtain_key(k);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().message().find("simulated TEE has no VCEK") != std::string::npos);
    CHECK(azure.maa_calls == 1);  // refused before contacting the service
  }
}

TEST_CASE("the broker answers /v1/challenge within 1 s under 50 slow clients and a header flood") {
  BrokerFixture f;
  httplib::Client cli("127.0.0.1", f.http->port());
  cli.set_connection_timeout(1, 0);
  cli.set_read_timeout(1, 0);
  REQUIRE(cli.Post("/v1/challenge", "", "application/json"));
  const long idle = server::testutil::rss_kib();
  long peak = idle;
  {
    server::testutil::Attackers attack(f.http->port(), 50, std::chrono::milliseconds(2000),
                                       "POST /v1/challenge HTTP/1.1\r\n");
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    for (int i = 0; i < 8; ++i) {
      const auto t0 = std::chrono::steady_clock::now();
      auto r = cli.Post("/v1/challenge", "", "application/json");
      REQUIRE(r);
      CHECK(r->status == 200);
      CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(1));
      peak = std::max(peak, server::testutil::rss_kib());
      std::this_thread::sleep_for(std::chrono::milliseconds(250));
    }
    CHECK(attack.flood_reconnects() > 0);
  }
  CHECK(peak - idle < 64 * 1024);
}

TEST_CASE("the broker refuses 8 concurrent 1 MiB '[' release bodies with 4xx in bounded memory") {
  BrokerFixture f;
  const std::string body(kMaxRequestBytes, '[');
  const long idle = server::testutil::rss_kib();
  std::atomic<long> peak{idle};
  std::vector<std::thread> clients;
  std::atomic<int> refused{0};
  for (int i = 0; i < 8; ++i) {
    clients.emplace_back([&] {
      httplib::Client cli("127.0.0.1", f.http->port());
      cli.set_read_timeout(20, 0);
      for (int round = 0; round < 3; ++round) {
        auto r = cli.Post("/v1/release", body, "application/json");
        if (r && r->status >= 400 && r->status < 500) ++refused;
        long now = server::testutil::rss_kib();
        long p = peak.load();
        while (now > p && !peak.compare_exchange_weak(p, now)) {
        }
      }
    });
  }
  for (auto& t : clients) t.join();
  CHECK(refused == 24);
  CHECK(peak - idle < 64 * 1024);
}
