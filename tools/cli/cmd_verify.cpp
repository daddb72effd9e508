// `sealsum verify --server URL (--policy FILE | --measurement HEX[,HEX...]) [--host-data HEX[,...]]
//                [--model-digest HEX[,...]] [--max-vmpl N] [--insecure-simulated]`
//
// Fetches GET /v1/attestation with a fresh nonce, verifies the evidence (signature and AMD chain,
// or the simulated self-signature only with --insecure-simulated) against the pins
// (tools/cli/client_policy.h: MEASUREMENT, HOST_DATA, model digests, VMPL, TCB, debug, MIGRATE_MA),
// and checks that REPORT_DATA binds the nonce, the model and the TLS key of the connection
// (server/client.h: no downgrade to plain HTTP for real evidence).
// Prints the verdict as JSON on stdout: {"verdict","accepted","simulated","measurement","host_data",
// "model","tls_spki_sha256","server","warnings","checks":[{name,passed,detail}]} (every check).
// Exit: 0 accepted, 1 refused or unreachable (reason on stderr), 2 usage error.
#include <iostream>

#include <nlohmann/json.hpp>

#include "server/client.h"
#include "tools/cli/client_policy.h"
#include "tools/cli/command.h"

namespace {

int run_verify(const std::vector<std::string>& argv) {
  sealsum::cli::Args args("verify", "--server URL (--policy FILE | --measurement HEX[,HEX...]) [pins]");
  args.option("server", "URL", "the sealsum serve endpoint, e.g. https://10.0.0.5:8443", true)
      .option("timeout", "S", "seconds to wait for the server (default 60)")
      .flag("json", "accepted for symmetry: the verdict is always printed as JSON");
  sealsum::cli::add_client_policy_flags(args);
  if (int rc = sealsum::cli::parse_or_exit(args, argv); rc >= 0) return rc;
  auto pins = sealsum::cli::client_policy_from_args(args);
  if (!pins.ok()) return sealsum::cli::usage_error(args, pins.status().message());
  auto timeout = args.get_int("timeout", 1, 3600);
  if (!timeout.ok()) {
    std::cerr << "sealsum verify: " << timeout.status().message() << "\n";
    return 2;
  }
  sealsum::server::RemoteOptions opts;
  opts.server_url = *args.get("server");
  opts.policy = pins->policy;
  opts.allow_simulated = pins->allow_simulated;
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
