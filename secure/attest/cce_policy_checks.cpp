// CCE policy checks for relying parties and owners (see cce_policy.h): the inspection verdict, the
// HOST_DATA check added to a verification result, and the Key Vault release policy. The loader and
// the HOST_DATA hash, which the TEE needs too, are in cce_policy.cpp.
#include <algorithm>

#include <nlohmann/json.hpp>

#include "secure/attest/cce_policy.h"
#include "secure/attest/policy.h"

namespace sealsum::secure::attest {
namespace {

bool is_hex(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
  });
}

}  // namespace

bool CceInspection::refused() const {
  return std::any_of(findings.begin(), findings.end(), [](const Finding& f) { return f.severity == Severity::kRefuse; });
}

std::vector<std::string> CceInspection::refused_rules() const {
  std::vector<std::string> out;
  for (const auto& f : findings) {
    if (f.severity == Severity::kRefuse && std::find(out.begin(), out.end(), f.rule) == out.end()) out.push_back(f.rule);
  }
  return out;
}

std::string CceInspection::to_json(int indent) const {
  nlohmann::ordered_json j;
  j["refused"] = refused();
  j["refused_rules"] = refused_rules();
  j["findings"] = nlohmann::ordered_json::array();
  for (const auto& f : findings) {
    j["findings"].push_back({{"rule", f.rule},
                             {"severity", f.severity == Severity::kRefuse ? "refuse" : "warn"},
                             {"detail", f.detail}});
  }
  return j.dump(indent, ' ', false, nlohmann::json::error_handler_t::replace);
}

void add_cce_policy_checks(VerificationResult& r, const CcePolicy& policy) {
  Digest256 hd = cce_host_data(policy.rego);
  Check host{"cce_policy_host_data", false, ""};
  if (!r.report) {
    host.detail = "no parsed report to compare HOST_DATA with";
  } else if (r.report->host_data == hd) {
    host.passed = true;
    host.detail = "SHA-256 of the decoded CCE policy equals HOST_DATA " + to_hex(hd);
  } else {
    host.detail = "SHA-256 of the decoded CCE policy is " + to_hex(hd) + " but the report's HOST_DATA is " +
                  to_hex(r.report->host_data) + ": the evidence comes from a container group running another policy";
  }
  CceInspection ins = inspect_cce_policy(policy.rego);
  Check inspection{"cce_policy_inspection", !ins.refused(), ""};
  if (ins.refused()) {
    std::string rules;
    for (const auto& rule : ins.refused_rules()) rules += (rules.empty() ? "" : ", ") + rule;
    inspection.detail = "the CCE policy is unsafe for a clean room; refused rules: " + rules +
                        " (`sealsum policy inspect FILE` says what to change)";
  } else {
    inspection.detail = "no refusals (" + std::to_string(ins.findings.size()) + " warnings)";
  }
  r.checks.push_back(std::move(host));
  r.checks.push_back(std::move(inspection));
  r.verdict = r.verdict && std::all_of(r.checks.begin(), r.checks.end(), [](const Check& c) { return c.passed; });
}

Result<std::string> skr_release_policy_json(std::string_view host_data_hex, std::string_view maa_url) {
  if (host_data_hex.size() != 64 || !is_hex(host_data_hex)) {
    return invalid_argument("--host-data expects 64 hex digits (the SHA-256 `sealsum policy hostdata` prints), got " +
                            std::to_string(host_data_hex.size()) + " characters");
  }
  std::string hex(host_data_hex);
  std::transform(hex.begin(), hex.end(), hex.begin(), [](char c) { return char(c >= 'A' && c <= 'F' ? c + 32 : c); });
  if (hex == std::string(64, '0')) {
    return permission_denied("HOST_DATA of all zeros names no CCE policy; compute it with `sealsum policy hostdata`");
  }
  if (hex == to_hex(kAllowAllCcePolicyHash)) {
    return permission_denied("HOST_DATA " + hex + " is the allow-all CCE policy, which lets the operator run and read "
                             "anything in the container group; release keys only to a policy that passes "
                             "`sealsum policy inspect`");
  }
  constexpr std::string_view scheme = "https://";
  if (maa_url.substr(0, scheme.size()) != scheme) {
    return invalid_argument("--maa expects the https:// URL of the Azure Attestation instance (e.g. "
                            "https://sharedeus2.eus2.attest.azure.net)");
  }
  std::string_view rest = maa_url.substr(scheme.size());
  size_t host_end = rest.find_first_of("/?#");
  std::string_view host = rest.substr(0, host_end);
  bool bad_char = std::any_of(maa_url.begin(), maa_url.end(), [](char c) {
    return uint8_t(c) <= 0x20 || uint8_t(c) >= 0x7F || c == '"' || c == '\\' || c == '<' || c == '>';
  });
  if (host.empty() || host.find('@') != std::string_view::npos || bad_char || maa_url.size() > 2048) {
    return invalid_argument("--maa URL must name a host and hold no user info, whitespace, quotes or control characters");
  }
  nlohmann::ordered_json allof = nlohmann::ordered_json::array();
  allof.push_back({{"claim", "x-ms-sevsnpvm-hostdata"}, {"equals", hex}});
  allof.push_back({{"claim", "x-ms-compliance-status"}, {"equals", "azure-compliant-uvm"}});
  allof.push_back({{"claim", "x-ms-sevsnpvm-is-debuggable"}, {"equals", "false"}});
  nlohmann::ordered_json j;
  j["version"] = "1.0.0";
  nlohmann::ordered_json entry;
  entry["authority"] = std::string(maa_url);
  entry["allOf"] = std::move(allof);
  j["anyOf"] = nlohmann::ordered_json::array();
  j["anyOf"].push_back(std::move(entry));
  return j.dump(2);
}

}  // namespace sealsum::secure::attest
