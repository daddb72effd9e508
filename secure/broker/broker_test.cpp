// Key broker: store at rest, release policy, nonce replay protection, REPORT_DATA binding,
// simulated-TEE gating, audit log chain — end to end through Broker (no sockets) with the
// simulated TEE, and through BrokerClient over an in-process transport.
#include <atomic>
#include <catch2/catch.hpp>
#include <thread>

#include <functional>

#include "secure/broker/broker.h"
#include "common/encoding.h"
#include "secure/keyrelease/keyrelease_testutil.h"
#include "secure/output_seal.h"

using namespace sealsum;
using namespace sealsum::secure;
using namespace sealsum::secure::keyrelease;
using namespace sealsum::secure::keyrelease::testutil;

namespace {

struct Fixture {
  TempDir dir;
  std::filesystem::path store_dir = dir.path() / "store";
  std::filesystem::path broker_key = dir.path() / "broker.key";
  int64_t now = 1'000'000;
  SealingKey key = std::move(SealingKey::generate("model-key-1")).value();

  Fixture(uint8_t policy_measurement = 0xA1, bool allow_simulated = true) {
    REQUIRE(KeyStore::init(store_dir, broker_key).is_ok());
    auto store = KeyStore::open(store_dir, broker_key);
    REQUIRE(store.ok());
    REQUIRE(store->register_key(key, policy_json(policy_measurement, allow_simulated)).is_ok());
  }
  Broker broker() {
    auto store = KeyStore::open(store_dir, broker_key);
    REQUIRE(store.ok());
    auto audit = AuditLog::open(store->audit_log_path());
    REQUIRE(audit.ok());
    BrokerOptions o;
    o.clock = [this] { return now; };
    return Broker(std::move(store).value(), std::move(audit).value(), o);
  }
};

std::unique_ptr<SimulatedEvidenceSource> tee_with(uint8_t fill) {
  attest::SimulatedOptions o;
  o.measurement = measurement_of(fill);
  auto t = SimulatedEvidenceSource::create(o);
  REQUIRE(t.ok());
  return std::move(t).value();
}

nlohmann::json body_of(const HttpReply& r) { return nlohmann::json::parse(r.body); }

}  // namespace

TEST_CASE("broker releases the key to matching simulated evidence wrapped to the ephemeral key") {
  Fixture f;
  Broker b = f.broker();
  auto tee = tee_with(0xA1);
  HttpReply ch = b.challenge();
  REQUIRE(ch.status == 200);
  HttpReply r = b.release(simulated_release_body(*tee, "model-key-1", nonce_of(ch)));
  INFO(r.body);
  REQUIRE(r.status == 200);
  auto j = body_of(r);
  CHECK(j["alg"] == "RSA-OAEP-256");
  CHECK(j["measurement"] == to_hex(measurement_of(0xA1)));
  auto wrapped = encoding::base64_decode(j["wrapped_key"].get<std::string>(), "wrapped_key");
  REQUIRE(wrapped.ok());
  CHECK_FALSE(contains_bytes(r.body, f.key.bytes()));
  CHECK_FALSE(j.contains("output_policy"));
  auto key = ephemeral_key().oaep_decrypt(*wrapped, OaepHash::kSha256, release_wrap_label("model-key-1", ""));
  REQUIRE(key.ok());
  CHECK(ct_equal(key->span(), f.key.bytes()));
  // The label binds the key id: the same ciphertext does not unwrap as another key's.
  CHECK(ephemeral_key().oaep_decrypt(*wrapped, OaepHash::kSha256, release_wrap_label("model-key-2", "")).status().code() ==
        Code::kUnauthenticated);
  CHECK_FALSE(ephemeral_key().oaep_decrypt(*wrapped, OaepHash::kSha256).ok());
}

TEST_CASE("broker refuses a different measurement with 403 naming measurement_allowed") {
  Fixture f;
  Broker b = f.broker();
  auto tee = tee_with(0xB2);
  HttpReply r = b.release(simulated_release_body(*tee, "model-key-1", nonce_of(b.challenge())));
  REQUIRE(r.status == 403);
  CHECK(body_of(r)["check"] == "measurement_allowed");
  CHECK(body_of(r)["error"] == "refused");
}

TEST_CASE("broker nonces are single-use and expire and must have been issued") {
  Fixture f;
  Broker b = f.broker();
  auto tee = tee_with(0xA1);

  SECTION("replayed request") {
    std::string body = simulated_release_body(*tee, "model-key-1", nonce_of(b.challenge()));
    REQUIRE(b.release(body).status == 200);
    HttpReply again = b.release(body);
    REQUIRE(again.status == 403);
    CHECK(body_of(again)["check"] == "nonce");
    CHECK(body_of(again)["reason"].get<std::string>().find("already used") != std::string::npos);
  }
  SECTION("expired nonce") {
    std::string nonce = nonce_of(b.challenge());
    f.now += kNonceLifetimeSeconds + 1;
    HttpReply r = b.release(simulated_release_body(*tee, "model-key-1", nonce));
    REQUIRE(r.status == 403);
    CHECK(body_of(r)["check"] == "nonce");
    CHECK(body_of(r)["reason"].get<std::string>().find("expired") != std::string::npos);
  }
  SECTION("nonce never issued") {
    HttpReply r = b.release(simulated_release_body(*tee, "model-key-1", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"));
    REQUIRE(r.status == 403);
    CHECK(body_of(r)["check"] == "nonce");
  }
  SECTION("an altered nonce (one bit of its expiry or MAC) is unknown") {
    std::string nonce = nonce_of(b.challenge());
    for (size_t pos : {size_t{2}, nonce.size() - 2}) {
      std::string bad = nonce;
      bad[pos] = bad[pos] == 'A' ? 'B' : 'A';
      HttpReply r = b.release(simulated_release_body(*tee, "model-key-1", bad));
      REQUIRE(r.status == 403);
      CHECK(body_of(r)["reason"].get<std::string>().find("unknown nonce") != std::string::npos);
    }
    CHECK(b.release(simulated_release_body(*tee, "model-key-1", nonce)).status == 200);
  }
  SECTION("a nonce of another broker process is unknown") {
    NonceStore other(kNonceLifetimeSeconds, 16, [&f] { return f.now; });  // another process's key
    auto foreign = other.issue();
    REQUIRE(foreign.ok());
    HttpReply r = b.release(simulated_release_body(*tee, "model-key-1", *foreign));
    REQUIRE(r.status == 403);
    CHECK(body_of(r)["reason"].get<std::string>().find("unknown nonce") != std::string::npos);
  }
  SECTION("a refused attempt still burns the nonce") {
    std::string nonce = nonce_of(b.challenge());
    auto wrong = tee_with(0xB2);
    REQUIRE(b.release(simulated_release_body(*wrong, "model-key-1", nonce)).status == 403);
    HttpReply r = b.release(simulated_release_body(*tee, "model-key-1", nonce));
    REQUIRE(r.status == 403);
    CHECK(body_of(r)["check"] == "nonce");
  }
}

TEST_CASE("broker refuses a report whose REPORT_DATA does not bind the ephemeral key") {
  Fixture f;
  Broker b = f.broker();
  auto tee = tee_with(0xA1);
  HttpReply r = b.release(simulated_release_body(*tee, "model-key-1", nonce_of(b.challenge()), false));
  REQUIRE(r.status == 403);
  CHECK(body_of(r)["check"] == "runtime_data_binding");
}

TEST_CASE("broker refuses simulated evidence when the policy does not allow it") {
  Fixture f(0xA1, /*allow_simulated=*/false);
  Broker b = f.broker();
  auto tee = tee_with(0xA1);
  HttpReply r = b.release(simulated_release_body(*tee, "model-key-1", nonce_of(b.challenge())));
  REQUIRE(r.status == 403);
  CHECK(body_of(r)["check"] == "evidence_kind");
}

TEST_CASE("broker answers 404 for an unknown key id and 400 for malformed requests") {
  Fixture f;
  Broker b = f.broker();
  auto tee = tee_with(0xA1);
  HttpReply r = b.release(simulated_release_body(*tee, "no-such-key", nonce_of(b.challenge())));
  CHECK(r.status == 404);
  CHECK(body_of(r)["check"] == "key_id");
  CHECK(b.release("not json").status == 400);
  CHECK(b.release("{\"key_id\":\"model-key-1\"}").status == 400);
  CHECK(b.release("{\"key_id\":\"../etc\",\"runtime_data\":\"e30\",\"evidence\":{\"report\":\"AA\"}}").status == 400);
  // A 2048-bit ephemeral key is below the broker's 3072-bit floor.
  auto small = RsaPrivateKey::generate(2048);
  ReleaseRequest req;
  req.key_id = "model-key-1";
  req.runtime_data = make_runtime_data(*small->public_key(), nonce_of(b.challenge()));
  req.evidence = *tee->collect(attest::report_data_for_runtime_data(encoding::as_bytes(req.runtime_data)));
  HttpReply s = b.release(encode_release_request(req));
  CHECK(s.status == 400);
  CHECK(body_of(s)["check"] == "runtime_data");
}

TEST_CASE("keys at rest are not plaintext; records are bound to their id and policy") {
  Fixture f;
  std::string key_hex = to_hex(f.key.bytes());
  std::string key_b64 = encoding::base64url_encode(f.key.bytes());
  size_t files = 0;
  for (const auto& e : std::filesystem::recursive_directory_iterator(f.store_dir)) {
    if (!e.is_regular_file()) continue;
    ++files;
    std::string bytes = slurp(e.path());
    CHECK_FALSE(contains_bytes(bytes, f.key.bytes()));
    CHECK(bytes.find(key_hex) == std::string::npos);
    CHECK(bytes.find(key_b64) == std::string::npos);
    CHECK((std::filesystem::status(e.path()).permissions() & std::filesystem::perms::group_all) ==
          std::filesystem::perms::none);
  }
  CHECK(files >= 2);
  auto store = KeyStore::open(f.store_dir, f.broker_key);
  REQUIRE(store.ok());
  auto entry = store->load("model-key-1");
  REQUIRE(entry.ok());
  CHECK(ct_equal(entry->key.span(), f.key.bytes()));
  CHECK(entry->policy.allow_simulated);

  SECTION("a policy edited on disk is detected") {
    std::filesystem::path p = f.store_dir / "keys" / "model-key-1.policy.json";
    std::filesystem::remove(p);
    std::ofstream(p) << policy_json(0xB2, true);
    auto load = store->load("model-key-1");
    REQUIRE_FALSE(load.ok());
    CHECK(load.status().code() == Code::kDataLoss);
  }
  SECTION("a record renamed to another id is detected") {
    std::filesystem::copy_file(f.store_dir / "keys" / "model-key-1.sealed", f.store_dir / "keys" / "other.sealed");
    std::filesystem::copy_file(f.store_dir / "keys" / "model-key-1.policy.json",
                               f.store_dir / "keys" / "other.policy.json");
    auto load = store->load("other");
    REQUIRE_FALSE(load.ok());
    CHECK(load.status().code() == Code::kDataLoss);
  }
  SECTION("a second registration of the same id is refused") {
    CHECK(store->register_key(f.key, policy_json(0xA1, true)).code() == Code::kInvalidArgument);
  }
  SECTION("a wrong broker key cannot open the store's records") {
    TempDir other;
    REQUIRE(KeyStore::init(other.path() / "s", other.path() / "k").is_ok());
    auto wrong = KeyStore::open(f.store_dir, other.path() / "k");
    REQUIRE(wrong.ok());
    CHECK_FALSE(wrong->load("model-key-1").ok());
  }
}

TEST_CASE("release policies are validated") {
  CHECK(parse_release_policy_json(policy_json(1, false)).ok());
  CHECK_FALSE(parse_release_policy_json("{}").ok());  // no measurement
  CHECK_FALSE(parse_release_policy_json("{\"measurements\": []}").ok());
  CHECK_FALSE(parse_release_policy_json("{\"allow_simulated\": 1, \"measurements\": [\"" +
                                        to_hex(measurement_of(1)) + "\"]}").ok());
  CHECK_FALSE(parse_release_policy_json("{\"mesurements\": [\"" + to_hex(measurement_of(1)) + "\"]}").ok());
  CHECK_FALSE(parse_release_policy_json("[1]").ok());
  CHECK_FALSE(validate_key_id("..").is_ok());
  CHECK_FALSE(validate_key_id("a/b").is_ok());
  CHECK(validate_key_id("acme-docs-2026").is_ok());
}

TEST_CASE("audit log records releases and refusals and chains and holds no key bytes") {
  Fixture f;
  {
    Broker b = f.broker();
    auto tee = tee_with(0xA1);
    auto wrong = tee_with(0xB2);
    REQUIRE(b.release(simulated_release_body(*tee, "model-key-1", nonce_of(b.challenge()))).status == 200);
    REQUIRE(b.release(simulated_release_body(*wrong, "model-key-1", nonce_of(b.challenge()))).status == 403);
  }
  {
    // Re-opening continues the chain.
    Broker b = f.broker();
    auto tee = tee_with(0xA1);
    REQUIRE(b.release(simulated_release_body(*tee, "model-key-1", "bogus")).status == 403);  // not audited
    REQUIRE(b.release(simulated_release_body(*tee, "no-such-key", nonce_of(b.challenge()))).status == 404);
  }
  std::filesystem::path log = f.store_dir / "audit.log";
  auto v = verify_audit_log(log);
  REQUIRE(v.ok());
  CHECK(v->records == 3);
  std::string text = slurp(log);
  CHECK_FALSE(contains_bytes(text, f.key.bytes()));
  CHECK(text.find(to_hex(f.key.bytes())) == std::string::npos);
  CHECK(text.find(encoding::base64url_encode(f.key.bytes())) == std::string::npos);
  std::vector<nlohmann::json> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(nlohmann::json::parse(line));
  REQUIRE(lines.size() == 3);
  CHECK(lines[0]["verdict"] == "released");
  CHECK(lines[0]["key_id"] == "model-key-1");
  CHECK(lines[0]["measurement"] == to_hex(measurement_of(0xA1)));
  CHECK(lines[0]["simulated"] == true);
  CHECK(lines[0]["prev"] == std::string(64, '0'));
  CHECK(lines[1]["verdict"] == "refused");
  CHECK(lines[1]["check"] == "measurement_allowed");
  CHECK(lines[1]["measurement"] == to_hex(measurement_of(0xB2)));
  CHECK(lines[2]["check"] == "key_id");
  CHECK(lines[0]["time"].get<std::string>().size() == 20);

  SECTION("a second writer on the same log is refused") {
    auto first = AuditLog::open(log);
    REQUIRE(first.ok());
    auto second = AuditLog::open(log);
    REQUIRE_FALSE(second.ok());
    CHECK(second.status().code() == Code::kUnavailable);
  }
  SECTION("an edited line breaks the chain and the log refuses to grow") {
    std::string edited = text;
    size_t pos = edited.find("\"refused\"");
    REQUIRE(pos != std::string::npos);
    edited.replace(pos, 9, "\"REFUSED\"");
    std::filesystem::remove(log);
    std::ofstream(log, std::ios::binary) << edited;
    auto bad = verify_audit_log(log);
    REQUIRE_FALSE(bad.ok());
    CHECK(bad.status().code() == Code::kDataLoss);
    CHECK_FALSE(AuditLog::open(log).ok());
  }
  SECTION("a deleted line breaks the chain") {
    std::string cut = text.substr(text.find('\n') + 1);
    std::filesystem::remove(log);
    std::ofstream(log, std::ios::binary) << cut;
    CHECK_FALSE(verify_audit_log(log).ok());
  }
}

TEST_CASE("BrokerClient obtains the key through the protocol and reports refusals by check") {
  Fixture f;
  Broker b = f.broker();
  InProcessTransport transport(b);
  auto tee = tee_with(0xA1);
  BrokerClient client("http://broker.invalid", transport, *tee);
  auto key = client.release("model-key-1");
  REQUIRE(key.ok());
  CHECK(ct_equal(key->key.span(), f.key.bytes()));
  CHECK(key->output_policy.empty());

  auto wrong = tee_with(0xB2);
  BrokerClient refused("http://broker.invalid", transport, *wrong);
  auto r = refused.release("model-key-1");
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == Code::kPermissionDenied);
  CHECK(r.status().message().find("measurement_allowed") != std::string::npos);
  CHECK(r.status().message().find(to_hex(f.key.bytes())) == std::string::npos);
}

TEST_CASE("broker: legitimate releases succeed while an attacker loops on challenges and junk releases") {
  Fixture f;
  Broker b = f.broker();
  auto tee = tee_with(0xA1);
  std::atomic<bool> stop{false};
  std::thread attacker([&] {
    while (!stop) {
      (void)b.challenge();
      (void)b.release("{\"key_id\":\"model-key-1\",\"runtime_data\":\"e30\",\"evidence\":{}}");
    }
  });
  for (int i = 0; i < 8; ++i) {
    HttpReply ch = b.challenge();
    REQUIRE(ch.status == 200);
    CHECK(b.release(simulated_release_body(*tee, "model-key-1", nonce_of(ch))).status == 200);
  }
  stop = true;
  attacker.join();
  auto v = verify_audit_log(f.store_dir / "audit.log");
  REQUIRE(v.ok());
  CHECK(v->records == 8);  // the junk requests wrote no audit records
}

namespace {

// An X25519 public JWK for output policies (any valid point).
nlohmann::json consumer_jwk() {
  auto k = OutputKey::generate_x25519();
  REQUIRE(k.ok());
  return k->public_jwk();
}

// Calls the broker in-process and lets the test edit the release answer (an operator on the path).
class TamperingTransport : public HttpTransport {
 public:
  TamperingTransport(Broker& b, std::function<void(nlohmann::json&)> edit) : inner_(b), edit_(std::move(edit)) {}
  Result<HttpResponse> post(const std::string& url, const std::string& body, const HttpHeaders& h) override {
    SEALSUM_ASSIGN_OR_RETURN(HttpResponse r, inner_.post(url, body, h));
    if (url.ends_with("/v1/release") && r.status == 200) {
      nlohmann::json j = nlohmann::json::parse(r.body);
      edit_(j);
      r.body = j.dump();
    }
    return r;
  }

 private:
  InProcessTransport inner_;
  std::function<void(nlohmann::json&)> edit_;
};

}  // namespace

TEST_CASE("an output policy registered with the key is released bound to the wrapped key") {
  TempDir dir;
  const auto store_dir = dir.path() / "store", broker_key = dir.path() / "broker.key";
  REQUIRE(KeyStore::init(store_dir, broker_key).is_ok());
  auto store = KeyStore::open(store_dir, broker_key);
  REQUIRE(store.ok());
  SealingKey doc_key = std::move(SealingKey::generate("docs-key-1")).value();
  nlohmann::json policy = nlohmann::json::parse(policy_json(0xA1, true));
  policy["output"] = {{"mode", "sealed"}, {"consumer", "auditor"}, {"key", consumer_jwk()}};
  REQUIRE(store->register_key(doc_key, policy.dump(2)).is_ok());

  SECTION("a malformed output member is refused at registration") {
    SealingKey other = std::move(SealingKey::generate("docs-key-2")).value();
    nlohmann::json bad = policy;
    bad["output"] = {{"mode", "sealed"}, {"consumer", "auditor"}};  // no key
    auto st = store->register_key(other, bad.dump());
    CHECK(st.code() == Code::kInvalidArgument);
    CHECK(st.message().find("\"output\"") != std::string::npos);
  }

  auto audit = AuditLog::open(store->audit_log_path());
  REQUIRE(audit.ok());
  Broker b(std::move(store).value(), std::move(audit).value());
  auto tee = tee_with(0xA1);
  const std::string expected = policy["output"].dump();

  SECTION("the client receives the policy as registered, with the key") {
    InProcessTransport transport(b);
    auto r = BrokerClient("http://broker.invalid", transport, *tee).release("docs-key-1");
    REQUIRE(r.ok());
    CHECK(ct_equal(r->key.span(), doc_key.bytes()));
    CHECK(r->output_policy == expected);
  }
  SECTION("an operator who changes, strips or swaps the policy in transit breaks the unwrap") {
    std::vector<std::function<void(nlohmann::json&)>> edits = {
        [](nlohmann::json& j) { j["output_policy"] = R"({"mode":"plaintext"})"; },
        [](nlohmann::json& j) { j.erase("output_policy"); },
        [](nlohmann::json& j) { j["key_id"] = "docs-key-2"; },
    };
    for (size_t i = 0; i < edits.size(); ++i) {
      INFO("edit " << i);
      TamperingTransport transport(b, edits[i]);
      auto r = BrokerClient("http://broker.invalid", transport, *tee).release("docs-key-1");
      REQUIRE_FALSE(r.ok());
      CHECK((r.status().code() == Code::kUnauthenticated || r.status().code() == Code::kDataLoss));
    }
  }
}
