// Internal to the verifier: the policy and endorsement checks, shared by the SEV-SNP and the
// simulated-evidence paths. Each function appends {name, passed, detail} records; none throws.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <vector>

#include "secure/attest/policy.h"
#include "secure/attest/report.h"
#include "secure/attest/verifier.h"

namespace sealsum::secure::attest {

inline void add_check(std::vector<Check>& checks, std::string name, bool passed, std::string detail) {
  checks.push_back({std::move(name), passed, std::move(detail)});
}

// debug_disabled, vmpl, migrate_ma_disabled, min_tcb, guest_svn, measurement_allowed,
// host_data_allowed, host_data_pinned (when `endorsed` or HOST_DATA is non-zero), model_allowed (when
// the policy pins models), host_data_not_allow_all, report_data_binding, runtime_data_binding.
// `endorsed`: the evidence carries an Azure UVM endorsement.
void run_policy_checks(const SnpReport& report, Product product, const Policy& policy,
                       const std::optional<std::vector<uint8_t>>& runtime_data, bool endorsed,
                       std::vector<Check>& checks);

// uvm_endorsement_* checks (run when an endorsement is supplied or the policy requires one).
void run_endorsement_checks(const SnpReport& report, const std::optional<std::vector<uint8_t>>& endorsement,
                            const Policy& policy, std::vector<Check>& checks,
                            std::optional<EndorsementInfo>& info);

}  // namespace sealsum::secure::attest
