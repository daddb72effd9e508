// obtain_key: evidence source + back end selection (see config.h).
#include "secure/keyrelease/config.h"

namespace sealsum::secure::keyrelease {

Result<std::unique_ptr<EvidenceSource>> make_evidence_source(const KeyReleaseConfig& config) {
  if (config.insecure_simulated_tee) return make_simulated_evidence_source(config.simulated_measurement);
  return std::unique_ptr<EvidenceSource>(new HardwareEvidenceSource(config.hardware));
}

namespace {

// --dev with the Azure back end: simulated reports carrying the certificates the options name, so
// the MAA request has its real shape (a real MAA refuses them: the report is not AMD-signed).
class SimulatedWithCertificates : public EvidenceSource {
 public:
  SimulatedWithCertificates(std::unique_ptr<EvidenceSource> sim, attest::SnpEvidence certs)
      : sim_(std::move(sim)), certs_(std::move(certs)) {}
  Result<attest::SnpEvidence> collect(const std::array<uint8_t, 64>& report_data) override {
    attest::SnpEvidence e = certs_;
    SEALSUM_ASSIGN_OR_RETURN(attest::SnpEvidence sim, sim_->collect(report_data));
    e.report = std::move(sim.report);
    return e;
  }

 private:
  std::unique_ptr<EvidenceSource> sim_;
  attest::SnpEvidence certs_;
};

}  // namespace

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
  if (config.insecure_simulated_tee && names_certificates(config.hardware)) {
    SEALSUM_ASSIGN_OR_RETURN(attest::SnpEvidence certs, load_evidence_certificates(config.hardware));
    evidence = std::make_unique<SimulatedWithCertificates>(std::move(evidence), std::move(certs));
  }
  AzureSkrClient client(config.azure, transport, *evidence);
  return client.release(config.key_id);
}

}  // namespace sealsum::secure::keyrelease
