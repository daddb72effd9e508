// libFuzzer target: SEV-SNP report input decoding and parsing (raw/hex, any offset), report JSON,
// simulated-evidence parsing, and the MSG_REPORT_RSP unmarshalling. Must never crash or read out of
// bounds; results are only checked for internal consistency.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "secure/attest/report.h"
#include "secure/attest/sev_guest.h"
#include "secure/attest/simulated.h"

namespace at = sealsum::secure::attest;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::span<const uint8_t> in(data, size);
  auto decoded = at::decode_report_input(in);
  if (decoded.ok()) {
    size_t offset = size > 0 ? data[0] : 0;
    auto r = at::parse_report(*decoded, offset);
    if (r.ok()) {
      if (r->version < at::kSnpMinVersion || r->version > at::kSnpMaxVersion) std::abort();
      (void)at::report_to_json(*r, r->cpuid_product());
      (void)at::decode_tcb(r->reported_tcb, at::Product::kTurin);
    }
    (void)at::parse_report(*decoded, 0);
  }
  (void)at::open_simulated_evidence(in);
  auto resp = at::parse_report_response(in);
  if (resp.ok() && resp->size() != at::kSnpReportSize) std::abort();
  return 0;
}
