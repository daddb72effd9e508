// Policy and Azure UVM endorsement checks (see verifier_checks.h and verifier.h).
#include "secure/attest/verifier_checks.h"

#include <algorithm>

#include "common/encoding.h"
#include "secure/attest/cose.h"
#include "secure/attest/model_binding.h"
#include "secure/digest.h"
#include "secure/secret_buffer.h"

namespace sealsum::secure::attest {
namespace {

constexpr char kUvmSignerEku[] = "1.3.6.1.4.1.311.76.59.1.2";  // Microsoft ContainerPlat UVM signing

void check_min_tcb(const SnpReport& r, Product product, const MinTcb& min, std::vector<Check>& checks) {
  TcbParts t = decode_tcb(r.reported_tcb, product);
  std::string below;
  auto cmp = [&below](const char* name, uint8_t have, const std::optional<uint8_t>& want) {
    if (want && have < *want) {
      below += std::string(below.empty() ? "" : ", ") + name + " " + std::to_string(have) + " < " + std::to_string(*want);
    }
  };
  cmp("bootloader", t.bootloader, min.bootloader);
  cmp("tee", t.tee, min.tee);
  cmp("snp", t.snp, min.snp);
  cmp("microcode", t.microcode, min.microcode);
  cmp("fmc", t.fmc, min.fmc);
  add_check(checks, "min_tcb", below.empty(),
            below.empty() ? "REPORTED_TCB " + tcb_to_string(t) + " meets the minimum"
                          : "REPORTED_TCB below the policy minimum: " + below);
}

}  // namespace

void run_policy_checks(const SnpReport& r, Product product, const Policy& policy,
                       const std::optional<std::vector<uint8_t>>& runtime_data, bool endorsed,
                       std::vector<Check>& checks) {
  if (r.debug_allowed()) {
    add_check(checks, "debug_disabled", policy.allow_debug,
              policy.allow_debug ? "POLICY.DEBUG is set; allowed by the policy (allow_debug)"
                                 : "POLICY.DEBUG is set: the host may debug (read) guest memory; refused");
  } else {
    add_check(checks, "debug_disabled", true, "POLICY.DEBUG is clear");
  }
  add_check(checks, "vmpl", r.vmpl <= policy.max_vmpl,
            "VMPL " + std::to_string(r.vmpl) + (r.vmpl <= policy.max_vmpl ? " <= " : " > ") + "max " +
                std::to_string(policy.max_vmpl) +
                (r.vmpl <= policy.max_vmpl ? "" : ": the report comes from a less privileged level than the policy "
                                                  "allows (raise max_vmpl only if you trust that level's software)"));
  if ((r.policy & kPolicyMigrateMa) != 0) {
    add_check(checks, "migrate_ma_disabled", policy.allow_migrate_ma,
              policy.allow_migrate_ma ? "POLICY.MIGRATE_MA is set; allowed by the policy (allow_migrate_ma)"
                                      : "POLICY.MIGRATE_MA is set: a migration agent may export the guest's memory; "
                                        "refused (allow_migrate_ma)");
  } else {
    add_check(checks, "migrate_ma_disabled", true, "POLICY.MIGRATE_MA is clear");
  }
  if (policy.min_tcb.any()) check_min_tcb(r, product, policy.min_tcb, checks);
  if (policy.min_guest_svn) {
    bool ok = r.guest_svn >= *policy.min_guest_svn;
    add_check(checks, "guest_svn", ok,
              "GUEST_SVN " + std::to_string(r.guest_svn) + (ok ? " >= " : " < ") + std::to_string(*policy.min_guest_svn));
  }
  if (!policy.measurements.empty()) {
    bool ok = std::find(policy.measurements.begin(), policy.measurements.end(), r.measurement) != policy.measurements.end();
    add_check(checks, "measurement_allowed", ok,
              "MEASUREMENT " + to_hex(r.measurement) + (ok ? " is allowed" : " is not in the policy's measurements"));
  }
  if (!policy.host_data.empty()) {
    bool ok = std::find(policy.host_data.begin(), policy.host_data.end(), r.host_data) != policy.host_data.end();
    add_check(checks, "host_data_allowed", ok,
              "HOST_DATA " + to_hex(r.host_data) + (ok ? " is allowed" : " is not in the policy's host_data"));
  }
  const bool has_host_data = std::any_of(r.host_data.begin(), r.host_data.end(), [](uint8_t b) { return b != 0; });
  if (endorsed || has_host_data) {
    const bool pinned = !policy.host_data.empty();
    add_check(checks, "host_data_pinned", pinned,
              pinned ? "HOST_DATA is pinned by the policy"
                     : std::string(endorsed ? "the evidence comes from Azure Container Instances (UVM endorsement), "
                                              "where MEASUREMENT is Microsoft's utility VM shared by every container "
                                              "group"
                                            : "the report carries HOST_DATA " + to_hex(r.host_data)) +
                           ": pin HOST_DATA (\"host_data\" in the policy, --host-data; `sealsum policy hostdata "
                           "FILE` computes it from the CCE policy) or the verdict does not identify the workload");
  }
  if (!policy.models.empty()) {
    auto model = runtime_data ? model_digests_from_runtime_data(*runtime_data)
                              : Result<std::optional<ModelDigests>>(std::optional<ModelDigests>());
    if (!model.ok()) {
      add_check(checks, "model_allowed", false, model.status().message());
    } else if (!*model || (*model)->empty()) {
      add_check(checks, "model_allowed", false,
                "the policy pins models but the runtime data names no model (an older sealsum, or not sealsum)");
    } else {
      const bool ok = model_matches(**model, policy.models);
      add_check(checks, "model_allowed", ok,
                "model " + describe(**model) + (ok ? " is allowed" : " is not in the policy's models"));
    }
  }
  bool allow_all = r.host_data == kAllowAllCcePolicyHash;
  add_check(checks, "host_data_not_allow_all", !allow_all,
            allow_all ? "HOST_DATA is the allow-all CCE policy hash (any container may run): always refused"
                      : "HOST_DATA is not the allow-all CCE policy hash");
  if (policy.report_data) {
    bool ok = ct_equal(r.report_data, *policy.report_data);
    add_check(checks, "report_data_binding", ok,
              ok ? "REPORT_DATA equals the expected binding" : "REPORT_DATA differs from the expected binding");
  }
  if (runtime_data || policy.require_runtime_data) {
    if (!runtime_data) {
      add_check(checks, "runtime_data_binding", false, "the policy requires runtime data but none was supplied");
    } else {
      Digest256 h = sha256(*runtime_data);
      bool ok = ct_equal(h, std::span<const uint8_t>(r.report_data.data(), 32));
      add_check(checks, "runtime_data_binding", ok,
                ok ? "REPORT_DATA[0:32] = SHA-256(runtime data)"
                   : "REPORT_DATA[0:32] != SHA-256(runtime data) " + to_hex(h));
    }
  }
}

void run_endorsement_checks(const SnpReport& r, const std::optional<std::vector<uint8_t>>& endorsement,
                            const Policy& policy, std::vector<Check>& checks, std::optional<EndorsementInfo>& info) {
  if (!endorsement && !policy.require_uvm_endorsement) return;
  if (!endorsement) {
    add_check(checks, "uvm_endorsement_format", false, "the policy requires a UVM endorsement but none was supplied");
    return;
  }
  auto parsed = parse_uvm_endorsement(*endorsement);
  if (!parsed.ok()) {
    add_check(checks, "uvm_endorsement_format", false, parsed.status().message());
    return;
  }
  const UvmEndorsement& e = *parsed;
  std::vector<Certificate> chain;
  std::string chain_error;
  for (size_t i = 0; i < e.cose.x5chain.size() && chain_error.empty(); ++i) {
    auto c = Certificate::from_der(e.cose.x5chain[i]);
    if (c.ok()) chain.push_back(std::move(c).value());
    else chain_error = "x5chain[" + std::to_string(i) + "]: " + c.status().message();
  }
  if (chain.empty() && chain_error.empty()) chain_error = "the protected header carries no x5chain (label 33)";
  add_check(checks, "uvm_endorsement_format", chain_error.empty(),
            chain_error.empty() ? "COSE_Sign1 alg " + std::to_string(e.cose.alg) + ", x5chain of " +
                                      std::to_string(chain.size()) + ", feed \"" + e.feed + "\""
                                : chain_error);
  if (!chain_error.empty()) return;

  info = EndorsementInfo{e.issuer, e.feed, e.guest_svn, e.signing_time, chain.front().subject()};

  // Chain: each certificate signed by the next, the last self-signed, all valid at signing time.
  std::string why;
  for (size_t i = 0; i + 1 < chain.size() && why.empty(); ++i) {
    if (Status st = chain[i].verify_signed_by(chain[i + 1], SigRequirement::kAnyStrong); !st.is_ok()) why = st.message();
  }
  if (why.empty()) {
    if (!chain.back().self_issued()) why = "the last x5chain certificate is not self-issued (" + chain.back().subject() + ")";
    else if (Status st = chain.back().verify_signed_by(chain.back(), SigRequirement::kAnyStrong); !st.is_ok()) why = st.message();
  }
  if (why.empty() && e.signing_time) {
    for (const auto& c : chain) {
      if (!c.valid_at(std::time_t(*e.signing_time))) why = c.subject() + " was not valid at the endorsement's signing time";
    }
  }
  add_check(checks, "uvm_endorsement_chain", why.empty(),
            why.empty() ? "x5chain signatures verify up to " + chain.back().subject() : why);

  bool pinned = chain.back().spki_sha256() == microsoft_supply_chain_root_spki_sha256();
  add_check(checks, "uvm_endorsement_root", pinned,
            pinned ? "root key is the pinned Microsoft Supply Chain RSA Root CA 2022 (pin taken from captured "
                     "endorsements, not from a Microsoft publication)"
                   : "x5chain root key " + to_hex(chain.back().spki_sha256()) + " is not the pinned Microsoft root");

  // did:x509:0:sha256:<base64url SHA-256 of a CA certificate>::eku:<oid> must describe this chain.
  const std::string prefix = "did:x509:0:sha256:";
  std::string iss_why;
  if (e.issuer.rfind(prefix, 0) != 0) {
    iss_why = "issuer \"" + e.issuer + "\" is not a did:x509 sha256 identifier";
  } else {
    std::string rest = e.issuer.substr(prefix.size());
    size_t sep = rest.find("::");
    std::string fp = rest.substr(0, sep), policy_part = sep == std::string::npos ? "" : rest.substr(sep + 2);
    bool ca_found = false;
    for (size_t i = 1; i < chain.size(); ++i) ca_found = ca_found || encoding::base64url_encode(chain[i].fingerprint_sha256()) == fp;
    if (!ca_found) iss_why = "no CA certificate in x5chain has the fingerprint named by the did:x509 issuer";
    else if (policy_part != std::string("eku:") + kUvmSignerEku) iss_why = "issuer policy \"" + policy_part + "\" is not the UVM signing EKU";
    else if (!chain.front().has_eku(kUvmSignerEku)) iss_why = "the signing certificate lacks the UVM signing EKU";
  }
  add_check(checks, "uvm_endorsement_issuer", iss_why.empty(),
            iss_why.empty() ? "did:x509 issuer matches the x5chain (CA fingerprint and EKU " + std::string(kUvmSignerEku) + ")"
                            : iss_why);

  Status sig = verify_cose_sign1(e.cose, chain.front());
  add_check(checks, "uvm_endorsement_signature", sig.is_ok(),
            sig.is_ok() ? "COSE_Sign1 signature verifies with " + chain.front().subject() : sig.message());

  bool meas = e.launch_measurement == r.measurement;
  add_check(checks, "uvm_endorsement_measurement", meas,
            meas ? "endorsed launch measurement equals MEASUREMENT"
                 : "endorsed launch measurement " + to_hex(e.launch_measurement) + " != MEASUREMENT " + to_hex(r.measurement));
  if (policy.uvm_feed) {
    bool ok = e.feed == *policy.uvm_feed;
    add_check(checks, "uvm_endorsement_feed", ok,
              "feed \"" + e.feed + "\"" + (ok ? " matches" : " != required \"" + *policy.uvm_feed + "\""));
  }
}

}  // namespace sealsum::secure::attest
