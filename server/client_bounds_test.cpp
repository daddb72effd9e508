// The verifying client (client.h) reads a hostile server's attestation answer only up to
// kMaxAttestationAnswerBytes (capped while reading, not after).
#include <httplib.h>

#include <catch2/catch.hpp>

#include "common/proc_status.h"
#include <fstream>
#include <string>
#include <thread>

#include "server/client.h"
#include "server/httplib_testutil.h"

using namespace sealsum;
using namespace sealsum::server;

TEST_CASE("verify_server stops reading an attestation answer over 256 KiB", "[client]") {
  httplib::Server hostile;
  constexpr size_t kHuge = 200u << 20;  // 200 MiB announced and streamed
  hostile.Get("/v1/attestation", [](const httplib::Request&, httplib::Response& res) {
    res.set_content_provider(kHuge, "application/json", [](size_t offset, size_t length, httplib::DataSink& sink) {
      static const std::string chunk(64 * 1024, ' ');
      (void)offset;
      return sink.write(chunk.data(), std::min(length, chunk.size()));
    });
  });
  const int port = hostile.bind_to_any_port("127.0.0.1");
  REQUIRE(port > 0);
  std::thread t = sealsum::server::testutil::listen_in_background(hostile);
  const long before = rss_kib();
  RemoteOptions o;
  o.server_url = "http://127.0.0.1:" + std::to_string(port);
  o.timeout_s = 10;
  auto r = verify_server(o);
  const long after = rss_kib();
  hostile.stop();
  t.join();
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == Code::kResourceExhausted);
  CHECK(r.status().message().find("exceeds") != std::string::npos);
  CHECK(after - before < 32 * 1024);
}
