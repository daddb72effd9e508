#include "weights/panel_layout.h"

#include <algorithm>
#include <cmath>
#include <cstring>

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

namespace sealsum::weights {

I8Panels quantize_i8_panels(std::span<const float> w, int64_t n, int64_t k) {
  I8Panels out;
  const int64_t kp = i8_padded_k(k);
  out.codes.assign(static_cast<size_t>(i8_panel_bytes(n, k)), 0);
  out.scales.assign(static_cast<size_t>(n), 0.0f);
  for (int64_t j = 0; j < n; ++j) {
    const float* src = w.data() + j * k;
    float amax = 0.0f;
    for (int64_t kk = 0; kk < k; ++kk) amax = std::max(amax, std::fabs(src[kk]));
    if (!(amax > 0.0f) || !std::isfinite(amax)) continue;  // zero (or unusable) row: codes 0, scale 0
    const float scale = amax / 127.0f;
    out.scales[static_cast<size_t>(j)] = scale;
    int8_t* dst = out.codes.data() + (j / kPanelWidth) * kp * kPanelWidth + (j % kPanelWidth) * kI8KGroup;
    for (int64_t kk = 0; kk < k; ++kk) {
      const float q = std::nearbyint(src[kk] / scale);  // default rounding mode: half to even
      dst[(kk / kI8KGroup) * kPanelWidth * kI8KGroup + kk % kI8KGroup] =
          static_cast<int8_t>(std::clamp(q, -127.0f, 127.0f));
    }
  }
  return out;
}

void i8_panel_row(const int8_t* codes, const float* scales, int64_t k, int64_t j, float* out) {
  const int64_t kp = i8_padded_k(k);
  const int8_t* src = codes + (j / kPanelWidth) * kp * kPanelWidth + (j % kPanelWidth) * kI8KGroup;
  const float s = scales[j];
  for (int64_t kk = 0; kk < k; ++kk) {
    out[kk] = static_cast<float>(src[(kk / kI8KGroup) * kPanelWidth * kI8KGroup + kk % kI8KGroup]) * s;
  }
}

std::vector<uint16_t> to_bf16_panels(std::span<const float> w, int64_t n, int64_t k) {
  const std::vector<float> p = to_panels(w, n, k);
  std::vector<uint16_t> out(p.size());
  for (size_t i = 0; i < p.size(); ++i) out[i] = f32_to_bf16(p[i]);
  return out;
}

void bf16_panel_row(const uint16_t* panels, int64_t k, int64_t j, float* out) {
  const uint16_t* src = panels + (j / kPanelWidth) * k * kPanelWidth + j % kPanelWidth;
  for (int64_t kk = 0; kk < k; ++kk) out[kk] = bf16_to_f32(src[kk * kPanelWidth]);
}

}  // namespace sealsum::weights
