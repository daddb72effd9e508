// Document store key releases (serve_documents.h): a failed release is cached with a backoff, is
// not retried before it, concurrent requests share one release, and callers get a generic reason.
#include "server/serve_documents.h"

#include <httplib.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/encoding.h"
#include "secure/sealed.h"
#include "server/serve_testutil.h"

using namespace sealsum;
using namespace sealsum::server;
using namespace sealsum::server::testutil;
using namespace std::chrono_literals;

namespace {

constexpr char kDetail[] = "broker http://kbs.internal:7000 refused: measurement_allowed: 5e5e... not allowed";

struct Fixture {
  std::filesystem::path dir = temp_dir() / "backoff-docs";
  secure::SealingKey key = std::move(secure::SealingKey::generate("backoff-key")).value();
  std::atomic<int> calls{0};
  std::atomic<bool> succeed{false};
  std::chrono::steady_clock::time_point now = std::chrono::steady_clock::now();
  std::vector<std::string> log;
  std::mutex log_mu;

  Fixture() {
    std::filesystem::create_directories(dir);
    const std::string text = "The museum opened a new wing for maritime history on Sunday.";
    REQUIRE(secure::seal_memory(encoding::as_bytes(text), dir / "doc.sealed", key, {}).is_ok());
  }
  DocumentStore store() {
    ReleaseBackoff b;
    b.now = [this] { return now; };
    b.log = [this](const std::string& line) {
      std::lock_guard<std::mutex> lock(log_mu);
      log.push_back(line);
    };
    return DocumentStore(dir, [this](const std::string& kid) -> Result<DocumentKey> {
      ++calls;
      std::this_thread::sleep_for(20ms);  // a round trip: lets concurrent requests overlap
      if (!succeed) return permission_denied(kDetail);
      SEALSUM_ASSIGN_OR_RETURN(auto k, secure::SealingKey::from_bytes(key.bytes(), kid));
      return DocumentKey{std::move(k), ""};
    }, b);
  }
};

}  // namespace

TEST_CASE("documents: a failed release is not retried before its backoff, which doubles", "[documents]") {
  Fixture f;
  DocumentStore docs = f.store();
  auto first = docs.open("doc");
  REQUIRE_FALSE(first.ok());
  CHECK(first.status().code() == Code::kUnavailable);
  CHECK(first.status().message().find("measurement_allowed") == std::string::npos);
  CHECK(first.status().message().find("kbs.internal") == std::string::npos);
  CHECK(f.calls == 1);
  REQUIRE(f.log.size() == 1);
  CHECK(f.log[0].find("measurement_allowed") != std::string::npos);  // the operator sees the reason

  for (int i = 0; i < 5; ++i) CHECK(docs.open("doc").status().code() == Code::kUnavailable);
  f.now += 4900ms;
  CHECK_FALSE(docs.open("doc").ok());
  CHECK(f.calls == 1);  // within the 5 s backoff: the broker is not asked
  f.now += 200ms;
  CHECK_FALSE(docs.open("doc").ok());
  CHECK(f.calls == 2);  // retried once after it; the next backoff is 10 s
  f.now += 9s;
  CHECK_FALSE(docs.open("doc").ok());
  CHECK(f.calls == 2);
  f.now += 1100ms;

  // Concurrent requests after the backoff share one release.
  f.succeed = true;
  std::vector<std::thread> threads;
  std::atomic<int> opened{0};
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&] {
      if (docs.open("doc").ok()) ++opened;
    });
  }
  for (auto& t : threads) t.join();
  CHECK(opened == 8);
  CHECK(f.calls == 3);
  CHECK(docs.open("doc").ok());
  CHECK(f.calls == 3);  // cached after success
}

TEST_CASE("documents: /v1/summarize callers get a generic 503 for a refused release", "[documents][serve]") {
  Fixture f;
  DocumentStore docs = f.store();
  ServeOptions o;
  o.dev = true;
  TestServer srv(o, &docs);
  httplib::Client c("127.0.0.1", srv.port());
  c.set_read_timeout(60, 0);
  for (int i = 0; i < 3; ++i) {
    auto r = c.Post("/v1/summarize", R"({"document":"doc"})", "application/json");
    REQUIRE(r);
    CHECK(r->status == 503);
    CHECK(r->body.find("measurement_allowed") == std::string::npos);
    CHECK(r->body.find("kbs.internal") == std::string::npos);
  }
  CHECK(f.calls == 1);
}
