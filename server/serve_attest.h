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
// Client side (verify_attestation_answer): parses the answer (bounded), runs the attest verifier
// with the relying party's policy plus require_runtime_data, which checks the report's signature
// and AMD chain (or the simulated self-signature, only with allow_simulated), MEASUREMENT, HOST_DATA
// (which must be pinned for Azure evidence), VMPL, TCB, debug, MIGRATE_MA, the model pins against
// the runtime data's "model", and that REPORT_DATA binds the runtime data; then checks the runtime
// data's nonce equals the one sent and its TLS key against the connection (tls_key_binding: over
// TLS the keys must be equal; without TLS only simulated evidence naming no TLS key passes, so a
// relay that downgrades to http:// or forges runtime data naming its own key is refused). Every
// check lands in the verdict's list.
//
// Thread safety: Attester::attest may be called concurrently (one evidence request at a time
// inside); verify_attestation_answer is reentrant.
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

struct AttestationVerdict {
  bool accepted = false;
  bool simulated = false;
  std::string measurement;                       // hex, when the report parsed
  std::string host_data;                         // hex, when the report parsed
  std::optional<secure::attest::ModelDigests> model;  // what the runtime data names
  std::optional<secure::Digest256> tls_spki;     // what the runtime data binds (null in dev mode)
  std::vector<secure::attest::Check> checks;     // verifier checks + nonce_binding + tls_key_binding
  nlohmann::json to_json() const;
};

struct VerifyExpectations {
  std::string nonce;
  secure::attest::Policy policy;  // the relying party's pins; "measurements" must not be empty
  bool allow_simulated = false;
  // The SPKI hash of the TLS connection the answer came over; nullopt for plain HTTP.
  std::optional<secure::Digest256> observed_tls_spki;
};
AttestationVerdict verify_attestation_answer(std::string_view body, const VerifyExpectations& expect);

// "HEX[,HEX...]" of 96-hex-digit measurements. kInvalidArgument naming the bad entry.
Result<std::vector<std::array<uint8_t, 48>>> parse_measurement_list(std::string_view list);

}  // namespace sealsum::server
