// Tokenizer interface shared by the SentencePiece unigram (T5) and byte-level BPE (BART) tokenizers.
//
// Contract: a Tokenizer is immutable after construction, so encode/decode are safe to call from
// many threads at once (internal caches, if any, must be internally synchronised). Loaders parse
// outside bytes: they are bounded and checked, and fail with a Status naming the file kind and the
// problem, never crash. Neither encode nor decode ever logs the text.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace sealsum::tok {

class Tokenizer {
 public:
  virtual ~Tokenizer() = default;

  // Encodes text the way the reference tokenizer's __call__ does, *with* the model's special
  // tokens: T5 appends `</s>`; BART wraps in `<s>` ... `</s>`. Special-token strings inside the
  // text are matched as the reference does.
  virtual std::vector<int32_t> encode(std::string_view text) const = 0;
  // decode(ids, skip_special_tokens=True) followed by clean_up_tokenization_spaces.
  virtual std::string decode(std::span<const int32_t> ids) const = 0;

  virtual size_t vocab_size() const = 0;
  virtual std::optional<int32_t> token_to_id(std::string_view token) const = 0;
  virtual std::optional<std::string> id_to_token(int32_t id) const = 0;
  // "unigram" or "bpe".
  virtual const char* kind() const = 0;
};

// One tokenizer source, as the converter embeds it in a model file:
//   kind "spiece"            files: {"spiece.model"}
//   kind "tokenizer.json"    files: {"tokenizer.json"}   (Unigram or BPE model inside)
//   kind "vocab+merges"      files: {"vocab.json", "merges.txt"}
struct TokenizerSource {
  std::string kind;
  std::vector<std::pair<std::string, std::string>> files;  // (file name, bytes)
};

// Builds a tokenizer from in-memory files (as stored in a model file).
Result<std::unique_ptr<Tokenizer>> load_tokenizer(const TokenizerSource& src);
// Reads a tokenizer from a Hugging Face model folder or a single file path: prefers
// spiece.model, then tokenizer.json, then vocab.json + merges.txt. Returns the source too so the
// converter can embed exactly those bytes.
Result<TokenizerSource> read_tokenizer_source(const std::string& path);

}  // namespace sealsum::tok
