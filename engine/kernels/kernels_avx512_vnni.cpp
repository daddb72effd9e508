// AVX-512 VNNI int8 kernel (compiled with -mavx512f/bw/vl/dq -mavx512vnni -ffp-contract=off; called
// only when dispatch says the CPU has AVX512_VNNI, see kernels.cpp linear_i8_fn).
//
// y = x · Wᵀ with W as int8 codes in 32-row panels, k in groups of 4 (kernels_internal.h): one k
// group of a panel is two 64-byte vectors, each 16 outputs x 4 codes, exactly what VPDPBUSD takes
// (u8 x s8, four products summed into each int32 lane, no saturation). The activations arrive as
// u8 = code + 128, so each lane accumulates sum (xq + 128) · w; subtracting 128 · (sum of the row's
// codes) gives the exact integer sum of xq · w, the same integer the scalar twin computes directly.
// The epilogue then converts, multiplies by xs[i] · scale[j] and adds the bias, unfused
// (-ffp-contract=off), so the result is bit-identical to linear_i8_scalar. quantize_rows_avx512 is
// the activations' quantization, bit-identical to quantize_rows.
//
// Tiles as in kernels_avx512.cpp: R rows x P panels of int32 accumulators over the whole k. Large m:
// each panel (32 x kp bytes, L1/L2-resident) is swept by 8-row tiles; small m (decoder, m <= 4): W
// streamed once, 4 panels at a time for m = 1, one at a time for m = 2..4.
//
// Prefetch (m = 2..4, beam steps): a decoder step streams ~37 MiB of int8 weights (t5-small) from
// L3 or DRAM, and the hardware prefetchers keep about as many lines in flight as the loop asks for.
// A tile of several rows asks for fewer lines per cycle than the 4-panel m = 1 tile while it
// computes several times the dot products, so its loads and its arithmetic did not overlap. Each
// m = 2..4 tile therefore prefetches the panel swept next at the same k, two lines per group.
// Measured with sealsum_kernels_bench "t5 decoder step", m = 4 against m = 1 in the same runs:
// 2 panels at a time without prefetch 1.22-1.32x; 2 panels prefetching the next pair 1.16-1.20x
// (2026-12-03), but 1.48-1.52x (medians) on 2026-12-04's faster memory; 1 panel prefetching the next
// one 1.31-1.33x in the same runs (minimum 0.85 ms against 0.99). On cache-resident weights the
// 4 x 1 tile without prefetch was 12-18 % faster than 4 x 2 (12.4-12.7 against 14.2-15.1 us, t5 ff
// in); with it 12.7-16.7 us, within the noise of 4 x 2. m = 1 showed no gain from any distance tried
// (8-32 KiB ahead, 2-8 panels ahead). Prefetches never fault (beyond the last panel they fetch
// nothing useful) and change no result.
#include "engine/kernels/intrinsics.h"

#include <cstdint>
#include <cstring>
#include <limits>

#include "engine/kernels/kernels_internal.h"

namespace sealsum::kernels::detail {
namespace {

constexpr int64_t kNr = 32;
constexpr int kMr = 8;

struct Out {
  const float* xs;  // activation scales of the tile's first row
  const float* scales;
  const int32_t* colsum;
  const float* bias;  // may be null
  float* y;           // the tile's first row
  int64_t ldy, n;
};

inline __mmask16 tail_mask(int64_t cols) {
  if (cols >= 16) return 0xFFFF;
  if (cols <= 0) return 0;
  return static_cast<__mmask16>((1u << cols) - 1u);
}

// R rows (x at stride kp) x P panels (panel q at b + q*pstride) over all kp/4 groups. kPrefetchNext:
// also prefetch, k group by k group, the next P panels (the ones the caller sweeps next).
template <int R, int P, bool kPrefetchNext = false>
inline void tile(const uint8_t* x, int64_t kp, const int8_t* b, int64_t pstride, int64_t j0, const Out& o) {
  __m512i acc[R][2 * P];
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r) {
#pragma GCC unroll 8
    for (int q = 0; q < 2 * P; ++q) acc[r][q] = _mm512_setzero_si512();
  }
  for (int64_t g = 0; g < kp; g += 4) {
    __m512i bv[2 * P];
#pragma GCC unroll 8
    for (int q = 0; q < P; ++q) {
      bv[2 * q] = _mm512_loadu_si512(b + q * pstride + g * kNr);
      bv[2 * q + 1] = _mm512_loadu_si512(b + q * pstride + g * kNr + 64);
    }
    if constexpr (kPrefetchNext) prefetch_next_i8_panels<P>(b + g * kNr, pstride);
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
      int32_t four;
      std::memcpy(&four, x + r * kp + g, sizeof four);
      const __m512i xb = _mm512_set1_epi32(four);
#pragma GCC unroll 8
      for (int q = 0; q < 2 * P; ++q) acc[r][q] = _mm512_dpbusd_epi32(acc[r][q], xb, bv[q]);
    }
  }
#pragma GCC unroll 8
  for (int q = 0; q < 2 * P; ++q) {
    const int64_t j = j0 + q * 16;
    const __mmask16 mask = tail_mask(o.n - j);
    if (mask == 0) continue;
    // scales and colsum are zero-padded to whole panels: full loads are in bounds.
    const __m512i bias128 = _mm512_slli_epi32(_mm512_loadu_si512(o.colsum + j), 7);
    const __m512 ws = _mm512_loadu_ps(o.scales + j);
    const __m512 bias = o.bias != nullptr ? _mm512_maskz_loadu_ps(mask, o.bias + j) : _mm512_setzero_ps();
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
      const __m512 s = _mm512_mul_ps(_mm512_set1_ps(o.xs[r]), ws);
      __m512 v = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_sub_epi32(acc[r][q], bias128)), s);
      if (o.bias != nullptr) v = _mm512_add_ps(v, bias);
      _mm512_mask_storeu_ps(o.y + r * o.ldy + j, mask, v);
    }
  }
}

inline void tile_rows(int r, const uint8_t* x, int64_t kp, const int8_t* b, int64_t pstride, int64_t j0, const Out& o) {
  switch (r) {
    case 1: tile<1, 1>(x, kp, b, pstride, j0, o); break;
    case 2: tile<2, 1>(x, kp, b, pstride, j0, o); break;
    case 3: tile<3, 1>(x, kp, b, pstride, j0, o); break;
    case 4: tile<4, 1>(x, kp, b, pstride, j0, o); break;
    case 5: tile<5, 1>(x, kp, b, pstride, j0, o); break;
    case 6: tile<6, 1>(x, kp, b, pstride, j0, o); break;
    case 7: tile<7, 1>(x, kp, b, pstride, j0, o); break;
    default: tile<8, 1>(x, kp, b, pstride, j0, o); break;
  }
}

}  // namespace

// quantize_rows (kernels.cpp) 16 lanes at a time, bit for bit: the maximum is exact in any order,
// and code = round-half-even(fl(v · inv)) is what the plain form's (v · inv + 1.5·2²³) − 1.5·2²³
// computes (|v · inv| <= 127.5 < 2²²); the product is rounded before the rounding (no fused op).
void quantize_rows_avx512(const float* x, int64_t m, int64_t k, int64_t kp, uint8_t* xu, float* xs) {
  const __m512 fmax = _mm512_set1_ps(std::numeric_limits<float>::max());
  const __m512i lo = _mm512_set1_epi32(-127), hi = _mm512_set1_epi32(127), off = _mm512_set1_epi32(128);
  for (int64_t i = 0; i < m; ++i) {
    const float* xi = x + i * k;
    uint8_t* qi = xu + i * kp;
    __m512 vmax = _mm512_setzero_ps();
    __mmask16 bad = 0;
    for (int64_t kk = 0; kk < k; kk += 16) {
      const __m512 a = _mm512_abs_ps(_mm512_maskz_loadu_ps(tail_mask(k - kk), xi + kk));
      bad |= _mm512_cmp_ps_mask(a, fmax, _CMP_NLE_UQ);  // !(a <= max): infinity or NaN
      vmax = _mm512_max_ps(a, vmax);
    }
    const float amax = _mm512_reduce_max_ps(vmax);
    if (bad != 0 || amax == 0.0f) {
      xs[i] = bad == 0 ? 0.0f : std::numeric_limits<float>::quiet_NaN();
      std::memset(qi, 128, static_cast<size_t>(kp));
      continue;
    }
    const __m512 inv = _mm512_set1_ps(127.0f / amax);
    xs[i] = amax / 127.0f;
    for (int64_t kk = 0; kk < k; kk += 16) {
      const __mmask16 mk = tail_mask(k - kk);
      const __m512 r = _mm512_roundscale_ps(_mm512_mul_ps(_mm512_maskz_loadu_ps(mk, xi + kk), inv),
                                            _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
      const __m512i c = _mm512_add_epi32(_mm512_min_epi32(_mm512_max_epi32(_mm512_cvttps_epi32(r), lo), hi), off);
      _mm512_mask_cvtepi32_storeu_epi8(qi + kk, mk, c);
    }
    if (kp > k) std::memset(qi + k, 128, static_cast<size_t>(kp - k));
  }
}

void linear_i8_avx512vnni(const uint8_t* xu, const float* xs, int64_t m, const PackedMatrix::Impl& w, int64_t p_begin,
                          int64_t p_end, const float* bias, float* y, int64_t ldy) {
  const int64_t kp = w.kp, pstride = kp * kNr;
  const Out base{xs, w.scales.data(), w.colsum.data(), bias, y, ldy, w.n};
  if (m == 1) {
    int64_t p = p_begin;
    for (; p + 4 <= p_end; p += 4) tile<1, 4>(xu, kp, w.q8 + p * pstride, pstride, p * kNr, base);
    for (; p + 2 <= p_end; p += 2) tile<1, 2>(xu, kp, w.q8 + p * pstride, pstride, p * kNr, base);
    if (p < p_end) tile<1, 1>(xu, kp, w.q8 + p * pstride, pstride, p * kNr, base);
    return;
  }
  if (m <= 4) {
    for (int64_t p = p_begin; p < p_end; ++p) {
      const int8_t* b = w.q8 + p * pstride;
      switch (m) {
        case 2: tile<2, 1, true>(xu, kp, b, pstride, p * kNr, base); break;
        case 3: tile<3, 1, true>(xu, kp, b, pstride, p * kNr, base); break;
        default: tile<4, 1, true>(xu, kp, b, pstride, p * kNr, base); break;
      }
    }
    return;
  }
  for (int64_t p = p_begin; p < p_end; ++p) {
    const int8_t* b = w.q8 + p * pstride;
    for (int64_t i = 0; i < m; i += kMr) {
      Out o = base;
      o.xs = xs + i;
      o.y = y + i * ldy;
      const int64_t rows = m - i < kMr ? m - i : kMr;
      if (rows == kMr) {
        tile<kMr, 1>(xu + i * kp, kp, b, pstride, p * kNr, o);
      } else {
        tile_rows(static_cast<int>(rows), xu + i * kp, kp, b, pstride, p * kNr, o);
      }
    }
  }
}

}  // namespace sealsum::kernels::detail
