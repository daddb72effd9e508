// ACI security context directory: the real azure-aci-milan pieces, base64-encoded as the platform
// writes them, decode to what the verifier accepts; missing and corrupt files are named.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <fstream>

#include "secure/attest/attest_testutil.h"
#include "secure/attest/security_context.h"
#include "secure/digest.h"
#include "common/encoding.h"

namespace at = sealsum::secure::attest;
using namespace sealsum::secure::attest::testutil;

namespace {

void write(const std::filesystem::path& p, const std::string& s) {
  std::ofstream(p, std::ios::binary) << s;
}

// Base64 with a line break every 76 characters, as `base64` writes it.
std::string wrapped_b64(const std::vector<uint8_t>& b) {
  std::string s = sealsum::encoding::base64_encode(b), out;
  for (size_t i = 0; i < s.size(); i += 76) out += s.substr(i, 76) + "\n";
  return out;
}

std::filesystem::path make_context() {
  auto dir = std::filesystem::temp_directory_path() / ("security-context-test-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  write(dir / "host-amd-cert-base64", wrapped_b64(bytes("attestation/azure-aci-milan/uvm_host_amd_certificate.json")));
  write(dir / "reference-info-base64", wrapped_b64(bytes("attestation/azure-aci-milan/body.uvm_reference_info.bin")));
  write(dir / "security-policy-base64", sealsum::read_fixture("attestation/azure-aci-milan/uvm_security_policy.base64"));
  return dir;
}

}  // namespace

TEST_CASE("security context: the ACI files decode to evidence pieces that verify", "[attest][aci]") {
  auto dir = make_context();
  auto ctx = at::read_security_context(dir);
  REQUIRE(ctx.ok());
  auto report = at::parse_report(bytes("attestation/azure-aci-milan/snp_report.bin"));
  REQUIRE(report.ok());
  // HOST_DATA is the SHA-256 of the decoded policy.
  CHECK(sealsum::secure::sha256({reinterpret_cast<const uint8_t*>(ctx->cce_policy.data()), ctx->cce_policy.size()}) ==
        report->host_data);
  CHECK(ctx->cce_policy.rfind("package policy", 0) == 0);
  at::SnpEvidence e;
  e.report = bytes("attestation/azure-aci-milan/snp_report.bin");
  e.signing_cert.assign(ctx->host_amd_cert.vcek_pem.begin(), ctx->host_amd_cert.vcek_pem.end());
  e.chain_pem = ctx->host_amd_cert.chain_pem;
  e.uvm_endorsement = ctx->uvm_endorsement;
  at::Policy p;
  p.host_data = {report->host_data};
  p.require_uvm_endorsement = true;
  at::VerifyOptions o;
  o.now = 1767225600;
  auto r = at::verify_evidence(e, p, o);
  INFO(r.to_json());
  CHECK(r.verdict);
  CHECK(passed(r, "uvm_endorsement_signature"));
  std::filesystem::remove_all(dir);
}

TEST_CASE("security context: missing and corrupt files are refused, naming the file", "[attest][aci]") {
  auto dir = make_context();
  std::filesystem::remove(dir / "reference-info-base64");
  auto missing = at::read_security_context(dir);
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.status().message().find("reference-info-base64") != std::string::npos);
  write(dir / "reference-info-base64", "not*base64!");
  auto corrupt = at::read_security_context(dir);
  REQUIRE_FALSE(corrupt.ok());
  CHECK(corrupt.status().code() == sealsum::Code::kDataLoss);
  CHECK(corrupt.status().message().find("reference-info-base64") != std::string::npos);
  write(dir / "host-amd-cert-base64", wrapped_b64({'{', '}'}));
  auto bad_json = at::read_security_context(dir);
  REQUIRE_FALSE(bad_json.ok());
  CHECK(bad_json.status().message().find("host-amd-cert-base64") != std::string::npos);
  std::filesystem::remove_all(dir);
}
