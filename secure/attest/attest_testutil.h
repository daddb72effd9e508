// Test helpers for secure/attest tests: fixture loading and the standard evidence sets. Fixtures come
// only through common/fixtures.h (which throws when they are missing: tests fail, never skip).
#pragma once

#include <ctime>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "common/fixtures.h"
#include "secure/attest/azure_inputs.h"
#include "secure/attest/report.h"
#include "secure/attest/verifier.h"

namespace sealsum::secure::attest::testutil {

inline std::vector<uint8_t> bytes(const std::string& relative) {
  std::string s = read_fixture(relative);
  return {s.begin(), s.end()};
}

inline std::vector<uint8_t> decoded_report(const std::string& relative) {
  auto r = decode_report_input(bytes(relative));
  if (!r.ok()) throw std::runtime_error("cannot decode fixture report " + relative);
  return std::move(r).value();
}

// virtee-milan: hex report, DER VCEK, PEM ASK+ARK.
inline SnpEvidence virtee_evidence() {
  SnpEvidence e;
  e.report = decoded_report("attestation/virtee-milan/report_milan.hex");
  e.signing_cert = bytes("attestation/virtee-milan/vcek_milan.der");
  e.chain_pem = read_fixture("attestation/virtee-milan/cert_chain_milan");
  return e;
}

// azure-aci-milan: raw report, VCEK/chain from the host certificate JSON, endorsement, runtime data.
inline SnpEvidence aci_evidence() {
  SnpEvidence e;
  e.report = bytes("attestation/azure-aci-milan/snp_report.bin");
  auto hc = parse_host_amd_certificate_json(read_fixture("attestation/azure-aci-milan/uvm_host_amd_certificate.json"));
  if (!hc.ok()) throw std::runtime_error("cannot parse uvm_host_amd_certificate.json");
  e.signing_cert.assign(hc->vcek_pem.begin(), hc->vcek_pem.end());
  e.chain_pem = hc->chain_pem;
  e.uvm_endorsement = bytes("attestation/azure-aci-milan/body.uvm_reference_info.bin");
  e.runtime_data = bytes("attestation/azure-aci-milan/runtime_data.json");
  return e;
}

inline MaaRequest maa_request() {
  auto r = parse_maa_request_json(read_fixture("attestation/azure-cleanroom-maa/maa-request.json"));
  if (!r.ok()) throw std::runtime_error("cannot parse maa-request.json: " + r.status().message());
  return std::move(r).value();
}

inline bool passed(const VerificationResult& r, const std::string& check) {
  const Check* c = r.find(check);
  return c && c->passed;
}
inline bool failed(const VerificationResult& r, const std::string& check) {
  const Check* c = r.find(check);
  return c && !c->passed;
}

// 2026-01-01: inside every fixture certificate's validity (the fixture VCEKs expire in 2029-2030).
inline constexpr std::time_t kFixtureTime = 1767225600;

// Refused, the named check failed, and the refusal message names it.
inline void require_refused_by(const VerificationResult& r, const std::string& check) {
  INFO("expected failed check " << check << "; result " << r.to_json());
  CHECK_FALSE(r.verdict);
  CHECK(failed(r, check));
  CHECK(r.status().code() == Code::kPermissionDenied);
  CHECK(r.status().message().find(check) != std::string::npos);
}

}  // namespace sealsum::secure::attest::testutil
