// exp_lane_sums for AVX2 (compiled with -mavx2 -mfma -ffp-contract=off; called only when dispatch
// says so): glibc's expf on 4 doubles at a time, operation by operation (libm_exp.h), so every
// value, and so every lane sum, is bit for bit the plain loop's.
//
// 8 floats per step (one per lane): v = x − shift in float (as the plain loop rounds it), widened
// exactly to two halves of 4 doubles; the table lookup is a gather. A step holding any |v| >= 88 or
// NaN (the library's special paths) and the last n mod 8 elements go through std::exp itself.
#include "engine/kernels/intrinsics.h"

#include <cmath>
#include <cstdint>

#include "engine/kernels/kernels_internal.h"
#include "engine/kernels/libm_exp.h"

namespace sealsum::kernels::detail {
namespace {

struct ExpConsts {
  __m256d inv = _mm256_set1_pd(kExpInvLn2N), shift = _mm256_set1_pd(kExpShift);
  __m256d c0 = _mm256_set1_pd(kExpC0), c1 = _mm256_set1_pd(kExpC1), c2 = _mm256_set1_pd(kExpC2);
  __m256d one = _mm256_set1_pd(1.0);
  __m256i low5 = _mm256_set1_epi64x(31);
};

// expf of 4 floats widened to double (|x| < 88, no NaN), rounded to float.
inline __m128 exp4(__m256d x, const ExpConsts& c) {
  __m256d kd = _mm256_fmadd_pd(x, c.inv, c.shift);
  const __m256i ki = _mm256_castpd_si256(kd);
  kd = _mm256_sub_pd(kd, c.shift);
  const __m256d r = _mm256_fmsub_pd(x, c.inv, kd);
  const __m256d z = _mm256_fmadd_pd(r, c.c0, c.c1);
  const __m256i t = _mm256_i64gather_epi64(reinterpret_cast<const long long*>(kExpTable),
                                           _mm256_and_si256(ki, c.low5), 8);
  const __m256d s = _mm256_castsi256_pd(_mm256_add_epi64(t, _mm256_slli_epi64(ki, 47)));
  const __m256d r2 = _mm256_mul_pd(r, r);
  __m256d y = _mm256_fmadd_pd(r, c.c2, c.one);
  y = _mm256_fmadd_pd(z, r2, y);
  return _mm256_cvtpd_ps(_mm256_mul_pd(y, s));
}

}  // namespace

void exp_lane_sums_avx2(const float* x, int64_t n, float shift, float* lanes) {
  const ExpConsts c;
  const __m256 sh = _mm256_set1_ps(shift), limit = _mm256_set1_ps(kExpFastLimit);
  const __m256 abs_mask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
  __m256 acc = _mm256_loadu_ps(lanes);
  int64_t j = 0;
  for (; j + 8 <= n; j += 8) {
    const __m256 v = _mm256_sub_ps(_mm256_loadu_ps(x + j), sh);
    __m256 e;
    if (_mm256_movemask_ps(_mm256_cmp_ps(_mm256_and_ps(v, abs_mask), limit, _CMP_NLT_UQ)) == 0) {
      e = _mm256_set_m128(exp4(_mm256_cvtps_pd(_mm256_extractf128_ps(v, 1)), c),
                          exp4(_mm256_cvtps_pd(_mm256_castps256_ps128(v)), c));
    } else {
      alignas(32) float ev[8];
      for (int l = 0; l < 8; ++l) ev[l] = std::exp(x[j + l] - shift);
      e = _mm256_load_ps(ev);
    }
    acc = _mm256_add_ps(acc, e);
  }
  _mm256_storeu_ps(lanes, acc);
  for (; j < n; ++j) lanes[j % 8] += std::exp(x[j] - shift);
}

}  // namespace sealsum::kernels::detail
