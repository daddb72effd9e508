// Verifier: the three real reports verify; every single mutation is refused naming the failed check.
#include <catch2/catch.hpp>

#include "secure/attest/attest_testutil.h"
#include "secure/attest/certs.h"
#include "secure/attest/cose.h"
#include "secure/attest/policy.h"
#include "secure/attest/simulated.h"
#include "secure/attest/verifier.h"
#include "secure/digest.h"

namespace at = sealsum::secure::attest;
using namespace at::testutil;
using sealsum::Code;

namespace {

constexpr std::time_t kTestTime = kFixtureTime;

at::VerificationResult verify(const at::SnpEvidence& e, const at::Policy& p = at::default_policy(), bool sim = false) {
  at::VerifyOptions o;
  o.now = kTestTime;
  o.allow_simulated = sim;
  return at::verify_evidence(e, p, o);
}


std::string to_pem(const std::vector<uint8_t>& der) {
  static const char* a = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string b;
  for (size_t i = 0; i < der.size(); i += 3) {
    uint32_t v = uint32_t(der[i]) << 16 | (i + 1 < der.size() ? uint32_t(der[i + 1]) << 8 : 0) |
                 (i + 2 < der.size() ? der[i + 2] : 0);
    b += a[v >> 18 & 63];
    b += a[v >> 12 & 63];
    b += i + 1 < der.size() ? a[v >> 6 & 63] : '=';
    b += i + 2 < der.size() ? a[v & 63] : '=';
  }
  std::string out = "-----BEGIN CERTIFICATE-----\n";
  for (size_t i = 0; i < b.size(); i += 64) out += b.substr(i, 64) + "\n";
  return out + "-----END CERTIFICATE-----\n";
}

const std::vector<std::string> kAmdChecks = {
    "evidence_kind",      "report_format",     "signing_key_kind",     "cert_chain_format", "ark_pinned",
    "ark_self_signed",    "ask_signed_by_ark", "vcek_signed_by_ask",   "cert_validity",     "product_matches_root",
    "report_signature",   "tcb_matches_cert",  "chip_id_matches_cert", "debug_disabled",    "host_data_not_allow_all"};

}  // namespace

TEST_CASE("virtee Milan evidence verifies under the default policy", "[attest][verifier]") {
  auto r = verify(virtee_evidence());
  INFO(r.to_json());
  CHECK(r.verdict);
  CHECK(r.status().is_ok());
  CHECK(r.product == at::Product::kMilan);
  for (const auto& name : kAmdChecks) CHECK(passed(r, name));
  CHECK_FALSE(r.simulated);
  CHECK(r.to_json().find("\"verdict\": true") != std::string::npos);
}

TEST_CASE("ACI evidence verifies with endorsement, runtime data and a strict policy", "[attest][verifier]") {
  auto policy = at::parse_policy_json(R"({
      "max_vmpl": 0, "min_tcb": {"bootloader": 3, "tee": 0, "snp": 8, "microcode": 115},
      "min_guest_svn": 2,
      "measurements": ["51068107cdc7ee3d89c7821b05bca6147eb77b2005ae759050fc049b65a1b0beabc65a9d857acecf23225f5ec76849f5"],
      "host_data": ["cadd74f71ebb8fbf9782baab649612520f3c416bc5ce9ac768808ddc8d9b031c"],
      "require_runtime_data": true, "require_uvm_endorsement": true, "uvm_feed": "ContainerPlat-AMD-UVM"})");
  REQUIRE(policy.ok());
  auto r = verify(aci_evidence(), *policy);
  INFO(r.to_json());
  CHECK(r.verdict);
  for (const auto& name : kAmdChecks) CHECK(passed(r, name));
  for (const char* name : {"vmpl", "min_tcb", "guest_svn", "measurement_allowed", "host_data_allowed",
                           "runtime_data_binding", "uvm_endorsement_format", "uvm_endorsement_chain",
                           "uvm_endorsement_root", "uvm_endorsement_issuer", "uvm_endorsement_signature",
                           "uvm_endorsement_measurement", "uvm_endorsement_feed"}) {
    CHECK(passed(r, name));
  }
  REQUIRE(r.endorsement.has_value());
  CHECK(r.endorsement->feed == "ContainerPlat-AMD-UVM");
  CHECK(r.endorsement->guest_svn == "22");
}

TEST_CASE("the MAA request's report verifies cryptographically and is refused for allow-all HOST_DATA",
          "[attest][verifier]") {
  auto r = verify(at::evidence_from_maa_request(maa_request()));
  INFO(r.to_json());
  require_refused_by(r, "host_data_not_allow_all");
  require_refused_by(r, "host_data_pinned");  // endorsed ACI evidence with no HOST_DATA pin
  // everything else passed
  CHECK(r.failed_checks() == std::vector<std::string>{"host_data_pinned", "host_data_not_allow_all"});
  CHECK(passed(r, "report_signature"));
  CHECK(passed(r, "runtime_data_binding"));
  CHECK(passed(r, "uvm_endorsement_signature"));
  CHECK(passed(r, "uvm_endorsement_measurement"));
  // Under a policy that lists allowed HOST_DATA it fails that check too.
  at::Policy p;
  p.host_data.push_back(at::parse_report(bytes("attestation/azure-aci-milan/snp_report.bin"))->host_data);
  require_refused_by(verify(at::evidence_from_maa_request(maa_request()), p), "host_data_allowed");
}

TEST_CASE("a flipped bit in any signed field breaks the report signature", "[attest][verifier]") {
  struct Mut { const char* what; size_t offset; const char* also; };
  for (Mut m : {Mut{"signature R", 0x2A0, nullptr}, Mut{"signature S", 0x2A0 + 72 + 7, nullptr},
                Mut{"measurement", 0x90 + 5, nullptr}, Mut{"policy debug bit", 0x0A, "debug_disabled"},
                Mut{"reported TCB (snp)", 0x186, "tcb_matches_cert"}, Mut{"report data", 0x50 + 3, nullptr},
                Mut{"host data", 0xC0, nullptr}, Mut{"chip id", 0x1A0 + 9, "chip_id_matches_cert"},
                Mut{"guest svn", 0x04, nullptr}, Mut{"vmpl", 0x30, nullptr}}) {
    INFO(m.what);
    auto e = virtee_evidence();
    e.report[m.offset] ^= m.offset == 0x0A ? 0x08 : 0x01;  // 0x0A bit 3 = POLICY bit 19 (DEBUG)
    auto r = verify(e);
    require_refused_by(r, "report_signature");
    if (m.also) require_refused_by(r, m.also);
  }
}

TEST_CASE("signature R/S bytes above 384 bits are refused", "[attest][verifier]") {
  auto e = virtee_evidence();
  e.report[0x2A0 + 60] = 1;  // unused high part of R
  require_refused_by(verify(e), "report_signature");
}

TEST_CASE("policy mismatches are refused, each naming its check", "[attest][verifier]") {
  auto aci = aci_evidence();
  auto parse = [](const std::string& json) {
    auto p = at::parse_policy_json(json);
    if (!p.ok()) throw std::runtime_error(p.status().message());
    return *p;
  };
  require_refused_by(verify(aci, parse(R"({"measurements": ["0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000ff"]})")),
                     "measurement_allowed");
  require_refused_by(verify(aci, parse(R"({"host_data": ["00000000000000000000000000000000000000000000000000000000000000ff"]})")),
                     "host_data_allowed");
  require_refused_by(verify(aci, parse(R"({"min_tcb": {"snp": 9}})")), "min_tcb");
  require_refused_by(verify(aci, parse(R"({"min_tcb": {"microcode": 200}})")), "min_tcb");
  require_refused_by(verify(aci, parse(R"({"min_guest_svn": 3})")), "guest_svn");
  require_refused_by(verify(aci, parse(R"({"report_data": ")" + std::string(128, '0') + R"("})")),
                     "report_data_binding");
  require_refused_by(verify(aci, parse(R"({"uvm_feed": "SomeOtherFeed"})")), "uvm_endorsement_feed");
  require_refused_by(verify(aci, parse(R"({"min_report_version": 3})")), "report_format");
  require_refused_by(verify(virtee_evidence(), parse(R"({"require_runtime_data": true})")), "runtime_data_binding");
  require_refused_by(verify(virtee_evidence(), parse(R"({"require_uvm_endorsement": true})")), "uvm_endorsement_format");

  // The matching REPORT_DATA binding passes (with HOST_DATA pinned, as ACI evidence requires).
  auto report = at::parse_report(aci.report);
  at::Policy p;
  p.report_data = report->report_data;
  p.host_data = {report->host_data};
  CHECK(verify(aci, p).verdict);
}

TEST_CASE("runtime data and endorsement that do not belong to the report are refused", "[attest][verifier]") {
  auto e = aci_evidence();
  e.runtime_data->push_back(' ');
  require_refused_by(verify(e), "runtime_data_binding");

  e = aci_evidence();
  e.uvm_endorsement = maa_request().uvm_endorsements[0];  // another UVM's endorsement
  require_refused_by(verify(e), "uvm_endorsement_measurement");
  CHECK(passed(verify(e), "uvm_endorsement_signature"));  // genuine, just not for this report

  e = aci_evidence();
  auto& cose = *e.uvm_endorsement;
  auto pos = std::search(cose.begin(), cose.end(), std::begin("51068107"), std::end("51068107") - 1);
  REQUIRE(pos != cose.end());
  *pos = '6';  // endorsed measurement edited: signature breaks, measurement differs
  auto r = verify(e);
  require_refused_by(r, "uvm_endorsement_signature");
  require_refused_by(r, "uvm_endorsement_measurement");

  e = aci_evidence();
  e.uvm_endorsement->resize(100);
  require_refused_by(verify(e), "uvm_endorsement_format");
}

TEST_CASE("wrong, swapped or foreign certificates are refused", "[attest][verifier]") {
  std::string milan_ask = sealsum::read_fixture("attestation/amd-roots/milan/ask.pem");
  std::string milan_ark = sealsum::read_fixture("attestation/amd-roots/milan/ark.pem");
  std::string genoa_ark = sealsum::read_fixture("attestation/amd-roots/genoa/ark.pem");
  std::string genoa_ask = sealsum::read_fixture("attestation/amd-roots/genoa/ask.pem");

  auto e = virtee_evidence();
  e.chain_pem = milan_ark + milan_ask;  // swapped: bundles may come in any order (verifier_chain_test.cpp)
  auto r = verify(e);
  CHECK(r.verdict);

  e.chain_pem = milan_ask + genoa_ark;  // a Genoa root for a Milan chain
  r = verify(e);
  require_refused_by(r, "ask_signed_by_ark");
  require_refused_by(r, "product_matches_root");
  CHECK(passed(r, "ark_pinned"));

  e.chain_pem = genoa_ask + genoa_ark;  // a complete, valid Genoa chain that did not sign this VCEK
  require_refused_by(verify(e), "vcek_signed_by_ask");

  // A self-signed root that is not AMD's (the Microsoft root from the endorsement) is not pinned.
  auto endorsement = at::parse_uvm_endorsement(bytes("attestation/azure-aci-milan/body.uvm_reference_info.bin"));
  e.chain_pem = milan_ask + to_pem(endorsement->cose.x5chain[2]);
  require_refused_by(verify(e), "ark_pinned");

  e.chain_pem = milan_ask;  // ARK missing
  require_refused_by(verify(e), "cert_chain_format");
  e.chain_pem.clear();
  require_refused_by(verify(e), "cert_chain_format");

  // The VCEK of another report (ACI's, same Milan chain): signature and chip id do not match.
  auto aci = aci_evidence();
  e = virtee_evidence();
  e.signing_cert = aci.signing_cert;
  r = verify(e);
  require_refused_by(r, "report_signature");
  require_refused_by(r, "chip_id_matches_cert");
  CHECK(passed(r, "vcek_signed_by_ask"));

  // A VCEK given as a VLEK: the report says VCEK.
  e = virtee_evidence();
  e.cert_kind = at::CertKind::kVlek;
  require_refused_by(verify(e), "signing_key_kind");

  // Garbage certificate.
  e = virtee_evidence();
  e.signing_cert = {1, 2, 3};
  require_refused_by(verify(e), "signing_cert_format");
}

TEST_CASE("expired certificates are refused", "[attest][verifier]") {
  at::VerifyOptions o;
  o.now = 2000000000;  // 2033: after the VCEK's notAfter (2030)
  require_refused_by(at::verify_evidence(virtee_evidence(), at::default_policy(), o), "cert_validity");
}

TEST_CASE("debug-enabled reports are refused unless the policy allows debug", "[attest][verifier]") {
  auto e = virtee_evidence();
  e.report[0x0A] |= 0x08;  // POLICY.DEBUG
  require_refused_by(verify(e), "debug_disabled");
  at::Policy p;
  p.allow_debug = true;
  CHECK(passed(verify(e, p), "debug_disabled"));
}

TEST_CASE("malformed reports are refused at report_format", "[attest][verifier]") {
  auto e = virtee_evidence();
  e.report.resize(1000);
  require_refused_by(verify(e), "report_format");
  e = virtee_evidence();
  e.report[0x34] = 2;  // SIGNATURE_ALGO
  require_refused_by(verify(e), "report_format");
  e.report.clear();
  require_refused_by(verify(e), "report_format");
}

TEST_CASE("simulated evidence is refused without the option and accepted with it", "[attest][verifier][simulated]") {
  at::SimulatedOptions so;
  so.measurement = std::array<uint8_t, 48>{};
  so.measurement->fill(0xAB);
  auto tee = at::SimulatedTee::create(so);
  REQUIRE(tee.ok());
  std::string runtime = R"({"keys":[]})";
  auto rd = at::report_data_for_runtime_data(std::vector<uint8_t>(runtime.begin(), runtime.end()));
  auto ev = tee->make_evidence(rd);
  REQUIRE(ev.ok());
  at::SnpEvidence e;
  e.report = *ev;
  e.runtime_data = std::vector<uint8_t>(runtime.begin(), runtime.end());

  auto refused = verify(e);
  require_refused_by(refused, "evidence_kind");
  CHECK(refused.simulated);
  CHECK(refused.checks.size() == 1);

  auto accepted = verify(e, at::default_policy(), /*sim=*/true);
  INFO(accepted.to_json());
  CHECK(accepted.verdict);
  CHECK(accepted.simulated);
  CHECK(passed(accepted, "simulated_signature"));
  CHECK(passed(accepted, "runtime_data_binding"));
  CHECK(accepted.report->measurement == *so.measurement);

  at::Policy p;  // policy checks still apply to simulated evidence
  p.measurements.push_back(std::array<uint8_t, 48>{});
  require_refused_by(verify(e, p, true), "measurement_allowed");

  auto tampered = e;
  tampered.report[32 + 0x90] ^= 1;  // measurement inside the simulated report
  require_refused_by(verify(tampered, at::default_policy(), true), "simulated_signature");
  tampered = e;
  tampered.report.back() ^= 1;  // the embedded public key
  require_refused_by(verify(tampered, at::default_policy(), true), "simulated_signature");
}

TEST_CASE("ACI evidence identifies nothing until HOST_DATA is pinned, and only the right pin passes",
          "[attest][verifier][aci]") {
  auto aci = aci_evidence();
  auto report = at::parse_report(aci.report);
  REQUIRE(report.ok());
  // Measurement alone (Microsoft's utility VM, the same for every container group): refused.
  at::Policy p;
  p.measurements = {report->measurement};
  auto unpinned = verify(aci, p);
  require_refused_by(unpinned, "host_data_pinned");
  CHECK(unpinned.find("host_data_pinned")->detail.find("sealsum policy hostdata") != std::string::npos);
  CHECK(unpinned.failed_checks() == std::vector<std::string>{"host_data_pinned"});
  // Stripping the endorsement does not help: the report's HOST_DATA is non-zero.
  auto stripped = aci;
  stripped.uvm_endorsement.reset();
  require_refused_by(verify(stripped, p), "host_data_pinned");
  // A wrong pin is refused; the right one passes.
  at::Policy wrong = p;
  wrong.host_data = {std::array<uint8_t, 32>{0x01}};
  require_refused_by(verify(aci, wrong), "host_data_allowed");
  at::Policy right = p;
  right.host_data = {report->host_data};
  auto ok = verify(aci, right);
  INFO(ok.to_json());
  CHECK(ok.verdict);
  CHECK(passed(ok, "host_data_pinned"));
  CHECK(passed(ok, "vmpl"));
  CHECK(passed(ok, "migrate_ma_disabled"));
}

TEST_CASE("VMPL above the policy's maximum and MIGRATE_MA are refused; the policy can allow them",
          "[attest][verifier][simulated]") {
  auto evidence = [](uint32_t vmpl, uint64_t extra) {
    at::SimulatedOptions o;
    o.measurement = std::array<uint8_t, 48>{};
    o.vmpl = vmpl;
    o.extra_policy_bits = extra;
    auto tee = at::SimulatedTee::create(o);
    REQUIRE(tee.ok());
    at::SnpEvidence e;
    auto ev = tee->make_evidence({});
    REQUIRE(ev.ok());
    e.report = *ev;
    return e;
  };
  require_refused_by(verify(evidence(3, 0), {}, true), "vmpl");
  require_refused_by(verify(evidence(1, 0), {}, true), "vmpl");
  CHECK(verify(evidence(0, 0), {}, true).verdict);
  at::Policy lenient;
  lenient.max_vmpl = 3;
  CHECK(verify(evidence(3, 0), lenient, true).verdict);
  require_refused_by(verify(evidence(0, at::kPolicyMigrateMa), {}, true), "migrate_ma_disabled");
  at::Policy ma;
  ma.allow_migrate_ma = true;
  CHECK(verify(evidence(0, at::kPolicyMigrateMa), ma, true).verdict);
}

TEST_CASE("model pins are checked against the runtime data's model member", "[attest][verifier][model]") {
  auto tee = at::SimulatedTee::create({.measurement = std::array<uint8_t, 48>{}});
  REQUIRE(tee.ok());
  auto with_runtime = [&](const std::string& runtime) {
    at::SnpEvidence e;
    auto ev = tee->make_evidence(at::report_data_for_runtime_data(
        std::span(reinterpret_cast<const uint8_t*>(runtime.data()), runtime.size())));
    REQUIRE(ev.ok());
    e.report = *ev;
    e.runtime_data = std::vector<uint8_t>(runtime.begin(), runtime.end());
    return e;
  };
  const std::string a(64, 'a'), b(64, 'b');
  at::Policy p;
  p.models = {at::parse_policy_json(R"({"models":[")" + a + R"("]})")->models[0]};
  CHECK(verify(with_runtime(R"({"model":{"sha256":")" + a + R"(","sealed_sha256":null}})"), p, true).verdict);
  CHECK(verify(with_runtime(R"({"model":{"sha256":")" + b + R"(","sealed_sha256":")" + a + R"("}})"), p, true).verdict);
  require_refused_by(verify(with_runtime(R"({"model":{"sha256":")" + b + R"("}})"), p, true), "model_allowed");
  require_refused_by(verify(with_runtime(R"({"nonce":"x"})"), p, true), "model_allowed");
  require_refused_by(verify(with_runtime(R"({"model":{"sha256":"zz"}})"), p, true), "model_allowed");
  require_refused_by(verify(with_runtime(R"({"model":{"sha256":")" + a + R"(","extra":1}})"), p, true), "model_allowed");
  require_refused_by(verify(with_runtime(R"({"model":[]})"), p, true), "model_allowed");
  // No runtime data at all: refused as well.
  auto bare = with_runtime("{}");
  bare.runtime_data.reset();
  require_refused_by(verify(bare, p, true), "model_allowed");
}
