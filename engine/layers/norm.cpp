#include "engine/layers/norm.h"

#include "engine/ops/ops.h"

namespace sealsum::layers {

void RmsNorm::forward(const float* x, int64_t m, float* y) const {
  ops::rms_norm(x, m, dim(), w_.data(), eps_, y);
}

void LayerNorm::forward(const float* x, int64_t m, float* y) const {
  ops::layer_norm(x, m, dim(), w_.data(), b_.data(), eps_, y);
}

}  // namespace sealsum::layers
