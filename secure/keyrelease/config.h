// One configuration for "get me key K" and the single entry point the CLI and server call.
//
// obtain_key(config, transport) builds the evidence source (simulated TEE only when
// insecure_simulated_tee is set; otherwise SEV-SNP hardware) and the back end (broker or Azure)
// and runs one release. server/kbs_client.h adds obtain_key(config) with the cpp-httplib
// transport; that is the function `sealsum summarize --kbs URL` and `sealsum serve` call.
// Thread safety: reentrant (each call builds its own objects).
#pragma once

#include <array>
#include <optional>
#include <string>

#include "common/status.h"
#include "secure/keyrelease/azure.h"
#include "secure/keyrelease/client.h"
#include "secure/secret_buffer.h"

namespace sealsum::secure::keyrelease {

enum class Backend { kBroker, kAzure };

struct KeyReleaseConfig {
  Backend backend = Backend::kBroker;
  std::string key_id;       // broker: the registered key id (= the sealed file's kid); Azure: NAME[/VERSION]
  std::string broker_url;   // "http://127.0.0.1:8443" (kBroker)
  AzureSkrConfig azure;     // (kAzure)
  // Evidence: the simulated TEE (local dev runs; a policy must allow_simulated) or hardware.
  bool insecure_simulated_tee = false;
  std::optional<std::array<uint8_t, 48>> simulated_measurement;  // default: SHA-384 of this binary
  HardwareEvidenceOptions hardware;
  // The model this workload runs (broker back end: named in the runtime data, so release policies can
  // pin it). Set once the model is loaded; the model key's own release names only sealed_sha256.
  std::optional<attest::ModelDigests> model;
};

Result<std::unique_ptr<EvidenceSource>> make_evidence_source(const KeyReleaseConfig& config);
// The simulated TEE's source (development builds: simulated_source.cpp), or kUnimplemented in
// a binary built without it (no_simulated_source.cpp). Each binary links exactly one definition.
Result<std::unique_ptr<EvidenceSource>> make_simulated_evidence_source(
    const std::optional<std::array<uint8_t, 48>>& measurement);
Result<ReleasedKey> obtain_key(const KeyReleaseConfig& config, HttpTransport& transport);

}  // namespace sealsum::secure::keyrelease
