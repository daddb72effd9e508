// What a relying party pins when it talks to a sealsum server (`sealsum verify`, `sealsum summarize
// --server`): one policy, from a file and/or flags.
//
//   --policy FILE          the release-policy JSON format (secure/attest/policy.h plus
//                          "allow_simulated"; secure/broker/store.h), so one file can pin a server
//                          for a client and a key at the broker; "output" is refused here
//   --measurement HEX[,..] MEASUREMENTs (96 hex digits), added to the file's
//   --host-data HEX[,..]   HOST_DATA values (64 hex; `sealsum policy hostdata FILE` computes them)
//   --model-digest HEX[,..] model digests (64 hex: sha256 of the model file or of the sealed file)
//   --max-vmpl N           highest VMPL accepted (default 0, or the file's)
//   --insecure-simulated   accept SIMULATED evidence (local --dev servers only)
// At least one measurement is required. Evidence from Azure Container Instances is refused unless
// HOST_DATA is pinned (the verifier's host_data_pinned check says why).
// Thread safety: plain functions over their arguments.
#pragma once

#include "common/status.h"
#include "secure/attest/policy.h"
#include "tools/cli/command.h"

namespace sealsum::cli {

struct ClientPolicy {
  secure::attest::Policy policy;
  bool allow_simulated = false;
};

void add_client_policy_flags(Args& args);
// kInvalidArgument naming the flag or file on any error.
Result<ClientPolicy> client_policy_from_args(const Args& args);

}  // namespace sealsum::cli
