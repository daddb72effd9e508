// `sealsum serve` with sealed documents, sealed output, HTTPS and the attest-then-pin client.
#include <httplib.h>

#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "secure/sealed.h"
#include "common/encoding.h"
#include "server/client.h"
#include "server/serve_testutil.h"

namespace {

using json = nlohmann::json;
using namespace sealsum;
using namespace sealsum::server;
using namespace sealsum::server::testutil;

constexpr char kSecretText[] =
    "Quarterly revenue of the Zyxwv Corporation rose sharply after the merger with Qlmnop Industries, "
    "according to an internal memo seen only by the board.";

struct SealedCorpus {
  std::filesystem::path dir;
  std::shared_ptr<secure::SealingKey> key;
  std::atomic<int> releases{0};
  std::string broker_output_policy;  // what the provider returns as the broker-stored policy
};

// Seals `plaintext` as DIR/<id>.sealed under corpus.key.
void seal_doc(SealedCorpus& c, const std::string& id, const std::string& plaintext) {
  REQUIRE(secure::seal_memory(encoding::as_bytes(plaintext), c.dir / (id + ".sealed"), *c.key, {}).is_ok());
}

KeyProvider provider(SealedCorpus& c) {
  return [&c](const std::string& kid) -> Result<DocumentKey> {
    ++c.releases;
    if (kid != c.key->kid()) return not_found("unknown key id");
    SEALSUM_ASSIGN_OR_RETURN(auto key, secure::SealingKey::from_bytes(c.key->bytes(), kid));
    return DocumentKey{std::move(key), c.broker_output_policy};
  };
}

std::unique_ptr<SealedCorpus> make_corpus(const std::string& name) {
  auto c = std::make_unique<SealedCorpus>();
  c->dir = temp_dir() / name;
  std::filesystem::create_directories(c->dir);
  auto k = secure::SealingKey::generate("owner-key-1");
  REQUIRE(k.ok());
  c->key = std::make_shared<secure::SealingKey>(std::move(k).value());
  return c;
}

ServeOptions sealed_only() {
  ServeOptions o;
  o.dev = true;
  o.allow_plaintext_input = false;
  return o;
}

std::string engine_summary(std::string_view text) {
  // The tiny random model emits only pad tokens (an empty summary) unless repeats are banned:
  // no_repeat_ngram_size 1 makes it produce non-empty text to compare.
  decoding::GenerationParams p = tiny_engine().default_params();
  p.no_repeat_ngram_size = 1;
  p.max_length = 20;
  auto s = tiny_engine().summarize(text, p);
  REQUIRE(s.ok());
  return s->text;
}

void check_logs_clean(const std::vector<std::string>& logs, const std::vector<std::string>& secrets) {
  REQUIRE(!logs.empty());
  for (const auto& line : logs) {
    CHECK(json::parse(line, nullptr, false).is_object());  // structured: one JSON object per line
    for (const auto& s : secrets) {
      if (s.size() >= 8) CHECK(line.find(s) == std::string::npos);
    }
  }
}

}  // namespace

TEST_CASE("serve: sealed documents summarize; keys are released once; logs hold no text", "[serve][sealed]") {
  auto corpus = make_corpus("docs-plain");
  seal_doc(*corpus, "memo", kSecretText);
  DocumentStore docs(corpus->dir, provider(*corpus));
  TestServer srv(sealed_only(), &docs);
  httplib::Client c("127.0.0.1", srv.port());
  c.set_read_timeout(60, 0);
  auto list = c.Get("/v1/documents");
  REQUIRE(list);
  CHECK(json::parse(list->body)["documents"] == json::array({"memo"}));
  std::string summary;
  for (int i = 0; i < 2; ++i) {
    auto res = c.Post("/v1/summarize", R"({"document":"memo","no_repeat_ngram_size":1,"max_length":20})", "application/json");
    REQUIRE(res);
    REQUIRE(res->status == 200);
    json j = json::parse(res->body);
    summary = j["summary"];
    CHECK(summary.size() >= 8);
    CHECK(summary == engine_summary(kSecretText));
  }
  CHECK(corpus->releases == 1);
  check_logs_clean(srv.logs(), {kSecretText, "Zyxwv Corporation", summary});
}

TEST_CASE("serve: an envelope's sealed-output policy seals the summary to the consumer", "[serve][sealed]") {
  auto corpus = make_corpus("docs-sealed-out");
  auto consumer = secure::OutputKey::generate_x25519();
  REQUIRE(consumer.ok());
  json policy = {{"mode", "sealed"}, {"consumer", "auditor"}, {"key", consumer->public_jwk()}};
  seal_doc(*corpus, "board-memo", std::string(kEnvelopeMagic) + policy.dump() + "\n" + kSecretText);
  seal_doc(*corpus, "broken", std::string(kEnvelopeMagic) + "{\"mode\":\"sealed\"}\n" + kSecretText);
  DocumentStore docs(corpus->dir, provider(*corpus));
  TestServer srv(sealed_only(), &docs);
  httplib::Client c("127.0.0.1", srv.port());
  c.set_read_timeout(60, 0);
  auto res = c.Post("/v1/summarize", R"({"document":"board-memo","no_repeat_ngram_size":1,"max_length":20})", "application/json");
  REQUIRE(res);
  REQUIRE(res->status == 200);
  json j = json::parse(res->body);
  CHECK_FALSE(j.contains("summary"));
  REQUIRE(j.contains("sealed_summary"));
  CHECK(j["sealed_summary"]["consumer"] == "auditor");
  // No length or cost of the sealed summary in clear: no counts, timings or token metrics.
  CHECK(j.size() == 1);
  CHECK(j["sealed_summary"]["padding"] == "bucket-v1");
  CHECK(srv.server().metrics().render(QueueGauges{}).find("sealsum_input_tokens_total 0") != std::string::npos);
  const std::string expected = engine_summary(kSecretText);  // the envelope's text only
  REQUIRE(expected.size() >= 8);
  CHECK(res->body.find(expected) == std::string::npos);
  auto opened = consumer->open(j["sealed_summary"], "document:board-memo");
  REQUIRE(opened.ok());
  CHECK(std::string(reinterpret_cast<const char*>(opened->data()), opened->size()) == expected);
  // Bound to the document: the same sealed summary does not open as another document's.
  CHECK(consumer->open(j["sealed_summary"], "document:other").status().code() == Code::kUnauthenticated);
  // Another key cannot open it.
  auto stranger = secure::OutputKey::generate_x25519();
  REQUIRE(stranger.ok());
  CHECK_FALSE(stranger->open(j["sealed_summary"], "document:board-memo").ok());
  // A malformed policy inside the envelope fails closed (no summary at all).
  auto broken = c.Post("/v1/summarize", R"({"document":"broken"})", "application/json");
  REQUIRE(broken);
  CHECK(broken->status == 400);
  CHECK(broken->body.find("summary\"") == std::string::npos);
  check_logs_clean(srv.logs(), {kSecretText, expected});
}

TEST_CASE("serve: the output policy stored with the key at the broker governs the summary", "[serve][sealed]") {
  auto corpus = make_corpus("docs-broker-policy");
  auto consumer = secure::OutputKey::generate_x25519();
  REQUIRE(consumer.ok());
  const json policy = {{"mode", "sealed"}, {"consumer", "auditor"}, {"key", consumer->public_jwk()}};
  corpus->broker_output_policy = policy.dump();
  seal_doc(*corpus, "plain-text", kSecretText);
  seal_doc(*corpus, "same-envelope", std::string(kEnvelopeMagic) + policy.dump() + "\n" + kSecretText);
  seal_doc(*corpus, "other-envelope", std::string(kEnvelopeMagic) + R"({"mode":"plaintext"})" + "\n" + kSecretText);
  DocumentStore docs(corpus->dir, provider(*corpus));
  TestServer srv(sealed_only(), &docs);
  httplib::Client c("127.0.0.1", srv.port());
  c.set_read_timeout(60, 0);
  const std::string expected = engine_summary(kSecretText);
  REQUIRE(expected.size() >= 8);
  for (const std::string id : {"plain-text", "same-envelope"}) {
    INFO(id);
    auto res = c.Post("/v1/summarize", json{{"document", id}, {"no_repeat_ngram_size", 1}, {"max_length", 20}}.dump(),
                      "application/json");
    REQUIRE(res);
    REQUIRE(res->status == 200);
    json j = json::parse(res->body);
    CHECK_FALSE(j.contains("summary"));
    CHECK(res->body.find(expected) == std::string::npos);
    auto opened = consumer->open(j.at("sealed_summary"), "document:" + id);
    REQUIRE(opened.ok());
    CHECK(std::string(reinterpret_cast<const char*>(opened->data()), opened->size()) == expected);
  }
  // An envelope that says otherwise than the broker is not served at all.
  auto conflict = c.Post("/v1/summarize", R"({"document":"other-envelope"})", "application/json");
  REQUIRE(conflict);
  CHECK(conflict->status == 403);
  CHECK(conflict->body.find("summary\"") == std::string::npos);
  CHECK(conflict->body.find("registered with its key") != std::string::npos);
  CHECK(corpus->releases == 1);
  check_logs_clean(srv.logs(), {kSecretText, expected});
}

TEST_CASE("serve: the client verifies then summarizes; a wrong measurement sends nothing", "[serve][client]") {
  ServeOptions o;
  o.dev = true;
  o.allow_plaintext_input = true;
  TestServer srv(o);
  RemoteOptions ro;
  ro.server_url = "http://127.0.0.1:" + std::to_string(srv.port());
  ro.policy.measurements = {test_measurement()};
  ro.allow_simulated = true;
  auto r = remote_summarize(ro, json{{"text", kSecretText}, {"no_repeat_ngram_size", 1}, {"max_length", 20}});
  REQUIRE(r.ok());
  CHECK(r->http_status == 200);
  CHECK(r->answer["summary"] == engine_summary(kSecretText));
  CHECK(r->verification.verdict.accepted);
  CHECK(!r->verification.warnings.empty());  // plain HTTP is not pinned, and the TEE is simulated

  RemoteOptions wrong = ro;
  wrong.policy.measurements = {std::array<uint8_t, 48>{}};
  const auto before = srv.server().metrics().requests("/v1/summarize", 200);
  auto refused = remote_summarize(wrong, json{{"text", kSecretText}, {"no_repeat_ngram_size", 1}, {"max_length", 20}});
  CHECK(refused.status().code() == Code::kPermissionDenied);
  CHECK(srv.server().metrics().requests("/v1/summarize", 200) == before);  // nothing was sent

  RemoteOptions strict = ro;
  strict.allow_simulated = false;
  auto v = verify_server(strict);
  REQUIRE(v.ok());
  CHECK_FALSE(v->verdict.accepted);
}

TEST_CASE("serve: HTTPS binds the in-process TLS key into the evidence and the client pins it", "[serve][tls]") {
  auto tls = secure::TlsIdentity::create();
  REQUIRE(tls.ok());
  ServeOptions o;
  o.allow_plaintext_input = true;
  TestServer srv(o, nullptr, &*tls);
  RemoteOptions ro;
  ro.server_url = "https://127.0.0.1:" + std::to_string(srv.port());
  ro.policy.measurements = {test_measurement()};
  ro.allow_simulated = true;
  auto v = verify_server(ro);
  REQUIRE(v.ok());
  INFO(v->verdict.to_json().dump(2));
  CHECK(v->verdict.accepted);
  REQUIRE(v->verdict.tls_spki);
  CHECK(*v->verdict.tls_spki == tls->spki_sha256());
  auto r = remote_summarize(ro, json{{"text", kSecretText}, {"no_repeat_ngram_size", 1}, {"max_length", 20}});
  REQUIRE(r.ok());
  CHECK(r->http_status == 200);
  CHECK(r->answer["summary"] == engine_summary(kSecretText));

  // A server whose evidence names another TLS key (e.g. an interceptor relaying someone else's
  // evidence) is refused on the key binding.
  auto other = secure::TlsIdentity::create();
  REQUIRE(other.ok());
  TestServer liar(o, nullptr, &*tls, simulated_attester(other->spki_sha256()));
  RemoteOptions lo = ro;
  lo.server_url = "https://127.0.0.1:" + std::to_string(liar.port());
  auto lv = verify_server(lo);
  REQUIRE(lv.ok());
  CHECK_FALSE(lv->verdict.accepted);
  auto lr = remote_summarize(lo, json{{"text", kSecretText}, {"no_repeat_ngram_size", 1}, {"max_length", 20}});
  CHECK(lr.status().code() == Code::kPermissionDenied);
}
