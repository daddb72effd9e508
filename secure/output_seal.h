// Output sealing: a summary encrypted to a named consumer's public key, so that the operator who
// runs the server (and relays its answers) cannot read it.
//
// Output policy (JSON, carried by the data owner's sealed document, see server/serve_documents.h):
//   {"mode": "plaintext"}                                   the caller receives the summary
//   {"mode": "sealed", "consumer": "NAME", "key": JWK}      only NAME's private key opens it
// JWK: {"kty":"OKP","crv":"X25519","x": b64url(32 bytes)} or {"kty":"RSA","n":..,"e":"AQAB"}
// (RSA 2048..8192 bits, e = 65537). Unknown members are refused.
//
// Sealed output (JSON; every binary member base64url without padding):
//   X25519:  {"alg":"X25519-HKDF-SHA256-A256GCM","consumer":NAME,"context":CTX,
//             "epk":b64url(ephemeral X25519 public key),"iv":..,"ciphertext":..,"tag":..}
//     shared = X25519(ephemeral private, recipient public)   (an all-zero result is refused)
//     key    = HKDF-SHA256(ikm = shared, salt = epk || recipient public,
//                          info = "sealsum output seal v1 " || alg, 32 bytes)
//   RSA:     {"alg":"RSA-OAEP-256+A256GCM","consumer":NAME,"context":CTX,
//             "encrypted_key":b64url(RSA-OAEP-SHA256(key)),"iv":..,"ciphertext":..,"tag":..}
//     key    = 32 fresh random bytes
//   Both:    AES-256-GCM, 12-byte random IV, AAD = "sealsum-output-v1" || 0x00 || alg || 0x00 || CTX
//            [|| 0x00 || "bucket-v1" when the "padding" member is present].
// Padding ("padding":"bucket-v1", always written by seal_output): the plaintext is followed by
//   0x80 and zero bytes up to the bucket, the smallest power of two >= 256 that holds it plus one
//   byte, so the ciphertext length reveals only the bucket, not the summary's length. open() strips
//   it; outputs without the member (older ones) are opened as they are.
// CTX (context) is a public label the producer binds (e.g. "document:contract-7"); open_output()
// takes the context the consumer expects and refuses a mismatch, so a sealed summary of one
// document cannot be passed off as another's. A fresh key per message makes the random IV safe.
//
// Secrets: ephemeral private keys and message keys live in SecretBuffers or OpenSSL objects that
// are freed (cleansed) at return; opened plaintext is returned in a SecretBuffer.
// Thread safety: reentrant; key objects are immutable after creation.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/status.h"
#include "secure/secret_buffer.h"

namespace sealsum::secure {

inline constexpr char kOutputAlgX25519[] = "X25519-HKDF-SHA256-A256GCM";
inline constexpr char kOutputAlgRsa[] = "RSA-OAEP-256+A256GCM";
inline constexpr size_t kMaxSealedOutputBytes = 1u << 20;  // ciphertext limit (plaintext below it)
inline constexpr size_t kMinOutputBucket = 256;
inline constexpr char kPaddingBucket[] = "bucket-v1";

struct OutputPolicy {
  bool sealed = false;
  std::string consumer;          // sealed only
  nlohmann::json recipient_jwk;  // sealed only: the validated public JWK
};
// Parses and validates the JSON form above (the key is checked to be usable). kInvalidArgument
// names the member.
Result<OutputPolicy> parse_output_policy(const nlohmann::json& j);

// Seals `plaintext` to policy.recipient_jwk. policy.sealed must be true.
Result<nlohmann::json> seal_output(const OutputPolicy& policy, std::span<const uint8_t> plaintext,
                                   std::string_view context);

// The consumer's private key: an X25519 private JWK ({"kty":"OKP","crv":"X25519","x","d"}) or an
// RSA private key in PEM.
class OutputKey {
 public:
  static Result<OutputKey> generate_x25519();
  static Result<OutputKey> from_private_jwk(const nlohmann::json& jwk);
  static Result<OutputKey> from_rsa_pem(std::string_view pem);
  OutputKey(OutputKey&&) noexcept;
  OutputKey& operator=(OutputKey&&) noexcept;
  ~OutputKey();

  nlohmann::json public_jwk() const;
  // The private JWK text (X25519 only; kUnimplemented for RSA), in secret memory.
  Result<SecretBuffer> private_jwk_text() const;
  // Opens a sealed output produced for this key with the expected context. kUnauthenticated when
  // the tag, key or context does not match; kInvalidArgument for a malformed object.
  Result<SecretBuffer> open(const nlohmann::json& sealed, std::string_view expected_context) const;

 private:
  struct Impl;
  explicit OutputKey(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Consumer key files: the consumer's private output key, created and held by the consumer only
// (`sealsum keygen --type x25519`). An X25519 private JWK (one JSON object) or an RSA private key
// PEM; mode 0600 or stricter, at most kMaxOutputKeyFileBytes (secure/keys.h read_secret_file).
inline constexpr size_t kMaxOutputKeyFileBytes = 16u << 10;
Result<OutputKey> load_output_key_file(const std::filesystem::path& path);
// Writes an X25519 key's private JWK (exclusive create, mode 0600). kUnimplemented for RSA.
Status write_output_key_file(const std::filesystem::path& path, const OutputKey& key);

}  // namespace sealsum::secure
