// `sealsum verify --server URL --measurement HEX[,HEX...] [--insecure-simulated]`
//
// Fetches GET /v1/attestation with a fresh nonce, verifies the evidence (signature and AMD chain,
// or the simulated self-signature only with --insecure-simulated), checks that REPORT_DATA binds
// the nonce and the TLS key of the connection, and that the MEASUREMENT is in the allow-list.
// Prints the verdict as JSON on stdout: {"verdict","accepted","simulated","measurement",
// "tls_spki_sha256","server","warnings","checks":[{name,passed,detail}]}.
// Exit: 0 accepted, 1 refused or unreachable (reason on stderr), 2 usage error.
#include <iostream>

#include <nlohmann/json.hpp>

#include "server/client.h"
#include "tools/cli/command.h"

namespace {

int run_verify(const std::vector<std::string>& argv) {
  sealsum::cli::Args args("verify", "--server URL --measurement HEX[,HEX...] [--insecure-simulated]");
  args.option("server", "URL", "the sealsum serve endpoint, e.g. https://10.0.0.5:8443", true)
      .option("measurement", "HEX[,HEX...]", "allowed MEASUREMENTs (96 hex digits each)", true)
      .flag("insecure-simulated", "accept SIMULATED evidence (local --dev servers only; not attestation)")
      .option("timeout", "S", "seconds to wait for the server (default 60)");
  if (int rc = sealsum::cli::parse_or_exit(args, argv); rc >= 0) return rc;
  auto list = sealsum::server::parse_measurement_list(*args.get("measurement"));
  if (!list.ok()) {
    std::cerr << "sealsum verify: --measurement: " << list.status().message() << "\n";
    return 2;
  }
  auto timeout = args.get_int("timeout", 1, 3600);
  if (!timeout.ok()) {
    std::cerr << "sealsum verify: " << timeout.status().message() << "\n";
    return 2;
  }
  sealsum::server::RemoteOptions opts;
  opts.server_url = *args.get("server");
  opts.measurements = std::move(list).value();
  opts.allow_simulated = args.has("insecure-simulated");
  opts.timeout_s = static_cast<int>(timeout->value_or(60));
  auto r = sealsum::server::verify_server(opts);
  if (!r.ok()) return sealsum::cli::fail("verify", r.status());
  nlohmann::json out = r->verdict.to_json();
  out["server"] = opts.server_url;
  out["warnings"] = r->warnings;
  std::cout << out.dump(2) << std::endl;
  for (const auto& w : r->warnings) std::cerr << "sealsum verify: WARNING: " << w << "\n";
  if (!r->verdict.accepted) {
    std::string failed;
    for (const auto& c : r->verdict.checks) {
      if (!c.passed) failed += (failed.empty() ? "" : ", ") + c.name;
    }
    std::cerr << "sealsum verify: REFUSED: failed checks: " << failed << "\n";
    return 1;
  }
  return 0;
}

}  // namespace

SEALSUM_COMMAND("verify", "attest a sealsum server: evidence, nonce, TLS key and measurement", run_verify);
