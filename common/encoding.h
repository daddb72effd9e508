// The one byte-encoding module: base64 / base64url (RFC 4648 §4, §5), hex, and URL percent-encoding.
//
// Every textual encoding of bytes in sealsum goes through here (secure/, server/, tools/, tokenizer/);
// the only other decoder is secure/keys.cpp's constant-time base64url for the 32 secret key bytes
// of a key file, which must not branch or index tables on secret data.
//
// Contract:
//  - Encoders never fail.
//  - Decoders are bounded (Base64Options::max_chars, hex's max_chars) and never throw; they return
//    kDataLoss naming `what` and the offending byte position (never the input itself) on malformed
//    input, kResourceExhausted when the input is over the limit. What they accept is fixed by the
//    options, so each caller states its grammar in one place.
//  - These helpers are for public values (nonces, ciphertexts, public keys, tokens, digests, policies);
//    outputs are ordinary heap memory.
// Thread safety: reentrant.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace sealsum::encoding {

inline constexpr size_t kDefaultMaxEncodedChars = size_t{4} << 20;

inline std::span<const uint8_t> as_bytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

// Standard base64 (alphabet +/), with '=' padding unless pad is false.
std::string base64_encode(std::span<const uint8_t> bytes, bool pad = true);
// base64url (alphabet -_), unpadded unless pad is true.
std::string base64url_encode(std::span<const uint8_t> bytes, bool pad = false);

enum class Alphabet {
  kStandard,  // A-Z a-z 0-9 + /
  kUrl,       // A-Z a-z 0-9 - _
  kEither,    // both: + and - are 62, / and _ are 63 (what Azure's services mix)
};
enum class Padding {
  kOptional,   // '=' only at the end, at most two, and then the length (symbols + '=') is a multiple of 4
  kRequired,   // as kOptional, and the text (without skipped whitespace) is a multiple of 4 long
  kForbidden,  // no '=' at all
};
enum class Whitespace {
  kNone,      // any whitespace byte is an invalid character
  kNewlines,  // '\n' and '\r' are skipped anywhere (PEM-style line breaks)
  kAny,       // ' ', '\t', '\n', '\r', '\f', '\v' are skipped anywhere
};

// The default options are the wire grammar of JOSE and Azure's services (MAA, Key Vault, the ACI
// security context): either alphabet, padding optional, PEM-style line breaks skipped.
struct Base64Options {
  Alphabet alphabet = Alphabet::kEither;
  Padding padding = Padding::kOptional;
  Whitespace whitespace = Whitespace::kNewlines;
  // Refuse non-zero bits left over in the last symbol, so one text has one decoding.
  bool canonical = false;
  size_t max_chars = kDefaultMaxEncodedChars;
};

// Decodes `text` as the options say. `what` names the input in messages ("JWK \"n\"").
Result<std::vector<uint8_t>> base64_decode(std::string_view text, std::string_view what,
                                           const Base64Options& options = {});
// The same, as a string (for encoded documents: JSON, Rego, PEM).
Result<std::string> base64_decode_text(std::string_view text, std::string_view what,
                                       const Base64Options& options = {});

// Lowercase hex of `bytes`.
std::string hex_encode(std::span<const uint8_t> bytes);
// Hex digits of either case, even length, no separators; bounded by max_chars.
Result<std::vector<uint8_t>> hex_decode(std::string_view hex, std::string_view what = "hex string",
                                        size_t max_chars = kDefaultMaxEncodedChars);

// Percent-encodes every byte but RFC 3986's unreserved characters (A-Z a-z 0-9 - . _ ~), with
// uppercase hex digits (URL query values and path segments).
std::string percent_encode(std::string_view s);

}  // namespace sealsum::encoding
