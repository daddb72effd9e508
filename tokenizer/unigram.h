// The T5 unigram tokenizer: SentencePiece normalization + unigram Viterbi, wrapped in the special-
// token rules of the slow transformers T5Tokenizer (4.29.2). Built by make_unigram_from_spm() and
// make_unigram_from_tokenizer_json() (tokenizer/factories.h); this header is the seam both share.
//
// Encode (T5Tokenizer.__call__ semantics):
//   1. split the text at special-token strings (leftmost, longest first);
//   2. strip Python whitespace from the side of each text segment that touches a special token;
//   3. normalize + segment each non-empty text segment on its own (each gets its own dummy "▁");
//   4. a special string becomes its id; finally append </s> unless the ids already end with it.
// Decode (T5Tokenizer.decode(ids, skip_special_tokens=True), clean_up_tokenization_spaces=True):
//   drop special ids (</s>, <pad>, <unk>, <extra_id_N>) and ids outside the vocabulary, join the
//   pieces as sentencepiece's DecodePieces does (leading "▁" dropped while the text is still empty,
//   every "▁" -> " "), Python-strip, then the clean-up replacements in transformers' order.
//
// Thread safety: immutable after construction; encode/decode are const and reentrant.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "tokenizer/normalizer.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/unigram_model.h"

namespace sealsum::tok {

struct UnigramSpec {
  std::vector<UnigramPiece> pieces;  // the model's vocabulary, in id order
  int32_t unk_id = 0;
  std::string precompiled_charsmap;  // may be empty
  NormalizerOptions normalizer;
  // Tokens with ids after the pieces (T5's <extra_id_N> when built from spiece.model); each id
  // must be pieces.size() + index. They are special.
  std::vector<std::string> extra_tokens;
  // Token strings split out of the text and never decoded: each must name a piece or extra token.
  std::vector<std::string> special_tokens;
  std::string eos_token = "</s>";  // appended by encode(); must be special
};

// Validates the spec and builds the tokenizer. Errors name the offending token or id.
Result<std::unique_ptr<Tokenizer>> make_unigram_tokenizer(UnigramSpec spec);

// transformers' clean_up_tokenization (applied by decode); exposed for tests.
std::string clean_up_tokenization(std::string text);

}  // namespace sealsum::tok
