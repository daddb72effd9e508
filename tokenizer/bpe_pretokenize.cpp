// GPT-2 pre-tokenizer as a scanner over code points.
//
// Why this is exact. The pattern
//     's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
// is applied by find-iter: at the current position p the first alternative (in written order)
// that matches wins, and the next search starts where it ended. Every code point is a letter (L),
// a number (N), White_Space (\s) or "other" (O = none of these), so one alternative always
// matches at p and the pieces tile the text. At p, with c = text[p]:
//   1. c == '\'' followed by s, t, m, d, re, ve or ll (ASCII, case-sensitive): a contraction.
//   2-4. ` ?X+` for X in L, N, O: the optional space is taken only when c is U+0020 and the next
//      code point is in X (if c is U+0020 but the next is not in X, the variant without the space
//      fails too, because U+0020 itself is \s). The run X+ is greedy and nothing follows it, so
//      it extends to the end of the run. Order matters only through the optional space.
//   5. c is \s: let the whitespace run be [p, k). `\s+(?!\S)` first tries the whole run; it
//      succeeds iff k is the end of the text. Otherwise text[k] is \S and the engine backtracks
//      one code point: [p, k-1) is followed by whitespace, so it matches iff k-1 > p. That is
//      the subtlety that leaves the last space of "a   b" to the word (" b"). For a single
//      whitespace code point before \S, `\s+` matches just it (e.g. "\n" before "x").
// Example: "  \nx" gives "  " (run minus its last code point), "\n" (single, before \S), "x";
// "a  b" gives "a", " ", " b". Tests pin these cases.
#include "tokenizer/bpe_pretokenize.h"

#include <cstdint>

#include "tokenizer/unicode.h"

namespace sealsum::tok::bpe {
namespace {

using unicode::CpClass;

struct Cp {
  size_t offset;  // byte offset of the code point in the text
  char32_t cp;
  CpClass cls;
};

bool is_contraction_tail(const std::vector<Cp>& cps, size_t i, size_t* len) {
  // cps[i] is '\''. Returns the contraction length (2 or 3) through *len.
  const size_t n = cps.size();
  if (i + 1 >= n) return false;
  const char32_t a = cps[i + 1].cp;
  if (a == 's' || a == 't' || a == 'm' || a == 'd') {
    *len = 2;
    return true;
  }
  if (i + 2 >= n) return false;
  const char32_t b = cps[i + 2].cp;
  if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l')) {
    *len = 3;
    return true;
  }
  return false;
}

// End (exclusive, in code points) of the piece starting at i.
size_t piece_end(const std::vector<Cp>& cps, size_t i) {
  const size_t n = cps.size();
  size_t len = 0;
  if (cps[i].cp == U'\'' && is_contraction_tail(cps, i, &len)) return i + len;
  const size_t j = (cps[i].cp == U' ' && i + 1 < n) ? i + 1 : i;
  const CpClass cj = cps[j].cls;
  if (cj != CpClass::kSpace) {
    // Cases 2-4: L+, N+ or O+ (optionally after one U+0020), maximal run of that class.
    size_t k = j + 1;
    while (k < n && cps[k].cls == cj) ++k;
    return k;
  }
  // Case 5: cps[i] is whitespace (either U+0020 followed by whitespace, or other whitespace).
  size_t k = i + 1;
  while (k < n && cps[k].cls == CpClass::kSpace) ++k;
  if (k == n) return n;
  if (k - i >= 2) return k - 1;
  return i + 1;
}

}  // namespace

void split_gpt2(std::string_view text, std::vector<std::string_view>& out) {
  if (text.empty()) return;
  std::vector<Cp> cps;
  cps.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    const auto b = static_cast<unsigned char>(text[i]);
    if (b < 0x80) {  // ASCII fast path
      cps.push_back({i, b, unicode::classify(b)});
      ++i;
      continue;
    }
    const unicode::Decoded d = unicode::decode_utf8(text, i);
    cps.push_back({i, d.cp, unicode::classify(d.cp)});
    i += d.len;
  }
  const size_t n = cps.size();
  for (size_t i = 0; i < n;) {
    const size_t e = piece_end(cps, i);
    const size_t b0 = cps[i].offset;
    const size_t b1 = e < n ? cps[e].offset : text.size();
    out.push_back(text.substr(b0, b1 - b0));
    i = e;
  }
}

}  // namespace sealsum::tok::bpe
