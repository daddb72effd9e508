// Code point classes (generated table, binary search) and UTF-8 decoding with Rust's lossy rules.
#include "tokenizer/unicode.h"

#include <algorithm>
#include <array>

namespace sealsum::tok::unicode {
namespace {

struct Range {
  char32_t first;
  char32_t last;
  CpClass cls;
};

constexpr Range kRanges[] = {
#include "tokenizer/unicode_table.inc"
};

constexpr bool ranges_sorted() {
  for (size_t i = 0; i < std::size(kRanges); ++i) {
    if (kRanges[i].first > kRanges[i].last) return false;
    if (i > 0 && kRanges[i - 1].last >= kRanges[i].first) return false;
  }
  return true;
}
static_assert(ranges_sorted(), "unicode_table.inc must hold sorted, disjoint ranges");

CpClass classify_slow(char32_t cp) {
  // First range whose last >= cp; cp is inside it iff first <= cp.
  const Range* it = std::lower_bound(std::begin(kRanges), std::end(kRanges), cp,
                                     [](const Range& r, char32_t c) { return r.last < c; });
  if (it != std::end(kRanges) && it->first <= cp) return it->cls;
  return CpClass::kOther;
}

// Latin-1 answers from the same table, computed once at compile time.
constexpr std::array<CpClass, 256> make_latin1() {
  std::array<CpClass, 256> t{};
  for (const Range& r : kRanges) {
    for (char32_t c = r.first; c <= r.last && c < 256; ++c) t[c] = r.cls;
  }
  return t;
}
constexpr std::array<CpClass, 256> kLatin1 = make_latin1();

bool is_cont(unsigned char b) { return (b & 0xC0) == 0x80; }

}  // namespace

CpClass classify(char32_t cp) { return cp < 256 ? kLatin1[cp] : classify_slow(cp); }

const char* unicode_version() { return SEALSUM_UNICODE_VERSION; }

Decoded decode_utf8(std::string_view s, size_t pos) {
  const auto b0 = static_cast<unsigned char>(s[pos]);
  if (b0 < 0x80) return {b0, 1, true};
  const size_t avail = s.size() - pos;
  auto at = [&](size_t k) { return static_cast<unsigned char>(s[pos + k]); };
  // Table 3-7 of the Unicode standard: the allowed range of the second byte depends on the first.
  size_t need;
  unsigned char lo = 0x80, hi = 0xBF;
  char32_t cp;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    need = 2; cp = b0 & 0x1F;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    need = 3; cp = b0 & 0x0F;
    if (b0 == 0xE0) lo = 0xA0;
    if (b0 == 0xED) hi = 0x9F;  // no surrogates
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    need = 4; cp = b0 & 0x07;
    if (b0 == 0xF0) lo = 0x90;
    if (b0 == 0xF4) hi = 0x8F;  // <= U+10FFFF
  } else {
    return {kReplacement, 1, false};  // 80..C1, F5..FF never start a sequence
  }
  if (avail < 2 || at(1) < lo || at(1) > hi) return {kReplacement, 1, false};
  cp = (cp << 6) | (at(1) & 0x3F);
  for (size_t k = 2; k < need; ++k) {
    if (k >= avail || !is_cont(at(k))) return {kReplacement, static_cast<uint32_t>(k), false};
    cp = (cp << 6) | (at(k) & 0x3F);
  }
  return {cp, static_cast<uint32_t>(need), true};
}

bool is_valid_utf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    if (static_cast<unsigned char>(s[i]) < 0x80) {
      ++i;
      continue;
    }
    const Decoded d = decode_utf8(s, i);
    if (!d.valid) return false;
    i += d.len;
  }
  return true;
}

std::string to_valid_utf8(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    const Decoded d = decode_utf8(s, i);
    if (d.valid) {
      out.append(s.substr(i, d.len));
    } else {
      append_utf8(out, kReplacement);
    }
    i += d.len;
  }
  return out;
}

void append_utf8(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

}  // namespace sealsum::tok::unicode
