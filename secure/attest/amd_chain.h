// Internal to the verifier: picks the ARK and the AMD intermediate (ASK for a VCEK, ASVK for a VLEK)
// out of a PEM certificate bundle given in any order, and records the chain checks. The rules are
// those of verifier.h (cert_chain_format .. cert_validity); in short:
//   * ARK: a self-issued certificate whose public key is a pinned AMD root (or, in unit tests only, a
//     VerifyOptions::test_only_extra_roots key). Names never make a root.
//   * intermediate: a certificate that signs the leaf, is signed by the ARK and whose CN gives the
//     kind the report's signing key needs (VCEK -> ASK "SEV-<P>", VLEK -> ASVK "SEV-VLEK-<P>").
//   * identical certificates count once; unrelated ones (another product's ARK or ASK, an ASVK in a
//     VCEK's chain) are ignored and named in the cert_chain_format detail; two different
//     intermediates, or two different pinned ARKs, that each complete a valid chain are refused.
// When no complete chain exists, the closest candidates are named in the failing checks' details.
//
// Ownership: borrows everything in the request for the duration of the call. Thread safety:
// reentrant. Bounds: parse_pem_chain caps the bundle at kMaxChainCerts certificates, so the call
// does at most kMaxChainCerts + (kMaxChainCerts / 2)^2 + 1 RSA signature checks.
#pragma once

#include <ctime>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "secure/attest/certs.h"
#include "secure/attest/report.h"
#include "secure/attest/verifier.h"

namespace sealsum::secure::attest {

struct AmdChainRequest {
  const Certificate* leaf = nullptr;                       // the VCEK or VLEK; required
  CertKind chain_kind = CertKind::kVcek;                   // the report's signing key: ASK or ASVK
  Product leaf_product = Product::kUnknown;                // the leaf's productName, for diagnostics
  std::string_view chain_pem;                              // the bundle as given (may be empty)
  std::span<const VerifyOptions::TestOnlyRoot> extra_roots;  // test-only trusted root keys
  std::time_t now = 0;                                     // validity time
};

// Appends cert_chain_format; when the bundle parses and holds >= 2 certificates, ark_pinned; when
// a pinned ARK is found, ark_self_signed, ask_signed_by_ark, vcek_signed_by_ask and cert_validity.
// Returns the chosen ARK's product, or nullopt when there is none (a check has failed then).
std::optional<Product> check_amd_chain(const AmdChainRequest& req, std::vector<Check>& checks);

}  // namespace sealsum::secure::attest
