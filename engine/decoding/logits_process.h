// Per-row score arithmetic of transformers 4.36 generation, in float32 as torch computes it:
// log_softmax, argmax, and the logits processors sealsum supports.
//
// The processors run in the order transformers' `_get_logits_processor` builds them:
//   RepetitionPenalty -> NoRepeatNGram -> MinLength -> ForcedBOS -> ForcedEOS.
// Greedy search applies them to raw logits; beam search to log_softmax(logits). Each acts on one
// row given that row's decoder sequence so far (`seq`, which starts with the decoder start token;
// transformers' cur_len == seq.size()). All functions are pure or mutate only the row passed in;
// a LogitsProcessors object is immutable after construction and safe to share across threads.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "engine/decoding/generation.h"

namespace sealsum::decoding {

// out[i] = (in[i] - max) - log(sum_j exp(in[j] - max)), all in float32, with the sum accumulated
// in 8 interleaved lanes (lane l sums elements l, l+8, ...) and the lanes then added left to right:
// the structure of torch 1.13's vectorized CPU kernel (_vec_log_softmax_lastdim, AVX2 width).
// `in` and `out` may alias. n >= 1. The caller guarantees finite inputs.
void log_softmax_row(const float* in, float* out, int64_t n);

// torch.argmax over one row: the first index of the maximum (a NaN counts as the maximum, the first
// NaN wins). n >= 1.
int64_t argmax_row(const float* row, int64_t n);

// True when every value is finite (no NaN, no +-inf).
bool all_finite(const float* row, int64_t n);

// The active processors for a parameter set. `max_length` is effective_max_length(params).
class LogitsProcessors {
 public:
  explicit LogitsProcessors(const GenerationParams& params);

  // Applies the active processors, in transformers' order, to `row` (vocab_size values) of the
  // hypothesis whose decoder sequence so far is `seq`. Token ids in seq and params must be in
  // [0, vocab_size) (validate_params checks the params; seq holds ids the search produced).
  void apply(std::span<const int32_t> seq, float* row, int64_t vocab_size) const;

  bool any_active() const;

 private:
  void repetition_penalty(std::span<const int32_t> seq, float* row) const;
  void no_repeat_ngram(std::span<const int32_t> seq, float* row) const;

  bool repetition_active_;    // transformers: repetition_penalty != 1.0
  float repetition_penalty_;
  int no_repeat_ngram_size_;  // 0: inactive
  int min_length_;            // 0 or no EOS: inactive
  int max_length_;
  std::vector<int32_t> eos_token_ids_;
  std::optional<int32_t> forced_bos_token_id_;
  std::optional<int32_t> forced_eos_token_id_;
};

}  // namespace sealsum::decoding
