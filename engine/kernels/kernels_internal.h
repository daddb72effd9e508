// Internal seam between the dispatcher (kernels.cpp) and the per-ISA translation units
// (kernels_scalar.cpp, kernels_avx2.cpp, kernels_avx512.cpp). Not part of the public API.
//
// Packed layout (every ISA, float32): W[n, k] is cut into column panels of `nr` output features.
// Panel p holds rows j = p*nr .. p*nr+nr-1 of W, stored k-major: data[p*k*nr + kk*nr + jj] =
// W[p*nr + jj, kk], zero-padded past n. Each panel starts 64-byte aligned because k*nr*4 is a
// multiple of 64 (nr is a multiple of 16). Every ISA uses nr = 32 (AVX2 reads a panel as two
// 16-wide blocks), which is exactly the model file's panel layout (weights/panel_layout.h), so
// matrices stored so are views of the file's bytes (Impl::owned empty).
//
// Summation order contract (all ISAs): y[i, j] = (sum over kk = 0..k-1, in increasing kk, of
// x[i, kk] * W[j, kk]) [+ bias[j]], accumulated in one float32 accumulator per output element.
// SIMD kernels fuse multiply-add (one rounding); the scalar twin rounds twice. Consequently a row's
// output does not depend on m, on which other rows are in the batch, or on the thread count.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "engine/kernels/kernels.h"

namespace sealsum::kernels {

struct PackedMatrix::Impl {
  Isa isa = Isa::kScalar;
  int64_t n = 0, k = 0;
  int64_t nr = 16;      // panel width (output features per panel)
  int64_t panels = 0;   // ceil(n / nr)
  AlignedFloats owned;  // the packed floats when packed here; empty for a view of caller memory
  const float* data = nullptr;  // panels * k * nr floats, 64-byte aligned (owned or the view)
  const float* panel(int64_t p) const { return data + p * k * nr; }

  // Quantized weights (wtype != kF32; data is then null).
  enum class WType : uint8_t { kF32, kI8, kBF16 };
  WType wtype = WType::kF32;
  // kI8: codes in the int8 panel layout (weights/panel_layout.h): code of W[j, kk] at
  // q8[(j/32)*kp*32 + (kk/4)*128 + (j%32)*4 + kk%4], kp = k rounded up to 4, padding 0.
  int64_t kp = 0;
  const int8_t* q8 = nullptr;
  std::vector<float> scales;    // kI8: per output row, zero-padded to panels*nr
  std::vector<int32_t> colsum;  // kI8: sum over kk of the codes of row j, zero-padded to panels*nr
  // kBF16: the f32 panel layout with bf16 elements (panels * k * nr).
  const uint16_t* bf16 = nullptr;
};

namespace detail {

// Panel width used when packing for `isa`.
int64_t panel_width(Isa isa);

// Computes y[i, j] for rows 0..m-1 and panels [p_begin, p_end) of w. x is [m, w.k] with row
// stride ldx, y has row stride ldy; bias may be null. Single-threaded; linear() splits panels.
using LinearPanelsFn = void (*)(const float* x, int64_t ldx, int64_t m, const PackedMatrix::Impl& w,
                                int64_t p_begin, int64_t p_end, const float* bias, float* y, int64_t ldy);
// gemm() with the public contract (see kernels.h); single-threaded.
using GemmFn = void (*)(bool trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float* a,
                        int64_t lda, const float* b, int64_t ldb, float beta, float* c, int64_t ldc);

void linear_panels_scalar(const float*, int64_t, int64_t, const PackedMatrix::Impl&, int64_t, int64_t,
                          const float*, float*, int64_t);
void linear_panels_avx2(const float*, int64_t, int64_t, const PackedMatrix::Impl&, int64_t, int64_t,
                        const float*, float*, int64_t);
void linear_panels_avx512(const float*, int64_t, int64_t, const PackedMatrix::Impl&, int64_t, int64_t,
                          const float*, float*, int64_t);

// int8: xu [m, w.kp] are the activations quantized by quantize_rows (code + 128, as u8; padding
// 128), xs [m] their scales. y[i, j] = float(sum_kk (xu[i,kk] - 128) * code[j,kk]) * (xs[i] *
// scales[j]) (+ bias[j]): an exact integer sum, then one conversion, one multiply and one add,
// in this order and unfused on every ISA, so all of them are bit-identical to the scalar twin.
using LinearI8Fn = void (*)(const uint8_t* xu, const float* xs, int64_t m, const PackedMatrix::Impl& w,
                            int64_t p_begin, int64_t p_end, const float* bias, float* y, int64_t ldy);
void linear_i8_scalar(const uint8_t*, const float*, int64_t, const PackedMatrix::Impl&, int64_t, int64_t,
                      const float*, float*, int64_t);
void linear_i8_avx512vnni(const uint8_t*, const float*, int64_t, const PackedMatrix::Impl&, int64_t, int64_t,
                          const float*, float*, int64_t);
void linear_i8_avx_vnni(const uint8_t*, const float*, int64_t, const PackedMatrix::Impl&, int64_t, int64_t,
                        const float*, float*, int64_t);
void linear_i8_avx2(const uint8_t*, const float*, int64_t, const PackedMatrix::Impl&, int64_t, int64_t,
                    const float*, float*, int64_t);
// bf16 weights (w.bf16), f32 activations and accumulation: the f32 summation contract above.
void linear_bf16_scalar(const float*, int64_t, int64_t, const PackedMatrix::Impl&, int64_t, int64_t,
                        const float*, float*, int64_t);
void linear_bf16_avx512(const float*, int64_t, int64_t, const PackedMatrix::Impl&, int64_t, int64_t,
                        const float*, float*, int64_t);
// The same outputs, bit for bit, with AVX2 + FMA (kernels_avx2_bf16.cpp).
void linear_bf16_avx2(const float*, int64_t, int64_t, const PackedMatrix::Impl&, int64_t, int64_t,
                      const float*, float*, int64_t);
// Per-row symmetric quantization of x [m, k] into xu [m, kp] and xs [m]: xs[i] = max|x[i, :]| / 127
// (0 for a zero row; NaN, with all codes 0, when the row holds NaN or infinity), code =
// round-half-even(x · 127 / max) in -127..127. Shared by every ISA (plain C++).
void quantize_rows(const float* x, int64_t m, int64_t k, int64_t kp, uint8_t* xu, float* xs);
// The same, bit for bit, with AVX-512 (kernels_avx512_vnni.cpp; used with the AVX-512 VNNI kernel).
void quantize_rows_avx512(const float* x, int64_t m, int64_t k, int64_t kp, uint8_t* xu, float* xs);
// int8 tiles (kernels_avx2_i8.h, kernels_avx512_vnni.cpp): prefetch into L1 the 128 bytes of one k
// group (4 values of 32 outputs) of panels P..2P-1, the ones the caller sweeps after the P it reads now;
// `at` is that k group in panel 0, panel q lies q*pstride further. A hint only: never faults, no
// effect on results.
template <int P>
inline void prefetch_next_i8_panels(const int8_t* at, int64_t pstride) {
#pragma GCC unroll 8
  for (int q = P; q < 2 * P; ++q) {
    __builtin_prefetch(at + q * pstride, 0, 3);
    __builtin_prefetch(at + q * pstride + 64, 0, 3);
  }
}

// bf16 kernels, one row (m = 1): a matrix of at most kShortBf16Elems weights (one attention head's
// cross-attention keys or values, layers::CrossKv: 512 x 64 for t5-small, 1024 x 64 for distilbart)
// is read once per decoder step, from memory the rest of the step evicted, and ends before the
// hardware prefetchers ramp up on the wide m = 1 tile's panel streams. Such matrices go one panel
// at a time with the next panel prefetched in software, as the m = 2..4 tiles do (t5-small int8
// greedy, perf on `sealsum bench`: cross-attention 0.245 -> 0.165 ms per step). The outputs are the
// same: each is one accumulator over k in increasing order either way.
inline constexpr int64_t kShortBf16Elems = int64_t{1} << 16;

// The int8 kernel for `isa` given the CPU's VNNI support (tests call each directly).
LinearI8Fn linear_i8_fn(Isa isa);
// The bf16 kernel for `isa`.
LinearPanelsFn linear_bf16_fn(Isa isa);

void gemm_scalar(bool, int64_t, int64_t, int64_t, float, const float*, int64_t, const float*, int64_t,
                 float, float*, int64_t);
void gemm_avx2(bool, int64_t, int64_t, int64_t, float, const float*, int64_t, const float*, int64_t,
               float, float*, int64_t);
void gemm_avx512(bool, int64_t, int64_t, int64_t, float, const float*, int64_t, const float*, int64_t,
                 float, float*, int64_t);

// Vector math (see vecmath.h for the contracts), one set per ISA.
struct VecMath {
  double (*exp_shift_sum)(const float* x, float* out, int64_t n, float shift);
  float (*max_of)(const float* x, int64_t n);
  void (*gelu_erf)(float* x, int64_t n);
  void (*gelu_tanh)(float* x, int64_t n);
  void (*exp_lane_sums)(const float* x, int64_t n, float shift, float* lanes);
};
void exp_lane_sums_avx2(const float* x, int64_t n, float shift, float* lanes);    // libm_exp_avx2.cpp
void exp_lane_sums_avx512(const float* x, int64_t n, float shift, float* lanes);  // libm_exp_avx512.cpp
extern const VecMath kVecMathScalar;
extern const VecMath kVecMathAvx2;
extern const VecMath kVecMathAvx512;

// Constants of the SIMD approximations (the scalar twins use libm: std::exp, std::erf).
// Coefficients of the 13/8-degree rational interpolant of erf on [-4, 4] (as in Eigen's
// generic_fast_erf_float): erf(x) ≈ x·P(x²)/Q(x²).
inline constexpr float kErfAlpha[7] = {-2.72614225801306e-10f, 2.77068142495902e-08f, -2.10102402082508e-06f,
                                       -5.69250639462346e-05f, -7.34990630326855e-04f, -2.95459980854025e-03f,
                                       -1.60960333262415e-02f};  // alpha_13 .. alpha_1
inline constexpr float kErfBeta[5] = {-1.45660718464996e-05f, -2.13374055278905e-04f, -1.68282697438203e-03f,
                                      -7.37332916720468e-03f, -1.42647390514189e-02f};  // beta_8 .. beta_0
// exp: n = round(x·log2 e), r = x − n·ln2 (ln2 split in an exact high part and a low part),
// exp(r) ≈ 1 + r + r²·P(r) (Cephes expf polynomial), result = 2ⁿ·exp(r).
inline constexpr float kLog2e = 1.44269504088896341f;
inline constexpr float kLn2Hi = 0.693359375f;
inline constexpr float kLn2Lo = -2.12194440e-4f;
inline constexpr float kExpP[6] = {1.9875691500e-4f, 1.3981999507e-3f, 8.3334519073e-3f,
                                   4.1665795894e-2f, 1.6666665459e-1f, 5.0000001201e-1f};
inline constexpr float kExpLo = -104.0f;  // exp below this is 0 in float32
inline constexpr float kExpHi = 89.0f;    // exp above this is +inf in float32
// gelu_tanh: x / (1 + exp(x·(kGeluK1 + kGeluK2·x²))), kGeluK1 = −2·√(2/π), kGeluK2 = kGeluK1·0.044715.
inline constexpr float kGeluK1 = -1.59576912160573071176f;
inline constexpr float kGeluK2 = -0.07135481627260025f;
inline constexpr float kInvSqrt2 = 0.70710678118654752440f;

}  // namespace detail
}  // namespace sealsum::kernels
