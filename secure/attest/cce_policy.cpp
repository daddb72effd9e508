// CCE policy loading and HOST_DATA (cce_policy.h): what the TEE needs to serve its policy. The
// relying parties' checks are in cce_policy_checks.cpp, the inspection rules in cce_inspect.cpp.
#include "secure/attest/cce_policy.h"

#include <algorithm>

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

}  // namespace sealsum::secure::attest
