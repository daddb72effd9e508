// AVX2 bf16-weight kernel (compiled with -mavx2 -mfma -mf16c; called when dispatch picks AVX2 for a
// bf16 matrix: the AMD Milan hosts behind confidential ACI have no AVX-512). The weights are bf16 in
// the f32 panel layout (kernels_internal.h, 32 columns per panel): one k step of a panel is 32 bf16
// = 64 bytes, four groups of 8 widened exactly to f32 (zero-extend, shift left 16). Then the same
// contract as the AVX-512 bf16 kernel: every output is one f32 accumulator, zero-initialised,
// fused multiply-add over k in increasing order, the bias added last. So this kernel's outputs are
// bit-identical to linear_bf16_avx512's (kernels_bf16_test.cpp checks it) and within the f32
// tolerance of the scalar twin.
//
// Tiles of R rows x V vectors of 8 columns, over the whole k; vector v lies at
// b + (v / 4) * pstride + (v % 4) * 8 (V = 8 spans two panels). Register budget (16 ymm):
// R·V accumulators + V widened weights + 1 broadcast (R = 1 widens each vector where it is used).
//   m = 1: 1 x 8 (two panels side by side: W streamed once, a panel's k steps being consecutive
//   64-byte lines); a short matrix (kShortBf16Elems) 1 x 4 a panel at a time, the next prefetched;
//   m = 2..4: rows in pairs, 2 x 4 per panel, an odd last row 1 x 4 (a later pair re-reads the panel
//   from L1/L2). The first pair also prefetches the next panel, k step by k step: without it the
//   pairs' arithmetic and the weight stream did not overlap (sealsum_kernels_bench "t5 decoder
//   step", bf16, m = 4: 6.5-7.0 ms against 3.4-3.7 for m = 1; with it 4.2-4.4 ms, 2026-12-04);
//   m > 4 (encoder, batched steps): each half panel (16 columns, 32 x k x 2 bytes L2-resident for a
//   whole panel) swept by 6-row tiles, 6 x 2.
#include "engine/kernels/intrinsics.h"

#include <algorithm>
#include <cstdint>

#include "engine/kernels/kernels_internal.h"

namespace sealsum::kernels::detail {
namespace {

constexpr int64_t kNr = 32;
constexpr int kMr = 6;

inline __m256i tail_mask(int64_t cols) {
  const int c = static_cast<int>(std::clamp<int64_t>(cols, 0, 8));
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(c), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

inline __m256 widen8(const uint16_t* p) {
  const __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
}

// R rows of x (stride ldx) x V vectors from b (see above); j0: the tile's first column. kPrefetchNext:
// also prefetch the panel after b's, k step by k step (a hint: never faults, changes no result).
template <int R, int V, bool kPrefetchNext = false>
inline void tile(const float* x, int64_t ldx, int64_t k, const uint16_t* b, int64_t pstride, int64_t j0, int64_t n,
                 const float* bias, float* y, int64_t ldy) {
  __m256 acc[R][V];
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r) {
#pragma GCC unroll 8
    for (int v = 0; v < V; ++v) acc[r][v] = _mm256_setzero_ps();
  }
  const auto at = [&](int v, int64_t kk) { return b + (v / 4) * pstride + (v % 4) * 8 + kk * kNr; };
  for (int64_t kk = 0; kk < k; ++kk) {
    if constexpr (kPrefetchNext) __builtin_prefetch(b + pstride + kk * kNr, 0, 3);
    if constexpr (R == 1) {  // each weight vector used once: widen it where it is used
      const __m256 av = _mm256_broadcast_ss(x + kk);
#pragma GCC unroll 8
      for (int v = 0; v < V; ++v) acc[0][v] = _mm256_fmadd_ps(av, widen8(at(v, kk)), acc[0][v]);
    } else {
      __m256 bv[V];
#pragma GCC unroll 8
      for (int v = 0; v < V; ++v) bv[v] = widen8(at(v, kk));
#pragma GCC unroll 8
      for (int r = 0; r < R; ++r) {
        const __m256 av = _mm256_broadcast_ss(x + r * ldx + kk);
#pragma GCC unroll 8
        for (int v = 0; v < V; ++v) acc[r][v] = _mm256_fmadd_ps(av, bv[v], acc[r][v]);
      }
    }
  }
#pragma GCC unroll 8
  for (int v = 0; v < V; ++v) {
    const int64_t j = j0 + v * 8;
    if (j >= n) continue;
    const __m256i mask = tail_mask(n - j);
    const __m256 bb = bias != nullptr ? _mm256_maskload_ps(bias + j, mask) : _mm256_setzero_ps();
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
      const __m256 out = bias != nullptr ? _mm256_add_ps(acc[r][v], bb) : acc[r][v];
      _mm256_maskstore_ps(y + r * ldy + j, mask, out);
    }
  }
}

// Rows 0..m-1 against one half panel (V = 2) in 6-row tiles.
inline void half_panel(const float* x, int64_t ldx, int64_t m, int64_t k, const uint16_t* b, int64_t j0, int64_t n,
                       const float* bias, float* y, int64_t ldy) {
  int64_t i = 0;
  for (; i + kMr <= m; i += kMr) tile<kMr, 2>(x + i * ldx, ldx, k, b, 0, j0, n, bias, y + i * ldy, ldy);
  const float* xi = x + i * ldx;
  float* yi = y + i * ldy;
  switch (m - i) {
    case 0: break;
    case 1: tile<1, 2>(xi, ldx, k, b, 0, j0, n, bias, yi, ldy); break;
    case 2: tile<2, 2>(xi, ldx, k, b, 0, j0, n, bias, yi, ldy); break;
    case 3: tile<3, 2>(xi, ldx, k, b, 0, j0, n, bias, yi, ldy); break;
    case 4: tile<4, 2>(xi, ldx, k, b, 0, j0, n, bias, yi, ldy); break;
    default: tile<5, 2>(xi, ldx, k, b, 0, j0, n, bias, yi, ldy); break;
  }
}

}  // namespace

void linear_bf16_avx2(const float* x, int64_t ldx, int64_t m, const PackedMatrix::Impl& w, int64_t p_begin,
                      int64_t p_end, const float* bias, float* y, int64_t ldy) {
  const int64_t k = w.k, n = w.n, pstride = k * kNr;
  if (m > 4) {
    for (int64_t p = p_begin; p < p_end; ++p) {
      for (int64_t h = 0; h < 2; ++h) {
        half_panel(x, ldx, m, k, w.bf16 + p * pstride + h * 16, p * kNr + h * 16, n, bias, y, ldy);
      }
    }
    return;
  }
  int64_t p = p_begin;
  if (m == 1 && w.n * k <= kShortBf16Elems) {  // see kShortBf16Elems
    for (; p < p_end; ++p) tile<1, 4, true>(x, ldx, k, w.bf16 + p * pstride, pstride, p * kNr, n, bias, y, ldy);
    return;
  }
  if (m == 1) {
    for (; p + 2 <= p_end; p += 2) tile<1, 8>(x, ldx, k, w.bf16 + p * pstride, pstride, p * kNr, n, bias, y, ldy);
  }
  for (; p < p_end; ++p) {
    const uint16_t* b = w.bf16 + p * pstride;
    int64_t i = 0;
    if (m >= 2) {  // the first pair to read this panel fetches the next one
      tile<2, 4, true>(x, ldx, k, b, pstride, p * kNr, n, bias, y, ldy);
      i = 2;
    }
    for (; i + 2 <= m; i += 2) tile<2, 4>(x + i * ldx, ldx, k, b, pstride, p * kNr, n, bias, y + i * ldy, ldy);
    if (i < m) tile<1, 4>(x + i * ldx, ldx, k, b, pstride, p * kNr, n, bias, y + i * ldy, ldy);
  }
}

}  // namespace sealsum::kernels::detail
