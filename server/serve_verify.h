// Client-side verification of `sealsum serve` attestation answers (the answer format is in
// server/serve_attest.h). Relying-party code: linked into the `sealsum` clients, not sealsum-serve.
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
// Thread safety: verify_attestation_answer is reentrant.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "secure/attest/verifier.h"
#include "server/serve_attest.h"

namespace sealsum::server {

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

}  // namespace sealsum::server
