// Linear: y = x · Wᵀ + b with W packed once at load (PyTorch nn.Linear semantics and layout).
//
// Ownership: a Linear owns its packed weights and a copy of its bias; the source tensors may be
// freed after construction. Immutable after construction, so one Linear may serve many threads.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "engine/kernels/kernels.h"

namespace sealsum::layers {

class Linear {
 public:
  Linear() = default;
  // W is [out, in] row-major; bias (nullptr for none) is [out].
  Linear(const float* w, int64_t out, int64_t in, const float* bias);

  // Several linears over the same input fused into one: the output columns are the parts' outputs
  // side by side, in order (e.g. q|k|v). Each part is {W [out_i, in], bias or nullptr}.
  struct Part {
    const float* w;
    int64_t out;
    const float* bias;
  };
  static Linear fused(std::span<const Part> parts, int64_t in);

  int64_t in_features() const { return in_; }
  int64_t out_features() const { return out_; }

  // y[m, out] = x[m, in] · Wᵀ (+ bias). x and y contiguous, must not alias.
  void forward(const float* x, int64_t m, float* y, kernels::ThreadPool* pool) const;

 private:
  kernels::PackedMatrix w_;
  std::vector<float> bias_;  // empty: no bias
  int64_t in_ = 0, out_ = 0;
};

}  // namespace sealsum::layers
