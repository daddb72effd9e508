// `sealsum proxy`: forwards only to a server that passes attestation against its pins, on the
// attested connection; refuses (502, failed checks named) and forwards nothing otherwise.
#include <httplib.h>

#include <catch2/catch.hpp>

#include <thread>

#include <nlohmann/json.hpp>

#include "server/proxy.h"
#include "server/serve_testutil.h"

namespace {

using json = nlohmann::json;
using namespace sealsum;
using namespace sealsum::server;
using namespace sealsum::server::testutil;

// A proxy on a random loopback port, serving on a background thread.
class RunningProxy {
 public:
  explicit RunningProxy(ProxyOptions o) {
    auto p = Proxy::create(std::move(o));
    REQUIRE(p.ok());
    proxy_ = std::move(p).value();
    REQUIRE(proxy_->bind().is_ok());
    thread_ = std::thread([this] { proxy_->run(); });
  }
  ~RunningProxy() {
    proxy_->stop();
    thread_.join();
  }
  int port() const { return proxy_->port(); }

 private:
  std::unique_ptr<Proxy> proxy_;
  std::thread thread_;
};

ProxyOptions pins_for(const std::string& server_url, std::array<uint8_t, 48> measurement) {
  ProxyOptions o;
  o.upstream.server_url = server_url;
  o.upstream.policy.measurements = {measurement};
  o.upstream.allow_simulated = true;
  return o;
}

const std::string kRequest = json{{"text", "The proxy forwards this only to an attested server."},
                                  {"no_repeat_ngram_size", 1},
                                  {"max_length", 16}}
                                 .dump();

}  // namespace

TEST_CASE("proxy: forwards to the server when the pins hold", "[proxy]") {
  TlsTestServer srv;
  RunningProxy proxy(pins_for(srv.url(), test_measurement()));
  httplib::Client c("127.0.0.1", proxy.port());
  auto r = c.Post("/v1/summarize", kRequest, "application/json");
  REQUIRE(r);
  INFO(r->body);
  CHECK(r->status == 200);
  CHECK(json::parse(r->body).contains("summary"));
  CHECK(srv.server().metrics().requests("/v1/summarize", 200) == 1);
  auto info = c.Get("/v1/info");
  REQUIRE(info);
  CHECK(info->status == 200);
  auto other = c.Get("/metrics");  // not forwarded
  REQUIRE(other);
  CHECK(other->status == 404);
}

TEST_CASE("proxy: refuses and forwards nothing when a pin is wrong", "[proxy]") {
  TlsTestServer srv;
  RunningProxy proxy(pins_for(srv.url(), std::array<uint8_t, 48>{}));
  httplib::Client c("127.0.0.1", proxy.port());
  auto r = c.Post("/v1/summarize", kRequest, "application/json");
  REQUIRE(r);
  CHECK(r->status == 502);
  json j = json::parse(r->body);
  CHECK(j["error"] == "attestation_refused");
  CHECK(j["failed_checks"] == json::array({"measurement_allowed"}));
  CHECK(srv.server().metrics().requests("/v1/summarize", 200) == 0);
}

TEST_CASE("proxy: listens on loopback only and needs pins", "[proxy]") {
  ProxyOptions o = pins_for("https://127.0.0.1:1", test_measurement());
  o.host = "0.0.0.0";
  CHECK(Proxy::create(o).status().code() == Code::kInvalidArgument);
  ProxyOptions none;
  none.upstream.server_url = "https://127.0.0.1:1";
  CHECK(Proxy::create(none).status().code() == Code::kInvalidArgument);
}
