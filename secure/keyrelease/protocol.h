// The sealsum key-release protocol (`sealsum kbs`), its wire messages and their bounded parsers.
//
// Roles: the *enclave* (a sealsum process inside an SEV-SNP guest, or a local dev run with the
// simulated TEE) wants the 256-bit sealing key of a model or document; the *broker* (`sealsum
// kbs serve`, run by or for the data owner) holds that key encrypted at rest and releases it only
// to evidence that satisfies the key's release policy. One release is two HTTP round trips:
//
//   1. POST /v1/challenge  {}                       -> 200 {"nonce": N, "expires_in": seconds}
//      N is 32 random bytes, base64url; single-use, valid kNonceLifetimeSeconds, then forgotten.
//   2. The enclave generates an ephemeral RSA-3072 key pair (private half never leaves it) and
//      builds the *runtime data*, exact UTF-8 JSON bytes:
//          {"keys":[{"kty":"RSA","n":..,"e":"AQAB","kid":"sealsum-ephemeral","key_ops":["encrypt"]}],
//           "model": {"sealed_sha256": H|null, "sha256": H|null}, "nonce": N}
//      ("model", attest/model_binding.h: the model the workload runs; absent when it runs none yet)
//      (the "keys" JWKS shape is the one Azure MAA/Key Vault use, so one format serves both back
//      ends). It asks the TEE for a report with REPORT_DATA = SHA-256(runtime data) || 32 zero bytes,
//      then sends
//      POST /v1/release {"key_id": ID, "runtime_data": b64url(bytes), "evidence": {
//          "report": b64url(report or simulated evidence),
//          "signing_cert": b64url(VCEK/VLEK, DER or PEM), "cert_kind": "vcek"|"vlek",
//          "cert_chain": "<PEM ASK/ASVK then ARK>", "uvm_endorsement": b64url(COSE_Sign1)}}
//      (all evidence members but "report" optional; the verifier decides what it needs).
//   3. The broker, in this order: parses the request (400 on malformed input); parses the runtime
//      data; consumes the nonce (403 check "nonce": unknown, expired or already used — a nonce is
//      burned by its first use whatever the outcome); loads the key and its policy (404 check
//      "key_id"); runs the attest verifier with the key's policy plus require_runtime_data, which
//      checks the report's signature chain, measurement, HOST_DATA, TCB, debug, and that
//      REPORT_DATA[0:32] = SHA-256(runtime data), i.e. that *this* TEE asked for *this* nonce and
//      *this* ephemeral key (403 with "check" = the first failed verifier check, "reason" = all
//      failed checks and their details); then answers
//          200 {"key_id": ID, "alg": "RSA-OAEP-256", "wrapped_key": b64url(RSA-OAEP-SHA256(key, label)),
//               "measurement": hex, "output_policy": P}
//      where P (present only when the key was registered with one, store.h) is the data owner's
//      output policy as compact JSON text, and the OAEP label is release_wrap_label(ID, P):
//          "sealsum-kbs-release-v1" || 0x00 || ID || 0x00 || P   (P empty when absent).
//      Every outcome is appended to the hash-chained audit log (audit.h), never key bytes.
//   Error bodies: {"error": "refused"|"bad_request"|"not_found"|"internal", "check": C, "reason": R}.
//
// Why the label authenticates the output policy: anyone can encrypt to the ephemeral public key,
// so the wrap alone says nothing about who made it. But the enclave uses a released key only to
// open files sealed under it (AES-GCM authenticates them), so a key that opens the data owner's
// document is the real key K; and a ciphertext that decrypts to K under label L was made by
// someone who knew K and chose L. Only the broker (and the data owner) know K. An operator who
// strips P or swaps in another policy changes L, and the unwrap fails (kUnauthenticated); one who
// wraps a key of his own can attach any P, but that key opens none of the owner's files.
//
// Why this resists: replay (the nonce is single-use and short-lived, and REPORT_DATA binds it);
// a man in the middle swapping in his own key (REPORT_DATA binds the ephemeral key, so the wrapped
// key is useless to anyone but the attested enclave); an operator reading the transport (only the
// RSA-OAEP ciphertext crosses it). Plain HTTP is therefore acceptable for the *secrecy* of the key;
// TLS still hides which key ids are requested.
//
// Limits: request bodies <= kMaxRequestBytes, runtime data <= kMaxRuntimeDataBytes, ephemeral key
// 3072..8192 bits with e = 65537. Thread safety: the free functions here are reentrant.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/status.h"
#include "secure/attest/model_binding.h"
#include "secure/attest/verifier.h"
#include "secure/keyrelease/rsa.h"

namespace sealsum::secure::keyrelease {

inline constexpr size_t kMaxRequestBytes = 1u << 20;
inline constexpr size_t kMaxRuntimeDataBytes = 16u << 10;
inline constexpr int kEphemeralRsaBits = 3072;
inline constexpr int64_t kNonceLifetimeSeconds = 120;
inline constexpr char kEphemeralKid[] = "sealsum-ephemeral";
inline constexpr char kWrapAlg[] = "RSA-OAEP-256";

// Runtime data as sent: the exact bytes hashed into REPORT_DATA.
// `model` (optional): the model this workload runs (attest/model_binding.h), as a "model" member, so
// release policies can pin it ("models").
std::string make_runtime_data(const RsaPublicKey& ephemeral, std::string_view nonce,
                              const std::optional<attest::ModelDigests>& model = std::nullopt);

struct RuntimeData {
  std::string nonce;           // empty when absent (Azure runtime data need not carry one)
  nlohmann::json key_jwk;      // keys[0]
};
// Parses runtime data bytes: a JSON object with "keys" (array, exactly one RSA JWK) and optional
// string "nonce" (<= 256 chars). kInvalidArgument names the member.
Result<RuntimeData> parse_runtime_data(std::string_view bytes);

// Evidence <-> the JSON "evidence" object above.
nlohmann::json evidence_to_json(const attest::SnpEvidence& evidence);
Result<attest::SnpEvidence> evidence_from_json(const nlohmann::json& j);

struct ReleaseRequest {
  std::string key_id;
  std::string runtime_data;  // decoded bytes
  attest::SnpEvidence evidence;
};
std::string encode_release_request(const ReleaseRequest& r);
// Bounded parse of a /v1/release body. kInvalidArgument / kResourceExhausted name the member.
Result<ReleaseRequest> parse_release_request(std::string_view body);

// The OAEP label binding a release answer's key id and output policy (above) to its wrapped key.
std::vector<uint8_t> release_wrap_label(std::string_view key_id, std::string_view output_policy);
inline constexpr size_t kMaxOutputPolicyBytes = 16u << 10;

// A protocol failure as an HTTP answer: {"error","check","reason"}.
struct Refusal {
  int http_status = 403;
  std::string error;   // "refused", "bad_request", "not_found", "internal"
  std::string check;   // the failed check ("nonce", "key_id", "measurement_allowed", ...)
  std::string reason;  // human-readable; public values only
  std::string to_json() const;
};
// Parses an error body (for the client's message); tolerant: falls back to the HTTP status.
Refusal parse_refusal(int http_status, std::string_view body);

}  // namespace sealsum::secure::keyrelease
