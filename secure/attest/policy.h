// Attestation policy: what a verifier requires of a (signature- and chain-valid) SEV-SNP report.
//
// JSON form (every key optional; unknown keys are refused so a typo never weakens a policy):
//   {
//     "allow_debug": false,                 // debug-enabled guests are refused unless true
//     "allow_migrate_ma": false,            // guests with POLICY.MIGRATE_MA (a migration agent that
//                                           // may export guest memory) are refused unless true
//     "max_vmpl": 0,                        // report VMPL must be <= this (default 0: the report
//                                           // must come from the most privileged level)
//     "min_report_version": 2,
//     "min_guest_svn": 0,
//     "min_tcb": {"bootloader": 3, "tee": 0, "snp": 8, "microcode": 115, "fmc": 0},
//                                           // each component of REPORTED_TCB must be >= these
//     "measurements": ["<96 hex>", ...],    // MEASUREMENT must be one of these (empty/absent: any)
//     "host_data": ["<64 hex>", ...],       // HOST_DATA must be one of these (empty/absent: any, but
//                                           // see host_data_pinned below)
//     "models": ["<64 hex>", ...],          // the runtime data's "model" (model_binding.h) must name
//                                           // one of these, as sha256 or sealed_sha256
//     "report_data": "<128 hex>",           // REPORT_DATA must equal this exactly
//     "require_runtime_data": false,        // REPORT_DATA[0:32] == SHA-256(runtime data) required
//     "require_uvm_endorsement": false,     // an Azure UVM endorsement must be supplied and match
//     "uvm_feed": "ContainerPlat-AMD-UVM",  // when set, the endorsement's feed must equal it
//     "allow_vlek": true                    // accept VLEK-signed reports (with a VLEK certificate)
//   }
// Whatever the policy says, HOST_DATA equal to the well-known allow-all CCE policy hash
// (kAllowAllCcePolicyHash, azure-cleanroom values.txt) is always refused, and HOST_DATA must be
// pinned ("host_data" non-empty) whenever the evidence carries an Azure UVM endorsement or a
// non-zero HOST_DATA: on Azure Container Instances MEASUREMENT is Microsoft's utility VM, shared by
// every confidential container group, and only HOST_DATA (the CCE policy's hash) names the
// workload. Which policy content is safe is `sealsum policy inspect`'s job (cce_policy.h).
//
// Thread safety: a Policy is a value; parse_policy_json is reentrant.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace sealsum::secure::attest {

inline constexpr size_t kMaxPolicyBytes = 1u << 20;

// SHA-256 of the allow-all Confidential Containers (CCE) Rego policy:
// 73973b78d70cc68353426de188db5dfc57e5b766e399935fb73a61127ea26d20.
extern const std::array<uint8_t, 32> kAllowAllCcePolicyHash;

struct MinTcb {
  std::optional<uint8_t> fmc, bootloader, tee, snp, microcode;
  bool any() const { return fmc || bootloader || tee || snp || microcode; }
};

struct Policy {
  bool allow_debug = false;
  bool allow_migrate_ma = false;
  uint32_t max_vmpl = 0;
  uint32_t min_report_version = 2;
  std::optional<uint32_t> min_guest_svn;
  MinTcb min_tcb;
  std::vector<std::array<uint8_t, 48>> measurements;
  std::vector<std::array<uint8_t, 32>> host_data;
  std::vector<std::array<uint8_t, 32>> models;
  std::optional<std::array<uint8_t, 64>> report_data;
  bool require_runtime_data = false;
  bool require_uvm_endorsement = false;
  std::optional<std::string> uvm_feed;
  bool allow_vlek = true;
};

// The default policy: signature and chain, debug and MIGRATE_MA refused, VMPL 0, allow-all
// HOST_DATA refused, HOST_DATA pinned where the evidence has one.
inline Policy default_policy() { return Policy{}; }

// Parses the JSON form above. kInvalidArgument naming the key on any error (unknown key, wrong
// type, wrong hex length, out-of-range number).
Result<Policy> parse_policy_json(std::string_view json);

}  // namespace sealsum::secure::attest
