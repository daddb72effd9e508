// Replicas behind a round-robin L4 balancer (issue: scale-out). Each replica has its own TLS key
// and attests on its own; a client attests and sends on one connection, so whichever replica the
// balancer picks for that connection is the one attested, and the pinned request cannot land on
// another (whose key would fail the pin). 100 pinned requests through the balancer must all succeed
// and spread over both replicas.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <atomic>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "server/client.h"
#include "server/serve_testutil.h"

namespace {

using json = nlohmann::json;
using namespace sealsum;
using namespace sealsum::server;
using namespace sealsum::server::testutil;

// A TCP balancer on 127.0.0.1: each accepted connection goes to the next backend port in turn;
// bytes are copied both ways until either side closes.
class RoundRobin {
 public:
  explicit RoundRobin(std::vector<int> backends) : backends_(std::move(backends)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(fd_ >= 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    socklen_t len = sizeof a;
    REQUIRE(::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len) == 0);
    port_ = ntohs(a.sin_port);
    REQUIRE(::listen(fd_, 64) == 0);
    thread_ = std::thread([this] { accept_loop(); });
  }
  ~RoundRobin() {
    stopping_ = true;
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    thread_.join();
    for (auto& t : pumps_) t.join();
  }
  int port() const { return port_; }
  int connections() const { return next_; }

 private:
  static void pump(int from, int to) {
    char buf[16384];
    for (;;) {
      ssize_t n = ::read(from, buf, sizeof buf);
      if (n <= 0) break;
      for (ssize_t off = 0; off < n;) {
        ssize_t w = ::write(to, buf + off, size_t(n - off));
        if (w <= 0) goto done;
        off += w;
      }
    }
  done:
    ::shutdown(to, SHUT_WR);
    ::shutdown(from, SHUT_RD);
  }
  void accept_loop() {
    while (!stopping_) {
      int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) return;
      int b = ::socket(AF_INET, SOCK_STREAM, 0);
      sockaddr_in a{};
      a.sin_family = AF_INET;
      a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      a.sin_port = htons(uint16_t(backends_[size_t(next_++) % backends_.size()]));
      if (::connect(b, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
        ::close(c);
        ::close(b);
        continue;
      }
      pumps_.emplace_back([c, b] {
        std::thread back([c, b] { pump(b, c); });
        pump(c, b);
        back.join();
        ::close(c);
        ::close(b);
      });
    }
  }
  std::vector<int> backends_;
  int fd_ = -1;
  int port_ = 0;
  std::atomic<int> next_{0};
  std::atomic<bool> stopping_{false};
  std::thread thread_;
  std::vector<std::thread> pumps_;
};

}  // namespace

TEST_CASE("replicas: 100 pinned requests through a round-robin balancer over two replicas all succeed",
          "[serve][client][replicas]") {
  TlsTestServer a;  // each replica has its own TLS key
  TlsTestServer b;
  RoundRobin lb({a.port(), b.port()});

  RemoteOptions ro;
  ro.server_url = "https://127.0.0.1:" + std::to_string(lb.port());
  ro.policy.measurements = {test_measurement()};
  ro.allow_simulated = true;
  const json request = {{"text", "Replicas attest on their own."}, {"no_repeat_ngram_size", 1}, {"max_length", 8}};
  int ok = 0;
  for (int i = 0; i < 100; ++i) {
    auto r = remote_summarize(ro, request);
    if (r.ok() && r->http_status == 200) ++ok;
    else FAIL_CHECK("request " << i << ": " << (r.ok() ? std::to_string(r->http_status) : r.status().to_string()));
  }
  CHECK(ok == 100);
  const auto on_a = a.server().metrics().requests("/v1/summarize", 200);
  const auto on_b = b.server().metrics().requests("/v1/summarize", 200);
  CHECK(on_a + on_b == 100);
  CHECK(on_a > 0);
  CHECK(on_b > 0);
  CHECK(lb.connections() == 100);  // one connection per request: attestation and request together
}
