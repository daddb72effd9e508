// `sealsum serve` over loopback: the tiny T5 model behind a real HTTP server on a random port.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <httplib.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <condition_variable>
#include <regex>
#include <thread>

#include <nlohmann/json.hpp>

#include "server/serve_testutil.h"
#include "common/encoding.h"

namespace {

using json = nlohmann::json;
using namespace sealsum;
using namespace sealsum::server;
using namespace sealsum::server::testutil;

constexpr char kText[] =
    "The city council approved a new budget on Tuesday that increases funding for public parks, "
    "libraries and road repairs, while cutting administrative costs by five percent.";

ServeOptions dev_options() {
  ServeOptions o;
  o.dev = true;
  o.allow_plaintext_input = true;
  o.read_timeout_s = 2;
  return o;
}

httplib::Result post(int port, const std::string& body) {
  httplib::Client c("127.0.0.1", port);
  c.set_read_timeout(60, 0);
  return c.Post("/v1/summarize", body, "application/json");
}

httplib::Result get(int port, const std::string& path) {
  httplib::Client c("127.0.0.1", port);
  return c.Get(path.c_str());
}

std::string engine_summary(const std::string& text) {
  // The tiny random model emits only pad tokens (an empty summary) unless repeats are banned:
  // no_repeat_ngram_size 1 makes it produce non-empty text to compare.
  decoding::GenerationParams p = tiny_engine().default_params();
  p.no_repeat_ngram_size = 1;
  p.max_length = 20;
  auto s = tiny_engine().summarize(text, p);
  REQUIRE(s.ok());
  return s->text;
}

}  // namespace

TEST_CASE("serve: summarize text matches the engine, with tokens and timings", "[serve]") {
  TestServer srv(dev_options());
  auto res = post(srv.port(), json{{"text", kText}, {"no_repeat_ngram_size", 1}, {"max_length", 20}}.dump());
  REQUIRE(res);
  REQUIRE(res->status == 200);
  json j = json::parse(res->body);
  CHECK(!j["summary"].get<std::string>().empty());
  CHECK(j["summary"] == engine_summary(kText));
  CHECK(j["input_tokens"].get<int>() > 10);
  CHECK(j["output_tokens"].get<int>() >= 1);
  CHECK(j["truncated"] == false);
  for (const char* k : {"queue_ms", "tokenize_ms", "encode_ms", "decode_ms", "total_ms"}) {
    CHECK(j["timings"][k].get<double>() >= 0);
  }
  // Parameters within limits are applied: greedy with a short max length.
  auto short_res = post(srv.port(), json{{"text", kText}, {"num_beams", 1}, {"max_length", 5}}.dump());
  REQUIRE(short_res);
  REQUIRE(short_res->status == 200);
  CHECK(json::parse(short_res->body)["output_tokens"].get<int>() <= 4);
}

TEST_CASE("serve: malformed and invalid requests are 400 with a JSON error", "[serve]") {
  TestServer srv(dev_options());
  const std::vector<std::string> bad = {
      "{not json",
      "[1,2]",
      R"({"text": 5})",
      R"({"text": "a", "document": "b"})",
      R"({})",
      R"({"text": "a", "num_beams": 9})",
      R"({"text": "a", "num_beams": 0})",
      R"({"text": "a", "max_length": 513})",
      R"({"text": "a", "max_length": 10, "min_length": 10})",
      R"({"text": "a", "length_penalty": "big"})",
      R"({"text": "a", "repetition_penalty": 0.5})",
      R"({"text": "a", "early_stopping": "sometimes"})",
      R"({"text": "a", "temperature": 0.7})",
      R"({"document": "../etc/passwd"})",
  };
  for (const auto& body : bad) {
    INFO(body);
    auto res = post(srv.port(), body);
    REQUIRE(res);
    CHECK(res->status == 400);
    json j = json::parse(res->body, nullptr, false);
    REQUIRE(j.is_object());
    CHECK(j["error"] == "bad_request");
    CHECK(!j["message"].get<std::string>().empty());
  }
}

TEST_CASE("serve: oversized bodies get 413 and over-long inputs can be refused", "[serve]") {
  ServeOptions o = dev_options();
  o.limits.max_body_bytes = 4096;
  o.limits.max_text_bytes = 2048;
  TestServer srv(o);
  auto res = post(srv.port(), json{{"text", std::string(8000, 'a')}}.dump());
  REQUIRE(res);
  CHECK(res->status == 413);
  auto text_res = post(srv.port(), json{{"text", std::string(3000, 'a')}}.dump());
  REQUIRE(text_res);
  CHECK(text_res->status == 413);
  // 2000 bytes of words is far more than the model's 512 input tokens.
  std::string words;
  while (words.size() < 2000) words += "word ";
  auto trunc = post(srv.port(), json{{"text", words}, {"truncate", false}}.dump());
  REQUIRE(trunc);
  CHECK(trunc->status == 413);
  auto cut = post(srv.port(), json{{"text", words}, {"max_length", 4}}.dump());
  REQUIRE(cut);
  REQUIRE(cut->status == 200);
  CHECK(json::parse(cut->body)["truncated"] == true);
}

TEST_CASE("serve: plaintext input is refused unless allowed; unknown documents are 404", "[serve]") {
  ServeOptions o = dev_options();
  o.allow_plaintext_input = false;
  std::filesystem::create_directories(temp_dir() / "empty-docs");
  DocumentStore docs(temp_dir() / "empty-docs",
                     [](const std::string&) -> Result<DocumentKey> { return not_found("no key"); });
  TestServer srv(o, &docs);
  auto res = post(srv.port(), json{{"text", kText}}.dump());
  REQUIRE(res);
  CHECK(res->status == 403);
  auto missing = post(srv.port(), json{{"document", "no-such-doc"}}.dump());
  REQUIRE(missing);
  CHECK(missing->status == 404);
  CHECK(json::parse(missing->body)["error"] == "not_found");
  auto route = get(srv.port(), "/no/such/route");
  REQUIRE(route);
  CHECK(route->status == 404);
}

TEST_CASE("serve: a slow client is cut off by the read timeout while others are served", "[serve]") {
  ServeOptions o = dev_options();
  o.read_timeout_s = 1;
  TestServer srv(o);
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(srv.port()));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  const char partial[] = "POST /v1/summarize HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"text\":";
  REQUIRE(::send(fd, partial, sizeof partial - 1, 0) > 0);
  // Meanwhile a normal client is served.
  auto ok = get(srv.port(), "/healthz");
  REQUIRE(ok);
  CHECK(ok->status == 200);
  // The stalled connection is closed by the server within a few seconds (recv -> 0 or error).
  pollfd p{fd, POLLIN, 0};
  const auto t0 = std::chrono::steady_clock::now();
  bool closed = false;
  while (!closed && std::chrono::steady_clock::now() - t0 < std::chrono::seconds(8)) {
    if (::poll(&p, 1, 200) > 0) {
      char buf[512];
      ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0) closed = true;  // any answer bytes (n > 0) are read and we keep waiting for close
    }
  }
  ::close(fd);
  CHECK(closed);
}

TEST_CASE("serve: a full queue answers 503 with Retry-After", "[serve]") {
  ServeOptions o = dev_options();
  o.workers = 1;
  o.queue_capacity = 0;
  o.retry_after_s = 3;
  std::mutex mu;
  std::condition_variable cv;
  bool release = false;
  std::filesystem::create_directories(temp_dir() / "block-docs");
  {
    // A sealed file whose key provider blocks: it holds the only worker.
    auto key = secure::SealingKey::generate("block-key");
    REQUIRE(key.ok());
    std::string text = "x";
    REQUIRE(secure::seal_memory(encoding::as_bytes(text), temp_dir() / "block-docs" / "held.sealed", *key,
                                {})
                .is_ok());
  }
  DocumentStore docs(temp_dir() / "block-docs", [&](const std::string&) -> Result<DocumentKey> {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return release; });
    return not_found("test key provider: no key");
  });
  TestServer srv(o, &docs);
  std::thread held([&] {
    auto r = post(srv.port(), R"({"document": "held"})");
    CHECK(r);
  });
  for (int i = 0; i < 500 && srv.server().queue().running() == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  REQUIRE(srv.server().queue().running() == 1);
  auto busy = post(srv.port(), json{{"text", kText}}.dump());
  REQUIRE(busy);
  CHECK(busy->status == 503);
  CHECK(busy->get_header_value("Retry-After") == "3");
  CHECK(json::parse(busy->body)["error"] == "busy");
  {
    std::lock_guard<std::mutex> lock(mu);
    release = true;
  }
  cv.notify_all();
  held.join();
  // The held request's key release failed: a generic 503 too (serve_documents.h).
  CHECK(srv.server().metrics().requests("/v1/summarize", 503) == 2);
  // Capacity is back: the next request runs.
  auto after = post(srv.port(), json{{"text", kText}}.dump());
  REQUIRE(after);
  CHECK(after->status == 200);
  CHECK(srv.server().metrics().requests("/v1/summarize", 503) == 2);
}

TEST_CASE("serve: /metrics is Prometheus text with counters, histogram and queue gauges", "[serve]") {
  TestServer srv(dev_options());
  REQUIRE(post(srv.port(), json{{"text", kText}}.dump())->status == 200);
  REQUIRE(post(srv.port(), "{bad")->status == 400);
  REQUIRE(get(srv.port(), "/healthz")->status == 200);
  auto res = get(srv.port(), "/metrics");
  REQUIRE(res);
  REQUIRE(res->status == 200);
  CHECK(res->get_header_value("Content-Type").rfind("text/plain; version=0.0.4", 0) == 0);
  const std::string& m = res->body;
  const std::regex sample(R"(^[a-z_]+(\{[a-z_]+="[^"]*"(,[a-z_]+="[^"]*")*\})? [0-9.eE+-]+$)");
  const std::regex comment(R"(^# (HELP|TYPE) [a-z_]+ .+$)");
  std::istringstream lines(m);
  std::string line;
  int samples = 0;
  while (std::getline(lines, line)) {
    INFO(line);
    CHECK((std::regex_match(line, sample) || std::regex_match(line, comment)));
    if (!line.empty() && line[0] != '#') ++samples;
  }
  CHECK(samples > 20);
  CHECK(m.find("sealsum_http_requests_total{route=\"/v1/summarize\",code=\"200\"} 1\n") != std::string::npos);
  CHECK(m.find("sealsum_http_requests_total{route=\"/v1/summarize\",code=\"400\"} 1\n") != std::string::npos);
  CHECK(m.find("sealsum_request_duration_seconds_count{route=\"/v1/summarize\"} 2\n") != std::string::npos);
  CHECK(m.find("sealsum_request_duration_seconds_bucket{route=\"/v1/summarize\",le=\"+Inf\"} 2\n") != std::string::npos);
  CHECK(m.find("# TYPE sealsum_request_duration_seconds histogram") != std::string::npos);
  CHECK(m.find("sealsum_queue_depth 0\n") != std::string::npos);
  CHECK(m.find("sealsum_queue_capacity 8\n") != std::string::npos);
  CHECK(m.find("sealsum_generated_tokens_total 0\n") == std::string::npos);
  CHECK(m.find("sealsum_tokens_per_second 0\n") == std::string::npos);
}

TEST_CASE("serve: /v1/attestation binds the nonce; the verifier checks nonce, measurement, simulation", "[serve]") {
  TestServer srv(dev_options());
  const std::string nonce = "test-nonce-0123456789abcdef";
  auto res = get(srv.port(), "/v1/attestation?nonce=" + nonce);
  REQUIRE(res);
  REQUIRE(res->status == 200);
  VerifyExpectations e;
  e.nonce = nonce;
  e.policy.measurements = {test_measurement()};
  e.allow_simulated = true;
  AttestationVerdict good = verify_attestation_answer(res->body, e);
  INFO(good.to_json().dump(2));
  CHECK(good.accepted);
  CHECK(good.simulated);
  CHECK(good.measurement == secure::to_hex(test_measurement()));
  CHECK(!good.tls_spki);  // dev server: no TLS key

  auto failed = [](const AttestationVerdict& v, const std::string& name) {
    for (const auto& c : v.checks) {
      if (c.name == name) return !c.passed;
    }
    return false;
  };
  VerifyExpectations other_nonce = e;
  other_nonce.nonce = "another-nonce-0123456789";
  AttestationVerdict replay = verify_attestation_answer(res->body, other_nonce);
  CHECK_FALSE(replay.accepted);
  CHECK(failed(replay, "nonce_binding"));

  VerifyExpectations wrong_m = e;
  wrong_m.policy.measurements = {std::array<uint8_t, 48>{}};
  AttestationVerdict wm = verify_attestation_answer(res->body, wrong_m);
  CHECK_FALSE(wm.accepted);
  CHECK(failed(wm, "measurement_allowed"));

  VerifyExpectations strict = e;
  strict.allow_simulated = false;
  CHECK_FALSE(verify_attestation_answer(res->body, strict).accepted);

  // Runtime data swapped for other bytes no longer matches REPORT_DATA.
  json j = json::parse(res->body);
  j["runtime_data"] = encoding::base64url_encode(
      encoding::as_bytes(make_runtime_data(nonce, secure::Digest256{}, {})));
  AttestationVerdict swapped = verify_attestation_answer(j.dump(), e);
  CHECK_FALSE(swapped.accepted);
  CHECK(failed(swapped, "runtime_data_binding"));

  // A client that saw a TLS key refuses evidence that binds none.
  VerifyExpectations tls = e;
  tls.observed_tls_spki = secure::Digest256{1};
  AttestationVerdict t = verify_attestation_answer(res->body, tls);
  CHECK_FALSE(t.accepted);
  CHECK(failed(t, "tls_key_binding"));

  for (const char* bad : {"/v1/attestation", "/v1/attestation?nonce=short", "/v1/attestation?nonce=has%20space%20in%20it%20xx"}) {
    auto r = get(srv.port(), bad);
    REQUIRE(r);
    CHECK(r->status == 400);
  }
  CHECK_FALSE(verify_attestation_answer("{}", e).accepted);
  CHECK_FALSE(verify_attestation_answer("not json", e).accepted);
}

TEST_CASE("serve: openapi, info, web page and health", "[serve]") {
  TestServer srv(dev_options());
  auto api = get(srv.port(), "/openapi.json");
  REQUIRE(api);
  REQUIRE(api->status == 200);
  json spec = json::parse(api->body);
  CHECK(spec["openapi"] == "3.0.3");
  CHECK(spec["paths"].contains("/v1/summarize"));
  auto info = get(srv.port(), "/v1/info");
  REQUIRE(info);
  json i = json::parse(info->body);
  CHECK(i["dev"] == true);
  CHECK(i["model"]["architecture"] == "t5");
  auto page = get(srv.port(), "/");
  REQUIRE(page);
  CHECK(page->status == 200);
  CHECK(page->body.find("<title>sealsum</title>") != std::string::npos);
  CHECK(page->body.find("://") == std::string::npos);  // no external URLs: nothing loads from elsewhere
  CHECK(page->get_header_value("Content-Security-Policy").find("connect-src 'self'") != std::string::npos);
  auto h = get(srv.port(), "/healthz");
  REQUIRE(h);
  CHECK(json::parse(h->body)["status"] == "ok");
}
