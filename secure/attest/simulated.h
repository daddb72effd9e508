// Simulated TEE: software-signed pseudo-evidence for local runs without SEV-SNP hardware.
//
// THIS IS NOT ATTESTATION. Anyone can produce it. Every verifier refuses it unless constructed with
// allow_simulated (CLI: --insecure-allow-simulated), and both producing and accepting it print a loud
// warning to stderr.
//
// Format (kSimulatedEvidenceSize bytes), deliberately distinct from a real report so it can never be
// mistaken for one:
//   [0, 32)        magic "SEALSUM-SIMULATED-TEE-EVIDENCE-1" (no NUL)
//   [32, 1216)     an SNP-shaped report (version 2, SIGNATURE_ALGO 1, VMPL, POLICY without debug,
//                  REPORT_DATA, MEASUREMENT, HOST_DATA as configured; CHIP_ID starts with
//                  "SIMULATED"); its signature field holds the simulated signature (r, s little-endian)
//   [1216, 1313)   the ephemeral P-384 public key, uncompressed SEC1 point (0x04 || X || Y)
// The signature is ECDSA P-384 / SHA-384 over magic || report[0:0x2A0] || public key. The key is
// generated per SimulatedTee instance and never leaves the process.
//
// Thread safety: a SimulatedTee may be used from one thread at a time; the free functions are
// reentrant.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "common/status.h"
#include "secure/attest/report.h"

namespace sealsum::secure::attest {

inline constexpr char kSimulatedMagic[] = "SEALSUM-SIMULATED-TEE-EVIDENCE-1";
inline constexpr size_t kSimulatedMagicSize = 32;
inline constexpr size_t kSimulatedPublicKeySize = 97;
inline constexpr size_t kSimulatedEvidenceSize = kSimulatedMagicSize + kSnpReportSize + kSimulatedPublicKeySize;

struct SimulatedOptions {
  // Default: SHA-384 of the running binary (/proc/self/exe).
  std::optional<std::array<uint8_t, 48>> measurement;
  std::array<uint8_t, 32> host_data{};
  uint32_t vmpl = 0;
  // Extra guest POLICY bits (e.g. kPolicyMigrateMa), for tests of relying parties' checks.
  uint64_t extra_policy_bits = 0;
};

class SimulatedTee {
 public:
  // Generates the ephemeral key; prints the warning to stderr.
  static Result<SimulatedTee> create(const SimulatedOptions& options = {});
  SimulatedTee(SimulatedTee&&) noexcept;
  SimulatedTee& operator=(SimulatedTee&&) noexcept;
  ~SimulatedTee();

  // Simulated evidence carrying `report_data`.
  Result<std::vector<uint8_t>> make_evidence(const std::array<uint8_t, 64>& report_data) const;
  const std::array<uint8_t, 48>& measurement() const { return measurement_; }

 private:
  struct Key;
  SimulatedTee() = default;
  std::unique_ptr<Key> key_;
  std::array<uint8_t, 48> measurement_{};
  SimulatedOptions options_;
};

struct SimulatedEvidence {
  SnpReport report;
  std::array<uint8_t, kSimulatedPublicKeySize> public_key{};
};

// True when `bytes` starts with the simulated magic.
bool is_simulated_evidence(std::span<const uint8_t> bytes);
// Parses simulated evidence (exact size) and verifies its self-signature. kDataLoss when malformed,
// kUnauthenticated when the signature does not verify. Does NOT make it trustworthy.
Result<SimulatedEvidence> open_simulated_evidence(std::span<const uint8_t> bytes);
// SHA-384 of /proc/self/exe.
Result<std::array<uint8_t, 48>> measure_running_binary();
// The stderr warning text both sides print.
const char* simulated_warning();

}  // namespace sealsum::secure::attest
