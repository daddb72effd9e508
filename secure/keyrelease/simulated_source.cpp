// The simulated TEE as an evidence source (see simulated_source.h). Development builds only.
#include "secure/keyrelease/simulated_source.h"

#include "secure/keyrelease/config.h"

namespace sealsum::secure::keyrelease {

Result<std::unique_ptr<SimulatedEvidenceSource>> SimulatedEvidenceSource::create(
    const attest::SimulatedOptions& options) {
  SEALSUM_ASSIGN_OR_RETURN(attest::SimulatedTee tee, attest::SimulatedTee::create(options));
  return std::unique_ptr<SimulatedEvidenceSource>(new SimulatedEvidenceSource(std::move(tee)));
}

Result<attest::SnpEvidence> SimulatedEvidenceSource::collect(const std::array<uint8_t, 64>& report_data) {
  attest::SnpEvidence e;
  SEALSUM_ASSIGN_OR_RETURN(e.report, tee_.make_evidence(report_data));
  return e;
}

Result<std::unique_ptr<EvidenceSource>> make_simulated_evidence_source(
    const std::optional<std::array<uint8_t, 48>>& measurement) {
  attest::SimulatedOptions o;
  o.measurement = measurement;
  SEALSUM_ASSIGN_OR_RETURN(std::unique_ptr<SimulatedEvidenceSource> s, SimulatedEvidenceSource::create(o));
  return std::unique_ptr<EvidenceSource>(std::move(s));
}

}  // namespace sealsum::secure::keyrelease
