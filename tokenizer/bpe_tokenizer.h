// BpeTokenizer: the byte-level BPE tokenizer of GPT-2 / RoBERTa / BART, reproducing the Hugging
// Face Rust `tokenizers` pipeline for such a tokenizer.json:
//   encode: added tokens (bpe_added.h) -> ByteLevel pre-tokenizer (bpe_pretokenize.h, optional
//           prefix space) -> BPE (bpe_model.h) -> post-processor (prefix/suffix ids, e.g. <s> </s>)
//   decode: ids -> tokens (unknown ids and special tokens skipped) -> ByteLevel decoder (bytes,
//           then UTF-8 with U+FFFD for ill-formed sequences) -> clean_up_tokenization_spaces.
// Input text that is not valid UTF-8 (which the reference cannot even receive) is first repaired
// with unicode::to_valid_utf8, i.e. each ill-formed subsequence becomes U+FFFD.
//
// Built by make_bpe_from_tokenizer_json / make_bpe_from_vocab_merges (bpe_load.cpp).
// Thread safety: immutable after construction (the BPE word cache is internally synchronised).
#pragma once

#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "tokenizer/bpe_added.h"
#include "tokenizer/bpe_model.h"
#include "tokenizer/tokenizer.h"

namespace sealsum::tok::bpe {

struct BpeConfig {
  std::unique_ptr<BpeModel> model;
  std::vector<AddedToken> added;
  bool add_prefix_space = false;  // ByteLevel pre-tokenizer: prepend " " to each text piece
  bool use_regex = true;          // ByteLevel pre-tokenizer: split with the GPT-2 pattern
  std::vector<int32_t> prefix_ids;  // post-processor, e.g. {<s>}
  std::vector<int32_t> suffix_ids;  // post-processor, e.g. {</s>}
  bool clean_up_spaces = true;      // clean_up_tokenization_spaces after decoding
};

// Python transformers' clean_up_tokenization: " ." -> ".", " ?" -> "?", " !" -> "!", " ," -> ",",
// " ' " -> "'", " n't" -> "n't", " 'm" -> "'m", " 's" -> "'s", " 've" -> "'ve", " 're" -> "'re",
// applied in that order, each as str.replace (all non-overlapping occurrences, left to right).
std::string clean_up_tokenization(std::string text);

class BpeTokenizer final : public Tokenizer {
 public:
  explicit BpeTokenizer(BpeConfig config);

  std::vector<int32_t> encode(std::string_view text) const override;
  std::string decode(std::span<const int32_t> ids) const override;
  size_t vocab_size() const override;
  std::optional<int32_t> token_to_id(std::string_view token) const override;
  std::optional<std::string> id_to_token(int32_t id) const override;
  const char* kind() const override { return "bpe"; }

 private:
  void encode_text(std::string_view piece, std::vector<int32_t>& out) const;

  BpeConfig cfg_;
  AddedMatcher matcher_;
  std::unordered_map<std::string, int32_t> added_by_content_;
  std::unordered_map<int32_t, std::string> added_by_id_;
  // Per id (dense up to the largest id): the bytes the ByteLevel decoder yields for it, and
  // whether decode(skip_special_tokens=True) drops it (special, or not a token at all).
  std::vector<std::string> decoded_bytes_;
  std::vector<uint8_t> skip_;
};

}  // namespace sealsum::tok::bpe
