// Sealing keys: 256-bit master keys, their key ids, and the key file that stores them.
//
// Key file (UTF-8 JSON, a JWK "oct" key, RFC 7517/7518), one object and nothing else:
//
//     {"kty":"oct","alg":"A256GCM","kid":"<key id>","k":"<43 chars: base64url of 32 bytes, no padding>"}
//
//  - members may come in any order with JSON whitespace between tokens; "kty" (must be "oct") and
//    "alg" (must be "A256GCM") are optional, "kid" and "k" are required; any other member, a
//    duplicate member, a string escape, or a file over kMaxKeyFileSize is refused;
//  - the file must be a regular file of mode 0600 or stricter: a key file any group or other user
//    may read or write is refused on load with a message saying to chmod 600 it; new key files are
//    created exclusively (never overwriting) with mode 0600.
//
// Key id (kid): the name a sealed file records so the right key can be found and a wrong one
// refused before any decryption. 1..64 characters of [A-Za-z0-9._:-]. The owner may choose it
// (e.g. "acme-docs-2026"); when not chosen it is derived from the key as
//     "sha256:" + the first 16 hex digits of SHA-256("sealsum key id v1" || 0x00 || key)
// which names the key without revealing it (a 64-bit fingerprint of a 256-bit random key).
//
// Secrecy: key bytes live only in a locked SecretBuffer (and the file's bytes are read into one);
// they are never placed in a std::string, logged, or put into a message.
// Thread safety: a SealingKey is immutable after creation and may be shared for reading.
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>

#include "common/status.h"
#include "secure/secret_buffer.h"

namespace sealsum::secure {

inline constexpr size_t kSealingKeySize = 32;
inline constexpr size_t kMaxKidLength = 64;
inline constexpr size_t kMaxKeyFileSize = 4096;

// OK when `kid` is a valid key id (1..64 of [A-Za-z0-9._:-]); kInvalidArgument naming the rule otherwise.
Status validate_kid(std::string_view kid);
// The derived key id described above. key.size() must be kSealingKeySize.
std::string derive_kid(std::span<const uint8_t> key);

class SealingKey {
 public:
  // Copies 32 key bytes; `kid` empty means derive it. kInvalidArgument on a bad size or kid.
  static Result<SealingKey> from_bytes(std::span<const uint8_t> key, std::string kid = "");
  // A fresh random key from OpenSSL's CSPRNG.
  static Result<SealingKey> generate(std::string kid = "");

  const std::string& kid() const { return kid_; }
  std::span<const uint8_t> bytes() const { return key_.span(); }

 private:
  SealingKey(SecretBuffer key, std::string kid) : key_(std::move(key)), kid_(std::move(kid)) {}
  SecretBuffer key_;
  std::string kid_;
};

// Parses key-file bytes (the format above). kInvalidArgument names the offending member or byte
// offset, never key material.
Result<SealingKey> parse_key_file(std::span<const uint8_t> bytes);
// Opens, checks type and mode (kPermissionDenied: group/other access, with the chmod 600 advice),
// reads (bounded) into secret memory and parses. kNotFound when absent.
Result<SealingKey> load_key_file(const std::filesystem::path& path);
// Creates `path` with O_EXCL and mode 0600 and writes the key file; refuses to overwrite an
// existing file (kInvalidArgument). On a write failure the partial file is removed.
Status write_key_file(const std::filesystem::path& path, const SealingKey& key);

// The file handling under load_key_file / write_key_file, for any small secret file (consumer
// output keys, secure/output_seal.h). read: a regular file of mode 0600 or stricter (else
// kPermissionDenied with the chmod advice), at most max_bytes, read into locked memory; kNotFound
// when absent. write: O_EXCL (never overwrites), mode 0600, fsync; a partial file is removed.
// `what` names the file in messages ("key file", "output key file").
Result<SecretBuffer> read_secret_file(const std::filesystem::path& path, size_t max_bytes, std::string_view what);
Status write_secret_file(const std::filesystem::path& path, std::span<const uint8_t> bytes, std::string_view what);

}  // namespace sealsum::secure
