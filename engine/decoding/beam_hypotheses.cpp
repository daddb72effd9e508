#include "engine/decoding/beam_hypotheses.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace sealsum::decoding {

namespace {
constexpr int64_t kDecoderPromptLen = 1;  // the decoder start token
}

BeamHypotheses::BeamHypotheses(int num_beams, double length_penalty, EarlyStopping early_stopping, int max_length)
    : num_beams_(num_beams), length_penalty_(length_penalty), early_stopping_(early_stopping), max_length_(max_length) {}

void BeamHypotheses::add(std::vector<int32_t> tokens, double sum_logprobs, int64_t generated_len) {
  const double score = sum_logprobs / std::pow(static_cast<double>(generated_len), length_penalty_);
  if (beams_.size() < static_cast<size_t>(num_beams_) || score > worst_score_) {
    beams_.push_back({score, std::move(tokens)});
    if (beams_.size() > static_cast<size_t>(num_beams_)) {
      // Python: sorted((s, idx)) -> delete the first, the new worst is the second.
      std::vector<size_t> order(beams_.size());
      std::iota(order.begin(), order.end(), 0);
      std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
        if (beams_[a].score != beams_[b].score) return beams_[a].score < beams_[b].score;
        return a < b;
      });
      worst_score_ = beams_[order[1]].score;
      beams_.erase(beams_.begin() + static_cast<std::ptrdiff_t>(order[0]));
    } else {
      worst_score_ = std::min(score, worst_score_);
    }
  }
}

bool BeamHypotheses::is_done(double best_sum_logprobs, int64_t cur_len) const {
  if (beams_.size() < static_cast<size_t>(num_beams_)) return false;
  switch (early_stopping_) {
    case EarlyStopping::kTrue:
      return true;
    case EarlyStopping::kFalse: {
      // 4.36 heuristic: the best running score as if it ended now (cur_len, not max_length).
      const double highest =
          best_sum_logprobs / std::pow(static_cast<double>(cur_len - kDecoderPromptLen), length_penalty_);
      return worst_score_ >= highest;
    }
    case EarlyStopping::kNever: {
      // With a positive penalty the largest denominator (max_length) bounds the best score.
      const int64_t len = length_penalty_ > 0.0 ? max_length_ - kDecoderPromptLen : cur_len - kDecoderPromptLen;
      const double highest = best_sum_logprobs / std::pow(static_cast<double>(len), length_penalty_);
      return worst_score_ >= highest;
    }
  }
  return false;
}

std::vector<Hypothesis> BeamHypotheses::best(int n) const {
  std::vector<Hypothesis> sorted = beams_;
  std::stable_sort(sorted.begin(), sorted.end(),
                   [](const Hypothesis& a, const Hypothesis& b) { return a.score < b.score; });
  std::vector<Hypothesis> out;
  for (int j = 0; j < n && !sorted.empty(); ++j) {
    out.push_back(std::move(sorted.back()));
    sorted.pop_back();
  }
  return out;
}

}  // namespace sealsum::decoding
