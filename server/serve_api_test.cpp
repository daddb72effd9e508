// Request parsing, limits, envelopes, measurement lists and the work queue, without sockets.
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <thread>

#include "common/encoding.h"
#include "server/queue.h"
#include "server/serve_api.h"
#include "server/serve_attest.h"
#include "server/serve_documents.h"

using namespace sealsum;
using namespace sealsum::server;

TEST_CASE("serve_api: valid requests parse with their parameters", "[serve_api]") {
  ApiLimits lim;
  auto p = parse_summarize_request(
      R"({"text":"hello","num_beams":4,"max_length":100,"min_length":5,"length_penalty":1.5,)"
      R"("no_repeat_ngram_size":3,"early_stopping":"never","repetition_penalty":1.2,"truncate":false})",
      lim);
  REQUIRE(p.ok());
  CHECK(*p.request->text == "hello");
  CHECK(*p.request->params.num_beams == 4);
  CHECK(*p.request->params.max_length == 100);
  CHECK(*p.request->params.early_stopping == decoding::EarlyStopping::kNever);
  CHECK_FALSE(p.request->truncate);
  decoding::GenerationParams g;
  g.max_new_tokens = 50;
  REQUIRE_FALSE(apply_overrides(p.request->params, lim, g).has_value());
  CHECK(g.num_beams == 4);
  CHECK(g.max_length == 100);
  CHECK_FALSE(g.max_new_tokens.has_value());  // an explicit max_length replaces a default max_new_tokens
  CHECK(g.no_repeat_ngram_size == 3);

  auto d = parse_summarize_request(R"({"document":"contract-7.v2"})", lim);
  REQUIRE(d.ok());
  CHECK(*d.request->document == "contract-7.v2");
}

TEST_CASE("serve_api: every violation names the member and never echoes text", "[serve_api]") {
  ApiLimits lim;
  lim.max_text_bytes = 16;
  const char* secret = "SECRETSECRETSECRETSECRET";
  auto big = parse_summarize_request(std::string(R"({"text":")") + secret + "\"}", lim);
  REQUIRE_FALSE(big.ok());
  CHECK(big.error.http_status == 413);
  CHECK(big.error.message.find("SECRET") == std::string::npos);
  lim.max_body_bytes = 10;
  CHECK(parse_summarize_request(R"({"text":"0123456789"})", lim).error.http_status == 413);
  ApiLimits l2;
  for (const char* b : {"", "null", "\"x\"", R"({"text":"a","num_beams":1.5})", R"({"text":"a","max_new_tokens":512})",
                        R"({"text":"a","no_repeat_ngram_size":-1})", R"({"document":""})", R"({"document":".hidden"})",
                        R"({"document":"a/b"})", R"({"text":"a","truncate":1})", R"({"text":"a","length_penalty":1e400})"}) {
    INFO(b);
    auto r = parse_summarize_request(b, l2);
    CHECK_FALSE(r.ok());
    CHECK(r.error.http_status == 400);
  }
  decoding::GenerationParams g;
  ParamOverrides o;
  o.max_length = 10;
  o.min_length = 10;
  auto e = apply_overrides(o, l2, g);
  REQUIRE(e.has_value());
  CHECK(e->message.find("min_length") != std::string::npos);
  // A model default above the service limits is clamped, not refused.
  decoding::GenerationParams big_default;
  big_default.max_length = 2000;
  REQUIRE_FALSE(apply_overrides({}, l2, big_default).has_value());
  CHECK(big_default.max_length == 512);
}

TEST_CASE("serve_documents: envelopes carry the output policy; plain text has none", "[serve_api]") {
  size_t off = 99;
  secure::OutputPolicy p;
  std::string plain = "just a document";
  REQUIRE(parse_document_envelope(encoding::as_bytes(plain), off, p).is_ok());
  CHECK(off == 0);
  CHECK_FALSE(p.sealed);
  std::string env = std::string(kEnvelopeMagic) + R"({"mode":"plaintext"})" + "\nthe text";
  REQUIRE(parse_document_envelope(encoding::as_bytes(env), off, p).is_ok());
  CHECK(env.substr(off) == "the text");
  for (std::string bad : {std::string(kEnvelopeMagic) + "{\"mode\":\"plaintext\"}",  // no newline
                          std::string(kEnvelopeMagic) + "{nope}\ntext",
                          std::string(kEnvelopeMagic) + "{\"mode\":\"shout\"}\ntext",
                          std::string(kEnvelopeMagic) + std::string(kMaxPolicyLine + 10, ' ') + "\ntext"}) {
    CHECK(parse_document_envelope(encoding::as_bytes(bad), off, p).code() == Code::kInvalidArgument);
  }
}

TEST_CASE("serve_attest: measurement lists and nonces", "[serve_api]") {
  const std::string m(96, 'a');
  auto one = parse_measurement_list(m);
  REQUIRE(one.ok());
  CHECK(one->size() == 1);
  auto two = parse_measurement_list(m + "," + std::string(96, 'B'));
  REQUIRE(two.ok());
  CHECK((*two)[1][0] == 0xBB);
  for (std::string bad : {std::string(""), std::string(95, 'a'), m + ",", std::string(96, 'g')}) {
    CHECK_FALSE(parse_measurement_list(bad).ok());
  }
  CHECK(valid_nonce("abcdefghijklmnop"));
  CHECK_FALSE(valid_nonce("abcdefghijklmno"));
  CHECK_FALSE(valid_nonce("abcdefghijklmnop="));
  CHECK(make_runtime_data("n", std::nullopt, {}) ==
        R"({"model":{"sealed_sha256":null,"sha256":null},"nonce":"n","purpose":"sealsum-serve-attestation-v1","tls_spki_sha256":null})");
  secure::attest::ModelDigests md;
  md.sha256 = secure::Digest256{0xab};
  CHECK(make_runtime_data("n", secure::Digest256{}, md).find(R"("model":{"sealed_sha256":null,"sha256":"ab00)") !=
        std::string::npos);
}

TEST_CASE("queue: with capacity 0, a job submitted right after construction finds an idle worker", "[queue]") {
  // The workers' threads may not have started yet; they still count as idle (a server answered
  // its first request 503 "queue full" when it came in before the worker thread first waited).
  for (int round = 0; round < 200; ++round) {
    std::atomic<int> ran{0};
    std::atomic<bool> hold{true};
    {
      WorkQueue q(1, 0);
      REQUIRE(q.submit([&] {
        while (hold) std::this_thread::sleep_for(std::chrono::microseconds(100));
        ++ran;
      }));
      CHECK_FALSE(q.submit([&] { ++ran; }));  // the one worker is taken
      hold = false;
    }
    CHECK(ran == 1);
  }
}

TEST_CASE("queue: bounded, runs every accepted job, refuses when full, drains on shutdown", "[queue]") {
  std::atomic<int> ran{0};
  std::atomic<bool> go{false};
  {
    WorkQueue q(1, 2);
    REQUIRE(q.submit([&] {
      while (!go) std::this_thread::sleep_for(std::chrono::milliseconds(1));
      ++ran;
    }));
    while (q.running() == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    CHECK(q.submit([&] { ++ran; }));
    CHECK(q.submit([&] { ++ran; }));
    CHECK(q.depth() == 2);
    CHECK_FALSE(q.submit([&] { ++ran; }));  // full
    CHECK(q.rejected() == 1);
    go = true;
    q.shutdown();
    CHECK(ran == 3);
    CHECK_FALSE(q.submit([&] { ++ran; }));  // after shutdown
  }
  CHECK(ran == 3);
  // Declared before the queue: the jobs read it until the queue's destructor has joined them.
  std::atomic<bool> hold{true};
  WorkQueue zero(2, 0);  // no wait for the workers to start: they are idle from construction
  REQUIRE(zero.submit([&] { while (hold) std::this_thread::sleep_for(std::chrono::milliseconds(1)); }));
  REQUIRE(zero.submit([&] { while (hold) std::this_thread::sleep_for(std::chrono::milliseconds(1)); }));
  while (zero.running() != 2) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  CHECK_FALSE(zero.submit([] {}));  // capacity 0 and no idle worker
  hold = false;
}
