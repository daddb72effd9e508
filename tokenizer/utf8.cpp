// UTF-8 helpers: see utf8.h.
#include "tokenizer/utf8.h"

namespace sealsum::tok::utf8 {
namespace {

bool is_trail(uint8_t b) { return (b & 0xC0) == 0x80; }
bool is_valid_cp(char32_t c) { return c < 0xD800 || (c >= 0xE000 && c <= 0x10FFFF); }

}  // namespace

bool decode(std::string_view s, char32_t* cp, size_t* len) {
  const size_t n = s.size();
  const auto b = [&](size_t i) { return static_cast<uint8_t>(s[i]); };
  *len = 1;
  if (n == 0) return false;
  const uint8_t b0 = b(0);
  if (b0 < 0x80) {
    *cp = b0;
    return true;
  }
  if (n >= 2 && (b0 & 0xE0) == 0xC0) {
    const char32_t c = (char32_t{b0 & 0x1Fu} << 6) | (b(1) & 0x3Fu);
    if (is_trail(b(1)) && c >= 0x80 && is_valid_cp(c)) {
      *cp = c;
      *len = 2;
      return true;
    }
  } else if (n >= 3 && (b0 & 0xF0) == 0xE0) {
    const char32_t c = (char32_t{b0 & 0x0Fu} << 12) | (char32_t{b(1) & 0x3Fu} << 6) | (b(2) & 0x3Fu);
    if (is_trail(b(1)) && is_trail(b(2)) && c >= 0x800 && is_valid_cp(c)) {
      *cp = c;
      *len = 3;
      return true;
    }
  } else if (n >= 4 && (b0 & 0xF8) == 0xF0) {
    const char32_t c = (char32_t{b0 & 0x07u} << 18) | (char32_t{b(1) & 0x3Fu} << 12) |
                       (char32_t{b(2) & 0x3Fu} << 6) | (b(3) & 0x3Fu);
    if (is_trail(b(1)) && is_trail(b(2)) && is_trail(b(3)) && c >= 0x10000 && is_valid_cp(c)) {
      *cp = c;
      *len = 4;
      return true;
    }
  }
  return false;
}

void append(char32_t c, std::string* out) {
  if (c < 0x80) {
    out->push_back(static_cast<char>(c));
  } else if (c < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (c >> 6)));
    out->push_back(static_cast<char>(0x80 | (c & 0x3F)));
  } else if (c < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (c >> 12)));
    out->push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (c & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (c >> 18)));
    out->push_back(static_cast<char>(0x80 | ((c >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (c & 0x3F)));
  }
}

bool is_python_space(char32_t c) {
  // CPython's _PyUnicode_IsWhitespace table (Unicode 14/15).
  if (c <= 0x20) return c == 0x20 || (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x1F);
  switch (c) {
    case 0x85: case 0xA0: case 0x1680: case 0x2028: case 0x2029: case 0x202F: case 0x205F: case 0x3000:
      return true;
    default:
      return c >= 0x2000 && c <= 0x200A;
  }
}

std::string_view python_lstrip(std::string_view s) {
  while (!s.empty()) {
    char32_t cp = 0;
    size_t len = 1;
    if (!decode(s, &cp, &len) || !is_python_space(cp)) break;
    s.remove_prefix(len);
  }
  return s;
}

std::string_view python_rstrip(std::string_view s) {
  while (!s.empty()) {
    // Find the start of the last (up to 4-byte) sequence that decodes to exactly the tail.
    bool stripped = false;
    for (size_t k = 1; k <= 4 && k <= s.size(); ++k) {
      const std::string_view tail = s.substr(s.size() - k);
      char32_t cp = 0;
      size_t len = 1;
      if (decode(tail, &cp, &len) && len == k) {
        if (is_python_space(cp)) {
          s.remove_suffix(k);
          stripped = true;
        }
        break;
      }
    }
    if (!stripped) break;
  }
  return s;
}

}  // namespace sealsum::tok::utf8
