// Byte encodings used on the key-release wire: base64 / base64url (RFC 4648 §4, §5).
//
// Encoders never fail. Decoders are bounded (kMaxEncodedBytes of input) and strict about the
// alphabet (attest::base64_decode accepts either alphabet, padding optional). These helpers are
// for public values (nonces, ciphertexts, public keys, tokens); secret plaintext never passes
// through them (released keys are decrypted straight into a SecretBuffer).
// Thread safety: reentrant.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace sealsum::secure::keyrelease {

inline constexpr size_t kMaxEncodedBytes = 4u << 20;

// base64url (alphabet -_), with or without '=' padding.
std::string base64url_encode(std::span<const uint8_t> bytes, bool pad = false);
// Standard base64 (alphabet +/) with padding.
std::string base64_encode(std::span<const uint8_t> bytes);
inline std::span<const uint8_t> as_bytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}
// Decodes base64 or base64url, padding optional. kDataLoss names `what` on malformed input;
// kResourceExhausted over kMaxEncodedBytes.
Result<std::vector<uint8_t>> base64_any_decode(std::string_view text, std::string_view what);
// Same, returned as text (for encoded JSON documents).
Result<std::string> base64_any_decode_text(std::string_view text, std::string_view what);

}  // namespace sealsum::secure::keyrelease
