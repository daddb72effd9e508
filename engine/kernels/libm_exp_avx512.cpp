// exp_lane_sums for AVX-512 (compiled with -mavx512f/dq/vl -mfma -ffp-contract=off; called only
// when dispatch says so): glibc's expf on 8 doubles at a time, operation by operation (libm_exp.h),
// so every value, and so every lane sum, is bit for bit the plain loop's.
//
// 16 floats per step: v = x − shift in float (as the plain loop rounds it), widened exactly to two
// halves of 8 doubles; the table lookup is two two-register permutes (index bits 0-3) blended on
// bit 4. A step holding any |v| >= 88 or NaN (the library's special paths) and the last n mod 16
// elements go through std::exp itself. The lane sums are added in the plain loop's order: lanes
// 0-7 take elements 0-7 of a step, then 8-15.
#include "engine/kernels/intrinsics.h"

#include <cmath>
#include <cstdint>

#include "engine/kernels/kernels_internal.h"
#include "engine/kernels/libm_exp.h"

namespace sealsum::kernels::detail {
namespace {

struct ExpConsts {
  __m512d inv = _mm512_set1_pd(kExpInvLn2N), shift = _mm512_set1_pd(kExpShift);
  __m512d c0 = _mm512_set1_pd(kExpC0), c1 = _mm512_set1_pd(kExpC1), c2 = _mm512_set1_pd(kExpC2);
  __m512d one = _mm512_set1_pd(1.0);
  __m512d t0 = _mm512_load_pd(reinterpret_cast<const double*>(kExpTable));
  __m512d t1 = _mm512_load_pd(reinterpret_cast<const double*>(kExpTable + 8));
  __m512d t2 = _mm512_load_pd(reinterpret_cast<const double*>(kExpTable + 16));
  __m512d t3 = _mm512_load_pd(reinterpret_cast<const double*>(kExpTable + 24));
  __m512i bit4 = _mm512_set1_epi64(16);
};

// expf of 8 floats widened to double (|x| < 88, no NaN), rounded to float.
inline __m256 exp8(__m512d x, const ExpConsts& c) {
  __m512d kd = _mm512_fmadd_pd(x, c.inv, c.shift);
  const __m512i ki = _mm512_castpd_si512(kd);
  kd = _mm512_sub_pd(kd, c.shift);
  const __m512d r = _mm512_fmsub_pd(x, c.inv, kd);
  const __m512d z = _mm512_fmadd_pd(r, c.c0, c.c1);
  const __m512d lo = _mm512_permutex2var_pd(c.t0, ki, c.t1);
  const __m512d hi = _mm512_permutex2var_pd(c.t2, ki, c.t3);
  const __m512d t = _mm512_mask_blend_pd(_mm512_test_epi64_mask(ki, c.bit4), lo, hi);
  const __m512d s = _mm512_castsi512_pd(_mm512_add_epi64(_mm512_castpd_si512(t), _mm512_slli_epi64(ki, 47)));
  const __m512d r2 = _mm512_mul_pd(r, r);
  __m512d y = _mm512_fmadd_pd(r, c.c2, c.one);
  y = _mm512_fmadd_pd(z, r2, y);
  return _mm512_cvtpd_ps(_mm512_mul_pd(y, s));
}

}  // namespace

void exp_lane_sums_avx512(const float* x, int64_t n, float shift, float* lanes) {
  const ExpConsts c;
  const __m512 sh = _mm512_set1_ps(shift), limit = _mm512_set1_ps(kExpFastLimit);
  __m256 acc = _mm256_loadu_ps(lanes);
  int64_t j = 0;
  for (; j + 16 <= n; j += 16) {
    const __m512 v = _mm512_sub_ps(_mm512_loadu_ps(x + j), sh);
    __m256 e0, e1;
    if (_mm512_cmp_ps_mask(_mm512_abs_ps(v), limit, _CMP_NLT_UQ) == 0) {
      e0 = exp8(_mm512_cvtps_pd(_mm512_castps512_ps256(v)), c);
      e1 = exp8(_mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1))), c);
    } else {
      alignas(32) float e[16];
      for (int l = 0; l < 16; ++l) e[l] = std::exp(x[j + l] - shift);
      e0 = _mm256_load_ps(e);
      e1 = _mm256_load_ps(e + 8);
    }
    acc = _mm256_add_ps(acc, e0);
    acc = _mm256_add_ps(acc, e1);
  }
  _mm256_storeu_ps(lanes, acc);
  for (; j < n; ++j) lanes[j % 8] += std::exp(x[j] - shift);
}

}  // namespace sealsum::kernels::detail
