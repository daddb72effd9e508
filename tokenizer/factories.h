// Constructors of the concrete tokenizers, called by load_tokenizer() (tokenizer/load.cpp).
// Each parses outside bytes: bounded, checked, and failing with a Status that names the file kind.
#pragma once

#include <memory>
#include <string_view>

#include "tokenizer/tokenizer.h"

namespace sealsum::tok {

// SentencePiece unigram (T5): a serialized ModelProto (spiece.model) ...
Result<std::unique_ptr<Tokenizer>> make_unigram_from_spm(std::string_view model_proto);
// ... or a Hugging Face tokenizer.json whose model.type is "Unigram".
Result<std::unique_ptr<Tokenizer>> make_unigram_from_tokenizer_json(std::string_view json);

// Byte-level BPE (BART / RoBERTa / GPT-2): tokenizer.json whose model.type is "BPE" ...
Result<std::unique_ptr<Tokenizer>> make_bpe_from_tokenizer_json(std::string_view json);
// ... or vocab.json + merges.txt (special tokens as BART's defaults: <s> <pad> </s> <unk> <mask>).
Result<std::unique_ptr<Tokenizer>> make_bpe_from_vocab_merges(std::string_view vocab_json, std::string_view merges_txt);

}  // namespace sealsum::tok
