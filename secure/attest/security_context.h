// Azure Container Instances' security context: the directory ($UVM_SECURITY_CONTEXT_DIR, named
// security-context-*) in which the platform gives a confidential container group three base64
// files, which a shell-less image cannot decode before sealsum starts:
//   host-amd-cert-base64     the host certificate JSON (VCEK and ASK/ARK chain; azure_inputs.h)
//   reference-info-base64    the UVM endorsement (COSE_Sign1, verifier_checks.h)
//   security-policy-base64   the CCE policy (Rego) whose SHA-256 is HOST_DATA
// read_security_context decodes all three (each bounded by kMaxAzureInputBytes; whitespace and
// line breaks in the base64 are skipped). Nothing is verified here: the evidence checks and
// `sealsum policy inspect` do that. kNotFound / kDataLoss name the file.
// Thread safety: reentrant.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "common/status.h"
#include "secure/attest/azure_inputs.h"

namespace sealsum::secure::attest {

struct SecurityContext {
  HostAmdCertificate host_amd_cert;
  std::vector<uint8_t> uvm_endorsement;
  std::string cce_policy;  // the decoded Rego text: SHA-256 of these bytes is HOST_DATA
};

Result<SecurityContext> read_security_context(const std::filesystem::path& dir);

}  // namespace sealsum::secure::attest
