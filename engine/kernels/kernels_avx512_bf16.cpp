// AVX-512 bf16-weight kernel (compiled with -mavx512f/bw/vl/dq -mfma; called when dispatch picks
// AVX-512 for a bf16 matrix). The weights are bf16 in the f32 panel layout (kernels_internal.h);
// one k step of a panel is 32 bf16 = 64 bytes, widened exactly to two f32 vectors (zero-extend,
// shift left 16), then the same fused multiply-adds as the f32 kernel: every output is one f32
// accumulator over k in increasing order (the f32 summation contract), activations stay f32.
// AVX512_BF16's VDPBF16PS is not used: it would round the activations to bf16 as well.
//
// Tiles: R rows x P panels over the whole k. Large m: each panel (32 x k x 2 bytes, L2-resident) is
// swept by 8-row tiles; small m (decoder, m <= 4): weights streamed once, 4 panels at a time for
// m = 1 (one at a time for short matrices, kShortBf16Elems); m = 2..4 one panel at a time,
// prefetching the next panel k step by k step. Without that
// prefetch four rows' arithmetic and the weight stream did not overlap: a t5-small step's bf16
// weights took 1.5x the one-row time for m = 4 (2 panels at a time, sealsum_kernels_bench "t5
// decoder step", 2026-12-04: medians 3.23 ms against 2.10); with it 1.00-1.05x (2.33-2.55 ms in the
// same runs). Two panels at a time with the next two prefetched gave 1.07x. Prefetches never fault
// and change no result.
#include "engine/kernels/intrinsics.h"

#include <cstdint>

#include "engine/kernels/kernels_internal.h"

namespace sealsum::kernels::detail {
namespace {

constexpr int64_t kNr = 32;
constexpr int kMr = 8;

inline __mmask16 tail_mask(int64_t cols) {
  if (cols >= 16) return 0xFFFF;
  if (cols <= 0) return 0;
  return static_cast<__mmask16>((1u << cols) - 1u);
}

inline __m512 widen(__m256i h) { return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16)); }

// kPrefetchNext: also prefetch, k step by k step, the P panels after these (the ones swept next).
template <int R, int P, bool kPrefetchNext = false>
inline void tile(const float* x, int64_t ldx, int64_t k, const uint16_t* b, int64_t pstride, int64_t j0, int64_t n,
                 const float* bias, float* y, int64_t ldy) {
  __m512 acc[R][2 * P];
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r) {
#pragma GCC unroll 8
    for (int q = 0; q < 2 * P; ++q) acc[r][q] = _mm512_setzero_ps();
  }
  for (int64_t kk = 0; kk < k; ++kk) {
    __m512 bv[2 * P];
#pragma GCC unroll 8
    for (int q = 0; q < P; ++q) {
      const __m512i raw = _mm512_loadu_si512(b + q * pstride + kk * kNr);
      bv[2 * q] = widen(_mm512_castsi512_si256(raw));
      bv[2 * q + 1] = widen(_mm512_extracti64x4_epi64(raw, 1));
    }
    if constexpr (kPrefetchNext) {
#pragma GCC unroll 8
      for (int q = P; q < 2 * P; ++q) __builtin_prefetch(b + q * pstride + kk * kNr, 0, 3);
    }
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
      const __m512 av = _mm512_set1_ps(x[r * ldx + kk]);
#pragma GCC unroll 8
      for (int q = 0; q < 2 * P; ++q) acc[r][q] = _mm512_fmadd_ps(av, bv[q], acc[r][q]);
    }
  }
#pragma GCC unroll 8
  for (int q = 0; q < 2 * P; ++q) {
    const int64_t j = j0 + q * 16;
    const __mmask16 mask = tail_mask(n - j);
    if (mask == 0) continue;
    const __m512 bb = bias != nullptr ? _mm512_maskz_loadu_ps(mask, bias + j) : _mm512_setzero_ps();
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
      const __m512 v = bias != nullptr ? _mm512_add_ps(acc[r][q], bb) : acc[r][q];
      _mm512_mask_storeu_ps(y + r * ldy + j, mask, v);
    }
  }
}

inline void tile_rows(int r, const float* x, int64_t ldx, int64_t k, const uint16_t* b, int64_t pstride, int64_t j0,
                      int64_t n, const float* bias, float* y, int64_t ldy) {
  switch (r) {
    case 1: tile<1, 1>(x, ldx, k, b, pstride, j0, n, bias, y, ldy); break;
    case 2: tile<2, 1>(x, ldx, k, b, pstride, j0, n, bias, y, ldy); break;
    case 3: tile<3, 1>(x, ldx, k, b, pstride, j0, n, bias, y, ldy); break;
    case 4: tile<4, 1>(x, ldx, k, b, pstride, j0, n, bias, y, ldy); break;
    case 5: tile<5, 1>(x, ldx, k, b, pstride, j0, n, bias, y, ldy); break;
    case 6: tile<6, 1>(x, ldx, k, b, pstride, j0, n, bias, y, ldy); break;
    case 7: tile<7, 1>(x, ldx, k, b, pstride, j0, n, bias, y, ldy); break;
    default: tile<8, 1>(x, ldx, k, b, pstride, j0, n, bias, y, ldy); break;
  }
}

}  // namespace

void linear_bf16_avx512(const float* x, int64_t ldx, int64_t m, const PackedMatrix::Impl& w, int64_t p_begin,
                        int64_t p_end, const float* bias, float* y, int64_t ldy) {
  const int64_t k = w.k, n = w.n, pstride = k * kNr;
  if (m == 1 && w.n * k <= kShortBf16Elems) {  // see kShortBf16Elems
    for (int64_t p = p_begin; p < p_end; ++p) {
      tile<1, 1, true>(x, ldx, k, w.bf16 + p * pstride, pstride, p * kNr, n, bias, y, ldy);
    }
    return;
  }
  if (m == 1) {
    int64_t p = p_begin;
    for (; p + 4 <= p_end; p += 4) tile<1, 4>(x, ldx, k, w.bf16 + p * pstride, pstride, p * kNr, n, bias, y, ldy);
    for (; p + 2 <= p_end; p += 2) tile<1, 2>(x, ldx, k, w.bf16 + p * pstride, pstride, p * kNr, n, bias, y, ldy);
    if (p < p_end) tile<1, 1>(x, ldx, k, w.bf16 + p * pstride, pstride, p * kNr, n, bias, y, ldy);
    return;
  }
  if (m <= 4) {
    for (int64_t p = p_begin; p < p_end; ++p) {
      const uint16_t* b = w.bf16 + p * pstride;
      switch (m) {
        case 2: tile<2, 1, true>(x, ldx, k, b, pstride, p * kNr, n, bias, y, ldy); break;
        case 3: tile<3, 1, true>(x, ldx, k, b, pstride, p * kNr, n, bias, y, ldy); break;
        default: tile<4, 1, true>(x, ldx, k, b, pstride, p * kNr, n, bias, y, ldy); break;
      }
    }
    return;
  }
  for (int64_t p = p_begin; p < p_end; ++p) {
    const uint16_t* b = w.bf16 + p * pstride;
    for (int64_t i = 0; i < m; i += kMr) {
      const int rows = static_cast<int>(m - i < kMr ? m - i : kMr);
      tile_rows(rows, x + i * ldx, ldx, k, b, pstride, p * kNr, n, bias, y + i * ldy, ldy);
    }
  }
}

}  // namespace sealsum::kernels::detail
