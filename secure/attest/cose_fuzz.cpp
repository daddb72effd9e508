// libFuzzer target: the bounded CBOR decoder, COSE_Sign1 and UVM endorsement parsing, the MAA request
// container and the policy JSON. Must never crash, hang or allocate without bound.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "secure/attest/azure_inputs.h"
#include "secure/attest/cbor.h"
#include "secure/attest/cose.h"
#include "secure/attest/policy.h"

namespace at = sealsum::secure::attest;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::span<const uint8_t> in(data, size);
  auto v = at::cbor_decode(in);
  if (v.ok() && v->type == at::CborValue::Type::kMap && v->items.size() % 2 != 0) std::abort();
  auto cose = at::parse_cose_sign1(in);
  if (cose.ok()) {
    (void)at::cose_sig_structure(*cose);
    for (const auto& der : cose->x5chain) {
      auto c = at::Certificate::from_der(der);
      if (c.ok()) (void)at::verify_cose_sign1(*cose, *c);
    }
  }
  (void)at::parse_uvm_endorsement(in);
  std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)at::parse_maa_request_json(text);
  (void)at::parse_policy_json(text);
  return 0;
}
