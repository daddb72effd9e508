// EvidenceProducer: the one call an enclave makes to get evidence for its runtime data, whether the
// evidence comes from the SEV-SNP hardware or (for local runs only) from the simulated TEE.
//
// REPORT_DATA = SHA-256(runtime_data) || 32 zero bytes, where runtime_data is typically a JSON (JWKS)
// carrying the enclave's ephemeral public key; this is the binding Azure MAA and our verifier check
// (runtime_data_binding). The relying party gets the runtime data alongside the evidence.
//
// Ownership: a producer owns its simulated key (if any). Thread safety: produce() is const; the
// simulated producer must not be shared across threads without external locking.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "common/status.h"
#include "secure/attest/simulated.h"

namespace sealsum::secure::attest {

class EvidenceProducer {
 public:
  // Real evidence from /dev/sev-guest (or legacy /dev/sev) at `vmpl`. Device problems surface from
  // produce() as kUnavailable naming the device.
  static EvidenceProducer hardware(uint32_t vmpl = 0);
  // INSECURE simulated evidence (prints a warning to stderr on creation and on each produce()).
  static Result<EvidenceProducer> simulated(const SimulatedOptions& options = {});

  EvidenceProducer(EvidenceProducer&&) noexcept;
  EvidenceProducer& operator=(EvidenceProducer&&) noexcept;
  ~EvidenceProducer();

  bool is_simulated() const { return sim_ != nullptr; }
  // A raw 1184-byte SEV-SNP report (hardware) or simulated evidence bound to `runtime_data`.
  Result<std::vector<uint8_t>> produce(std::span<const uint8_t> runtime_data) const;

 private:
  EvidenceProducer() = default;
  uint32_t vmpl_ = 0;
  std::unique_ptr<SimulatedTee> sim_;
};

}  // namespace sealsum::secure::attest
