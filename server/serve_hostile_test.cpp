// `sealsum serve` under hostile clients (issue 12): slow clients and header floods (the guarded
// front, http_guard.h) and JSON amplification (bounded JSON, secure/bounded_json.h), on loopback.
#include <httplib.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <thread>
#include <vector>

#include "server/http_guard_testutil.h"
#include "server/serve_testutil.h"

namespace {

using namespace sealsum;
using namespace sealsum::server;
using namespace sealsum::server::testutil;

ServeOptions dev_options() {
  ServeOptions o;
  o.dev = true;
  o.allow_plaintext_input = true;
  return o;
}

httplib::Result post(int port, const std::string& body) {
  httplib::Client c("127.0.0.1", port);
  c.set_read_timeout(60, 0);
  return c.Post("/v1/summarize", body, "application/json");
}

}  // namespace

TEST_CASE("serve: /healthz answers within 1 s under 50 slow clients and a header flood; RSS bounded", "[serve]") {
  ServeOptions o = dev_options();
  o.read_timeout_s = 3;
  TestServer srv(o);
  httplib::Client probe("127.0.0.1", srv.port());
  probe.set_connection_timeout(1, 0);
  probe.set_read_timeout(1, 0);
  REQUIRE(probe.Get("/healthz"));
  const long idle = testutil::rss_kib();
  long peak = idle;
  {
    testutil::Attackers attack(srv.port(), 50, std::chrono::milliseconds(2000), "GET /healthz HTTP/1.1\r\n");
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    for (int i = 0; i < 10; ++i) {  // 5 s: past the 3 s whole-request deadline
      const auto t0 = std::chrono::steady_clock::now();
      auto r = probe.Get("/healthz");
      REQUIRE(r);
      CHECK(r->status == 200);
      CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(1));
      peak = std::max(peak, testutil::rss_kib());
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
    }
    CHECK(attack.flood_reconnects() > 0);
    CHECK(attack.slow_reconnects() > 0);
  }
  CHECK(peak - idle < 64 * 1024);
}

TEST_CASE("serve: 8 concurrent 1 MiB '[' bodies get 4xx and RSS stays bounded", "[serve]") {
  ServeOptions o = dev_options();
  o.queue_capacity = 16;
  o.http_threads = 32;
  TestServer srv(o);
  const std::string body(o.limits.max_body_bytes, '[');
  const long idle = testutil::rss_kib();
  std::atomic<long> peak{idle};
  std::atomic<int> refused{0};
  std::vector<std::thread> clients;
  for (int i = 0; i < 8; ++i) {
    clients.emplace_back([&] {
      for (int round = 0; round < 3; ++round) {
        auto r = post(srv.port(), body);
        if (r && r->status >= 400 && r->status < 500) ++refused;
        long now = testutil::rss_kib();
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
