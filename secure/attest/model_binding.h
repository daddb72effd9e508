// Model binding: which model a sealsum workload runs, as it states it in the runtime data behind
// REPORT_DATA (server attestation answers and key-release requests alike).
//
// Runtime data carries a "model" member:
//     "model": {"sealed_sha256": "<64 hex>" | null, "sha256": "<64 hex>" | null}
//   sha256         SHA-256 of the plaintext sealsum model file the workload loaded: the whole file,
//                  trailer included, i.e. what `sha256sum model.sealsum` prints (the model owner
//                  publishes it; `sealsum convert` prints it). Null before the model is decrypted.
//   sealed_sha256  SHA-256 of the sealed model file it opened, computed over the very bytes it
//                  decrypted (secure/sealed.h); null for a plaintext --dev model.
// Why it binds: the runtime data is produced by the attested code (its hash is in REPORT_DATA), and
// that code computes both digests from the bytes it actually loads. So a release policy or client
// policy that pins "models" accepts only a workload that proves it runs one of those models; an
// operator who points the model-key request at a broker of his own (with his own sealed model,
// e.g. one that copies its input) gets no data owner's key and no client's trust.
//
// Thread safety: reentrant. Parsing is bounded by the runtime-data limits of its callers (16 KiB).
#pragma once

#include <array>
#include <optional>
#include <span>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/status.h"
#include "secure/digest.h"

namespace sealsum::secure::attest {

struct ModelDigests {
  std::optional<Digest256> sha256;
  std::optional<Digest256> sealed_sha256;
  bool empty() const { return !sha256 && !sealed_sha256; }
  bool operator==(const ModelDigests&) const = default;
};

// {"sealed_sha256": hex|null, "sha256": hex|null}
nlohmann::json model_digests_json(const ModelDigests& m);

// The "model" member of runtime data (a JSON object). nullopt when the runtime data has no "model"
// member (or is not JSON: other checks judge that); kInvalidArgument when the member is malformed.
Result<std::optional<ModelDigests>> model_digests_from_runtime_data(std::span<const uint8_t> runtime_data);

// True when a pin equals the model's sha256 or sealed_sha256.
bool model_matches(const ModelDigests& m, const std::vector<std::array<uint8_t, 32>>& pins);

// "sha256 <hex>, sealed_sha256 <hex>" (public values) for check details and logs.
std::string describe(const ModelDigests& m);

}  // namespace sealsum::secure::attest
