#include "weights/panel_layout.h"

namespace sealsum::weights {

std::vector<float> to_panels(std::span<const float> w, int64_t n, int64_t k) {
  std::vector<float> out(static_cast<size_t>(panel_floats(n, k)), 0.0f);
  for (int64_t j = 0; j < n; ++j) {
    float* dst = out.data() + (j / kPanelWidth) * k * kPanelWidth + j % kPanelWidth;
    const float* src = w.data() + j * k;  // row j, read sequentially
    for (int64_t kk = 0; kk < k; ++kk) dst[kk * kPanelWidth] = src[kk];
  }
  return out;
}

void panel_row(const float* panels, int64_t k, int64_t j, float* out) {
  const float* src = panels + (j / kPanelWidth) * k * kPanelWidth + j % kPanelWidth;
  for (int64_t kk = 0; kk < k; ++kk) out[kk] = src[kk * kPanelWidth];
}

std::vector<float> from_panels(const float* panels, int64_t n, int64_t k) {
  std::vector<float> out(static_cast<size_t>(n * k));
  for (int64_t j = 0; j < n; ++j) panel_row(panels, k, j, out.data() + j * k);
  return out;
}

}  // namespace sealsum::weights
