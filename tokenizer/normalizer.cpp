// SentencePiece normalizer: see normalizer.h.
//
// How it works. Normalization consumes the input left to right. At each position the charsmap
// trie is asked for every rule whose key is a prefix of the remaining input (Darts'
// commonPrefixSearch, at most 32 results as sentencepiece's kMaxTrieResultsSize); the longest one
// wins and its replacement string (possibly empty) is emitted. Without a rule, one UTF-8 character
// is copied as is; a malformed byte is replaced by U+FFFD and consumes one byte. Around this:
//   - remove_extra_whitespaces: leading units that normalize to exactly " " are dropped; inside the
//     text, spaces at the start of a unit's replacement are dropped while the previous emitted unit
//     ended with a space; trailing spaces (after escaping) are dropped at the end.
//   - add_dummy_prefix: a space (escaped as U+2581) is emitted before the first unit.
//   - escape_whitespaces: every ' ' in the output becomes U+2581 ("▁").
// sentencepiece also consults a prefix matcher for USER_DEFINED pieces before the charsmap; sealsum
// refuses models with such pieces, so it is absent here.
//
// Darts-clone double array. Each 32-bit unit packs: bit 31 "is leaf", bit 8 "has leaf child",
// bits 0-7 the label, and an offset (bits 10-31, shifted left by 8 when bit 9 is set). Walking a
// key: id = offset(unit[0]); for each byte c: id ^= c; the unit at id must carry label c; then
// id ^= offset(unit); if the unit has a leaf, the value is unit[id] & 0x7fffffff.
#include "tokenizer/normalizer.h"

#include <array>

#include "tokenizer/utf8.h"

namespace sealsum::tok {
namespace {

constexpr size_t kMaxTrieResults = 32;  // sentencepiece's Normalizer::kMaxTrieResultsSize
constexpr std::string_view kSpaceSymbol = "\xe2\x96\x81";
constexpr std::string_view kReplacementChar = "\xef\xbf\xbd";

uint32_t unit_offset(uint32_t u) { return (u >> 10) << ((u & (1u << 9)) >> 6); }
uint32_t unit_label(uint32_t u) { return u & ((1u << 31) | 0xFFu); }
bool unit_has_leaf(uint32_t u) { return ((u >> 8) & 1u) == 1u; }
uint32_t unit_value(uint32_t u) { return u & ((1u << 31) - 1); }

}  // namespace

size_t DoubleArrayView::common_prefix_search(std::string_view key, Match* results, size_t max_results) const {
  size_t found = 0;
  if (units_.empty()) return 0;
  const size_t n = units_.size();
  size_t id = unit_offset(units_[0]);
  for (size_t i = 0; i < key.size(); ++i) {
    const uint8_t c = static_cast<uint8_t>(key[i]);
    id ^= c;
    if (id >= n) return found;
    const uint32_t u = units_[id];
    if (unit_label(u) != c) return found;
    id ^= unit_offset(u);
    if (unit_has_leaf(u)) {
      if (id >= n) return found;
      if (found < max_results) results[found] = {unit_value(units_[id]), i + 1};
      ++found;
    }
  }
  return found;
}

Result<Normalizer> Normalizer::create(std::string_view blob, NormalizerOptions options) {
  Normalizer n;
  n.options_ = options;
  if (blob.empty()) return n;
  if (blob.size() <= 4) return data_loss("precompiled charsmap is shorter than its header; the model is corrupt");
  const uint32_t trie_size = static_cast<uint32_t>(static_cast<uint8_t>(blob[0])) |
                             static_cast<uint32_t>(static_cast<uint8_t>(blob[1])) << 8 |
                             static_cast<uint32_t>(static_cast<uint8_t>(blob[2])) << 16 |
                             static_cast<uint32_t>(static_cast<uint8_t>(blob[3])) << 24;
  blob.remove_prefix(4);
  if (trie_size >= blob.size() + 4 || trie_size > blob.size()) {
    return data_loss("precompiled charsmap trie size " + std::to_string(trie_size) + " exceeds the blob (" +
                     std::to_string(blob.size()) + " bytes); the model is corrupt");
  }
  if (trie_size % 4 != 0 || trie_size == 0) {
    return data_loss("precompiled charsmap trie size " + std::to_string(trie_size) +
                     " is not a positive multiple of 4; the model is corrupt");
  }
  std::vector<uint32_t> units(trie_size / 4);
  for (size_t i = 0; i < units.size(); ++i) {
    const auto b = [&](size_t k) { return static_cast<uint32_t>(static_cast<uint8_t>(blob[4 * i + k])); };
    units[i] = b(0) | b(1) << 8 | b(2) << 16 | b(3) << 24;
  }
  n.trie_ = DoubleArrayView(std::move(units));
  n.pool_.assign(blob.substr(trie_size));
  // Replacement strings are read up to their NUL; a final NUL guarantees every read ends in bounds.
  if (n.pool_.empty() || n.pool_.back() != '\0') {
    return data_loss("precompiled charsmap string pool is not NUL-terminated; the model is corrupt");
  }
  return n;
}

std::pair<std::string_view, size_t> Normalizer::normalize_prefix(std::string_view input) const {
  size_t longest_length = 0;
  uint32_t longest_value = 0;
  if (!trie_.empty()) {
    std::array<DoubleArrayView::Match, kMaxTrieResults> results;
    const size_t found = trie_.common_prefix_search(input, results.data(), results.size());
    const size_t usable = found < results.size() ? found : results.size();
    for (size_t k = 0; k < usable; ++k) {
      // A value outside the pool is a corrupt rule: ignore it rather than read out of bounds.
      if (results[k].value >= pool_.size()) continue;
      if (longest_length == 0 || results[k].length > longest_length) {
        longest_length = results[k].length;
        longest_value = results[k].value;
      }
    }
  }
  if (longest_length > 0) {
    const char* s = pool_.data() + longest_value;
    return {std::string_view(s), longest_length};  // NUL-terminated within pool_
  }
  char32_t cp = 0;
  size_t len = 1;
  if (!utf8::decode(input, &cp, &len)) return {kReplacementChar, 1};
  return {input.substr(0, len), len};
}

void Normalizer::normalize(std::string_view input, std::string* out) const {
  out->clear();
  if (input.empty()) return;
  const bool remove_ws = options_.remove_extra_whitespaces;
  const bool escape = options_.escape_whitespaces;

  if (remove_ws) {
    while (!input.empty()) {
      const auto [rep, consumed] = normalize_prefix(input);
      if (rep != " ") break;
      input.remove_prefix(consumed);
    }
  }
  if (input.empty()) return;
  out->reserve(input.size() * 3);

  auto add_space = [&] {
    if (escape) {
      out->append(kSpaceSymbol);
    } else {
      out->push_back(' ');
    }
  };
  if (options_.add_dummy_prefix) add_space();

  bool is_prev_space = remove_ws;
  while (!input.empty()) {
    auto [rep, consumed] = normalize_prefix(input);
    while (is_prev_space && !rep.empty() && rep.front() == ' ') rep.remove_prefix(1);
    if (!rep.empty()) {
      for (char c : rep) {
        if (escape && c == ' ') {
          out->append(kSpaceSymbol);
        } else {
          out->push_back(c);
        }
      }
      is_prev_space = rep.back() == ' ';
    }
    input.remove_prefix(consumed);
    if (!remove_ws) is_prev_space = false;
  }

  if (remove_ws) {
    const std::string_view space = escape ? kSpaceSymbol : std::string_view(" ");
    while (std::string_view(*out).ends_with(space)) out->resize(out->size() - space.size());
  }
}

}  // namespace sealsum::tok
