// Scalar reference twin of every SIMD kernel: plain loops, same summation order (increasing k, one
// float accumulator per output), no fused multiply-add. Tests compare each ISA against these.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "engine/kernels/kernels_internal.h"

namespace sealsum::kernels::detail {

void linear_panels_scalar(const float* x, int64_t ldx, int64_t m, const PackedMatrix::Impl& w, int64_t p_begin,
                          int64_t p_end, const float* bias, float* y, int64_t ldy) {
  const int64_t nr = w.nr, k = w.k;
  float acc[64];
  for (int64_t p = p_begin; p < p_end; ++p) {
    const float* panel = w.panel(p);
    const int64_t j0 = p * nr, cols = std::min(nr, w.n - j0);
    for (int64_t i = 0; i < m; ++i) {
      const float* xi = x + i * ldx;
      std::fill_n(acc, nr, 0.0f);
      for (int64_t kk = 0; kk < k; ++kk) {
        const float xv = xi[kk];
        const float* brow = panel + kk * nr;
        for (int64_t jj = 0; jj < nr; ++jj) acc[jj] += xv * brow[jj];
      }
      float* yi = y + i * ldy + j0;
      for (int64_t jj = 0; jj < cols; ++jj) yi[jj] = bias ? acc[jj] + bias[j0 + jj] : acc[jj];
    }
  }
}

void linear_i8_scalar(const uint8_t* xu, const float* xs, int64_t m, const PackedMatrix::Impl& w, int64_t p_begin,
                      int64_t p_end, const float* bias, float* y, int64_t ldy) {
  const int64_t nr = w.nr, kp = w.kp;
  int32_t acc[32];
  for (int64_t p = p_begin; p < p_end; ++p) {
    const int8_t* panel = w.q8 + p * kp * nr;
    const int64_t j0 = p * nr, cols = std::min(nr, w.n - j0);
    for (int64_t i = 0; i < m; ++i) {
      const uint8_t* xi = xu + i * kp;
      std::fill_n(acc, nr, 0);
      for (int64_t g = 0; g < kp; g += 4) {
        const int8_t* b = panel + g * nr;  // 4 codes per output, outputs side by side
        for (int64_t jj = 0; jj < nr; ++jj) {
          for (int64_t t = 0; t < 4; ++t) acc[jj] += (int32_t{xi[g + t]} - 128) * int32_t{b[jj * 4 + t]};
        }
      }
      float* yi = y + i * ldy + j0;
      for (int64_t jj = 0; jj < cols; ++jj) {
        const float s = xs[i] * w.scales[static_cast<size_t>(j0 + jj)];
        const float v = static_cast<float>(acc[jj]) * s;
        yi[jj] = bias ? v + bias[j0 + jj] : v;
      }
    }
  }
}

void linear_bf16_scalar(const float* x, int64_t ldx, int64_t m, const PackedMatrix::Impl& w, int64_t p_begin,
                        int64_t p_end, const float* bias, float* y, int64_t ldy) {
  const int64_t nr = w.nr, k = w.k;
  float acc[32];
  float wrow[32];
  for (int64_t p = p_begin; p < p_end; ++p) {
    const uint16_t* panel = w.bf16 + p * k * nr;
    const int64_t j0 = p * nr, cols = std::min(nr, w.n - j0);
    for (int64_t i = 0; i < m; ++i) {
      const float* xi = x + i * ldx;
      std::fill_n(acc, nr, 0.0f);
      for (int64_t kk = 0; kk < k; ++kk) {
        for (int64_t jj = 0; jj < nr; ++jj) {
          const uint32_t bits = static_cast<uint32_t>(panel[kk * nr + jj]) << 16;  // bf16 -> f32, exact
          std::memcpy(&wrow[jj], &bits, sizeof bits);
        }
        const float xv = xi[kk];
        for (int64_t jj = 0; jj < nr; ++jj) acc[jj] += xv * wrow[jj];
      }
      float* yi = y + i * ldy + j0;
      for (int64_t jj = 0; jj < cols; ++jj) yi[jj] = bias ? acc[jj] + bias[j0 + jj] : acc[jj];
    }
  }
}

void gemm_scalar(bool trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float* a, int64_t lda,
                 const float* b, int64_t ldb, float beta, float* c, int64_t ldc) {
  for (int64_t i = 0; i < m; ++i) {
    for (int64_t j = 0; j < n; ++j) {
      float acc = 0.0f;
      for (int64_t kk = 0; kk < k; ++kk) acc += a[i * lda + kk] * (trans_b ? b[j * ldb + kk] : b[kk * ldb + j]);
      float& out = c[i * ldc + j];
      out = beta == 0.0f ? alpha * acc : alpha * acc + beta * out;
    }
  }
}

}  // namespace sealsum::kernels::detail

namespace sealsum::kernels::detail {
namespace {

double exp_shift_sum_scalar(const float* x, float* out, int64_t n, float shift) {
  double sum = 0.0;
  for (int64_t j = 0; j < n; ++j) {
    const float e = std::exp(x[j] - shift);
    if (out != nullptr) out[j] = e;
    sum += e;
  }
  return sum;
}

float max_of_scalar(const float* x, int64_t n) {
  float mx = -std::numeric_limits<float>::infinity();
  for (int64_t j = 0; j < n; ++j) {
    if (std::isnan(x[j])) return x[j];
    mx = std::max(mx, x[j]);
  }
  return mx;
}

void gelu_erf_scalar(float* x, int64_t n) {
  for (int64_t j = 0; j < n; ++j) x[j] = 0.5f * x[j] * (1.0f + std::erf(x[j] * kInvSqrt2));
}

void gelu_tanh_scalar(float* x, int64_t n) {
  for (int64_t j = 0; j < n; ++j) {
    const float v = x[j];
    x[j] = v / (1.0f + std::exp(v * (kGeluK1 + kGeluK2 * v * v)));
  }
}

void exp_lane_sums_scalar(const float* x, int64_t n, float shift, float* lanes) {
  for (int64_t j = 0; j < n; ++j) lanes[j % 8] += std::exp(x[j] - shift);
}

}  // namespace

const VecMath kVecMathScalar = {exp_shift_sum_scalar, max_of_scalar, gelu_erf_scalar, gelu_tanh_scalar,
                                exp_lane_sums_scalar};

}  // namespace sealsum::kernels::detail
