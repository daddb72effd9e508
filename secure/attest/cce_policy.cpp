// CCE policy loading, HOST_DATA, inspection results and the Secure Key Release policy (cce_policy.h).
// The inspection rules themselves are in cce_inspect.cpp.
#include "secure/attest/cce_policy.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "secure/attest/policy.h"

namespace sealsum::secure::attest {
namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v'; }

// True when `text` starts, after optional whitespace, with the keyword `package` and a blank.
bool looks_like_rego(std::string_view text) {
  size_t i = 0;
  while (i < text.size() && is_space(text[i])) ++i;
  constexpr std::string_view kw = "package";
  return text.substr(i, kw.size()) == kw && i + kw.size() < text.size() && is_space(text[i + kw.size()]);
}

int b64_value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

// Standard-alphabet base64; whitespace anywhere is skipped; '=' padding only at the end (optional,
// but at most two and consistent with the length); non-zero leftover bits are refused so one text
// has one decoding.
Result<std::string> decode_base64(std::string_view in) {
  std::string out;
  out.reserve(in.size() / 4 * 3 + 3);
  uint32_t acc = 0;
  int bits = 0;
  size_t symbols = 0, pad = 0;
  for (size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (is_space(c)) continue;
    if (c == '=') {
      ++pad;
      continue;
    }
    int v = b64_value(c);
    if (v < 0) return data_loss("invalid base64 character at byte " + std::to_string(i));
    if (pad) return data_loss("base64 '=' padding before the end (byte " + std::to_string(i) + ")");
    ++symbols;
    acc = (acc << 6) | uint32_t(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(char(uint8_t(acc >> bits)));
      acc &= (1u << bits) - 1;
    }
  }
  if (symbols % 4 == 1) return data_loss("base64 text has an impossible length");
  if (pad > 2 || (pad && (symbols + pad) % 4 != 0)) return data_loss("base64 padding does not fit the length");
  if (acc != 0) return data_loss("base64 text has non-zero trailing bits (not canonical)");
  return out;
}

bool is_hex(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
  });
}

}  // namespace

Result<CcePolicy> load_cce_policy(std::string_view file_bytes) {
  if (file_bytes.size() > kMaxCcePolicyFileBytes) {
    return resource_exhausted("CCE policy file is " + std::to_string(file_bytes.size()) + " bytes, over the " +
                              std::to_string(kMaxCcePolicyFileBytes) + "-byte limit");
  }
  if (std::all_of(file_bytes.begin(), file_bytes.end(), is_space)) {
    return invalid_argument("CCE policy file is empty; give the base64 `ccePolicy` value or its decoded Rego text");
  }
  CcePolicy p;
  if (looks_like_rego(file_bytes)) {
    p.rego.assign(file_bytes);
    return p;
  }
  auto decoded = decode_base64(file_bytes);
  if (!decoded.ok()) {
    return data_loss("CCE policy file is neither Rego (no leading `package` line) nor base64: " +
                     decoded.status().message());
  }
  if (!looks_like_rego(*decoded)) {
    return data_loss("CCE policy file is base64, but what it decodes to is not a Rego policy (no leading "
                     "`package` line); give the `ccePolicy` value az confcom acipolicygen wrote");
  }
  p.rego = std::move(decoded).value();
  p.from_base64 = true;
  return p;
}

Digest256 cce_host_data(std::string_view rego) {
  return sha256(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(rego.data()), rego.size()));
}

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
