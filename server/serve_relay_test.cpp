// Attacks on the client's channel binding, as an outsider would mount them: a relay in the middle
// that downgrades HTTPS to plain HTTP, forwarding the real server's evidence or forging its own;
// real SEV-SNP evidence offered over plain HTTP; model pins. Each must be refused before anything
// is sent, and the real server must never see the document.
#include <httplib.h>

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <thread>

#include <nlohmann/json.hpp>

#include "secure/attest/attest_testutil.h"
#include "common/encoding.h"
#include "secure/keyrelease/protocol.h"
#include "server/client.h"
#include "server/serve_testutil.h"
#include "server/httplib_testutil.h"

namespace {

using json = nlohmann::json;
using namespace sealsum;
using namespace sealsum::server;
using namespace sealsum::server::testutil;

constexpr char kDocument[] = "Board minutes: the Vwxyz acquisition closes on Friday; do not disclose.";

// A plain-HTTP relay on 127.0.0.1. /v1/attestation is answered by `attest` (forward or forge);
// every POST /v1/summarize that reaches it is counted and forwarded to `upstream_port` over TLS.
class Relay {
 public:
  Relay(int upstream_port, std::function<std::string(const std::string& nonce)> attest)
      : upstream_port_(upstream_port), attest_(std::move(attest)) {
    http_.Get("/v1/attestation", [this](const httplib::Request& req, httplib::Response& res) {
      res.set_content(attest_(req.get_param_value("nonce")), "application/json");
    });
    http_.Post("/v1/summarize", [this](const httplib::Request& req, httplib::Response& res) {
      ++posts;
      httplib::SSLClient up("127.0.0.1", upstream_port_);
      up.enable_server_certificate_verification(false);
      auto r = up.Post("/v1/summarize", req.body, "application/json");
      if (r) res.set_content(r->body, "application/json");
      else res.status = 502;
    });
    port_ = http_.bind_to_any_port("127.0.0.1");
    thread_ = sealsum::server::testutil::listen_in_background(http_);
  }
  ~Relay() {
    http_.stop();
    thread_.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::atomic<int> posts{0};

 private:
  int upstream_port_;
  std::function<std::string(const std::string&)> attest_;
  httplib::Server http_;
  int port_ = 0;
  std::thread thread_;
};

std::string forward_attestation(int port, const std::string& nonce) {
  httplib::SSLClient up("127.0.0.1", port);
  up.enable_server_certificate_verification(false);
  auto r = up.Get("/v1/attestation?nonce=" + nonce);
  return r ? r->body : std::string("{}");
}

bool failed(const AttestationVerdict& v, const std::string& name) {
  for (const auto& c : v.checks) {
    if (c.name == name) return !c.passed;
  }
  return false;
}

RemoteOptions pinned(const std::string& url) {
  RemoteOptions ro;
  ro.server_url = url;
  ro.policy.measurements = {test_measurement()};
  ro.allow_simulated = true;
  return ro;
}

const json kRequest = {{"text", kDocument}, {"no_repeat_ngram_size", 1}, {"max_length", 20}};

}  // namespace

TEST_CASE("relay: an HTTPS server's evidence forwarded over plain HTTP is refused; nothing is sent",
          "[serve][client][relay]") {
  auto tls = secure::TlsIdentity::create();
  REQUIRE(tls.ok());
  ServeOptions o;
  o.allow_plaintext_input = true;
  TestServer real(o, nullptr, &*tls);
  Relay relay(real.port(), [&real](const std::string& nonce) { return forward_attestation(real.port(), nonce); });

  auto v = verify_server(pinned(relay.url()));
  REQUIRE(v.ok());
  INFO(v->verdict.to_json().dump(2));
  CHECK_FALSE(v->verdict.accepted);
  CHECK(failed(v->verdict, "tls_key_binding"));
  CHECK_FALSE(failed(v->verdict, "nonce_binding"));  // the evidence itself is genuine and fresh

  auto r = remote_summarize(pinned(relay.url()), kRequest);
  CHECK(r.status().code() == Code::kPermissionDenied);
  CHECK(r.status().message().find("tls_key_binding") != std::string::npos);
  CHECK(relay.posts == 0);
  CHECK(real.server().metrics().requests("/v1/summarize", 200) == 0);

  // The same server reached directly over HTTPS is accepted and summarizes.
  auto direct = remote_summarize(pinned("https://127.0.0.1:" + std::to_string(real.port())), kRequest);
  REQUIRE(direct.ok());
  CHECK(direct->http_status == 200);
}

TEST_CASE("relay: runtime data forged to name the relay's own TLS key is refused over plain HTTP",
          "[serve][client][relay]") {
  auto own = secure::TlsIdentity::create();
  REQUIRE(own.ok());
  auto forger = simulated_attester(own->spki_sha256());
  Relay relay(0, [&forger](const std::string& nonce) {
    auto a = forger->attest(nonce);
    return a.ok() ? *a : std::string("{}");
  });
  auto r = remote_summarize(pinned(relay.url()), kRequest);
  CHECK(r.status().code() == Code::kPermissionDenied);
  CHECK(r.status().message().find("tls_key_binding") != std::string::npos);
  CHECK(relay.posts == 0);
}

TEST_CASE("relay: real SEV-SNP evidence over plain HTTP is refused before its runtime data is read",
          "[serve][client][relay]") {
  namespace tu = secure::attest::testutil;
  secure::attest::SnpEvidence ev = tu::aci_evidence();
  json answer = {{"runtime_data", encoding::base64url_encode(*ev.runtime_data)},
                 {"evidence", secure::keyrelease::evidence_to_json(ev)}};
  auto report = secure::attest::parse_report(ev.report);
  REQUIRE(report.ok());
  VerifyExpectations e;
  e.nonce = "any-nonce-0123456789abcdef";
  e.policy.measurements = {report->measurement};
  e.policy.host_data = {report->host_data};
  AttestationVerdict v = verify_attestation_answer(answer.dump(), e);
  INFO(v.to_json().dump(2));
  CHECK_FALSE(v.accepted);
  CHECK(failed(v, "tls_key_binding"));
}

TEST_CASE("client: model pins are checked against the model the server's runtime data names",
          "[serve][client][model]") {
  ServeOptions o;
  o.dev = true;
  o.allow_plaintext_input = true;
  TestServer srv(o);
  const std::array<uint8_t, 32> model = tiny_engine().model_file().sha256();

  RemoteOptions good = pinned("http://127.0.0.1:" + std::to_string(srv.port()));
  good.policy.models = {model};
  auto v = verify_server(good);
  REQUIRE(v.ok());
  INFO(v->verdict.to_json().dump(2));
  CHECK(v->verdict.accepted);
  REQUIRE(v->verdict.model);
  CHECK(v->verdict.model->sha256 == model);

  RemoteOptions other = good;
  other.policy.models = {std::array<uint8_t, 32>{7}};
  auto refused = remote_summarize(other, kRequest);
  CHECK(refused.status().code() == Code::kPermissionDenied);
  CHECK(refused.status().message().find("model_allowed") != std::string::npos);
  CHECK(srv.server().metrics().requests("/v1/summarize", 200) == 0);

  // /v1/info shows the same digest the runtime data binds.
  httplib::Client c("127.0.0.1", srv.port());
  auto info = c.Get("/v1/info");
  REQUIRE(info);
  CHECK(json::parse(info->body)["model"]["sha256"] == tiny_engine().model_file().sha256_hex());
}

TEST_CASE("serve: /v1/policy serves the CCE policy whose hash is HOST_DATA, 404 without one", "[serve][aci]") {
  ServeOptions o;
  o.dev = true;
  TestServer none(o);
  httplib::Client c1("127.0.0.1", none.port());
  auto missing = c1.Get("/v1/policy");
  REQUIRE(missing);
  CHECK(missing->status == 404);

  o.cce_policy = "package policy\n\napi_version := \"0.10.0\"\n";
  TestServer with(o);
  httplib::Client c2("127.0.0.1", with.port());
  auto got = c2.Get("/v1/policy");
  REQUIRE(got);
  CHECK(got->status == 200);
  CHECK(got->body == o.cce_policy);
}
