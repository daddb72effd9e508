// Azure input formats that carry SEV-SNP evidence pieces:
//  - the host AMD certificate JSON an ACI/confidential-container guest gets from the host
//    (uvm_host_amd_certificate.json: {"vcekCert": PEM, "certificateChain": PEM (ASK, ARK),
//    "tcbm": hex, "cacheControl": ...});
//  - a Microsoft Azure Attestation (MAA) SEV-SNP request body: {"report": base64url(JSON{
//    "SnpReport": base64url(report), "VcekCertChain": base64(PEM VCEK, ASK, ARK),
//    "Endorsements": base64(JSON{"Uvm": [base64(COSE_Sign1)]})}), "runtimeData": {"data":
//    base64url(runtime data), "dataType": "JSON"}, ...}.
// These parsers only decode; nothing here is verified (pass the pieces to verify_evidence()).
// Bounded: inputs over kMaxAzureInputBytes are refused; base64 is decoded by common/encoding.h
// (the default wire grammar: either alphabet, padding optional, line breaks skipped). Thread safety: reentrant.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "secure/attest/verifier.h"

namespace sealsum::secure::attest {

inline constexpr size_t kMaxAzureInputBytes = 4u << 20;

struct HostAmdCertificate {
  std::string vcek_pem;
  std::string chain_pem;  // ASK then ARK
  std::string tcbm;
};
Result<HostAmdCertificate> parse_host_amd_certificate_json(std::string_view json);

struct MaaRequest {
  std::vector<uint8_t> report;
  std::string vcek_pem;    // first certificate of VcekCertChain
  std::string chain_pem;   // the remaining ones (ASK, ARK)
  std::vector<std::vector<uint8_t>> uvm_endorsements;
  std::vector<uint8_t> runtime_data;
};
Result<MaaRequest> parse_maa_request_json(std::string_view json);

// Convenience: an MAA request as verifier input (first UVM endorsement, runtime data attached).
SnpEvidence evidence_from_maa_request(const MaaRequest& req);

}  // namespace sealsum::secure::attest
