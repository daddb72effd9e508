// CCE policy loading and HOST_DATA (cce_policy.h): what the TEE needs to serve its policy. The
// relying parties' checks are in cce_policy_checks.cpp, the inspection rules in cce_inspect.cpp.
#include "secure/attest/cce_policy.h"

#include <algorithm>

#include "common/encoding.h"

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
  // Standard alphabet; whitespace anywhere skipped; '=' padding optional but consistent with the
  // length; non-zero leftover bits refused so one text has one decoding (and one HOST_DATA).
  encoding::Base64Options o;
  o.alphabet = encoding::Alphabet::kStandard;
  o.whitespace = encoding::Whitespace::kAny;
  o.canonical = true;
  o.max_chars = kMaxCcePolicyFileBytes;
  auto decoded = encoding::base64_decode_text(file_bytes, "CCE policy file", o);
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

}  // namespace sealsum::secure::attest
