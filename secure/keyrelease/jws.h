// JSON Web Signature (RFC 7515) compact serialization, RS256 only: the Azure Key Vault release
// response and Microsoft Azure Attestation tokens (a JWT is a JWS whose payload is a claims set).
//
// Trust: a JWS is accepted only against a configured anchor, never on its own say-so:
//  - pinned public keys: the signature must verify under one of them; or
//  - trusted root certificates: the header's "x5c" (base64 DER, leaf first) must chain to one of
//    them (OpenSSL X509_verify_cert, validity checked at `now`), and the signature must verify
//    under the leaf's key.
// "alg" must be "RS256" ("none" and HMAC algorithms are refused, so a public key can never be
// misused as an HMAC secret). Inputs are bounded (kMaxJwsBytes). Thread safety: reentrant.
#pragma once

#include <ctime>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/status.h"
#include "secure/keyrelease/rsa.h"

namespace sealsum::secure::keyrelease {

inline constexpr size_t kMaxJwsBytes = 1u << 20;

struct JwsParts {
  nlohmann::json header;
  std::string payload;        // decoded payload bytes
  std::string signing_input;  // "<b64 header>.<b64 payload>"
  std::vector<uint8_t> signature;
};

// Splits and decodes (no verification). kDataLoss when malformed, kResourceExhausted when too big.
Result<JwsParts> parse_jws(std::string_view compact);

struct JwsTrust {
  std::vector<std::string> pinned_public_keys_pem;  // SPKI PEM
  std::vector<std::string> trusted_roots_pem;       // X.509 PEM, for "x5c" chains
  std::optional<std::time_t> now;                   // certificate validity time (default: now)
  bool empty() const { return pinned_public_keys_pem.empty() && trusted_roots_pem.empty(); }
};

// Verifies and returns the payload. kUnauthenticated names what failed (alg, chain, signature);
// kInvalidArgument when `trust` is empty.
Result<std::string> verify_jws(std::string_view compact, const JwsTrust& trust);

// Produces a compact RS256 JWS; "alg":"RS256" is set in `header`.
Result<std::string> sign_jws(nlohmann::json header, std::string_view payload, const RsaPrivateKey& key);

// Checks a JWT claims set's "exp" (required) and "nbf" (optional) against `now` with `skew_s`
// seconds of tolerance. kUnauthenticated when expired or not yet valid, kDataLoss when malformed.
Status check_jwt_times(const nlohmann::json& claims, std::time_t now, long skew_s = 60);

}  // namespace sealsum::secure::keyrelease
