// The AVX2 int8 kernel body, included by exactly two kernel files, each with its own flags:
// kernels_avx2_i8.cpp (-mavx2, kVnni = false) and kernels_avx_vnni.cpp (-mavx2 -mavxvnni,
// kVnni = true). Not a public header; it uses intrinsics, so only those files may include it.
//
// Layout and contract as kernels_avx512_vnni.cpp, with 8-lane vectors: one k group (4 k) of a
// 32-row panel is four 32-byte vectors of 8 outputs x 4 codes.
//   kVnni:  VPDPBUSD ymm on u8 = code + 128, minus 128 · (the row's code sum), as on AVX-512.
//   !kVnni: VPMADDUBSW cannot take u8 up to 255 times s8 (pairs saturate int16), so the sign is
//           moved onto the weights: |xq| (<= 127) as u8 times sign(xq) · w as s8, pairs <= 2·127²
//           = 32258 fit int16, then VPMADDWD by 1 sums pairs into int32: sum xq · w, exactly.
// Both give the exact integer sum, then the same unfused epilogue (-ffp-contract=off): results are
// bit-identical to linear_i8_scalar.
//
// Speed notes (sealsum_kernels_bench "t5 decoder step", this machine, SEALSUM_ISA=avx2 paths):
// - Every fixed-count loop carries `#pragma GCC unroll`: without it GCC kept acc[] and bv[] in
//   memory (a load, add and store per dot product, bv copied through the stack in halves), and a
//   t5-small step took 6.5 ms for one row and ~18 ms for four (maddubs path); unrolled, 4.9 / 9.6.
// - The tiles prefetch the panels swept next (see kernels_avx512_vnni.cpp: the tiles' own loads
//   alone did not keep the weight stream busy while they computed). m = 1 (two panels) fetches
//   the next two: one row 4.7 -> 4.2 ms (maddubs), ~1 % (AVX-VNNI); m >= 2 sweeps one panel per
//   row pair, and the first pair fetches the next panel: four rows 9.6 -> 8.1 ms (maddubs),
//   7.4 -> 6.6 ms (AVX-VNNI). Medians of 40 alternating steps per setting.
#pragma once

#include <cstdint>
#include <cstring>

#include "engine/kernels/kernels_internal.h"

namespace sealsum::kernels::detail::avx2_i8 {

constexpr int64_t kNr = 32;

struct Out {
  const float* xs;
  const float* scales;
  const int32_t* colsum;
  const float* bias;
  float* y;
  int64_t ldy, n;
};

template <bool kVnni>
inline __m256i dot4(__m256i acc, __m256i xb, __m256i xabs, __m256i w) {
  if constexpr (kVnni) {
    (void)xabs;
    return _mm256_dpbusd_avx_epi32(acc, xb, w);
  } else {
    const __m256i p16 = _mm256_maddubs_epi16(xabs, _mm256_sign_epi8(w, xb));
    return _mm256_add_epi32(acc, _mm256_madd_epi16(p16, _mm256_set1_epi16(1)));
  }
}

// R rows x P panels, whole k. x: u8 codes + 128 at stride kp. kPrefetchNext: also prefetch the
// next P panels, k group by k group.
template <bool kVnni, int R, int P, bool kPrefetchNext = false>
inline void tile(const uint8_t* x, int64_t kp, const int8_t* b, int64_t pstride, int64_t j0, const Out& o) {
  __m256i acc[R][4 * P];
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r) {
#pragma GCC unroll 8
    for (int q = 0; q < 4 * P; ++q) acc[r][q] = _mm256_setzero_si256();
  }
  const __m256i flip = _mm256_set1_epi8(static_cast<char>(0x80));
  for (int64_t g = 0; g < kp; g += 4) {
    __m256i bv[4 * P];
#pragma GCC unroll 8
    for (int q = 0; q < P; ++q) {
#pragma GCC unroll 8
      for (int h = 0; h < 4; ++h) {
        bv[4 * q + h] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b + q * pstride + g * kNr + 32 * h));
      }
    }
    if constexpr (kPrefetchNext) prefetch_next_i8_panels<P>(b + g * kNr, pstride);
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
      int32_t four;
      std::memcpy(&four, x + r * kp + g, sizeof four);
      __m256i xb = _mm256_set1_epi32(four), xabs = xb;
      if constexpr (!kVnni) {
        xb = _mm256_xor_si256(xb, flip);  // signed codes
        xabs = _mm256_abs_epi8(xb);
      }
#pragma GCC unroll 8
      for (int q = 0; q < 4 * P; ++q) acc[r][q] = dot4<kVnni>(acc[r][q], xb, xabs, bv[q]);
    }
  }
#pragma GCC unroll 8
  for (int q = 0; q < 4 * P; ++q) {
    const int64_t j = j0 + q * 8;
    const int64_t cols = o.n - j;
    if (cols <= 0) continue;
    const __m256 ws = _mm256_loadu_ps(o.scales + j);  // zero-padded to whole panels
    __m256i off = _mm256_setzero_si256();
    if constexpr (kVnni) off = _mm256_slli_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(o.colsum + j)), 7);
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
      const __m256 s = _mm256_mul_ps(_mm256_set1_ps(o.xs[r]), ws);
      const __m256 v = _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_sub_epi32(acc[r][q], off)), s);
      float tmp[8];
      _mm256_storeu_ps(tmp, v);
      float* out = o.y + r * o.ldy + j;
      const int64_t c = cols < 8 ? cols : 8;
      for (int64_t t = 0; t < c; ++t) out[t] = o.bias != nullptr ? tmp[t] + o.bias[j + t] : tmp[t];
    }
  }
}

template <bool kVnni>
void linear(const uint8_t* xu, const float* xs, int64_t m, const PackedMatrix::Impl& w, int64_t p_begin,
            int64_t p_end, const float* bias, float* y, int64_t ldy) {
  const int64_t kp = w.kp, pstride = kp * kNr;
  const Out base{xs, w.scales.data(), w.colsum.data(), bias, y, ldy, w.n};
  int64_t p = p_begin;
  if (m == 1) {
    for (; p + 2 <= p_end; p += 2) tile<kVnni, 1, 2, true>(xu, kp, w.q8 + p * pstride, pstride, p * kNr, base);
  }
  for (; p < p_end; ++p) {
    const int8_t* b = w.q8 + p * pstride;
    for (int64_t i = 0; i < m; i += 2) {
      Out o = base;
      o.xs = xs + i;
      o.y = y + i * ldy;
      if (m - i >= 2) {
        if (i == 0) {  // the first row pair to read this panel fetches the next one
          tile<kVnni, 2, 1, true>(xu + i * kp, kp, b, pstride, p * kNr, o);
        } else {
          tile<kVnni, 2, 1>(xu + i * kp, kp, b, pstride, p * kNr, o);
        }
      } else {
        tile<kVnni, 1, 1>(xu + i * kp, kp, b, pstride, p * kNr, o);
      }
    }
  }
}

}  // namespace sealsum::kernels::detail::avx2_i8
