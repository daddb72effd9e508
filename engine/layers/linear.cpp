#include "engine/layers/linear.h"

#include <cstring>

namespace sealsum::layers {

Linear::Linear(const float* w, int64_t out, int64_t in, const float* bias)
    : w_(kernels::pack_matrix(w, out, in)), in_(in), out_(out) {
  if (bias != nullptr) bias_.assign(bias, bias + out);
}

Linear Linear::fused(std::span<const Part> parts, int64_t in) {
  int64_t total = 0;
  bool any_bias = false;
  for (const Part& p : parts) {
    total += p.out;
    any_bias = any_bias || p.bias != nullptr;
  }
  // The concatenated matrix exists only while packing.
  std::vector<float> w(static_cast<size_t>(total * in));
  std::vector<float> b(any_bias ? static_cast<size_t>(total) : 0, 0.0f);
  int64_t row = 0;
  for (const Part& p : parts) {
    std::memcpy(w.data() + row * in, p.w, static_cast<size_t>(p.out * in) * sizeof(float));
    if (p.bias != nullptr) std::memcpy(b.data() + row, p.bias, static_cast<size_t>(p.out) * sizeof(float));
    row += p.out;
  }
  Linear l(w.data(), total, in, any_bias ? b.data() : nullptr);
  return l;
}

void Linear::forward(const float* x, int64_t m, float* y, kernels::ThreadPool* pool) const {
  if (m <= 0) return;
  kernels::linear(x, m, w_, bias_.empty() ? nullptr : bias_.data(), y, pool);
}

}  // namespace sealsum::layers
