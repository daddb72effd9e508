// The simulated TEE as a key-release evidence source (NOT attestation; prints the simulated-TEE
// warning). Development builds only: it lives in the sealsum_secure_devtee library, which the
// `sealsum` CLI links (for `sealsum serve --dev` and local runs) and the release sealsum-serve does
// not (CMake option SEALSUM_DEV_TEE, default OFF).
//
// make_simulated_evidence_source() is what config.cpp calls for insecure_simulated_tee. It has two
// definitions, and each binary links exactly one: simulated_source.cpp (the simulated TEE) and
// no_simulated_source.cpp (kUnimplemented: this build has no simulated TEE).
// Thread safety: a source is used by one thread at a time.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>

#include "common/status.h"
#include "secure/attest/simulated.h"
#include "secure/keyrelease/client.h"

namespace sealsum::secure::keyrelease {

class SimulatedEvidenceSource : public EvidenceSource {
 public:
  static Result<std::unique_ptr<SimulatedEvidenceSource>> create(const attest::SimulatedOptions& options = {});
  Result<attest::SnpEvidence> collect(const std::array<uint8_t, 64>& report_data) override;
  const std::array<uint8_t, 48>& measurement() const { return tee_.measurement(); }

 private:
  explicit SimulatedEvidenceSource(attest::SimulatedTee tee) : tee_(std::move(tee)) {}
  attest::SimulatedTee tee_;
};

}  // namespace sealsum::secure::keyrelease
