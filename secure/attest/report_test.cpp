// SEV-SNP report parsing: fixture fields, input forms (raw, hex, offsets), corrupt inputs.
#include <catch2/catch.hpp>

#include "secure/attest/attest_testutil.h"
#include "secure/attest/report.h"
#include "secure/digest.h"

namespace at = sealsum::secure::attest;
using namespace at::testutil;
using sealsum::Code;
using sealsum::secure::to_hex;

TEST_CASE("virtee Milan report (hex text) parses with the expected fields", "[attest][report]") {
  auto bytes = decoded_report("attestation/virtee-milan/report_milan.hex");
  REQUIRE(bytes.size() == at::kSnpReportSize);
  auto r = at::parse_report(bytes);
  REQUIRE(r.ok());
  CHECK(r->version == 2);
  CHECK(r->policy == 0x30000);
  CHECK_FALSE(r->debug_allowed());
  CHECK(r->vmpl == 0);
  CHECK(r->signature_algo == 1);
  CHECK(r->signing_key == at::SigningKey::kVcek);
  CHECK(r->reported_tcb == 0x7308000000000003ull);
  CHECK(to_hex(r->measurement) ==
        "7a1e5c266c0108dbc9bb94fa926951320940915d0aafb42464bd88b579ea158d3e1a0dc39b2c60bd95b9c480cd81841f");
  CHECK(to_hex(r->chip_id).rfind("d49554ec717f4e5b", 0) == 0);
  CHECK_FALSE(r->cpuid_fam_id.has_value());  // v2: no CPUID fields
  CHECK_FALSE(r->launch_mit_vector.has_value());
  at::TcbParts t = at::decode_tcb(r->reported_tcb, at::Product::kMilan);
  CHECK(t == at::TcbParts{0, 3, 0, 8, 115});
  CHECK(std::equal(r->raw.begin(), r->raw.end(), bytes.begin()));
}

TEST_CASE("ACI report (raw) and the MAA report (v3, CPUID) parse", "[attest][report]") {
  auto aci = at::parse_report(bytes("attestation/azure-aci-milan/snp_report.bin"));
  REQUIRE(aci.ok());
  CHECK(aci->version == 2);
  CHECK(aci->guest_svn == 2);
  CHECK(to_hex(aci->host_data) == "cadd74f71ebb8fbf9782baab649612520f3c416bc5ce9ac768808ddc8d9b031c");

  auto maa = maa_request();
  auto r = at::parse_report(maa.report);
  REQUIRE(r.ok());
  CHECK(r->version == 3);
  REQUIRE(r->cpuid_fam_id.has_value());
  CHECK(*r->cpuid_fam_id == 0x19);
  CHECK(*r->cpuid_mod_id == 0x01);
  CHECK(r->cpuid_product() == at::Product::kMilan);
  CHECK(at::decode_tcb(r->reported_tcb, at::Product::kMilan) == at::TcbParts{0, 4, 0, 24, 219});
}

TEST_CASE("a report embedded in a larger blob is found at its offset", "[attest][report]") {
  auto report = bytes("attestation/azure-aci-milan/snp_report.bin");
  std::vector<uint8_t> blob(100 + report.size() + 37, 0xDD);
  std::fill_n(blob.begin(), 100, uint8_t(0xEE));
  std::copy(report.begin(), report.end(), blob.begin() + 100);
  auto r = at::parse_report(blob, 100);
  REQUIRE(r.ok());
  CHECK(std::equal(r->raw.begin(), r->raw.end(), report.begin()));
  // Wrong offsets: truncated (kDataLoss) or a non-report version (kUnimplemented).
  CHECK(at::parse_report(blob, 100 + 38).status().code() == Code::kDataLoss);
  CHECK(at::parse_report(blob, 0).status().code() == Code::kUnimplemented);
  CHECK(at::parse_report(blob, blob.size() + 1).status().code() == Code::kDataLoss);
}

TEST_CASE("report versions outside 2..5 are refused; 5 carries mitigation vectors", "[attest][report]") {
  auto report = bytes("attestation/azure-aci-milan/snp_report.bin");
  for (uint8_t v : {0, 1, 6, 255}) {
    report[0] = v;
    auto r = at::parse_report(report);
    CHECK(r.status().code() == Code::kUnimplemented);
    CHECK(r.status().message().find("version") != std::string::npos);
  }
  report[0] = 5;
  report[0x188] = 0x1A;  // Turin
  for (int i = 0; i < 8; ++i) report[0x1F8 + i] = uint8_t(i + 1);
  for (int i = 0; i < 8; ++i) report[0x200 + i] = 0;
  report[0x200] = 0x42;
  auto r5 = at::parse_report(report);
  REQUIRE(r5.ok());
  CHECK(r5->launch_mit_vector == 0x0807060504030201ull);
  CHECK(r5->current_mit_vector == 0x42ull);
  CHECK(r5->cpuid_product() == at::Product::kTurin);
}

TEST_CASE("key-info bits select the signing key", "[attest][report]") {
  auto report = bytes("attestation/azure-aci-milan/snp_report.bin");
  report[0x48] = 1 << 2;
  CHECK(at::parse_report(report)->signing_key == at::SigningKey::kVlek);
  report[0x48] = 7 << 2 | 3;
  auto r = at::parse_report(report);
  CHECK(r->signing_key == at::SigningKey::kNone);
  CHECK(r->author_key_en);
  CHECK(r->mask_chip_key);
}

TEST_CASE("Turin TCB layout differs from Milan/Genoa", "[attest][report]") {
  uint64_t raw = 0xDB00000004030201ull;  // Turin: fmc 1, bl 2, tee 3, snp 4, ucode 0xDB
  CHECK(at::decode_tcb(raw, at::Product::kTurin) == at::TcbParts{1, 2, 3, 4, 0xDB});
  CHECK(at::decode_tcb(raw, at::Product::kGenoa) == at::TcbParts{0, 1, 2, 0, 0xDB});
}

TEST_CASE("report input decoding: raw passes through, hex is decoded, bad hex is refused", "[attest][report]") {
  std::vector<uint8_t> raw = {0x02, 0x00, 0xFF, 0x10};
  CHECK(*at::decode_report_input(raw) == raw);
  std::string hex = "  0x0200ff10\n";
  CHECK(*at::decode_report_input(std::vector<uint8_t>(hex.begin(), hex.end())) == raw);
  std::string spaced = "02 00\nff 10\r\n";
  CHECK(*at::decode_report_input(std::vector<uint8_t>(spaced.begin(), spaced.end())) == raw);
  std::string odd = "0200f";
  CHECK(at::decode_report_input(std::vector<uint8_t>(odd.begin(), odd.end())).status().code() == Code::kDataLoss);
  std::vector<uint8_t> huge(at::kMaxReportInputBytes + 1, '0');
  CHECK(at::decode_report_input(huge).status().code() == Code::kResourceExhausted);
}

TEST_CASE("every truncation of a report is refused without reading out of bounds", "[attest][report]") {
  auto report = bytes("attestation/azure-aci-milan/snp_report.bin");
  for (size_t n = 0; n < report.size(); n += 97) {
    CHECK(at::parse_report(std::span<const uint8_t>(report.data(), n)).status().code() == Code::kDataLoss);
  }
  CHECK(at::parse_report(std::span<const uint8_t>(report.data(), report.size() - 1)).status().code() == Code::kDataLoss);
}

TEST_CASE("report JSON lists the fields", "[attest][report]") {
  auto r = at::parse_report(bytes("attestation/azure-aci-milan/snp_report.bin"));
  std::string j = at::report_to_json(*r, at::Product::kMilan);
  CHECK(j.find("\"measurement\": \"51068107cdc7ee3d") != std::string::npos);
  CHECK(j.find("\"debug\": false") != std::string::npos);
  CHECK(j.find("\"signing_key\": \"VCEK\"") != std::string::npos);
  CHECK(j.find("\"microcode\": 115") != std::string::npos);
}
