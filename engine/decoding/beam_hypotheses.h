// The finished-hypothesis set of one input in beam search: transformers 4.36 `BeamHypotheses`.
//
// Holds at most num_beams hypotheses scored sum_logprobs / generated_len ** length_penalty, computed
// in double as Python does (`float / int ** float`, pow from the C library). Tie rules match the
// Python: eviction removes the lowest score, among equal scores the earliest added (Python sorts
// (score, index) tuples); `best()` orders by score with a stable sort and takes from the end, so
// among equal scores the *latest* added comes first. Not thread-safe; owned by one search.
#pragma once

#include <cstdint>
#include <vector>

#include "engine/decoding/generation.h"

namespace sealsum::decoding {

struct Hypothesis {
  double score;
  std::vector<int32_t> tokens;  // starts with the decoder start token; EOS not included
};

class BeamHypotheses {
 public:
  BeamHypotheses(int num_beams, double length_penalty, EarlyStopping early_stopping, int max_length);

  size_t size() const { return beams_.size(); }
  double worst_score() const { return worst_score_; }
  const std::vector<Hypothesis>& beams() const { return beams_; }

  // add(hyp, sum_logprobs, generated_len): generated_len counts generated tokens (decoder start
  // excluded, EOS included when the hypothesis ended with one).
  void add(std::vector<int32_t> tokens, double sum_logprobs, int64_t generated_len);

  // is_done(best_sum_logprobs, cur_len) with decoder_prompt_len 1: whether no running beam can
  // still enter the set. cur_len is the sequence length including the token just scored.
  bool is_done(double best_sum_logprobs, int64_t cur_len) const;

  // The n best hypotheses, best first (n <= size()).
  std::vector<Hypothesis> best(int n) const;

 private:
  int num_beams_;
  double length_penalty_;
  EarlyStopping early_stopping_;
  int max_length_;
  std::vector<Hypothesis> beams_;
  double worst_score_ = 1e9;
};

}  // namespace sealsum::decoding
