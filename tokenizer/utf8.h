// UTF-8 helpers with the exact semantics the SentencePiece / Python reference relies on.
//
// Contract: pure functions over caller-owned bytes; never read outside the given view; no
// allocation except where a std::string is returned; thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace sealsum::tok::utf8 {

// SentencePiece's OneCharLen: the byte length implied by a lead byte (1 for continuation or
// invalid bytes, 2/3/4 for lead bytes by their high nibble). Callers clamp it to what is left.
inline size_t one_char_len(uint8_t lead) {
  static constexpr uint8_t kLen[16] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 3, 4};
  return kLen[lead >> 4];
}

// Decodes one code point at the front of `s` (non-empty) as SentencePiece's DecodeUTF8: rejects
// overlong forms, surrogates and values above U+10FFFF. Returns true and sets *cp, *len on a
// valid sequence; returns false with *len = 1 on malformed input. (A literal U+FFFD in the
// input is valid.)
bool decode(std::string_view s, char32_t* cp, size_t* len);

// Appends the UTF-8 encoding of a valid code point.
void append(char32_t cp, std::string* out);

// Python's str.isspace() for one code point (Unicode White_Space per CPython: Zs, or bidi WS/B/S).
bool is_python_space(char32_t cp);

// Python's str.lstrip() / rstrip() / strip() on UTF-8 text. Malformed bytes are never space.
std::string_view python_lstrip(std::string_view s);
std::string_view python_rstrip(std::string_view s);
inline std::string_view python_strip(std::string_view s) { return python_rstrip(python_lstrip(s)); }

}  // namespace sealsum::tok::utf8
