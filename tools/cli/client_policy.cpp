// Client pins from --policy FILE and flags (see client_policy.h).
#include "tools/cli/client_policy.h"
#include "common/encoding.h"

#include <algorithm>

#include "common/files.h"
#include "secure/attest/azure_inputs.h"
#include "secure/broker/store.h"

namespace sealsum::cli {
namespace {

// "HEX[,HEX...]" of N-byte values, appended to `out` (duplicates dropped).
template <size_t N>
Status append_hex_list(const std::string& flag, const std::string& list, std::vector<std::array<uint8_t, N>>& out) {
  size_t start = 0;
  int index = 0;
  while (start <= list.size()) {
    size_t end = list.find(',', start);
    if (end == std::string::npos) end = list.size();
    ++index;
    auto bytes = encoding::hex_decode(std::string_view(list).substr(start, end - start));
    if (!bytes.ok() || bytes->size() != N) {
      return invalid_argument("--" + flag + ": entry #" + std::to_string(index) + " is not " + std::to_string(2 * N) +
                              " hex digits");
    }
    std::array<uint8_t, N> v{};
    std::copy(bytes->begin(), bytes->end(), v.begin());
    if (std::find(out.begin(), out.end(), v) == out.end()) out.push_back(v);
    start = end + 1;
  }
  return Status::ok();
}

}  // namespace

void add_client_policy_flags(Args& args) {
  args.option("policy", "FILE", "pins as JSON (the broker's release-policy format: measurements, host_data, models, "
                                "max_vmpl, min_tcb, ...)")
      .option("measurement", "HEX[,HEX...]", "allowed MEASUREMENTs (96 hex digits each)")
      .option("host-data", "HEX[,HEX...]", "allowed HOST_DATA (64 hex; required for Azure Container Instances)")
      .option("model-digest", "HEX[,HEX...]", "allowed model digests (64 hex: sha256 of the model file or the sealed file)")
      .option("max-vmpl", "N", "highest VMPL accepted (default 0)")
      .flag("insecure-simulated", "accept SIMULATED evidence (local --dev servers only; not attestation)");
}

Result<ClientPolicy> client_policy_from_args(const Args& args) {
  ClientPolicy out;
  if (auto file = args.get("policy")) {
    SEALSUM_ASSIGN_OR_RETURN(std::string text, read_file_bounded(*file, secure::keyrelease::kMaxReleasePolicyBytes));
    auto parsed = secure::keyrelease::parse_client_policy_json(text);
    if (!parsed.ok()) return invalid_argument("--policy " + *file + ": " + parsed.status().message());
    out.policy = parsed->attestation;
    out.allow_simulated = parsed->allow_simulated;
  }
  if (auto m = args.get("measurement")) SEALSUM_RETURN_IF_ERROR(append_hex_list("measurement", *m, out.policy.measurements));
  if (auto h = args.get("host-data")) SEALSUM_RETURN_IF_ERROR(append_hex_list("host-data", *h, out.policy.host_data));
  if (auto m = args.get("model-digest")) SEALSUM_RETURN_IF_ERROR(append_hex_list("model-digest", *m, out.policy.models));
  SEALSUM_ASSIGN_OR_RETURN(auto vmpl, args.get_int("max-vmpl", 0, 3));
  if (vmpl) out.policy.max_vmpl = static_cast<uint32_t>(*vmpl);
  if (args.has("insecure-simulated")) out.allow_simulated = true;
  for (const auto& h : out.policy.host_data) {
    if (h == secure::attest::kAllowAllCcePolicyHash) {
      return invalid_argument("--host-data lists the allow-all CCE policy hash, which is always refused");
    }
  }
  if (out.policy.measurements.empty()) {
    return invalid_argument("pin at least one MEASUREMENT (--measurement HEX or \"measurements\" in --policy FILE)");
  }
  return out;
}

}  // namespace sealsum::cli
