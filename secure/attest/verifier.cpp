// SEV-SNP evidence verification: report, AMD chain to a pinned root, TCB binding (see verifier.h).
//
// Why each step exists:
//  * The report is only as trustworthy as the key that signed it. The VCEK (or VLEK) is derived by
//    the AMD Secure Processor from the chip's secrets and the TCB; AMD certifies it with the ASK
//    (a VLEK with the ASVK), which the ARK certifies. Pinning the ARK's key (not its name) is what
//    ties the chain to AMD; the bundle's order and extra certificates do not matter (amd_chain.h).
//  * A VCEK is specific to one chip and one TCB: its extensions (hwID, *SPL) must equal the report's
//    CHIP_ID and REPORTED_TCB, or a VCEK fetched for other firmware could vouch for this report.
//  * Everything after that is the relying party's policy (debug, VMPL, TCB floor, measurements,
//    HOST_DATA, REPORT_DATA bindings) and, on Azure, Microsoft's endorsement of the UVM measurement.
#include "secure/attest/verifier.h"

#include <iostream>

#include <nlohmann/json.hpp>
#include <openssl/x509.h>

#include "secure/attest/amd_chain.h"
#include "secure/attest/certs.h"
#include "secure/attest/p384.h"
#include "secure/attest/simulated.h"
#include "secure/attest/verifier_checks.h"
#include "secure/digest.h"

namespace sealsum::secure::attest {
namespace {

std::string chip_mismatch_detail(std::span<const uint8_t> report, std::span<const uint8_t> cert) {
  return "CHIP_ID " + to_hex(report) + " != VCEK hwID " + to_hex(cert);
}

// The AMD part: certificates, chain, signature, TCB and chip id. Returns the product for TCB decoding.
Product verify_amd(const SnpReport& r, const SnpEvidence& ev, const Policy& policy, const VerifyOptions& opt,
                   std::vector<Check>& checks) {
  const char* kind = ev.cert_kind == CertKind::kVcek ? "VCEK" : "VLEK";
  auto leaf_or = Certificate::from_der_or_pem(ev.signing_cert);
  if (!leaf_or.ok()) {
    add_check(checks, "signing_cert_format", false, std::string(kind) + " certificate: " + leaf_or.status().message());
    return r.cpuid_product();
  }
  Certificate leaf = std::move(leaf_or).value();

  bool kind_ok = (ev.cert_kind == CertKind::kVcek && r.signing_key == SigningKey::kVcek) ||
                 (ev.cert_kind == CertKind::kVlek && r.signing_key == SigningKey::kVlek && policy.allow_vlek);
  add_check(checks, "signing_key_kind", kind_ok,
            std::string("report SIGNING_KEY is ") + signing_key_name(r.signing_key) + ", certificate given as " + kind +
                (ev.cert_kind == CertKind::kVlek && !policy.allow_vlek ? "; VLEK is not allowed by the policy" : ""));

  auto ext_or = parse_amd_extensions(leaf);
  AmdCertExtensions ext = ext_or.ok() ? *ext_or : AmdCertExtensions{};
  Product cert_product = ext.product_name ? product_from_name(*ext.product_name) : Product::kUnknown;

  // Chain: the ARK and the intermediate the report's signing key needs, from a bundle in any order.
  AmdChainRequest chain;
  chain.leaf = &leaf;
  chain.chain_kind = r.signing_key == SigningKey::kVlek   ? CertKind::kVlek
                     : r.signing_key == SigningKey::kVcek ? CertKind::kVcek
                                                          : ev.cert_kind;
  chain.leaf_product = cert_product;
  chain.chain_pem = ev.chain_pem;
  chain.extra_roots = opt.test_only_extra_roots;
  chain.now = opt.now ? *opt.now : std::time(nullptr);
  std::optional<Product> root_product = check_amd_chain(chain, checks);

  if (!ext_or.ok()) {
    add_check(checks, "vcek_extensions", false, ext_or.status().message());
  }
  Product product = root_product ? *root_product : cert_product != Product::kUnknown ? cert_product : r.cpuid_product();
  if (root_product) {
    bool ok = cert_product == *root_product;
    add_check(checks, "product_matches_root", ok,
              std::string(kind) + " productName \"" + ext.product_name.value_or("(absent)") + "\"" +
                  (ok ? " matches the " : " does not match the ") + product_name(*root_product) + " root");
  }

  Status sig = ecdsa_p384_verify_amd(X509_get0_pubkey(leaf.get()), std::span(r.raw).first(kSnpSignedSize),
                                     r.signature_r, r.signature_s);
  add_check(checks, "report_signature", sig.is_ok(),
            sig.is_ok() ? std::string("ECDSA P-384/SHA-384 report signature verifies with the ") + kind
                        : "report signature does not verify with the " + std::string(kind) + ": " + sig.message());

  TcbParts t = decode_tcb(r.reported_tcb, product);
  std::string mismatch;
  auto cmp = [&mismatch](const char* name, uint8_t have, const std::optional<uint8_t>& cert) {
    if (!cert) mismatch += std::string(mismatch.empty() ? "" : ", ") + name + " missing in certificate";
    else if (*cert != have) {
      mismatch += std::string(mismatch.empty() ? "" : ", ") + name + " report " + std::to_string(have) + " != cert " +
                  std::to_string(*cert);
    }
  };
  cmp("bootloader", t.bootloader, ext.bl_spl);
  cmp("tee", t.tee, ext.tee_spl);
  cmp("snp", t.snp, ext.snp_spl);
  cmp("microcode", t.microcode, ext.ucode_spl);
  if (product == Product::kTurin) cmp("fmc", t.fmc, ext.fmc_spl);
  add_check(checks, "tcb_matches_cert", mismatch.empty(),
            mismatch.empty() ? "REPORTED_TCB " + tcb_to_string(t) + " equals the certificate's SPLs"
                             : "REPORTED_TCB differs from the certificate: " + mismatch);

  if (ev.cert_kind == CertKind::kVcek) {
    if (!ext.hwid) {
      add_check(checks, "chip_id_matches_cert", false, "VCEK has no hwID extension");
    } else if (r.mask_chip_key) {
      add_check(checks, "chip_id_matches_cert", true, "MASK_CHIP_KEY set: CHIP_ID not reported; VCEK signature binds the chip");
    } else if (ext.hwid->size() != 64 && product != Product::kTurin) {
      add_check(checks, "chip_id_matches_cert", false,
                "VCEK hwID is " + std::to_string(ext.hwid->size()) + " bytes; only Turin uses a short hwID");
    } else {
      std::span<const uint8_t> reported(r.chip_id.data(), ext.hwid->size());
      bool ok = std::equal(reported.begin(), reported.end(), ext.hwid->begin());
      add_check(checks, "chip_id_matches_cert", ok, ok ? "CHIP_ID equals the VCEK hwID" : chip_mismatch_detail(reported, *ext.hwid));
    }
  }
  return product;
}

void verify_simulated(const SnpEvidence& ev, const Policy& policy, const VerifyOptions& opt, VerificationResult& out) {
  out.simulated = true;
  if (!opt.allow_simulated) {
    add_check(out.checks, "evidence_kind", false,
              "simulated (software-signed) evidence is not attestation and is refused; only local test runs may "
              "accept it (--insecure-allow-simulated)");
    return;
  }
  std::cerr << simulated_warning() << " (accepted because allow_simulated / --insecure-allow-simulated is set)\n";
  add_check(out.checks, "evidence_kind", true, "SIMULATED evidence accepted by explicit insecure option");
  auto sim = open_simulated_evidence(ev.report);
  if (!sim.ok()) {
    add_check(out.checks, "simulated_signature", false, sim.status().message());
    return;
  }
  add_check(out.checks, "simulated_signature", true, "self-signature verifies (proves nothing about hardware)");
  out.report = sim->report;
  run_policy_checks(sim->report, Product::kUnknown, policy, ev.runtime_data, ev.uvm_endorsement.has_value(),
                    out.checks);
  run_endorsement_checks(sim->report, ev.uvm_endorsement, policy, out.checks, out.endorsement);
}

}  // namespace

VerificationResult verify_evidence(const SnpEvidence& ev, const Policy& policy, const VerifyOptions& opt) {
  VerificationResult out;
  if (is_simulated_evidence(ev.report)) {
    verify_simulated(ev, policy, opt, out);
  } else {
    add_check(out.checks, "evidence_kind", true, "SEV-SNP attestation report");
    auto parsed = ev.report.size() == kSnpReportSize
                      ? parse_report(ev.report)
                      : Result<SnpReport>(data_loss("report is " + std::to_string(ev.report.size()) +
                                                    " bytes, expected " + std::to_string(kSnpReportSize)));
    if (!parsed.ok()) {
      add_check(out.checks, "report_format", false, parsed.status().message());
    } else {
      const SnpReport& r = *parsed;
      std::string why;
      if (r.version < policy.min_report_version) {
        why = "report version " + std::to_string(r.version) + " < policy minimum " + std::to_string(policy.min_report_version);
      } else if (r.signature_algo != kSigAlgoEcdsaP384Sha384) {
        why = "SIGNATURE_ALGO " + std::to_string(r.signature_algo) + " is not 1 (ECDSA P-384 with SHA-384)";
      }
      add_check(out.checks, "report_format", why.empty(),
                why.empty() ? "version " + std::to_string(r.version) + ", ECDSA P-384/SHA-384" : why);
      out.report = r;
      out.product = verify_amd(r, ev, policy, opt, out.checks);
      run_policy_checks(r, out.product, policy, ev.runtime_data, ev.uvm_endorsement.has_value(), out.checks);
      run_endorsement_checks(r, ev.uvm_endorsement, policy, out.checks, out.endorsement);
    }
  }
  out.verdict = !out.checks.empty();
  for (const Check& c : out.checks) out.verdict = out.verdict && c.passed;
  return out;
}

const Check* VerificationResult::find(const std::string& name) const {
  for (const Check& c : checks) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

std::vector<std::string> VerificationResult::failed_checks() const {
  std::vector<std::string> out;
  for (const Check& c : checks) {
    if (!c.passed) out.push_back(c.name);
  }
  return out;
}

Status VerificationResult::status() const {
  if (verdict) return Status::ok();
  std::string msg = "attestation refused: failed checks:";
  for (const Check& c : checks) {
    if (!c.passed) msg += " " + c.name + " (" + c.detail + ");";
  }
  if (checks.empty()) msg += " none ran";
  return permission_denied(msg);
}

std::string VerificationResult::to_json(int indent) const {
  nlohmann::ordered_json j;
  j["verdict"] = verdict;
  j["simulated"] = simulated;
  j["product"] = product_name(product);
  j["failed_checks"] = failed_checks();
  j["checks"] = nlohmann::ordered_json::array();
  for (const Check& c : checks) j["checks"].push_back({{"name", c.name}, {"passed", c.passed}, {"detail", c.detail}});
  if (report) {
    j["report"] = {{"version", report->version},
                   {"measurement", to_hex(report->measurement)},
                   {"host_data", to_hex(report->host_data)},
                   {"report_data", to_hex(report->report_data)},
                   {"vmpl", report->vmpl},
                   {"debug", report->debug_allowed()},
                   {"reported_tcb", tcb_to_string(decode_tcb(report->reported_tcb, product))}};
  }
  if (endorsement) {
    j["endorsement"] = {{"issuer", endorsement->issuer},
                        {"feed", endorsement->feed},
                        {"guest_svn", endorsement->guest_svn},
                        {"signer", endorsement->signer_subject}};
    if (endorsement->signing_time) j["endorsement"]["signing_time"] = *endorsement->signing_time;
  }
  return j.dump(indent);
}

}  // namespace sealsum::secure::attest
