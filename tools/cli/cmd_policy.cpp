// `sealsum policy hostdata|inspect|release-json`: Azure Confidential Containers (CCE) policy tools
// (secure/attest/cce_policy.h).
//
//   hostdata FILE                 prints the HOST_DATA (64 hex digits) an ACI container group running
//                                 the policy reports; FILE is the base64 `ccePolicy` value (as ACI and
//                                 az confcom write it) or its decoded Rego text; - reads stdin
//   inspect FILE [--json]         prints the findings (refuse / warn, rule, what to change) and the
//                                 HOST_DATA; exit 1 when any finding refuses
//   release-json (--host-data HEX | --cce-policy FILE) --maa URL [--out FILE]
//                                 prints the Key Vault / Managed HSM Secure Key Release policy that
//                                 releases a key only to that HOST_DATA, attested by MAA at URL, on a
//                                 compliant, non-debuggable utility VM; with --cce-policy the policy
//                                 must pass the inspection first
// Exit codes: 0 done / no refusal, 1 refused or failed (reason on stderr), 2 usage.
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "secure/attest/cce_policy.h"
#include "tools/cli/command.h"

namespace {

namespace at = sealsum::secure::attest;
using sealsum::Result;
using sealsum::cli::usage_error;

Result<at::CcePolicy> load(const std::string& path) {
  SEALSUM_ASSIGN_OR_RETURN(std::string bytes, sealsum::cli::read_input(path, at::kMaxCcePolicyFileBytes));
  auto p = at::load_cce_policy(bytes);
  if (!p.ok()) return p.status().with_context("CCE policy " + path);
  return p;
}

std::string host_data_hex(const at::CcePolicy& p) { return sealsum::secure::to_hex(at::cce_host_data(p.rego)); }

int run_hostdata(const std::vector<std::string>& argv) {
  sealsum::cli::Args args("policy hostdata", "FILE");
  args.positionals("FILE", "CCE policy: base64 (ccePolicy) or decoded Rego; - for stdin", 1, 1);
  if (int rc = sealsum::cli::parse_or_exit(args, argv); rc >= 0) return rc;
  auto p = load(args.rest().front());
  if (!p.ok()) return sealsum::cli::fail("policy hostdata", p.status());
  std::cout << host_data_hex(*p) << "\n";
  return 0;
}

void print_findings(const at::CceInspection& r, const std::string& host_data) {
  for (const auto& f : r.findings) {
    std::cout << (f.severity == at::Severity::kRefuse ? "REFUSE " : "WARN   ") << f.rule << ": " << f.detail << "\n";
  }
  std::cout << "host_data: " << host_data << "\n";
  size_t warns = 0;
  for (const auto& f : r.findings) warns += f.severity == at::Severity::kWarn;
  if (r.refused()) {
    std::string rules;
    for (const auto& rule : r.refused_rules()) rules += (rules.empty() ? "" : ", ") + rule;
    std::cout << "verdict: REFUSED (" << rules << ")\n";
  } else {
    std::cout << "verdict: PASSED (" << warns << " warning" << (warns == 1 ? "" : "s") << ")\n";
  }
}

int run_inspect(const std::vector<std::string>& argv) {
  sealsum::cli::Args args("policy inspect", "FILE [--json]");
  args.positionals("FILE", "CCE policy: base64 (ccePolicy) or decoded Rego; - for stdin", 1, 1)
      .flag("json", "print {host_data, refused, refused_rules, findings} as JSON");
  if (int rc = sealsum::cli::parse_or_exit(args, argv); rc >= 0) return rc;
  auto p = load(args.rest().front());
  if (!p.ok()) return sealsum::cli::fail("policy inspect", p.status());
  at::CceInspection r = at::inspect_cce_policy(p->rego);
  if (args.has("json")) {
    nlohmann::ordered_json j;
    j["host_data"] = host_data_hex(*p);
    nlohmann::ordered_json inspection = nlohmann::ordered_json::parse(r.to_json());
    for (auto it = inspection.begin(); it != inspection.end(); ++it) j[it.key()] = it.value();
    std::cout << j.dump(2) << "\n";
  } else {
    print_findings(r, host_data_hex(*p));
  }
  if (r.refused()) {
    std::cerr << "sealsum policy inspect: the policy is unsafe for a clean room; change what each REFUSE line "
                 "names and regenerate it\n";
    return 1;
  }
  return 0;
}

int run_release_json(const std::vector<std::string>& argv) {
  sealsum::cli::Args args("policy release-json", "(--host-data HEX | --cce-policy FILE) --maa URL [--out FILE]");
  args.option("host-data", "HEX", "HOST_DATA to pin (64 hex digits, from `sealsum policy hostdata`)")
      .option("cce-policy", "FILE", "compute HOST_DATA from this CCE policy (it must pass `policy inspect`)")
      .option("maa", "URL", "the Azure Attestation instance (https://...attest.azure.net) Key Vault trusts", true)
      .option("out", "FILE", "write the JSON here instead of stdout");
  if (int rc = sealsum::cli::parse_or_exit(args, argv); rc >= 0) return rc;
  if (args.has("host-data") == args.has("cce-policy")) return usage_error(args, "give exactly one of --host-data or --cce-policy");
  std::string host_data;
  if (auto h = args.get("host-data")) {
    host_data = *h;
  } else {
    auto p = load(*args.get("cce-policy"));
    if (!p.ok()) return sealsum::cli::fail("policy release-json", p.status());
    at::CceInspection r = at::inspect_cce_policy(p->rego);
    if (r.refused()) {
      print_findings(r, host_data_hex(*p));
      return sealsum::cli::fail("policy release-json",
                                sealsum::permission_denied("the CCE policy is refused by inspection; no release policy "
                                                           "is written for it"));
    }
    host_data = host_data_hex(*p);
  }
  auto json = at::skr_release_policy_json(host_data, *args.get("maa"));
  if (!json.ok()) {
    if (json.status().code() == sealsum::Code::kInvalidArgument) return usage_error(args, json.status().message());
    return sealsum::cli::fail("policy release-json", json.status());
  }
  if (auto out = args.get("out")) {
    std::ofstream f(*out, std::ios::binary | std::ios::trunc);
    f << *json << "\n";
    if (!f.flush()) return sealsum::cli::fail("policy release-json", sealsum::data_loss("cannot write " + *out));
  } else {
    std::cout << *json << "\n";
  }
  return 0;
}

int run_policy(const std::vector<std::string>& argv) {
  const char* usage =
      "usage: sealsum policy <hostdata|inspect|release-json> [options]   (sealsum policy <sub> --help)\n"
      "  hostdata      HOST_DATA (SHA-256 of the decoded CCE policy) an ACI container group reports\n"
      "  inspect       refuse CCE policies unsafe for a clean room (exec, stdio, debug, logging, ...)\n"
      "  release-json  Key Vault / Managed HSM key release policy pinning HOST_DATA\n";
  if (argv.empty()) {
    std::cerr << usage;
    return 2;
  }
  std::vector<std::string> rest(argv.begin() + 1, argv.end());
  if (argv[0] == "hostdata") return run_hostdata(rest);
  if (argv[0] == "inspect") return run_inspect(rest);
  if (argv[0] == "release-json") return run_release_json(rest);
  if (argv[0] == "--help" || argv[0] == "-h") {
    std::cout << usage;
    return 0;
  }
  std::cerr << "sealsum: unknown policy subcommand '" << argv[0] << "'\n" << usage;
  return 2;
}

}  // namespace

SEALSUM_COMMAND("policy", "Azure confidential container (CCE) policies: HOST_DATA, inspection, key release", run_policy);
