// `sealsum attestation verify|report|produce`: SEV-SNP evidence verification (external checks call
// `verify`; its name and flags are a stable interface), report dumping and evidence production.
//
//   verify  --report FILE (--vcek CERT | --vlek CERT | --host-amd-cert JSON) [--chain PEM] [--policy JSON]
//           [--report-offset N] [--endorsement COSE] [--runtime-data FILE] [--cce-policy FILE]
//           [--insecure-allow-simulated] [--json]
//   verify  --maa-request JSON [--policy JSON] [--json]     (report, chain, endorsement, runtime data inside)
//   report  --report FILE [--report-offset N]               (prints every field as JSON)
//   produce --runtime-data FILE --out FILE [--simulated [--measurement HEX] [--host-data HEX]] [--vmpl N]
// Exit codes: 0 verified / done, 1 refused or failed (reason on stderr, checks on stdout), 2 usage.
#include <algorithm>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>

#include "secure/attest/azure_inputs.h"
#include "common/encoding.h"
#include "secure/attest/cce_policy.h"
#include "secure/attest/policy.h"
#include "secure/attest/report.h"
#include "secure/attest/sev_guest.h"
#include "secure/attest/simulated.h"
#include "secure/attest/verifier.h"
#include "tools/cli/command.h"

namespace {

namespace at = sealsum::secure::attest;
using sealsum::Result;
using sealsum::Status;

constexpr size_t kMaxInputFile = 8u << 20;

Result<std::vector<uint8_t>> read_file(const std::string& path, const char* what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return sealsum::not_found(std::string("cannot open ") + what + " file " + path);
  std::vector<uint8_t> data;
  char buf[65536];
  while (in) {
    in.read(buf, sizeof buf);
    data.insert(data.end(), buf, buf + in.gcount());
    if (data.size() > kMaxInputFile) {
      return sealsum::resource_exhausted(std::string(what) + " file " + path + " exceeds " + std::to_string(kMaxInputFile) + " bytes");
    }
  }
  if (in.bad()) return sealsum::data_loss(std::string("read error on ") + what + " file " + path);
  return data;
}

std::string as_text(const std::vector<uint8_t>& b) { return std::string(b.begin(), b.end()); }

// Reads --report (raw or hex) and cuts out the report at --report-offset (whole rest for simulated evidence).
Result<std::vector<uint8_t>> load_report(const sealsum::cli::Args& args, long long offset) {
  SEALSUM_ASSIGN_OR_RETURN(std::vector<uint8_t> file, read_file(*args.get("report"), "report"));
  SEALSUM_ASSIGN_OR_RETURN(std::vector<uint8_t> bytes, at::decode_report_input(file));
  if (size_t(offset) > bytes.size()) {
    return sealsum::invalid_argument("--report-offset " + std::to_string(offset) + " is past the end of the " +
                                     std::to_string(bytes.size()) + "-byte report input");
  }
  std::span<const uint8_t> rest = std::span<const uint8_t>(bytes).subspan(size_t(offset));
  if (at::is_simulated_evidence(rest)) return std::vector<uint8_t>(rest.begin(), rest.end());
  size_t n = std::min(rest.size(), at::kSnpReportSize);
  return std::vector<uint8_t>(rest.begin(), rest.begin() + long(n));
}

int print_result(const at::VerificationResult& r, bool json) {
  if (json) {
    std::cout << r.to_json() << "\n";
  } else {
    for (const auto& c : r.checks) std::cout << (c.passed ? "PASS " : "FAIL ") << c.name << ": " << c.detail << "\n";
    std::cout << "verdict: " << (r.verdict ? "ACCEPTED" : "REFUSED") << (r.simulated ? " (SIMULATED, INSECURE)" : "") << "\n";
  }
  if (!r.verdict) std::cerr << "sealsum attestation verify: " << r.status().message() << "\n";
  return r.verdict ? 0 : 1;
}

int run_verify(const std::vector<std::string>& argv) {
  sealsum::cli::Args args("attestation verify",
                          "--report FILE (--vcek CERT | --vlek CERT | --host-amd-cert JSON) [--chain PEM] [options] | "
                          "--maa-request JSON [options]");
  args.option("report", "FILE", "SEV-SNP report: raw binary or hex text (or simulated evidence)")
      .option("vcek", "CERT", "VCEK certificate (DER or PEM)")
      .option("vlek", "CERT", "VLEK certificate (DER or PEM)")
      .option("chain", "PEM", "AMD certificates, PEM, any order: ARK and ASK (VCEK) or ASVK (VLEK); extra ones ignored")
      .option("host-amd-cert", "JSON", "Azure host certificate JSON (vcekCert + certificateChain), instead of --vcek/--chain")
      .option("maa-request", "JSON", "an Azure MAA SEV-SNP request body (report, VCEK chain, endorsement, runtime data)")
      .option("policy", "JSON", "policy file (see secure/attest/policy.h); default: signature, chain, no debug")
      .option("report-offset", "N", "byte offset of the report inside the (decoded) input")
      .option("endorsement", "COSE", "Azure UVM endorsement (COSE_Sign1) to check against MEASUREMENT")
      .option("runtime-data", "FILE", "runtime data whose SHA-256 must equal REPORT_DATA[0:32]")
      .option("cce-policy", "FILE", "ACI CCE policy (base64 or Rego): SHA-256 of it must equal HOST_DATA and it "
                                    "must pass `sealsum policy inspect`")
      .flag("insecure-allow-simulated", "accept simulated (software-signed) evidence: local testing only")
      .flag("json", "print the checks and the verdict as JSON");
  if (int rc = sealsum::cli::parse_or_exit(args, argv); rc >= 0) return rc;
  auto usage = [&args](const std::string& m) {
    std::cerr << "sealsum: " << m << "\n\n" << args.usage();
    return 2;
  };
  auto offset = args.get_int("report-offset", 0, 1ll << 30);
  if (!offset.ok()) return usage(offset.status().message());
  int cert_sources = int(args.has("vcek")) + int(args.has("vlek")) + int(args.has("host-amd-cert"));
  if (args.has("maa-request") && (args.has("report") || cert_sources || args.has("chain"))) {
    return usage("--maa-request carries the report and certificates; do not combine it with --report/--vcek/--chain");
  }
  if (!args.has("maa-request") && !args.has("report")) return usage("missing --report FILE (or --maa-request JSON)");
  if (cert_sources > 1) return usage("give exactly one of --vcek, --vlek, --host-amd-cert");

  at::Policy policy = at::default_policy();
  if (auto p = args.get("policy")) {
    auto text = read_file(*p, "policy");
    if (!text.ok()) return sealsum::cli::fail("attestation verify", text.status());
    auto parsed = at::parse_policy_json(as_text(*text));
    if (!parsed.ok()) return sealsum::cli::fail("attestation verify", parsed.status());
    policy = *parsed;
  }

  at::SnpEvidence ev;
  std::optional<at::CcePolicy> cce_policy;
  Status st = [&]() -> Status {
    if (auto m = args.get("maa-request")) {
      SEALSUM_ASSIGN_OR_RETURN(auto text, read_file(*m, "MAA request"));
      SEALSUM_ASSIGN_OR_RETURN(auto req, at::parse_maa_request_json(as_text(text)));
      ev = at::evidence_from_maa_request(req);
    } else {
      SEALSUM_ASSIGN_OR_RETURN(ev.report, load_report(args, offset->value_or(0)));
    }
    if (auto v = args.get("vcek")) {
      SEALSUM_ASSIGN_OR_RETURN(ev.signing_cert, read_file(*v, "VCEK"));
    } else if (auto l = args.get("vlek")) {
      SEALSUM_ASSIGN_OR_RETURN(ev.signing_cert, read_file(*l, "VLEK"));
      ev.cert_kind = at::CertKind::kVlek;
    } else if (auto h = args.get("host-amd-cert")) {
      SEALSUM_ASSIGN_OR_RETURN(auto text, read_file(*h, "host AMD certificate"));
      SEALSUM_ASSIGN_OR_RETURN(auto hc, at::parse_host_amd_certificate_json(as_text(text)));
      ev.signing_cert.assign(hc.vcek_pem.begin(), hc.vcek_pem.end());
      ev.chain_pem = hc.chain_pem;
    }
    if (auto c = args.get("chain")) {
      SEALSUM_ASSIGN_OR_RETURN(auto text, read_file(*c, "certificate chain"));
      ev.chain_pem = as_text(text);
    }
    if (auto e = args.get("endorsement")) {
      SEALSUM_ASSIGN_OR_RETURN(auto bytes, read_file(*e, "endorsement"));
      ev.uvm_endorsement = std::move(bytes);
    }
    if (auto r = args.get("runtime-data")) {
      SEALSUM_ASSIGN_OR_RETURN(auto bytes, read_file(*r, "runtime data"));
      ev.runtime_data = std::move(bytes);
    }
    if (auto c = args.get("cce-policy")) {
      SEALSUM_ASSIGN_OR_RETURN(auto bytes, read_file(*c, "CCE policy"));
      auto p = at::load_cce_policy(as_text(bytes));
      if (!p.ok()) return p.status().with_context("CCE policy " + *c);
      cce_policy = std::move(p).value();
    }
    return Status::ok();
  }();
  if (!st.is_ok()) return sealsum::cli::fail("attestation verify", st);
  if (ev.signing_cert.empty() && !at::is_simulated_evidence(ev.report)) {
    return usage("missing the signing certificate: --vcek CERT, --vlek CERT or --host-amd-cert JSON");
  }
  if (cce_policy) {
    // The CCE policy given is the HOST_DATA pin: its hash is what the report must carry.
    const auto hd = at::cce_host_data(cce_policy->rego);
    if (std::find(policy.host_data.begin(), policy.host_data.end(), hd) == policy.host_data.end()) {
      policy.host_data.push_back(hd);
    }
  }
  at::VerifyOptions opt;
  opt.allow_simulated = args.has("insecure-allow-simulated");
  at::VerificationResult result = at::verify_evidence(ev, policy, opt);
  if (cce_policy) at::add_cce_policy_checks(result, *cce_policy);
  return print_result(result, args.has("json"));
}

int run_report(const std::vector<std::string>& argv) {
  sealsum::cli::Args args("attestation report", "--report FILE [--report-offset N]");
  args.option("report", "FILE", "SEV-SNP report: raw binary or hex text", true)
      .option("report-offset", "N", "byte offset of the report inside the (decoded) input");
  if (int rc = sealsum::cli::parse_or_exit(args, argv); rc >= 0) return rc;
  auto offset = args.get_int("report-offset", 0, 1ll << 30);
  if (!offset.ok()) {
    std::cerr << "sealsum: " << offset.status().message() << "\n";
    return 2;
  }
  auto file = read_file(*args.get("report"), "report");
  if (!file.ok()) return sealsum::cli::fail("attestation report", file.status());
  auto bytes = at::decode_report_input(*file);
  if (!bytes.ok()) return sealsum::cli::fail("attestation report", bytes.status());
  auto r = at::parse_report(*bytes, size_t(offset->value_or(0)));
  if (!r.ok()) return sealsum::cli::fail("attestation report", r.status());
  std::cout << at::report_to_json(*r, r->cpuid_product()) << "\n";
  return 0;
}

template <size_t N>
Result<std::array<uint8_t, N>> parse_hex_flag(const std::string& flag, const std::string& value) {
  auto b = sealsum::encoding::hex_decode(value);
  if (!b.ok() || b->size() != N) {
    return sealsum::invalid_argument("--" + flag + " expects " + std::to_string(2 * N) + " hex digits");
  }
  std::array<uint8_t, N> out{};
  std::copy(b->begin(), b->end(), out.begin());
  return out;
}

int run_produce(const std::vector<std::string>& argv) {
  sealsum::cli::Args args("attestation produce", "--runtime-data FILE --out FILE [--simulated ...]");
  args.option("runtime-data", "FILE", "runtime data (e.g. JWKS with the enclave's key); REPORT_DATA = SHA-256 of it", true)
      .option("out", "FILE", "where to write the raw report (or simulated evidence)", true)
      .option("vmpl", "N", "VMPL to request (0..3, default 0)")
      .flag("simulated", "INSECURE: produce software-signed simulated evidence instead of asking the hardware")
      .option("measurement", "HEX", "simulated only: MEASUREMENT (96 hex; default SHA-384 of this binary)")
      .option("host-data", "HEX", "simulated only: HOST_DATA (64 hex; default zeros)");
  if (int rc = sealsum::cli::parse_or_exit(args, argv); rc >= 0) return rc;
  auto vmpl = args.get_int("vmpl", 0, 3);
  if (!vmpl.ok()) {
    std::cerr << "sealsum: " << vmpl.status().message() << "\n";
    return 2;
  }
  if (!args.has("simulated") && (args.has("measurement") || args.has("host-data"))) {
    std::cerr << "sealsum: --measurement/--host-data only apply with --simulated\n";
    return 2;
  }
  auto rt = read_file(*args.get("runtime-data"), "runtime data");
  if (!rt.ok()) return sealsum::cli::fail("attestation produce", rt.status());
  auto report_data = at::report_data_for_runtime_data(*rt);
  Result<std::vector<uint8_t>> evidence = [&]() -> Result<std::vector<uint8_t>> {
    if (!args.has("simulated")) return at::get_report_hardware(report_data, uint32_t(vmpl->value_or(0)));
    at::SimulatedOptions so;
    so.vmpl = uint32_t(vmpl->value_or(0));
    if (auto m = args.get("measurement")) {
      SEALSUM_ASSIGN_OR_RETURN(so.measurement, parse_hex_flag<48>("measurement", *m));
    }
    if (auto h = args.get("host-data")) {
      SEALSUM_ASSIGN_OR_RETURN(so.host_data, parse_hex_flag<32>("host-data", *h));
    }
    SEALSUM_ASSIGN_OR_RETURN(auto tee, at::SimulatedTee::create(so));
    return tee.make_evidence(report_data);
  }();
  if (!evidence.ok()) return sealsum::cli::fail("attestation produce", evidence.status());
  std::ofstream out(*args.get("out"), std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(evidence->data()), std::streamsize(evidence->size()));
  if (!out) return sealsum::cli::fail("attestation produce", sealsum::data_loss("cannot write " + *args.get("out")));
  return 0;
}

int run_attestation(const std::vector<std::string>& argv) {
  const char* usage =
      "usage: sealsum attestation <verify|report|produce> [options]   (sealsum attestation <sub> --help)\n"
      "  verify   verify SEV-SNP evidence against the AMD chain and a policy\n"
      "  report   print the fields of a SEV-SNP report as JSON\n"
      "  produce  request a report from the SEV-SNP guest device (or --simulated, insecure)\n";
  if (argv.empty()) {
    std::cerr << usage;
    return 2;
  }
  std::vector<std::string> rest(argv.begin() + 1, argv.end());
  if (argv[0] == "verify") return run_verify(rest);
  if (argv[0] == "report") return run_report(rest);
  if (argv[0] == "produce") return run_produce(rest);
  if (argv[0] == "--help" || argv[0] == "-h") {
    std::cout << usage;
    return 0;
  }
  std::cerr << "sealsum: unknown attestation subcommand '" << argv[0] << "'\n" << usage;
  return 2;
}

}  // namespace

SEALSUM_COMMAND("attestation", "verify, dump or produce SEV-SNP attestation evidence", run_attestation);
