// The GPT-2 / RoBERTa / BART pre-tokenizer: splits text into the pieces BPE encodes one by one.
//
// Equivalent, piece for piece, to the Hugging Face `tokenizers` ByteLevel pre-tokenizer's regex
// (Oniguruma, leftmost-first alternation, greedy quantifiers):
//     's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
// hand-coded over code points (no regex engine); see bpe_pretokenize.cpp for the derivation.
// Thread-safe and allocation-light: pieces are views into the caller's text.
#pragma once

#include <string_view>
#include <vector>

namespace sealsum::tok::bpe {

// Appends to `out` the consecutive pieces of `text`; their concatenation is `text`, and none is
// empty. Precondition: `text` is valid UTF-8 (callers repair it first with to_valid_utf8).
void split_gpt2(std::string_view text, std::vector<std::string_view>& out);

}  // namespace sealsum::tok::bpe
