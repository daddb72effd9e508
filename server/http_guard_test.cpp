// The guarded HTTP front (http_guard.h): head scanning, and a live server on loopback under slow
// clients, header floods, oversized and chunked bodies, per-client caps, pipelining and TLS.
#include "server/http_guard.h"

#include <httplib.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <memory>
#include <thread>

#include "server/http_guard_testutil.h"

using namespace sealsum;
using namespace sealsum::server;
using namespace std::chrono_literals;
using S = HeadScan::State;

TEST_CASE("scan_request_head finds the end, Content-Length and Expect", "[guard]") {
  const std::string head = "POST /x HTTP/1.1\r\nHost: a\r\ncontent-LENGTH:  12 \r\nExpect: 100-continue\r\n\r\nbody";
  HeadScan s = scan_request_head(head, 1024, 8);
  REQUIRE(s.state == S::kComplete);
  CHECK(s.head_bytes == head.size() - 4);
  CHECK(s.content_length == 12);
  CHECK(head.substr(s.expect_begin, s.expect_end - s.expect_begin) == "Expect: 100-continue\r\n");
  CHECK(scan_request_head("GET / HTTP/1.1\nHost: a\n\n", 1024, 8).state == S::kComplete);
  CHECK(scan_request_head("GET / HTTP/1.1\r\nHost: a\r\n", 1024, 8).state == S::kIncomplete);
  CHECK(scan_request_head("", 1024, 8).state == S::kIncomplete);
}

TEST_CASE("scan_request_head refuses floods, bad lengths and chunked bodies", "[guard]") {
  std::string many = "GET / HTTP/1.1\r\n";
  for (int i = 0; i < 9; ++i) many += "X: y\r\n";
  CHECK(scan_request_head(many + "\r\n", 4096, 8).state == S::kTooManyHeaders);
  CHECK(scan_request_head(many + "\r\n", 4096, 9).state == S::kComplete);
  CHECK(scan_request_head(std::string(100, 'a'), 64, 8).state == S::kTooLarge);
  CHECK(scan_request_head("GET / HTTP/1.1\r\n" + std::string(100, 'a') + "\r\n\r\n", 64, 8).state == S::kTooLarge);
  for (const char* bad : {"-1", "1x", "", "0x10", "1234567890123456789"}) {
    CHECK(scan_request_head(std::string("POST / HTTP/1.1\r\nContent-Length: ") + bad + "\r\n\r\n", 4096, 8).state ==
          S::kBadLength);
  }
  CHECK(scan_request_head("POST / HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n", 4096, 8).state ==
        S::kBadLength);
  CHECK(scan_request_head("POST / HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\n", 4096, 8).state ==
        S::kComplete);
  CHECK(scan_request_head("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", 4096, 8).state == S::kChunked);
}

namespace {

struct LiveServer {
  std::unique_ptr<GuardedServer> svr;
  std::thread thread;
  explicit LiveServer(GuardLimits g, const secure::TlsIdentity* tls = nullptr) {
    svr = std::make_unique<GuardedServer>(g, tls, [](int status, const std::string& code, const std::string& m) {
      return "{\"status\":" + std::to_string(status) + ",\"error\":\"" + code + "\",\"message\":\"" + m + "\"}";
    });
    svr->Get("/healthz", [](const httplib::Request&, httplib::Response& res) { res.set_content("ok", "text/plain"); });
    svr->Post("/echo", [](const httplib::Request& req, httplib::Response& res) { res.set_content(req.body, "text/plain"); });
    REQUIRE(svr->listen_on("127.0.0.1", 0).is_ok());
    thread = std::thread([this] { svr->serve(); });
  }
  ~LiveServer() {
    svr->stop_serving();
    thread.join();
  }
  int port() const { return svr->bound_port(); }
};

// Sends `request` raw from 127.0.0.1 and returns everything the server sends until it closes
// (or 5 s pass).
std::string raw_exchange(int port, const std::string& request, std::chrono::milliseconds pause = 0ms) {
  const int fd = testutil::connect_from("127.0.0.1", port);
  REQUIRE(fd >= 0);
  if (pause.count() == 0) {
    (void)!::send(fd, request.data(), request.size(), MSG_NOSIGNAL);
  } else {
    for (char c : request) {
      if (::send(fd, &c, 1, MSG_NOSIGNAL) < 0) break;
      std::this_thread::sleep_for(pause);
    }
  }
  std::string got;
  const auto t0 = std::chrono::steady_clock::now();
  while (std::chrono::steady_clock::now() - t0 < 5s) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) continue;
    char buf[4096];
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    got.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return got;
}

}  // namespace

TEST_CASE("guard: /healthz answers within 1 s under 50 slow clients and a header flood; RSS stays bounded",
          "[guard]") {
  GuardLimits g;
  g.request_deadline = 3s;
  g.workers = 4;
  LiveServer s(g);
  httplib::Client probe("127.0.0.1", s.port());
  probe.set_connection_timeout(1, 0);
  probe.set_read_timeout(1, 0);
  REQUIRE(probe.Get("/healthz"));
  const long idle_rss = testutil::rss_kib();
  {
    testutil::Attackers attack(s.port(), 50, 1000ms, "GET /healthz HTTP/1.1\r\n");
    std::this_thread::sleep_for(500ms);
    long peak = 0;
    for (int i = 0; i < 12; ++i) {  // ~6 s: past the 3 s deadline of the first slow clients
      const auto t0 = std::chrono::steady_clock::now();
      auto r = probe.Get("/healthz");
      const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0);
      REQUIRE(r);
      CHECK(r->status == 200);
      CHECK(ms < 1000ms);
      peak = std::max(peak, testutil::rss_kib());
      std::this_thread::sleep_for(500ms);
    }
    CHECK(peak - idle_rss < 64 * 1024);
    CHECK(attack.flood_reconnects() > 0);  // the flood was cut off (431), not buffered
    CHECK(attack.slow_reconnects() > 0);   // slow clients were cut off by the whole-request deadline
  }
  CHECK(s.svr->stats().head_too_large > 0);
  CHECK(s.svr->stats().timed_out > 0);
}

TEST_CASE("guard: the deadline covers the whole request, not each read", "[guard]") {
  GuardLimits g;
  g.request_deadline = 1s;
  LiveServer s(g);
  // One byte every 100 ms: every read is quick, the whole request takes > 3 s.
  const auto t0 = std::chrono::steady_clock::now();
  const std::string got = raw_exchange(s.port(), "GET /healthz HTTP/1.1\r\nHost: a\r\nX-Pad: 0123456789\r\n\r\n", 100ms);
  CHECK(std::chrono::steady_clock::now() - t0 < 6s);
  CHECK(got.rfind("HTTP/1.1 408", 0) == 0);
  CHECK(s.svr->stats().timed_out == 1);
}

TEST_CASE("guard: bodies over the limit get 413, chunked 411, bad lengths 400", "[guard]") {
  GuardLimits g;
  g.max_body_bytes = 100;
  LiveServer s(g);
  CHECK(raw_exchange(s.port(), "POST /echo HTTP/1.1\r\nContent-Length: 101\r\n\r\n").rfind("HTTP/1.1 413", 0) == 0);
  CHECK(raw_exchange(s.port(), "POST /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n")
            .rfind("HTTP/1.1 411", 0) == 0);
  CHECK(raw_exchange(s.port(), "POST /echo HTTP/1.1\r\nContent-Length: 1e3\r\n\r\n").rfind("HTTP/1.1 400", 0) == 0);
  httplib::Client c("127.0.0.1", s.port());
  auto ok = c.Post("/echo", std::string(100, 'z'), "text/plain");
  REQUIRE(ok);
  CHECK(ok->status == 200);
  CHECK(ok->body == std::string(100, 'z'));
}

TEST_CASE("guard: header count and head size are capped", "[guard]") {
  GuardLimits g;
  g.max_header_count = 10;
  g.max_head_bytes = 1024;
  LiveServer s(g);
  std::string many = "GET /healthz HTTP/1.1\r\n";
  for (int i = 0; i < 11; ++i) many += "X: y\r\n";
  CHECK(raw_exchange(s.port(), many + "\r\n").rfind("HTTP/1.1 431", 0) == 0);
  CHECK(raw_exchange(s.port(), "GET /healthz HTTP/1.1\r\nX: " + std::string(2000, 'a')).rfind("HTTP/1.1 431", 0) == 0);
  CHECK(raw_exchange(s.port(), "GET /healthz HTTP/1.1\r\nConnection: close\r\n\r\n").rfind("HTTP/1.1 200", 0) == 0);
}

TEST_CASE("guard: one source address gets at most max_per_client connections", "[guard]") {
  GuardLimits g;
  g.max_per_client = 3;
  LiveServer s(g);
  std::vector<int> held;
  for (int i = 0; i < 3; ++i) held.push_back(testutil::connect_from("127.0.0.2", s.port()));
  std::this_thread::sleep_for(200ms);  // the loop admits them
  const int extra = testutil::connect_from("127.0.0.2", s.port());
  REQUIRE(extra >= 0);
  char buf[512] = {0};
  pollfd p{extra, POLLIN, 0};
  REQUIRE(::poll(&p, 1, 2000) == 1);
  const ssize_t n = ::recv(extra, buf, sizeof buf - 1, 0);
  CHECK(n > 0);
  CHECK(std::string(buf).rfind("HTTP/1.1 503", 0) == 0);
  ::close(extra);
  CHECK(s.svr->stats().refused_per_client == 1);
  // Another address is still served.
  CHECK(raw_exchange(s.port(), "GET /healthz HTTP/1.1\r\nConnection: close\r\n\r\n").rfind("HTTP/1.1 200", 0) == 0);
  for (int fd : held) ::close(fd);
}

TEST_CASE("guard: pipelined and kept-alive requests are answered in order", "[guard]") {
  LiveServer s(GuardLimits{});
  const std::string two =
      "POST /echo HTTP/1.1\r\nContent-Length: 3\r\n\r\nabcPOST /echo HTTP/1.1\r\nContent-Length: 2\r\nConnection: close\r\n\r\nxy";
  const std::string got = raw_exchange(s.port(), two);
  const size_t first = got.find("\r\n\r\nabc");
  CHECK(first != std::string::npos);
  CHECK(got.find("\r\n\r\nxy", first) != std::string::npos);
  httplib::Client c("127.0.0.1", s.port());
  c.set_keep_alive(true);
  for (int i = 0; i < 5; ++i) {
    auto r = c.Post("/echo", std::string(2000, 'a' + i), "text/plain");  // > 1 KiB: Expect-style sizes
    REQUIRE(r);
    CHECK(r->body == std::string(2000, 'a' + i));
  }
}

TEST_CASE("guard: Expect: 100-continue gets one 100 from the guard, then the answer", "[guard]") {
  LiveServer s(GuardLimits{});
  const int fd = testutil::connect_from("127.0.0.1", s.port());
  REQUIRE(fd >= 0);
  const std::string head = "POST /echo HTTP/1.1\r\nContent-Length: 4\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n";
  REQUIRE(::send(fd, head.data(), head.size(), MSG_NOSIGNAL) > 0);
  char buf[4096];
  pollfd p{fd, POLLIN, 0};
  REQUIRE(::poll(&p, 1, 2000) == 1);
  ssize_t n = ::recv(fd, buf, sizeof buf, 0);
  REQUIRE(n > 0);
  CHECK(std::string(buf, static_cast<size_t>(n)) == "HTTP/1.1 100 Continue\r\n\r\n");
  REQUIRE(::send(fd, "body", 4, MSG_NOSIGNAL) == 4);
  std::string rest;
  while (::poll(&p, 1, 2000) == 1 && (n = ::recv(fd, buf, sizeof buf, 0)) > 0) rest.append(buf, static_cast<size_t>(n));
  ::close(fd);
  CHECK(rest.rfind("HTTP/1.1 200", 0) == 0);
  CHECK(rest.find("100 Continue") == std::string::npos);
  CHECK(rest.size() >= 4);
  CHECK(rest.substr(rest.size() - 4) == "body");
}

TEST_CASE("guard: TLS connections are served, and a silent TLS client is cut off", "[guard]") {
  auto id = secure::TlsIdentity::create();
  REQUIRE(id.ok());
  GuardLimits g;
  g.request_deadline = 1s;
  LiveServer s(g, &*id);
  httplib::SSLClient c("127.0.0.1", s.port());
  c.enable_server_certificate_verification(false);
  for (int i = 0; i < 3; ++i) {
    auto r = c.Post("/echo", std::string(3000, 'q'), "text/plain");
    REQUIRE(r);
    CHECK(r->status == 200);
    CHECK(r->body.size() == 3000);
  }
  const int silent = testutil::connect_from("127.0.0.2", s.port());  // never starts the handshake
  REQUIRE(silent >= 0);
  pollfd p{silent, POLLIN, 0};
  REQUIRE(::poll(&p, 1, 4000) == 1);
  char b;
  CHECK(::recv(silent, &b, 1, 0) <= 0);
  ::close(silent);
}
