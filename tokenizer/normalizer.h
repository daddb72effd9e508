// SentencePiece text normalization driven by the model's own precompiled charsmap.
//
// The charsmap blob (NormalizerSpec.precompiled_charsmap, or base64 in tokenizer.json's
// "Precompiled" normalizer) is: a little-endian uint32 trie size N, then N bytes of a Darts-clone
// double-array trie whose values are offsets into the rest of the blob, a pool of NUL-terminated
// replacement strings. Normalization follows sentencepiece's normalizer.cc (0.1.97) exactly; see
// normalizer.cpp.
//
// Ownership: a Normalizer owns a copy of the blob. Thread safety: immutable after create();
// normalize() is const and safe to call concurrently.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace sealsum::tok {

struct NormalizerOptions {
  bool add_dummy_prefix = true;
  bool remove_extra_whitespaces = true;
  bool escape_whitespaces = true;
};

// Read-only view of a Darts-clone double array; every access is bounds-checked.
class DoubleArrayView {
 public:
  DoubleArrayView() = default;
  explicit DoubleArrayView(std::vector<uint32_t> units) : units_(std::move(units)) {}

  struct Match {
    uint32_t value;
    size_t length;  // bytes of the key prefix
  };
  // Darts' commonPrefixSearch over `key`: stores at most `max_results` matches (shortest first)
  // and returns the total number found, like the original.
  size_t common_prefix_search(std::string_view key, Match* results, size_t max_results) const;
  bool empty() const { return units_.empty(); }

 private:
  std::vector<uint32_t> units_;
};

class Normalizer {
 public:
  // An empty charsmap means no character rules (only the whitespace handling applies).
  // Fails with kDataLoss on a malformed blob.
  static Result<Normalizer> create(std::string_view precompiled_charsmap, NormalizerOptions options);

  // Normalizes `input` (any bytes) into `out` (cleared first). The output is valid UTF-8 when
  // every replacement string of the charsmap is.
  void normalize(std::string_view input, std::string* out) const;

  // One normalization step at the front of non-empty `input`: the replacement text and the number
  // of input bytes consumed (>= 1). Exposed for tests.
  std::pair<std::string_view, size_t> normalize_prefix(std::string_view input) const;

  const NormalizerOptions& options() const { return options_; }

 private:
  DoubleArrayView trie_;
  std::string pool_;  // NUL-terminated replacement strings; always ends with NUL when non-empty
  NormalizerOptions options_;
};

}  // namespace sealsum::tok
