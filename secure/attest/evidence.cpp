// Evidence production front end (see evidence.h).
#include "secure/attest/evidence.h"

#include "secure/attest/sev_guest.h"
#include "secure/attest/verifier.h"

namespace sealsum::secure::attest {

EvidenceProducer EvidenceProducer::hardware(uint32_t vmpl) {
  EvidenceProducer p;
  p.vmpl_ = vmpl;
  return p;
}

Result<EvidenceProducer> EvidenceProducer::simulated(const SimulatedOptions& options) {
  SEALSUM_ASSIGN_OR_RETURN(SimulatedTee tee, SimulatedTee::create(options));
  EvidenceProducer p;
  p.vmpl_ = options.vmpl;
  p.sim_ = std::make_unique<SimulatedTee>(std::move(tee));
  return p;
}

EvidenceProducer::EvidenceProducer(EvidenceProducer&&) noexcept = default;
EvidenceProducer& EvidenceProducer::operator=(EvidenceProducer&&) noexcept = default;
EvidenceProducer::~EvidenceProducer() = default;

Result<std::vector<uint8_t>> EvidenceProducer::produce(std::span<const uint8_t> runtime_data) const {
  std::array<uint8_t, 64> report_data = report_data_for_runtime_data(runtime_data);
  if (sim_) return sim_->make_evidence(report_data);
  return get_report_hardware(report_data, vmpl_);
}

}  // namespace sealsum::secure::attest
