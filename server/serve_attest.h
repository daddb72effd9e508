// Attestation of `sealsum serve` (GET /v1/attestation?nonce=N) and its verification by a client.
//
// Server side: the *runtime data* is exact UTF-8 JSON bytes
//     {"model":{"sealed_sha256":H|null,"sha256":H},"nonce":N,"purpose":"sealsum-serve-attestation-v1",
//      "tls_spki_sha256":"<64 hex>"|null}
// (keys sorted; tls_spki_sha256 is null only in --dev plain-HTTP mode; "model" as in
// secure/attest/model_binding.h). The evidence's REPORT_DATA is SHA-256(runtime data) || 32 zero
// bytes (attest::report_data_for_runtime_data), so one report says: *this* TEE (measurement,
// HOST_DATA) runs *this* model, holds *this* TLS key and answered *this* fresh nonce. Answer body:
//     {"runtime_data": b64url(bytes), "evidence": {...protocol.h evidence object...},
//      "simulated": bool, "measurement": "<96 hex>", "host_data": "<64 hex>", "model": {...}}
// (the last three are conveniences for display; clients trust only what the evidence binds).
//
// Client side: server/serve_verify.h (verify_attestation_answer), kept out of the TEE binary.
//
// Thread safety: Attester::attest may be called concurrently (one evidence request at a time
// inside).
#pragma once

#include <array>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/status.h"
#include "secure/attest/model_binding.h"
#include "secure/attest/verifier.h"
#include "secure/digest.h"
#include "secure/keyrelease/client.h"

namespace sealsum::server {

inline constexpr char kAttestationPurpose[] = "sealsum-serve-attestation-v1";
inline constexpr size_t kMaxAttestationAnswerBytes = 256u << 10;

// Nonces: 16..128 characters of base64url alphabet.
bool valid_nonce(std::string_view nonce);
std::string make_runtime_data(std::string_view nonce, const std::optional<secure::Digest256>& tls_spki,
                              const secure::attest::ModelDigests& model);

class Attester {
 public:
  // `model`: the model the server runs (its digests enter every runtime data).
  Attester(std::unique_ptr<secure::keyrelease::EvidenceSource> source, std::optional<secure::Digest256> tls_spki,
           bool simulated, secure::attest::ModelDigests model)
      : source_(std::move(source)), tls_spki_(tls_spki), simulated_(simulated), model_(std::move(model)) {}
  // The answer body for `nonce` (valid_nonce must hold).
  Result<std::string> attest(std::string_view nonce);
  bool simulated() const { return simulated_; }
  const std::optional<secure::Digest256>& tls_spki() const { return tls_spki_; }
  const secure::attest::ModelDigests& model() const { return model_; }

 private:
  std::mutex mu_;
  std::unique_ptr<secure::keyrelease::EvidenceSource> source_;
  std::optional<secure::Digest256> tls_spki_;
  bool simulated_;
  secure::attest::ModelDigests model_;
};

// "HEX[,HEX...]" of 96-hex-digit measurements. kInvalidArgument naming the bad entry.
Result<std::vector<std::array<uint8_t, 48>>> parse_measurement_list(std::string_view list);

}  // namespace sealsum::server
