// Generation: greedy and beam search with Hugging Face transformers 4.36 `generate()` semantics.
//
// The seam between models and decoding is models::DecoderSession (engine/models/seq2seq.h): a
// model's decoder bound to one encoded input, holding a self-attention cache per row (a row = one
// hypothesis) and the cross-attention keys/values computed once and shared by all rows. Decoding
// owns the search; models own the math.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/status.h"
#include "engine/models/seq2seq.h"

namespace sealsum::decoding {

// The searches run through the models' session interface (defined there, one layer down).
using DecoderSession = models::DecoderSession;

enum class EarlyStopping { kFalse, kTrue, kNever };

// Hugging Face GenerationConfig fields that sealsum implements. Lengths count the decoder start
// token, as transformers does.
struct GenerationParams {
  int num_beams = 1;
  int max_length = 20;
  std::optional<int> max_new_tokens;  // when set, max_length = 1 + max_new_tokens
  int min_length = 0;
  double length_penalty = 1.0;
  EarlyStopping early_stopping = EarlyStopping::kFalse;
  int no_repeat_ngram_size = 0;
  double repetition_penalty = 1.0;
  int32_t decoder_start_token_id = 0;
  std::vector<int32_t> eos_token_ids;
  int32_t pad_token_id = 0;
  std::optional<int32_t> forced_bos_token_id;
  std::optional<int32_t> forced_eos_token_id;
  int num_return_sequences = 1;
};

// Exactly transformers' output: greedy returns one sequence ending at EOS (included) or at
// max_length. Beam search returns num_return_sequences, best first; a finished hypothesis carries
// its EOS (the first eos_token_ids entry) when it fits under max_length, and when the returned
// lengths differ the shorter sequences are right-padded with pad_token_id to one width.
struct GenerateOutput {
  std::vector<std::vector<int32_t>> sequences;  // each starts with the decoder start token
  std::vector<double> scores;                    // beam: sequences_scores (float32 values); greedy: empty
};

// The max_length the search runs to: 1 + max_new_tokens when set (transformers: max_new_tokens +
// decoder input length, which is 1 here), else max_length.
int effective_max_length(const GenerationParams& params);

// Checks params on their own and, when vocab_size > 0, every token id against [0, vocab_size).
// kInvalidArgument with a message naming the field (e.g. "num_return_sequences (5) must be <=
// num_beams (4)"); no document data is ever part of a message.
Status validate_params(const GenerationParams& params, int64_t vocab_size);

// Runs the search. `session` must have rows() == 1 on entry. Fails (kInvalidArgument) on
// inconsistent params (e.g. num_return_sequences > num_beams) with a message naming the field.
Result<GenerateOutput> generate(DecoderSession& session, const GenerationParams& params);

}  // namespace sealsum::decoding
