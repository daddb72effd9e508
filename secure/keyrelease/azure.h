// Azure back end of key release: Microsoft Azure Attestation (MAA) + Azure Key Vault / Managed HSM
// Secure Key Release (SKR), following microsoft/confidential-sidecar-containers (pkg/common/maa.go,
// pkg/skr/akv.go) and the Key Vault REST API 7.4.
//
//   1. Ephemeral RSA key pair (2048 bits by default, as the reference sidecar uses); runtime data
//      = {"keys":[JWK]} (protocol.h make_runtime_data without a nonce).
//   2. Evidence with REPORT_DATA = SHA-256(runtime data) || 0^32.
//   3. POST {maa}/attest/SevSnpVm?api-version=2022-08-01 with the body below -> {"token": JWT}.
//      Body (JSON, members in this order):
//        {"report": base64url(JSON{"SnpReport": base64url(report), "VcekCertChain": base64url(PEM
//          VCEK || ASK || ARK), "Endorsements": base64url(JSON{"Uvm": [base64url(COSE_Sign1)]})}),
//         "runtimeData": {"data": base64url(runtime data), "dataType": "JSON"},
//         "initTimeData": {"data": "", "dataType": ""}, "nonce": <uint64>}
//      (base64url with '=' padding, as Go's base64.URLEncoding; "Endorsements" omitted without one).
//   4. POST {vault}/keys/{name}[/{version}]/release?api-version=7.4, Authorization: Bearer <access
//      token from config.access_token (azure_identity.h: managed identity)>, body {"target": <MAA
//      token>} -> {"value": JWS}. Key Vault checks the token against the key's release policy and
//      wraps the key to the runtime-data JWK.
//   5. The JWS (RS256) is verified against the configured trust (x5c chain to pinned roots, or a
//      pinned signing key: jws.h). Its payload's response.key.key.key_hsm is base64url(JSON
//      {"schema_version", "header": {"kid","alg":"dir","enc"}, "ciphertext": base64url}); enc
//      (request.enc, else header.enc) picks the CKM_RSA_AES_KEY_WRAP hash: "CKM_RSA_AES_KEY_WRAP"
//      SHA-1, "RSA_AES_KEY_WRAP_256" SHA-256, "RSA_AES_KEY_WRAP_384" SHA-384 (rsa.h). Only
//      symmetric keys (kty "oct"/"oct-HSM") are accepted: sealsum needs a 256-bit sealing key.
//      The payload's key id must name the key asked for (kid ".../keys/{name}/{version}"), so an
//      answer for another key of the same vault is refused.
// The MAA token itself is not verified here: Key Vault does that, and the client gains nothing
// from trusting it. The access token is a credential: it stays in SecretBuffers and is sent only
// as the Authorization header to the vault (https, or http on loopback for local stand-ins),
// never logged, never in a message. Answers are bounded (kMaxJwsBytes).
// Thread safety: as client.h.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "common/status.h"
#include "secure/attest/verifier.h"
#include "secure/keyrelease/azure_identity.h"
#include "secure/keyrelease/client.h"
#include "secure/keyrelease/jws.h"
#include "secure/keyrelease/rsa.h"

namespace sealsum::secure::keyrelease {

struct AzureSkrConfig {
  std::string maa_endpoint;   // "https://<instance>.attest.azure.net" (scheme included)
  std::string maa_api_version = "2022-08-01";
  std::string key_vault_url;  // "https://<vault>.vault.azure.net" or "https://<hsm>.managedhsm.azure.net"
  std::string akv_api_version = "7.4";
  std::shared_ptr<AccessTokenSource> access_token;  // bearer tokens for the vault (required)
  JwsTrust release_trust;     // how the release answer's signer is trusted
  int ephemeral_bits = 2048;
};

// The MAA SEV-SNP attest request body. evidence.signing_cert may be PEM or DER (converted).
Result<std::string> build_maa_request(const attest::SnpEvidence& evidence, std::string_view runtime_data,
                                      uint64_t nonce);
// Key names: 1..127 of [A-Za-z0-9-], optionally "/<version>" (32 hex). kInvalidArgument otherwise.
Result<std::string> akv_release_url(const AzureSkrConfig& config, std::string_view key_id);
std::string maa_attest_url(const AzureSkrConfig& config);

// The endpoints must be https:// URLs without path, query or credentials (http:// only for
// 127.0.0.1 / localhost, where the local stand-ins and sidecars live). kInvalidArgument otherwise.
Status check_azure_endpoints(const AzureSkrConfig& config);

// Trust for the release answer's signature from a PEM file's text: each "PUBLIC KEY" block is a
// pinned signing key, each "CERTIFICATE" block a trusted root for the answer's x5c chain. Bounded
// (64 KiB, 16 blocks); kInvalidArgument names the defect (no block, unparsable key, other types).
Result<JwsTrust> release_trust_from_pem(std::string_view pem);

// From a Key Vault release answer body ({"value": JWS}) to the key: verify, decode, unwrap. When
// `key_id` (NAME[/VERSION]) is given, the released key's kid must name it (kUnauthenticated).
Result<SecretBuffer> unwrap_akv_release(std::string_view body, const JwsTrust& trust, const RsaPrivateKey& key,
                                        std::string_view key_id = {});

class AzureSkrClient : public KeyReleaseClient {
 public:
  AzureSkrClient(AzureSkrConfig config, HttpTransport& transport, EvidenceSource& evidence)
      : config_(std::move(config)), transport_(transport), evidence_(evidence) {}
  Result<ReleasedKey> release(const std::string& key_id) override;  // output_policy always empty

 private:
  AzureSkrConfig config_;
  HttpTransport& transport_;
  EvidenceSource& evidence_;
};

}  // namespace sealsum::secure::keyrelease
