// Test-only: a deterministic table-driven DecoderSession over a tiny vocabulary.
//
// Each row remembers the decoder tokens fed to it; step() looks the row's whole sequence up in a
// table of next-token probabilities (logits = log p, so log_softmax gives back log p up to float
// rounding) and falls back to a default distribution. Because logits depend on the row's history,
// any reorder() mistake in the search changes the logits and therefore the result. Records every
// reorder() and counts step() calls. Not thread-safe.
#pragma once

#include <cmath>
#include <map>
#include <string>
#include <vector>

#include "engine/decoding/generation.h"

namespace sealsum::decoding::testing {

class ToySession : public DecoderSession {
 public:
  using Seq = std::vector<int32_t>;
  // `fallback`: probabilities for any sequence missing from the table (size vocab). A probability
  // of 0 becomes the logit -30 (finite, as real models produce).
  ToySession(int64_t vocab, std::vector<double> fallback) : vocab_(vocab), fallback_(std::move(fallback)) {}

  void set(const Seq& seq, std::vector<double> probs) { table_[seq] = std::move(probs); }
  void set_logits(const Seq& seq, std::vector<float> logits) { raw_[seq] = std::move(logits); }

  int64_t vocab_size() const override { return vocab_; }
  int64_t rows() const override { return static_cast<int64_t>(rows_.size()); }

  Status step(std::span<const int32_t> tokens, float* logits) override {
    if (tokens.size() != rows_.size()) return invalid_argument("toy: tokens/rows mismatch");
    ++steps_;
    for (size_t r = 0; r < rows_.size(); ++r) {
      rows_[r].push_back(tokens[r]);
      float* out = logits + r * static_cast<size_t>(vocab_);
      if (auto it = raw_.find(rows_[r]); it != raw_.end()) {
        for (int64_t v = 0; v < vocab_; ++v) out[v] = it->second[static_cast<size_t>(v)];
        continue;
      }
      auto it = table_.find(rows_[r]);
      const std::vector<double>& p = it == table_.end() ? fallback_ : it->second;
      for (int64_t v = 0; v < vocab_; ++v) {
        const double q = p[static_cast<size_t>(v)];
        out[v] = q > 0 ? static_cast<float>(std::log(q)) : -30.0f;
      }
    }
    return Status::ok();
  }

  Status reorder(std::span<const int32_t> src) override {
    std::vector<Seq> next;
    for (int32_t s : src) {
      if (s < 0 || static_cast<size_t>(s) >= rows_.size()) return invalid_argument("toy: bad reorder index");
      next.push_back(rows_[static_cast<size_t>(s)]);
    }
    rows_ = std::move(next);
    reorders_.emplace_back(src.begin(), src.end());
    return Status::ok();
  }

  int steps() const { return steps_; }
  const std::vector<std::vector<int32_t>>& reorders() const { return reorders_; }
  const std::vector<Seq>& row_sequences() const { return rows_; }

 private:
  int64_t vocab_;
  std::vector<double> fallback_;
  std::map<Seq, std::vector<double>> table_;
  std::map<Seq, std::vector<float>> raw_;
  std::vector<Seq> rows_{Seq{}};
  int steps_ = 0;
  std::vector<std::vector<int32_t>> reorders_;
};

}  // namespace sealsum::decoding::testing
