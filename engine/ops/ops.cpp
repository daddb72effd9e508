// ops.h on top of the kernels: reductions in double here, transcendental inner loops vectorized in
// engine/kernels/vecmath.h (dispatched on the active ISA). See ops.h for the numerical contract.
#include "engine/ops/ops.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "engine/kernels/vecmath.h"

namespace sealsum::ops {

void rms_norm(const float* x, int64_t m, int64_t d, const float* w, float eps, float* y) {
  for (int64_t i = 0; i < m; ++i) {
    const float* xi = x + i * d;
    float* yi = y + i * d;
    double ss = 0.0;
    for (int64_t j = 0; j < d; ++j) ss += static_cast<double>(xi[j]) * xi[j];
    const float var = d > 0 ? static_cast<float>(ss / static_cast<double>(d)) : 0.0f;
    const float r = static_cast<float>(1.0 / std::sqrt(static_cast<double>(var + eps)));
    for (int64_t j = 0; j < d; ++j) yi[j] = w[j] * (xi[j] * r);
  }
}

void layer_norm(const float* x, int64_t m, int64_t d, const float* w, const float* b, float eps, float* y) {
  for (int64_t i = 0; i < m; ++i) {
    const float* xi = x + i * d;
    float* yi = y + i * d;
    double sum = 0.0;
    for (int64_t j = 0; j < d; ++j) sum += xi[j];
    const double mean = d > 0 ? sum / static_cast<double>(d) : 0.0;
    double sq = 0.0;
    for (int64_t j = 0; j < d; ++j) {
      const double c = static_cast<double>(xi[j]) - mean;
      sq += c * c;
    }
    const double var = d > 0 ? sq / static_cast<double>(d) : 0.0;
    const float rstd = static_cast<float>(1.0 / std::sqrt(var + static_cast<double>(eps)));
    const float meanf = static_cast<float>(mean);
    for (int64_t j = 0; j < d; ++j) {
      float v = (xi[j] - meanf) * rstd;
      if (w != nullptr) v *= w[j];
      if (b != nullptr) v += b[j];
      yi[j] = v;
    }
  }
}

void softmax(float* x, int64_t m, int64_t n) {
  for (int64_t i = 0; i < m; ++i) {
    float* xi = x + i * n;
    const float mx = kernels::max_of(xi, n);
    if (std::isnan(mx)) {
      std::fill_n(xi, n, std::numeric_limits<float>::quiet_NaN());
      continue;
    }
    const double sum = kernels::exp_shift_sum(xi, xi, n, mx);
    const float inv = static_cast<float>(1.0 / sum);
    for (int64_t j = 0; j < n; ++j) xi[j] *= inv;
  }
}

void log_softmax(float* x, int64_t m, int64_t n) {
  for (int64_t i = 0; i < m; ++i) {
    float* xi = x + i * n;
    const float mx = kernels::max_of(xi, n);
    if (std::isnan(mx)) {
      std::fill_n(xi, n, std::numeric_limits<float>::quiet_NaN());
      continue;
    }
    const double sum = kernels::exp_shift_sum(xi, nullptr, n, mx);
    const double lse = static_cast<double>(mx) + std::log(sum);
    for (int64_t j = 0; j < n; ++j) xi[j] = static_cast<float>(static_cast<double>(xi[j]) - lse);
  }
}

void relu(float* x, int64_t n) {
  // v < 0 ? 0 : v (NaN and -0 kept) without a branch: a branch mispredicts on random signs and
  // cost ~5 ns an element in the encoder's feed-forward (GCC keeps one for the ?: and std::max
  // forms). The comparison's 0/1 becomes an all-ones or zero mask over the bits.
  for (int64_t j = 0; j < n; ++j) {
    uint32_t bits;
    std::memcpy(&bits, &x[j], sizeof bits);
    bits &= static_cast<uint32_t>(x[j] < 0.0f) - 1u;
    std::memcpy(&x[j], &bits, sizeof bits);
  }
}

void gelu(float* x, int64_t n) { kernels::gelu_erf(x, n); }

void gelu_new(float* x, int64_t n) { kernels::gelu_tanh(x, n); }

void mul(float* x, const float* y, int64_t n) {
  for (int64_t j = 0; j < n; ++j) x[j] *= y[j];
}

void add(float* x, const float* y, int64_t n) {
  for (int64_t j = 0; j < n; ++j) x[j] += y[j];
}

void scale(float* x, float s, int64_t n) {
  for (int64_t j = 0; j < n; ++j) x[j] *= s;
}

void add_scalar(float* x, float s, int64_t n) {
  for (int64_t j = 0; j < n; ++j) x[j] += s;
}

}  // namespace sealsum::ops
