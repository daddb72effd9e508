// SEV-SNP evidence verifier: report signature, AMD certificate chain to a pinned root, TCB/chip-id
// binding, guest policy, data bindings and (Azure) the UVM endorsement.
//
// Checks, in order (each recorded as {name, passed, detail}; a check is listed only when it runs):
//   evidence_kind          real SEV-SNP report; simulated evidence fails here unless allow_simulated
//   report_format          parses; version 2..5 and >= policy; SIGNATURE_ALGO = 1 (ECDSA P-384)
//   signing_key_kind       the report's SIGNING_KEY field agrees with the certificate kind given
//                          (VCEK/VLEK) and VLEK is allowed by the policy
//   cert_chain_format      the chain file is a PEM bundle of 2..kMaxChainCerts certificates in any
//                          order (the old [ASK, ARK] file, or AMD KDS's ASK + ASVK + ARK bundle);
//                          fails when it does not parse, holds fewer than 2, or is ambiguous (two
//                          different intermediates of the needed kind, or two different pinned
//                          ARKs, that each complete a valid chain to the leaf). Its detail names the
//                          chosen ARK and intermediate and why every other certificate was not used
//                          (duplicates and unrelated certificates are ignored, and listed there)
//   ark_pinned             the ARK is a self-issued certificate of the bundle whose public key is
//                          one of the pinned AMD roots (Milan/Genoa/Turin); when several are, the one
//                          that anchors the leaf's chain
//   ark_self_signed        ARK signs itself (RSA-PSS SHA-384)
//   ask_signed_by_ark      the chosen intermediate is signed by the ARK (RSA-PSS SHA-384)
//   vcek_signed_by_ask     the leaf is signed by the chosen intermediate (RSA-PSS SHA-384), and the
//                          intermediate is of the kind the report's SIGNING_KEY needs: VCEK -> ASK
//                          (CN "SEV-<Product>"), VLEK -> ASVK (CN "SEV-VLEK-<Product>"). The
//                          intermediate is chosen by signatures (signs the leaf, signed by the ARK),
//                          the CN only gives its kind: a VCEK never chains through an ASVK nor a
//                          VLEK through an ASK
//   cert_validity          the leaf, the chosen intermediate and the ARK are valid at `now`
//   product_matches_root   the VCEK's productName agrees with the pinned root's product
//   report_signature       ECDSA P-384 / SHA-384 over report[0:0x2A0] with the VCEK/VLEK key
//   tcb_matches_cert       REPORTED_TCB components == VCEK blSPL/teeSPL/snpSPL/ucodeSPL(/fmcSPL)
//   chip_id_matches_cert   CHIP_ID == VCEK hwID (VCEK only)
//   debug_disabled         POLICY bit 19 clear (unless the policy allows debug)
//   vmpl, migrate_ma_disabled (always), min_tcb, guest_svn, measurement_allowed, host_data_allowed,
//   host_data_pinned (when the evidence is endorsed or HOST_DATA is non-zero), model_allowed,
//   report_data_binding, runtime_data_binding   (when the policy asks, or runtime data is supplied)
//   host_data_not_allow_all HOST_DATA is not the allow-all CCE policy hash (always)
//   uvm_endorsement_format, uvm_endorsement_chain, uvm_endorsement_root, uvm_endorsement_signature,
//   uvm_endorsement_measurement  (when an endorsement is supplied or required)
// The verdict is true only if every listed check passed. A failed check's detail says what did not
// match (field names and hex of public values only; no secrets).
//
// Thread safety: verify_* are reentrant (no global state besides OpenSSL's own).
#pragma once

#include <array>
#include <cstdint>
#include <ctime>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/status.h"
#include "secure/attest/policy.h"
#include "secure/attest/report.h"

namespace sealsum::secure::attest {

enum class CertKind { kVcek, kVlek };

struct SnpEvidence {
  std::vector<uint8_t> report;         // exactly one report (kSnpReportSize bytes), or simulated evidence
  std::vector<uint8_t> signing_cert;   // VCEK or VLEK, DER or PEM (unused for simulated evidence)
  CertKind cert_kind = CertKind::kVcek;
  std::string chain_pem;               // PEM bundle: ARK and ASK (VCEK) or ASVK (VLEK), any order
  std::optional<std::vector<uint8_t>> uvm_endorsement;  // COSE_Sign1 bytes (Azure)
  std::optional<std::vector<uint8_t>> runtime_data;     // REPORT_DATA[0:32] = SHA-256(runtime_data)
};

struct VerifyOptions {
  // Accept simulated (software-signed) evidence. Never set this in production: it makes the whole
  // verification meaningless. When set and used, a warning is printed to stderr.
  bool allow_simulated = false;
  // Certificate validity time for the AMD chain (default: the current time). The UVM endorsement's
  // x5chain is checked at its own signing time.
  std::optional<std::time_t> now;
  // TEST-ONLY SEAM. Extra ARK keys trusted beside the pinned AMD roots, so unit tests can verify
  // chains they generate themselves (AMD's root private keys are, rightly, not available). Only
  // unit tests set it: no CLI flag, policy JSON, environment variable, file or network input may
  // ever fill it, and production callers leave it empty. It adds roots; it never weakens the pins.
  struct TestOnlyRoot {
    Product product = Product::kUnknown;    // the product the root stands for (TCB layout, productName)
    std::array<uint8_t, 32> spki_sha256{};  // SHA-256 of the root's SubjectPublicKeyInfo DER
  };
  std::vector<TestOnlyRoot> test_only_extra_roots;
};

struct Check {
  std::string name;
  bool passed = false;
  std::string detail;
};

struct EndorsementInfo {
  std::string issuer, feed, guest_svn;
  std::optional<int64_t> signing_time;
  std::string signer_subject;
};

struct VerificationResult {
  std::vector<Check> checks;
  bool verdict = false;
  bool simulated = false;
  std::optional<SnpReport> report;
  Product product = Product::kUnknown;
  std::optional<EndorsementInfo> endorsement;

  const Check* find(const std::string& name) const;
  std::vector<std::string> failed_checks() const;
  // OK when verdict is true; else kPermissionDenied "attestation refused: failed checks: a, b".
  Status status() const;
  // {"verdict": bool, "simulated": bool, "product": "...", "checks": [{"name","passed","detail"}],
  //  "endorsement": {...}} as JSON text.
  std::string to_json(int indent = 2) const;
};

// Verifies SEV-SNP evidence (or simulated evidence, refused unless options.allow_simulated).
VerificationResult verify_evidence(const SnpEvidence& evidence, const Policy& policy,
                                   const VerifyOptions& options = {});

}  // namespace sealsum::secure::attest
