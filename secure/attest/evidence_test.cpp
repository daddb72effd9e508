// Evidence production: kernel ABI marshalling (no SNP hardware here), absent devices, simulated TEE,
// Azure containers and the shared decoders.
#include <catch2/catch.hpp>

#include <cstddef>
#include <cstring>
#include <linux/ioctl.h>

#include "secure/attest/attest_testutil.h"
#include "common/encoding.h"
#include "secure/attest/azure_inputs.h"
#include "secure/attest/evidence.h"
#include "secure/attest/sev_guest.h"
#include "secure/attest/simulated.h"
#include "secure/digest.h"

namespace at = sealsum::secure::attest;
using namespace at::testutil;
using sealsum::Code;

TEST_CASE("SNP_GET_REPORT request layout matches <linux/sev-guest.h>", "[attest][sev_guest]") {
  std::array<uint8_t, 64> rd{};
  for (size_t i = 0; i < rd.size(); ++i) rd[i] = uint8_t(i + 1);
  at::SnpReportReq req = at::make_report_request(rd, 2);
  uint8_t raw[sizeof req];
  std::memcpy(raw, &req, sizeof req);
  CHECK(sizeof req == 96);
  CHECK(std::memcmp(raw, rd.data(), 64) == 0);
  CHECK((raw[64] == 2 && raw[65] == 0 && raw[66] == 0 && raw[67] == 0));
  for (size_t i = 68; i < 96; ++i) CHECK(raw[i] == 0);  // rsvd must be zero
  CHECK(sizeof(at::SnpGuestRequestIoctl) == 32);
  CHECK(offsetof(at::SnpGuestRequestIoctl, exitinfo2) == 24);
  // _IOWR('S', 0, 32 bytes) and _IOWR('S', 1, 40 bytes): direction, size, type, number.
  CHECK(at::snp_get_report_ioctl() == 0xC0205300ul);
  CHECK(at::legacy_sev_msg_report_ioctl() == 0xC0285301ul);
  CHECK(_IOC_SIZE(at::legacy_sev_msg_report_ioctl()) == 40);
}

TEST_CASE("MSG_REPORT_RSP parsing checks status and sizes", "[attest][sev_guest]") {
  auto report = bytes("attestation/azure-aci-milan/snp_report.bin");
  std::vector<uint8_t> resp(at::kSnpReportRespBytes, 0);
  resp[4] = uint8_t(at::kSnpReportSize & 0xFF);
  resp[5] = uint8_t(at::kSnpReportSize >> 8);
  std::copy(report.begin(), report.end(), resp.begin() + 32);
  auto out = at::parse_report_response(resp);
  REQUIRE(out.ok());
  CHECK(*out == report);

  auto bad_status = resp;
  bad_status[0] = 0x16;
  CHECK(at::parse_report_response(bad_status).status().code() == Code::kUnavailable);
  auto bad_size = resp;
  bad_size[4] = 0x00;
  bad_size[5] = 0x10;  // 4096
  CHECK(at::parse_report_response(bad_size).status().code() == Code::kDataLoss);
  CHECK(at::parse_report_response(std::span<const uint8_t>(resp.data(), 31)).status().code() == Code::kDataLoss);
  CHECK(at::parse_report_response(std::span<const uint8_t>(resp.data(), 32 + 100)).status().code() == Code::kDataLoss);
  // The legacy 1280-byte buffer holds header + report.
  CHECK(at::parse_report_response(std::span<const uint8_t>(resp.data(), at::kLegacyReportRespBytes)).ok());
}

TEST_CASE("absent SEV-SNP devices fail with a message naming the device", "[attest][sev_guest]") {
  std::array<uint8_t, 64> rd{};
  auto a = at::get_report_sev_guest(rd, 0, "/nonexistent/sev-guest");
  CHECK(a.status().code() == Code::kUnavailable);
  CHECK(a.status().message().find("/nonexistent/sev-guest") != std::string::npos);
  auto b = at::get_report_legacy_sev(rd, "/nonexistent/sev");
  CHECK(b.status().code() == Code::kUnavailable);
  CHECK(b.status().message().find("/nonexistent/sev") != std::string::npos);
  CHECK(at::get_report_sev_guest(rd, 4, "/nonexistent").status().code() == Code::kInvalidArgument);
}

TEST_CASE("simulated evidence is self-consistent and clearly marked", "[attest][simulated]") {
  auto tee = at::SimulatedTee::create();
  REQUIRE(tee.ok());
  auto self = at::measure_running_binary();
  REQUIRE(self.ok());
  CHECK(tee->measurement() == *self);  // default: SHA-384 of this binary
  std::array<uint8_t, 64> rd{};
  rd[0] = 0x5A;
  auto ev = tee->make_evidence(rd);
  REQUIRE(ev.ok());
  CHECK(ev->size() == at::kSimulatedEvidenceSize);
  CHECK(at::is_simulated_evidence(*ev));
  auto opened = at::open_simulated_evidence(*ev);
  REQUIRE(opened.ok());
  CHECK(opened->report.report_data == rd);
  CHECK(opened->report.measurement == *self);
  CHECK(opened->report.signing_key == at::SigningKey::kNone);
  CHECK(std::memcmp(opened->report.chip_id.data(), "SIMULATED", 9) == 0);
  CHECK_FALSE(opened->report.debug_allowed());
  // A real report is not simulated evidence, and the magic alone does not make it valid.
  CHECK_FALSE(at::is_simulated_evidence(bytes("attestation/azure-aci-milan/snp_report.bin")));
  auto truncated = *ev;
  truncated.pop_back();
  CHECK(at::open_simulated_evidence(truncated).status().code() == Code::kDataLoss);
  auto tampered = *ev;
  tampered[32 + 0x50] ^= 1;
  CHECK(at::open_simulated_evidence(tampered).status().code() == Code::kUnauthenticated);
  // Two instances use different keys.
  auto tee2 = at::SimulatedTee::create();
  auto ev2 = tee2->make_evidence(rd);
  CHECK(std::vector<uint8_t>(ev->end() - 97, ev->end()) != std::vector<uint8_t>(ev2->end() - 97, ev2->end()));
}

TEST_CASE("host AMD certificate JSON and MAA request decode", "[attest][azure]") {
  auto hc = at::parse_host_amd_certificate_json(sealsum::read_fixture("attestation/azure-aci-milan/uvm_host_amd_certificate.json"));
  REQUIRE(hc.ok());
  CHECK(hc->tcbm == "7308000000000003");
  CHECK(hc->vcek_pem.find("BEGIN CERTIFICATE") != std::string::npos);
  auto maa = maa_request();
  CHECK(maa.report.size() == at::kSnpReportSize);
  CHECK(maa.chain_pem.find("BEGIN CERTIFICATE") != std::string::npos);
  CHECK(maa.runtime_data == bytes("attestation/azure-cleanroom-maa/public-key-jwks"));
  CHECK(at::parse_host_amd_certificate_json("{}").status().code() == Code::kDataLoss);
  CHECK(at::parse_host_amd_certificate_json("nope").status().code() == Code::kDataLoss);
  CHECK(at::parse_maa_request_json(R"({"report": "!!!"})").status().code() == Code::kDataLoss);
  CHECK(at::parse_maa_request_json(R"({"report": "e30"})").status().code() == Code::kDataLoss);  // "{}"
}

TEST_CASE("hex and base64 decoders", "[attest][azure]") {
  CHECK(*sealsum::encoding::hex_decode("00fFa1") == std::vector<uint8_t>{0x00, 0xFF, 0xA1});
  CHECK(sealsum::encoding::hex_decode("0").status().code() == Code::kDataLoss);
  CHECK(sealsum::encoding::hex_decode("0g").status().code() == Code::kDataLoss);
  CHECK(*sealsum::encoding::base64_decode("aGVsbG8=", "t") == std::vector<uint8_t>{'h', 'e', 'l', 'l', 'o'});
  CHECK(*sealsum::encoding::base64_decode("aGVsbG8", "t") == std::vector<uint8_t>{'h', 'e', 'l', 'l', 'o'});
  CHECK(*sealsum::encoding::base64_decode("-_8", "t") == std::vector<uint8_t>{0xFB, 0xFF});
  CHECK(*sealsum::encoding::base64_decode("+/8=", "t") == std::vector<uint8_t>{0xFB, 0xFF});
  CHECK(sealsum::encoding::base64_decode("a", "t").status().code() == Code::kDataLoss);
  CHECK(sealsum::encoding::base64_decode("ab$d", "t").status().code() == Code::kDataLoss);
}

TEST_CASE("EvidenceProducer binds REPORT_DATA to the runtime data", "[attest][simulated]") {
  std::string rt = R"({"keys":[{"kty":"EC","crv":"P-384"}]})";
  std::vector<uint8_t> runtime(rt.begin(), rt.end());
  auto sim = at::EvidenceProducer::simulated();
  REQUIRE(sim.ok());
  CHECK(sim->is_simulated());
  auto ev = sim->produce(runtime);
  REQUIRE(ev.ok());
  auto opened = at::open_simulated_evidence(*ev);
  REQUIRE(opened.ok());
  auto digest = sealsum::secure::sha256(runtime);
  CHECK(std::equal(digest.begin(), digest.end(), opened->report.report_data.begin()));
  for (size_t i = 32; i < 64; ++i) CHECK(opened->report.report_data[i] == 0);

  auto hw = at::EvidenceProducer::hardware();
  CHECK_FALSE(hw.is_simulated());
  auto none = hw.produce(runtime);  // no SEV-SNP guest device in the test environment
  if (!none.ok()) {
    CHECK(none.status().code() == Code::kUnavailable);
    CHECK(none.status().message().find("/dev/sev") != std::string::npos);
  } else {
    CHECK(none->size() == at::kSnpReportSize);  // running inside a real SNP guest
  }
}
