// libFuzzer target: certificate loading (DER, PEM, PEM chains) and AMD extension parsing, plus the
// chain-signature and pin helpers on whatever parses, and the verifier's bundle selection
// (check_amd_chain: ARK and ASK/ASVK picked from a bundle in any order) with the bundle's first
// certificate as the leaf. Must never crash or leak.
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "secure/attest/amd_chain.h"
#include "secure/attest/azure_inputs.h"
#include "secure/attest/certs.h"

namespace at = sealsum::secure::attest;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::span<const uint8_t> in(data, size);
  auto cert = at::Certificate::from_der_or_pem(in);
  if (cert.ok()) {
    (void)at::parse_amd_extensions(*cert);
    (void)at::pinned_amd_product(*cert);
    (void)cert->subject();
    (void)cert->has_eku("1.3.6.1.4.1.311.76.59.1.2");
    (void)cert->verify_signed_by(*cert, at::SigRequirement::kRsaPssSha384);
    (void)cert->verify_signed_by(*cert, at::SigRequirement::kAnyStrong);
  }
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto chain = at::parse_pem_chain(text);
  if (chain.ok()) {
    for (const auto& c : *chain) {
      (void)at::parse_amd_extensions(c);
      (void)at::amd_intermediate_kind(c);
    }
    std::vector<at::Check> checks;
    at::AmdChainRequest req;
    req.leaf = &chain->front();
    req.chain_kind = size % 2 ? at::CertKind::kVlek : at::CertKind::kVcek;
    req.leaf_product = at::Product::kMilan;
    req.chain_pem = text;
    req.now = 1767225600;
    (void)at::check_amd_chain(req, checks);
  }
  (void)at::parse_host_amd_certificate_json(text);
  return 0;
}
