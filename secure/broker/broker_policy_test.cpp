// The broker's release decisions under the relying-party pins added for Azure and model binding:
// VMPL (default 0), MIGRATE_MA, HOST_DATA pinning, and the model digest named in the runtime data.
// The attack from the field: an operator points the model-key request at a broker of his own
// (his key, his sealed model) and forwards only the document-key request to the real broker; a
// data owner's policy that pins the model makes that release fail.
#include <catch2/catch.hpp>

#include "secure/broker/broker.h"
#include "secure/keyrelease/keyrelease_testutil.h"

using namespace sealsum;
using namespace sealsum::secure;
using namespace sealsum::secure::keyrelease;
using namespace sealsum::secure::keyrelease::testutil;

namespace {

constexpr uint8_t kMeasurementFill = 0xB7;

// One broker with one key registered under `policy` (JSON).
struct OneKeyBroker {
  TempDir dir;
  SealingKey key = std::move(SealingKey::generate("doc-key-1")).value();
  std::optional<Broker> broker;

  explicit OneKeyBroker(const std::string& policy) {
    const auto store_dir = dir.path() / "store";
    const auto broker_key = dir.path() / "broker.key";
    REQUIRE(KeyStore::init(store_dir, broker_key).is_ok());
    auto store = KeyStore::open(store_dir, broker_key);
    REQUIRE(store.ok());
    Status st = store->register_key(key, policy);
    INFO(st.to_string());
    REQUIRE(st.is_ok());
    auto audit = AuditLog::open(store->audit_log_path());
    REQUIRE(audit.ok());
    broker.emplace(std::move(store).value(), std::move(audit).value(), BrokerOptions{});
  }
};

std::string measurement_hex() { return to_hex(measurement_of(kMeasurementFill)); }

std::unique_ptr<SimulatedEvidenceSource> tee(uint32_t vmpl = 0, uint64_t extra_policy = 0) {
  attest::SimulatedOptions o;
  o.measurement = measurement_of(kMeasurementFill);
  o.vmpl = vmpl;
  o.extra_policy_bits = extra_policy;
  auto t = SimulatedEvidenceSource::create(o);
  REQUIRE(t.ok());
  return std::move(t).value();
}

// Releases the key through BrokerClient (the enclave's real code path) naming `model`.
Result<ReleasedKey> release(OneKeyBroker& b, EvidenceSource& evidence,
                            std::optional<attest::ModelDigests> model = std::nullopt) {
  InProcessTransport transport(*b.broker);
  BrokerClient client("http://broker", transport, evidence, std::move(model));
  return client.release(b.key.kid());
}

attest::ModelDigests model_with(uint8_t fill) {
  attest::ModelDigests m;
  m.sha256.emplace();
  m.sha256->fill(fill);
  return m;
}

}  // namespace

TEST_CASE("broker: evidence from VMPL 3 gets no key under the default max_vmpl 0") {
  OneKeyBroker b(R"({"measurements":[")" + measurement_hex() + R"("],"allow_simulated":true})");
  auto t0 = tee(0);
  CHECK(release(b, *t0).ok());
  auto t3 = tee(3);
  auto r = release(b, *t3);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == Code::kPermissionDenied);
  CHECK(r.status().message().find("\"vmpl\"") != std::string::npos);

  OneKeyBroker lenient(R"({"measurements":[")" + measurement_hex() + R"("],"allow_simulated":true,"max_vmpl":3})");
  CHECK(release(lenient, *t3).ok());  // only a policy that says so accepts a less privileged level
}

TEST_CASE("broker: evidence with MIGRATE_MA set gets no key") {
  OneKeyBroker b(R"({"measurements":[")" + measurement_hex() + R"("],"allow_simulated":true})");
  auto t = tee(0, attest::kPolicyMigrateMa);
  auto r = release(b, *t);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().message().find("migrate_ma_disabled") != std::string::npos);
}

TEST_CASE("broker: a non-zero HOST_DATA must be pinned, and pinned to the right value") {
  attest::SimulatedOptions o;
  o.measurement = measurement_of(kMeasurementFill);
  o.host_data.fill(0x5C);
  auto src = SimulatedEvidenceSource::create(o);
  REQUIRE(src.ok());
  OneKeyBroker unpinned(R"({"measurements":[")" + measurement_hex() + R"("],"allow_simulated":true})");
  auto r = release(unpinned, **src);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().message().find("host_data_pinned") != std::string::npos);

  std::array<uint8_t, 32> other{};
  other.fill(0x5D);
  OneKeyBroker wrong(R"({"measurements":[")" + measurement_hex() + R"("],"allow_simulated":true,"host_data":[")" +
                     to_hex(other) + R"("]})");
  auto w = release(wrong, **src);
  REQUIRE_FALSE(w.ok());
  CHECK(w.status().message().find("host_data_allowed") != std::string::npos);

  OneKeyBroker right(R"({"measurements":[")" + measurement_hex() + R"("],"allow_simulated":true,"host_data":[")" +
                     to_hex(o.host_data) + R"("]})");
  CHECK(release(right, **src).ok());
}

TEST_CASE("broker: a data owner's key pinned to the model is refused to a workload running another model") {
  const attest::ModelDigests owners_model = model_with(0x11);
  OneKeyBroker b(R"({"measurements":[")" + measurement_hex() + R"("],"allow_simulated":true,"models":[")" +
                 to_hex(*owners_model.sha256) + R"("]})");
  auto t = tee();

  // The operator's own model (released by his own broker stand-in) is what the workload really runs,
  // and the attested code names it: the real broker refuses the document key.
  auto swapped = release(b, *t, model_with(0x66));
  REQUIRE_FALSE(swapped.ok());
  CHECK(swapped.status().code() == Code::kPermissionDenied);
  CHECK(swapped.status().message().find("model_allowed") != std::string::npos);

  // A workload that names no model is refused too (fail closed).
  auto none = release(b, *t);
  REQUIRE_FALSE(none.ok());
  CHECK(none.status().message().find("model_allowed") != std::string::npos);

  // The owner's model, by its plaintext digest or by the sealed file's digest, gets the key.
  auto ok = release(b, *t, owners_model);
  REQUIRE(ok.ok());
  CHECK(ok->key.size() == 32);
  attest::ModelDigests sealed_only;
  sealed_only.sealed_sha256 = *owners_model.sha256;
  CHECK(release(b, *t, sealed_only).ok());
}
