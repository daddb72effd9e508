// Azure Confidential Containers (CCE) security policies: loading, HOST_DATA, a content inspection
// for clean-room use, and the Key Vault / Managed HSM Secure Key Release policy that pins them.
//
// On Azure Container Instances the SEV-SNP report's HOST_DATA is SHA-256 of the *decoded* CCE
// policy (the Rego text); ACI's ARM field `ccePolicy` and `az confcom acipolicygen` carry it
// base64-encoded.
//
// Inspection (inspect_cce_policy) reads the Rego with a bounded scanner (cce_rego.h), evaluates
// nothing, and refuses by CONTENT, never by a list of known hashes. Every finding names a rule:
//   refuse  syntax              the text cannot be scanned (fails closed)
//   refuse  package             the module is not `package policy`
//   refuse  allow_all_rule      an enforcement point (mount_device, create_container, exec_*, ...) is a
//                               literal allow (`NAME := {"allowed": true}`, `true`), or `allow_all` is set
//   refuse  custom_rule         an enforcement point is defined other than `NAME := data.framework.NAME`
//                               or a literal deny, so the scanner cannot show what it admits
//   refuse  missing_rule        an enforcement point the platform allows by default is absent and the
//                               policy's api_version predates it (the default, allow, applies)
//   refuse  exec_in_container   a container lists exec_processes, or exec_in_container is not bound
//   refuse  exec_external       external_processes is non-empty, or exec_external is not bound
//   refuse  stdio_access        `allow_stdio_access` is anything but false, anywhere
//   refuse  dump_stacks         allow_dump_stacks is not false, or dump_stacks is not bound
//   refuse  runtime_logging     allow_runtime_logging is not false, or runtime_logging is not bound
//   refuse  unencrypted_scratch allow_unencrypted_scratch is not false, or scratch_mount is not bound
//   refuse  elevated_container  a container has allow_elevated not false. Decision: refused, because a
//                               privileged container holds every capability and device of the utility
//                               VM and so can read the memory (keys, documents) of every other container
//   refuse  no_containers       no (or an empty) `containers` list while the policy is not allow-all:
//                               the policy does not name the workload (warn when a fragment
//                               contributes containers: the fragment's issuer then names it)
//   refuse  unreadable          a setting the inspection needs (containers, external_processes, an
//                               allow_* flag, ...) is not a literal it can read
//   warn    fragments           each fragment the policy accepts (issuer, feed, minimum_svn, includes);
//                               refuse when load_fragment is not bound or the list is unreadable
// A policy in the az confcom form (rules bound to data.framework.*, allow_* false, containers with
// layers/command/env_rules, no exec_processes, no external processes, stdio disabled) has no
// refusals.
//
// Thread safety: pure functions of their input. Failure: Status with a message naming what is wrong;
// policy text never appears in messages beyond the short excerpts findings quote.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "secure/attest/verifier.h"
#include "secure/digest.h"

namespace sealsum::secure::attest {

inline constexpr size_t kMaxCcePolicyFileBytes = 4u << 20;

struct CcePolicy {
  std::string rego;          // the decoded policy text, byte for byte as HOST_DATA hashes it
  bool from_base64 = false;  // the file held base64 (as ACI and az confcom write it)
};

// Loads a policy file: Rego text (starts with `package` after optional whitespace; kept byte for
// byte) or standard base64 of it (whitespace and line breaks anywhere are ignored; padding optional
// but canonical). kInvalidArgument for an empty file, kResourceExhausted past
// kMaxCcePolicyFileBytes, kDataLoss for text that is neither (or base64 that does not decode to Rego).
Result<CcePolicy> load_cce_policy(std::string_view file_bytes);

// HOST_DATA an ACI container group with this policy reports: SHA-256 of the decoded bytes exactly.
Digest256 cce_host_data(std::string_view rego);

enum class Severity { kRefuse, kWarn };

struct Finding {
  std::string rule;      // one of the rule names above
  Severity severity = Severity::kRefuse;
  std::string detail;    // where (line, container), what it allows, and what to change
};

struct CceInspection {
  std::vector<Finding> findings;

  bool refused() const;
  // The distinct rule names of refusals, in order of first appearance.
  std::vector<std::string> refused_rules() const;
  // {"refused": bool, "refused_rules": [...], "findings": [{"rule","severity","detail"}]}.
  std::string to_json(int indent = 2) const;
};

// Never fails: unreadable text is itself a refusal (rule "syntax").
CceInspection inspect_cce_policy(std::string_view rego);

// Appends two checks to a verification result (`attestation verify --cce-policy`):
//   cce_policy_host_data   SHA-256(decoded policy) == the report's HOST_DATA (fails without a report)
//   cce_policy_inspection  inspect_cce_policy finds no refusal; the detail lists the refused rules
// and sets r.verdict to false unless it was true and both passed (never turns a refusal into accept).
void add_cce_policy_checks(VerificationResult& r, const CcePolicy& policy);

// An Azure Key Vault / Managed HSM Secure Key Release policy releasing a key only to an ACI
// container group running the policy with HOST_DATA `host_data_hex`, attested by the MAA instance
// `maa_url`:
//   {"version":"1.0.0","anyOf":[{"authority":URL,"allOf":[
//     {"claim":"x-ms-sevsnpvm-hostdata","equals":HEX},
//     {"claim":"x-ms-compliance-status","equals":"azure-compliant-uvm"},
//     {"claim":"x-ms-sevsnpvm-is-debuggable","equals":"false"}]}]}
// kInvalidArgument unless host_data_hex is 64 hex digits (written lower-case) and maa_url is an
// https:// URL with a host and no whitespace, quotes or control characters; kPermissionDenied for
// the all-zero HOST_DATA and the well-known allow-all policy's hash.
Result<std::string> skr_release_policy_json(std::string_view host_data_hex, std::string_view maa_url);

}  // namespace sealsum::secure::attest
