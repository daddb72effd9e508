// Normalisation layers: T5's RMSNorm (T5LayerNorm) and BART's LayerNorm, row by row in float32.
//
// Ownership: a norm keeps a copy of its weight (and bias); immutable after construction, so it is
// safe to share across threads. forward() may run in place (x == y).
#pragma once

#include <cstdint>
#include <vector>

namespace sealsum::layers {

// T5LayerNorm: y = w · x / sqrt(mean(x²) + eps); no mean subtraction, no bias.
class RmsNorm {
 public:
  RmsNorm() = default;
  RmsNorm(const float* weight, int64_t d, float eps) : w_(weight, weight + d), eps_(eps) {}
  void forward(const float* x, int64_t m, float* y) const;
  int64_t dim() const { return static_cast<int64_t>(w_.size()); }

 private:
  std::vector<float> w_;
  float eps_ = 1e-6f;
};

// nn.LayerNorm: y = (x − mean) / sqrt(var + eps) · w + b (biased variance).
class LayerNorm {
 public:
  LayerNorm() = default;
  LayerNorm(const float* weight, const float* bias, int64_t d, float eps)
      : w_(weight, weight + d), b_(bias, bias + d), eps_(eps) {}
  void forward(const float* x, int64_t m, float* y) const;
  int64_t dim() const { return static_cast<int64_t>(w_.size()); }

 private:
  std::vector<float> w_, b_;
  float eps_ = 1e-5f;
};

}  // namespace sealsum::layers
