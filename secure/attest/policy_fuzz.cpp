// libFuzzer target: the attestation policy JSON parser (parse_policy_json, secure/attest/policy.h),
// the format shared by `--policy FILE` and the broker's release policies. Must never crash, leak,
// hang or throw; a parse must be deterministic (the same bytes give the same verdict and message).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "secure/attest/policy.h"

namespace at = sealsum::secure::attest;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto first = at::parse_policy_json(text);
  auto again = at::parse_policy_json(text);
  if (first.ok() != again.ok()) std::abort();
  if (!first.ok()) {
    if (first.status().message().empty() || first.status().message() != again.status().message()) std::abort();
  }
  return 0;
}
