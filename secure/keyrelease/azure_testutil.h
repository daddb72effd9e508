// Test double of the *remote* Azure services' message formats (not of sealsum's code): what
// Microsoft Azure Attestation and Key Vault send back, built from the documented shapes
// (Key Vault REST 7.4 "release", confidential-sidecar-containers pkg/skr/akv.go). Used by
// azure_test.cpp and the loopback stand-in server in server/kbs_azure_standin.h. Test-only.
#pragma once

#include <ctime>
#include <string>

#include <nlohmann/json.hpp>

#include "common/encoding.h"
#include "secure/keyrelease/jws.h"
#include "secure/keyrelease/rsa.h"

namespace sealsum::secure::keyrelease::testutil {

// An MAA-style JWT: SEV-SNP claims plus "x-ms-runtime" (the runtime data JSON).
inline Result<std::string> make_maa_token(const RsaPrivateKey& maa_key, const std::string& issuer,
                                          const nlohmann::json& runtime, const std::string& measurement_hex,
                                          const std::string& host_data_hex, std::time_t now) {
  nlohmann::json claims = {{"iss", issuer},
                           {"iat", static_cast<long long>(now)},
                           {"nbf", static_cast<long long>(now)},
                           {"exp", static_cast<long long>(now) + 8 * 3600},
                           {"x-ms-attestation-type", "sevsnpvm"},
                           {"x-ms-compliance-status", "azure-compliant-uvm"},
                           {"x-ms-sevsnpvm-launchmeasurement", measurement_hex},
                           {"x-ms-sevsnpvm-hostdata", host_data_hex},
                           {"x-ms-sevsnpvm-is-debuggable", false},
                           {"x-ms-runtime", runtime},
                           {"x-ms-ver", "1.0"}};
  return sign_jws({{"typ", "JWT"}, {"kid", "maa-test-key"}, {"jku", issuer + "/certs"}}, claims.dump(), maa_key);
}

// A Key Vault release answer body {"value": JWS} releasing `key` (an oct-HSM key) wrapped with
// `enc` to `recipient`, signed by `akv_key`. `x5c` (base64 DER, leaf first) goes in the header
// when not empty.
inline Result<std::string> make_akv_release_answer(const RsaPrivateKey& akv_key, const nlohmann::json& x5c,
                                                   const std::string& kid_url, std::span<const uint8_t> key,
                                                   const RsaPublicKey& recipient, const std::string& enc = "CKM_RSA_AES_KEY_WRAP",
                                                   const std::string& kty = "oct-HSM") {
  OaepHash h = enc == "RSA_AES_KEY_WRAP_256" ? OaepHash::kSha256
               : enc == "RSA_AES_KEY_WRAP_384" ? OaepHash::kSha384
                                                : OaepHash::kSha1;
  SEALSUM_ASSIGN_OR_RETURN(std::vector<uint8_t> ct, rsa_aes_key_wrap(recipient, key, h));
  nlohmann::json key_hsm = {{"schema_version", "1.0"},
                            {"header", {{"kid", "TransferKey"}, {"alg", "dir"}, {"enc", enc}}},
                            {"ciphertext", encoding::base64url_encode(ct)},
                            {"generator", "sealsum test double"}};
  nlohmann::json payload = {
      {"request", {{"api-version", "7.4"}, {"enc", enc}, {"kid", kid_url}}},
      {"response",
       {{"key",
         {{"key", {{"kid", kid_url}, {"kty", kty}, {"key_ops", {"wrapKey", "unwrapKey", "encrypt", "decrypt"}},
                   {"key_hsm", encoding::base64url_encode(encoding::as_bytes(key_hsm.dump()))}}},
          {"attributes", {{"enabled", true}, {"exportable", true}}},
          {"release_policy", {{"contentType", "application/json; charset=utf-8"}, {"data", "e30"}}}}}}}};
  nlohmann::json header = {{"kid", kid_url}};
  if (!x5c.empty()) header["x5c"] = x5c;
  SEALSUM_ASSIGN_OR_RETURN(std::string jws, sign_jws(header, payload.dump(), akv_key));
  return nlohmann::json{{"value", jws}}.dump();
}

}  // namespace sealsum::secure::keyrelease::testutil
