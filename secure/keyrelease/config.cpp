// obtain_key: evidence source + back end selection (see config.h).
#include "secure/keyrelease/config.h"

namespace sealsum::secure::keyrelease {

Result<std::unique_ptr<EvidenceSource>> make_evidence_source(const KeyReleaseConfig& config) {
  if (config.insecure_simulated_tee) return make_simulated_evidence_source(config.simulated_measurement);
  return std::unique_ptr<EvidenceSource>(new HardwareEvidenceSource(config.hardware));
}

Result<ReleasedKey> obtain_key(const KeyReleaseConfig& config, HttpTransport& transport) {
  if (config.key_id.empty()) return invalid_argument("no key id given for key release");
  SEALSUM_ASSIGN_OR_RETURN(std::unique_ptr<EvidenceSource> evidence, make_evidence_source(config));
  if (config.backend == Backend::kBroker) {
    if (config.broker_url.empty()) return invalid_argument("no key broker URL given (--kbs URL)");
    BrokerClient client(config.broker_url, transport, *evidence, config.model);
    return client.release(config.key_id);
  }
  if (config.azure.maa_endpoint.empty() || config.azure.key_vault_url.empty()) {
    return invalid_argument("Azure key release needs the attestation endpoint and the Key Vault URL");
  }
  AzureSkrClient client(config.azure, transport, *evidence);
  return client.release(config.key_id);
}

}  // namespace sealsum::secure::keyrelease
