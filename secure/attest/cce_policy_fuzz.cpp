// libFuzzer target: CCE policy loading (base64 or Rego), the Rego scanner and the inspection. Must
// never crash, hang or read out of bounds; results are checked for internal consistency only:
// a loaded policy is non-empty Rego, its inspection's refused() agrees with refused_rules(), a
// scan failure is a "syntax" refusal, and the JSON rendering always succeeds.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "secure/attest/cce_policy.h"
#include "secure/attest/cce_rego.h"

namespace at = sealsum::secure::attest;

namespace {

void inspect(std::string_view text) {
  auto r = at::inspect_cce_policy(text);
  if (r.refused() == r.refused_rules().empty()) std::abort();
  bool syntax = !at::rego::scan(text).ok();
  if (syntax && (r.findings.size() != 1 || r.findings[0].rule != "syntax")) std::abort();
  if (r.to_json().empty()) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  auto p = at::load_cce_policy(in);
  if (p.ok()) {
    if (p->rego.empty() || p->rego.find("package") == std::string::npos) std::abort();
    (void)at::cce_host_data(p->rego);
    inspect(p->rego);
  }
  inspect(in);  // the raw bytes as Rego, whatever they are
  return 0;
}
