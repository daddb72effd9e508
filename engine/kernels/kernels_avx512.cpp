// AVX-512 kernels (compiled with -mavx512f/bw/vl/dq -mfma; called only when dispatch says so).
//
// Packed GEMM y = x · Wᵀ. W is packed in panels of 32 output features, k-major (kernels_internal.h),
// so one k step of a panel is two aligned 64-byte vectors. The micro-kernel tile<R, P> keeps R rows
// x P panels x 32 columns of accumulators in zmm registers and walks a range of k once: per k step
// it loads 2P vectors of W and broadcasts R scalars of x, issuing 2·R·P fused multiply-adds into
// independent accumulators (enough to hide FMA latency on two pipes). Every output element is one
// accumulator that sees k in increasing order; between k blocks the partial sum is parked in y as
// a float and reloaded, which changes nothing. So results do not depend on the tiling, on m, or on
// the thread count.
//
// Large m (encoder), GotoBLAS order: for each k block of kKc (a panel pair's W sub-panel, kKc x
// 256 B = 64 KiB, mostly in L1; kKc = 128, which fits it, was slower) and each block of kMc rows
// (x slice kMc x kKc floats stays in L2), sweep the caller's panels in pairs with R = 6, P = 2
// tiles (24 accumulators; per k step 4 loads of W and 6 broadcasts feed 24 fused multiply-adds,
// against 2 + 8 for 16 with R = 8, P = 1: t5 encoder shapes 30-40 % faster in kernels_bench, same
// window); an odd last panel takes R = 8, P = 1 tiles. Small m (decoder, m <= 4): W is streamed exactly
// once with the whole k in registers; several panels are processed together (P = 4 for m = 1,
// 2 otherwise) to keep enough independent accumulators in flight. m = 5..8 (batched decoder
// steps): one R = m, P = 1 tile per panel over the whole k, W streamed once (k blocks would park
// and reload all of y between blocks: 1 MiB for an 8-row lm_head, which doubled its time).
//
// gemm() (attention) uses the same tiles with an alpha/beta epilogue (beta == 0 never reads C).
// op(B) = B [k, n] is read in place (a k step of 32 columns is two unaligned loads at stride ldb);
// only a ragged last panel, and Bᵀ for trans_b, are packed into a thread-local scratch panel.
#include "engine/kernels/intrinsics.h"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <vector>

#include "engine/kernels/kernels_internal.h"

namespace sealsum::kernels::detail {
namespace {

constexpr int64_t kNr = 32;   // panel width (floats)
constexpr int kMr = 8;        // rows per large-m tile
constexpr int64_t kKc = 256;  // k block (linear, large m)
constexpr int64_t kMc = 192;  // row block (linear, large m)
// Small m >= 2 (beam search, batched requests): tiles also prefetch each panel 8 KiB ahead into L1
// (perf, synth-t5-small beam 4: ~5% less time in these tiles, near the noise of the shared machine;
// m = 1 showed no gain). Prefetches never fault and change no result.
constexpr int64_t kSmallMAhead = 2048;

struct Epilogue {
  float* c;
  int64_t ldc;
  int64_t n;            // columns valid in C
  const float* bias;    // linear: added after the full sum (may be null)
  float alpha, beta;    // gemm: c = alpha*acc + beta*c (beta == 0: c not read)
  bool is_gemm;
};

inline __mmask16 tail_mask(int64_t cols) {
  if (cols >= 16) return 0xFFFF;
  if (cols <= 0) return 0;
  return static_cast<__mmask16>((1u << cols) - 1u);
}

// R rows x P panels over kc steps of k (kAhead > 0: also prefetch kAhead floats ahead in each
// panel). a: first row, first k of the block (row stride lda);
// b: first k step of the first panel; k steps at stride ldbk, panel q at b + q*pstride.
// accumulate: start from the partial sums parked in C (linear k blocks); final: apply the
// epilogue, else park the raw sums.
template <int R, int P, int64_t kAhead = 0>
inline void tile(const float* a, int64_t lda, int64_t kc, const float* b, int64_t ldbk, int64_t pstride, int64_t row0,
                 int64_t j0, const Epilogue& e, bool accumulate, bool final) {
  __mmask16 mask[2 * P];
#pragma GCC unroll 8
  for (int q = 0; q < 2 * P; ++q) mask[q] = tail_mask(e.n - (j0 + q * 16));
  __m512 acc[R][2 * P];
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r) {
#pragma GCC unroll 8
    for (int q = 0; q < 2 * P; ++q) {
      acc[r][q] = accumulate ? _mm512_maskz_loadu_ps(mask[q], e.c + (row0 + r) * e.ldc + j0 + q * 16)
                             : _mm512_setzero_ps();
    }
  }
  for (int64_t kk = 0; kk < kc; ++kk) {
    __m512 bv[2 * P];
#pragma GCC unroll 8
    for (int q = 0; q < P; ++q) {
      bv[2 * q] = _mm512_loadu_ps(b + q * pstride);
      bv[2 * q + 1] = _mm512_loadu_ps(b + q * pstride + 16);
    }
    if (kAhead > 0) {
#pragma GCC unroll 8
      for (int q = 0; q < P; ++q) {
        _mm_prefetch(reinterpret_cast<const char*>(b + q * pstride + kAhead), _MM_HINT_T0);
        _mm_prefetch(reinterpret_cast<const char*>(b + q * pstride + kAhead + 16), _MM_HINT_T0);
      }
    }
    b += ldbk;
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
      const __m512 av = _mm512_set1_ps(a[r * lda + kk]);
#pragma GCC unroll 8
      for (int q = 0; q < 2 * P; ++q) acc[r][q] = _mm512_fmadd_ps(av, bv[q], acc[r][q]);
    }
  }
#pragma GCC unroll 8
  for (int q = 0; q < 2 * P; ++q) {
    const int64_t j = j0 + q * 16;  // vector q covers columns j .. j+15
    if (mask[q] == 0) continue;
    __m512 bias = _mm512_setzero_ps();
    if (final && !e.is_gemm && e.bias != nullptr) bias = _mm512_maskz_loadu_ps(mask[q], e.bias + j);
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
      float* out = e.c + (row0 + r) * e.ldc + j;
      __m512 v = acc[r][q];
      if (final) {
        if (!e.is_gemm) {
          if (e.bias != nullptr) v = _mm512_add_ps(v, bias);
        } else {
          v = _mm512_mul_ps(v, _mm512_set1_ps(e.alpha));
          if (e.beta != 0.0f) v = _mm512_fmadd_ps(_mm512_set1_ps(e.beta), _mm512_maskz_loadu_ps(mask[q], out), v);
        }
      }
      if (mask[q] == 0xFFFF) {
        _mm512_storeu_ps(out, v);
      } else {
        _mm512_mask_storeu_ps(out, mask[q], v);
      }
    }
  }
}

// Runtime row count (1..kMr) -> tile<R, 1>.
inline void tile_rows(int r, const float* a, int64_t lda, int64_t kc, const float* b, int64_t ldbk, int64_t pstride,
                      int64_t row0, int64_t j0, const Epilogue& e, bool accumulate, bool final) {
  switch (r) {
    case 1: tile<1, 1>(a, lda, kc, b, ldbk, pstride, row0, j0, e, accumulate, final); break;
    case 2: tile<2, 1>(a, lda, kc, b, ldbk, pstride, row0, j0, e, accumulate, final); break;
    case 3: tile<3, 1>(a, lda, kc, b, ldbk, pstride, row0, j0, e, accumulate, final); break;
    case 4: tile<4, 1>(a, lda, kc, b, ldbk, pstride, row0, j0, e, accumulate, final); break;
    case 5: tile<5, 1>(a, lda, kc, b, ldbk, pstride, row0, j0, e, accumulate, final); break;
    case 6: tile<6, 1>(a, lda, kc, b, ldbk, pstride, row0, j0, e, accumulate, final); break;
    case 7: tile<7, 1>(a, lda, kc, b, ldbk, pstride, row0, j0, e, accumulate, final); break;
    default: tile<8, 1>(a, lda, kc, b, ldbk, pstride, row0, j0, e, accumulate, final); break;
  }
}

// Small m (1..4): np panels, whole k in registers, W streamed once. Panel q starts at
// b + q*pstride and covers columns j0 + q*kNr ..; its k steps are ldbk apart.
void small_m(const float* a, int64_t lda, int64_t m, int64_t k, const float* b, int64_t ldbk, int64_t pstride,
             int64_t np, int64_t j0, const Epilogue& e) {
  int64_t q = 0;
  if (m == 1) {
    for (; q + 4 <= np; q += 4) tile<1, 4>(a, lda, k, b + q * pstride, ldbk, pstride, 0, j0 + q * kNr, e, false, true);
  }
  for (; q + 2 <= np; q += 2) {
    const float* bq = b + q * pstride;
    const int64_t jq = j0 + q * kNr;
    switch (m) {
      case 1: tile<1, 2>(a, lda, k, bq, ldbk, pstride, 0, jq, e, false, true); break;
      case 2: tile<2, 2, kSmallMAhead>(a, lda, k, bq, ldbk, pstride, 0, jq, e, false, true); break;
      case 3: tile<3, 2, kSmallMAhead>(a, lda, k, bq, ldbk, pstride, 0, jq, e, false, true); break;
      default: tile<4, 2, kSmallMAhead>(a, lda, k, bq, ldbk, pstride, 0, jq, e, false, true); break;
    }
  }
  for (; q < np; ++q) {
    tile_rows(static_cast<int>(m), a, lda, k, b + q * pstride, ldbk, pstride, 0, j0 + q * kNr, e, false, true);
  }
}

// The horizontal sums of 16 vectors in one vector (lane j: the sum of v[j]'s lanes), added in
// _mm512_reduce_add_ps's pairs (GCC: lanes i and i+8, then i and i+4, then i and i+2, then i and
// i+1), so each sum has the bits that reduce would give: 15 adds and 31 shuffles for 16 sums
// instead of 16 separate reductions.
inline __m512 hsum16(const __m512 (&v)[16]) {
  __m512 s[8], t[4], u[2];
#pragma GCC unroll 8
  for (int p = 0; p < 8; ++p) {  // lanes 0-7: v[2p]'s i + (i+8); lanes 8-15: v[2p+1]'s
    s[p] = _mm512_add_ps(_mm512_shuffle_f32x4(v[2 * p], v[2 * p + 1], _MM_SHUFFLE(1, 0, 1, 0)),
                         _mm512_shuffle_f32x4(v[2 * p], v[2 * p + 1], _MM_SHUFFLE(3, 2, 3, 2)));
  }
#pragma GCC unroll 4
  for (int p = 0; p < 4; ++p) {  // quarter c: vector 4p+c's i + (i+4)
    t[p] = _mm512_add_ps(_mm512_shuffle_f32x4(s[2 * p], s[2 * p + 1], _MM_SHUFFLE(2, 0, 2, 0)),
                         _mm512_shuffle_f32x4(s[2 * p], s[2 * p + 1], _MM_SHUFFLE(3, 1, 3, 1)));
  }
#pragma GCC unroll 2
  for (int p = 0; p < 2; ++p) {  // quarter c: vector 8p+c's i + (i+2) (i < 2), then vector 8p+4+c's
    u[p] = _mm512_add_ps(_mm512_shuffle_ps(t[2 * p], t[2 * p + 1], _MM_SHUFFLE(1, 0, 1, 0)),
                         _mm512_shuffle_ps(t[2 * p], t[2 * p + 1], _MM_SHUFFLE(3, 2, 3, 2)));
  }
  // Quarter c, element d: the sum of vector 4d + c; permute to lane 4d + c.
  const __m512 r = _mm512_add_ps(_mm512_shuffle_ps(u[0], u[1], _MM_SHUFFLE(2, 0, 2, 0)),
                                 _mm512_shuffle_ps(u[0], u[1], _MM_SHUFFLE(3, 1, 3, 1)));
  const __m512i from = _mm512_set_epi32(15, 11, 7, 3, 14, 10, 6, 2, 13, 9, 5, 1, 12, 8, 4, 0);
  return _mm512_permutexvar_ps(from, r);
}

// trans_b with few rows (decoder attention scores q·kᵀ, m = 1..4): packing Bᵀ would cost as much
// as the product, so each output is a dot product along k (16 lanes, one fused multiply-add per
// 16 k in increasing k, then the horizontal sum of hsum16), 16 columns of B at a time for one row
// (the 16 columns stay in L1 for the next row). Columns past n reuse row n-1 and are not stored.
// A row's results do not depend on m. The row of a is held in KC registers when k <= 16·KC
// (KC = 1..8; attention heads have k = 64), and each column's dot product runs to completion
// before the next: one B pointer live instead of 16 (with 16 the compiler kept pointers in vector
// registers and spilled accumulators to the stack: ~2x slower). KC = 0: any k, a reloaded.
template <int KC>
inline __m512 row_dots16(const float* ar, int64_t k, const float* b, int64_t ldb, int64_t j, int64_t n) {
  __m512 av[KC > 0 ? KC : 1];
  if constexpr (KC > 0) {
#pragma GCC unroll 8
    for (int c = 0; c < KC; ++c) av[c] = _mm512_maskz_loadu_ps(tail_mask(k - 16 * c), ar + 16 * c);
  }
  __m512 acc[16];
#pragma GCC unroll 16
  for (int jj = 0; jj < 16; ++jj) {
    const float* bj = b + std::min(j + jj, n - 1) * ldb;
    __m512 sum = _mm512_setzero_ps();
    if constexpr (KC > 0) {
#pragma GCC unroll 8
      for (int c = 0; c < KC; ++c) {
        sum = _mm512_fmadd_ps(av[c], _mm512_maskz_loadu_ps(tail_mask(k - 16 * c), bj + 16 * c), sum);
      }
    } else {
      for (int64_t kk = 0; kk < k; kk += 16) {
        const __mmask16 mk = tail_mask(k - kk);
        sum = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(mk, ar + kk), _mm512_maskz_loadu_ps(mk, bj + kk), sum);
      }
    }
    acc[jj] = sum;
  }
  return hsum16(acc);
}

template <int KC>
void dot_rows_k(const float* a, int64_t lda, int64_t m, int64_t n, int64_t k, const float* b, int64_t ldb,
                const Epilogue& e) {
  for (int64_t j = 0; j < n; j += 16) {
    const __mmask16 mn = tail_mask(n - j);
    for (int64_t r = 0; r < m; ++r) {
      const __m512 v = _mm512_mul_ps(_mm512_set1_ps(e.alpha), row_dots16<KC>(a + r * lda, k, b, ldb, j, n));
      float* out = e.c + r * e.ldc + j;
      if (e.beta == 0.0f) {
        _mm512_mask_storeu_ps(out, mn, v);
      } else {
        alignas(64) float vals[16];
        _mm512_store_ps(vals, v);
        for (int jj = 0; jj < 16 && j + jj < n; ++jj) out[jj] = vals[jj] + e.beta * out[jj];
      }
    }
  }
}

void dot_rows(const float* a, int64_t lda, int64_t m, int64_t n, int64_t k, const float* b, int64_t ldb,
              const Epilogue& e) {
  switch ((k + 15) / 16) {
    case 0:
    case 1: dot_rows_k<1>(a, lda, m, n, k, b, ldb, e); break;
    case 2: dot_rows_k<2>(a, lda, m, n, k, b, ldb, e); break;
    case 3: dot_rows_k<3>(a, lda, m, n, k, b, ldb, e); break;
    case 4: dot_rows_k<4>(a, lda, m, n, k, b, ldb, e); break;
    case 5: dot_rows_k<5>(a, lda, m, n, k, b, ldb, e); break;
    case 6: dot_rows_k<6>(a, lda, m, n, k, b, ldb, e); break;
    case 7: dot_rows_k<7>(a, lda, m, n, k, b, ldb, e); break;
    case 8: dot_rows_k<8>(a, lda, m, n, k, b, ldb, e); break;
    default: dot_rows_k<0>(a, lda, m, n, k, b, ldb, e); break;
  }
}

}  // namespace

void linear_panels_avx512(const float* x, int64_t ldx, int64_t m, const PackedMatrix::Impl& w, int64_t p_begin,
                          int64_t p_end, const float* bias, float* y, int64_t ldy) {
  const Epilogue e{y, ldy, w.n, bias, 1.0f, 0.0f, false};
  const int64_t k = w.k, pstride = k * kNr;
  const float* b = w.data;
  if (m <= 4) {
    small_m(x, ldx, m, k, b + p_begin * pstride, kNr, pstride, p_end - p_begin, p_begin * kNr, e);
    return;
  }
  if (m <= kMr) {  // a few batched decoder rows: W streamed once, whole k in registers (as small_m)
    for (int64_t p = p_begin; p < p_end; ++p) {
      const float* bp = b + p * pstride;
      switch (m) {
        case 5: tile<5, 1, kSmallMAhead>(x, ldx, k, bp, kNr, pstride, 0, p * kNr, e, false, true); break;
        case 6: tile<6, 1, kSmallMAhead>(x, ldx, k, bp, kNr, pstride, 0, p * kNr, e, false, true); break;
        case 7: tile<7, 1, kSmallMAhead>(x, ldx, k, bp, kNr, pstride, 0, p * kNr, e, false, true); break;
        default: tile<8, 1, kSmallMAhead>(x, ldx, k, bp, kNr, pstride, 0, p * kNr, e, false, true); break;
      }
    }
    return;
  }
  int64_t pc = 0;
  do {  // k blocks (runs once when k == 0, to write the bias)
    const int64_t kc = std::min(kKc, k - pc);
    const bool accumulate = pc > 0, final = pc + kc >= k;
    for (int64_t ic = 0; ic < m; ic += kMc) {
      const int64_t mlen = std::min(kMc, m - ic);
      int64_t p = p_begin;
      for (; p + 2 <= p_end; p += 2) {  // panel pairs: 6 x 64 tiles (24 accumulators)
        const float* bp = b + p * pstride + pc * kNr;
        int64_t i = ic;
        for (; i + 6 <= ic + mlen; i += 6) {
          tile<6, 2>(x + i * ldx + pc, ldx, kc, bp, kNr, pstride, i, p * kNr, e, accumulate, final);
        }
        if (i < ic + mlen) {
          for (int q = 0; q < 2; ++q) {
            tile_rows(static_cast<int>(ic + mlen - i), x + i * ldx + pc, ldx, kc, bp + q * pstride, kNr, pstride, i,
                      (p + q) * kNr, e, accumulate, final);
          }
        }
      }
      for (; p < p_end; ++p) {
        const float* bp = b + p * pstride + pc * kNr;
        int64_t i = ic;
        for (; i + kMr <= ic + mlen; i += kMr) {
          tile<kMr, 1>(x + i * ldx + pc, ldx, kc, bp, kNr, pstride, i, p * kNr, e, accumulate, final);
        }
        if (i < ic + mlen) {
          tile_rows(static_cast<int>(ic + mlen - i), x + i * ldx + pc, ldx, kc, bp, kNr, pstride, i, p * kNr, e,
                    accumulate, final);
        }
      }
    }
    pc += kc;
  } while (pc < k);
}

void gemm_avx512(bool trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float* a, int64_t lda,
                 const float* b, int64_t ldb, float beta, float* c, int64_t ldc) {
  const Epilogue e{c, ldc, n, nullptr, alpha, beta, true};
  if (trans_b && m <= 4) {
    dot_rows(a, lda, m, n, k, b, ldb, e);
    return;
  }
  const int64_t panels = (n + kNr - 1) / kNr;
  const int64_t full = trans_b ? 0 : n / kNr;  // panels read in place from B
  // Scratch for the packed panels [full, panels): k x kNr floats each, 64-byte aligned.
  thread_local std::vector<float> scratch_store;
  const size_t need = static_cast<size_t>((panels - full) * k * kNr) + 16;
  if (scratch_store.size() < need) scratch_store.resize(need);
  float* pk = scratch_store.data();
  pk += (16 - (reinterpret_cast<uintptr_t>(pk) / sizeof(float)) % 16) % 16;
  for (int64_t p = full; p < panels; ++p) {
    float* dst = pk + (p - full) * k * kNr;
    const int64_t j0 = p * kNr, cols = std::min(kNr, n - j0);
    if (trans_b) {
      for (int64_t jj = 0; jj < kNr; ++jj) {
        if (jj < cols) {
          const float* src = b + (j0 + jj) * ldb;
          for (int64_t kk = 0; kk < k; ++kk) dst[kk * kNr + jj] = src[kk];
        } else {
          for (int64_t kk = 0; kk < k; ++kk) dst[kk * kNr + jj] = 0.0f;
        }
      }
    } else {
      const __mmask16 m0 = tail_mask(cols), m1 = tail_mask(cols - 16);
      for (int64_t kk = 0; kk < k; ++kk) {
        const float* src = b + kk * ldb + j0;
        _mm512_store_ps(dst + kk * kNr, _mm512_maskz_loadu_ps(m0, src));
        _mm512_store_ps(dst + kk * kNr + 16, _mm512_maskz_loadu_ps(m1, src + 16));
      }
    }
  }
  // np panels starting at bb (panel q at bb + q*pstride, columns j0 + q*kNr ..): rows in tiles of
  // kMr, or all rows at once when m <= 4 (B streamed once).
  auto run = [&](const float* bb, int64_t ldbk, int64_t pstride, int64_t np, int64_t j0) {
    if (np <= 0) return;
    if (m <= 4) {
      small_m(a, lda, m, k, bb, ldbk, pstride, np, j0, e);
      return;
    }
    for (int64_t q = 0; q < np; ++q) {
      const float* bq = bb + q * pstride;
      const int64_t jq = j0 + q * kNr;
      int64_t i = 0;
      for (; i + kMr <= m; i += kMr) tile<kMr, 1>(a + i * lda, lda, k, bq, ldbk, pstride, i, jq, e, false, true);
      if (i < m) tile_rows(static_cast<int>(m - i), a + i * lda, lda, k, bq, ldbk, pstride, i, jq, e, false, true);
    }
  };
  run(b, ldb, kNr, full, 0);
  run(pk, kNr, k * kNr, panels - full, full * kNr);
}

}  // namespace sealsum::kernels::detail

// ---- Vector math (contracts in vecmath.h; constants and method in kernels_internal.h) ----
namespace sealsum::kernels::detail {
namespace {

inline __m512 exp16(__m512 x) {
  // Clamp with x as the second operand so that NaN passes through (max/min return it).
  x = _mm512_min_ps(_mm512_set1_ps(kExpHi), _mm512_max_ps(_mm512_set1_ps(kExpLo), x));
  const __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(kLog2e)),
                                        _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(kLn2Hi), x);
  r = _mm512_fnmadd_ps(n, _mm512_set1_ps(kLn2Lo), r);
  __m512 p = _mm512_set1_ps(kExpP[0]);
  for (int i = 1; i < 6; ++i) p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(kExpP[i]));
  const __m512 y = _mm512_add_ps(_mm512_fmadd_ps(p, _mm512_mul_ps(r, r), r), _mm512_set1_ps(1.0f));
  return _mm512_scalef_ps(y, n);  // y·2ⁿ with correct overflow to inf and gradual underflow
}

inline __m512 erf16(__m512 x) {
  x = _mm512_min_ps(_mm512_set1_ps(4.0f), _mm512_max_ps(_mm512_set1_ps(-4.0f), x));
  const __m512 x2 = _mm512_mul_ps(x, x);
  __m512 p = _mm512_set1_ps(kErfAlpha[0]);
  for (int i = 1; i < 7; ++i) p = _mm512_fmadd_ps(x2, p, _mm512_set1_ps(kErfAlpha[i]));
  p = _mm512_mul_ps(x, p);
  __m512 q = _mm512_set1_ps(kErfBeta[0]);
  for (int i = 1; i < 5; ++i) q = _mm512_fmadd_ps(x2, q, _mm512_set1_ps(kErfBeta[i]));
  return _mm512_div_ps(p, q);
}

inline __mmask16 mask_first(int64_t count) {
  return count >= 16 ? static_cast<__mmask16>(0xFFFF) : static_cast<__mmask16>((1u << count) - 1u);
}

double exp_shift_sum_avx512(const float* x, float* out, int64_t n, float shift) {
  const __m512 s = _mm512_set1_ps(shift);
  __m512d acc0 = _mm512_setzero_pd(), acc1 = _mm512_setzero_pd();
  for (int64_t j = 0; j < n; j += 16) {
    const __mmask16 m = mask_first(n - j);
    const __m512 v = _mm512_maskz_mov_ps(m, exp16(_mm512_sub_ps(_mm512_maskz_loadu_ps(m, x + j), s)));
    if (out != nullptr) _mm512_mask_storeu_ps(out + j, m, v);
    acc0 = _mm512_add_pd(acc0, _mm512_cvtps_pd(_mm512_castps512_ps256(v)));
    acc1 = _mm512_add_pd(acc1, _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1))));
  }
  return _mm512_reduce_add_pd(_mm512_add_pd(acc0, acc1));
}

float max_of_avx512(const float* x, int64_t n) {
  __m512 mx = _mm512_set1_ps(-std::numeric_limits<float>::infinity());
  __mmask16 nan = 0;
  for (int64_t j = 0; j < n; j += 16) {
    const __mmask16 m = mask_first(n - j);
    const __m512 v = _mm512_mask_loadu_ps(mx, m, x + j);  // lanes past n keep the running max
    nan |= _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q);
    mx = _mm512_max_ps(mx, v);
  }
  if (nan != 0) return std::numeric_limits<float>::quiet_NaN();
  return _mm512_reduce_max_ps(mx);
}

void gelu_erf_avx512(float* x, int64_t n) {
  for (int64_t j = 0; j < n; j += 16) {
    const __mmask16 m = mask_first(n - j);
    const __m512 v = _mm512_maskz_loadu_ps(m, x + j);
    const __m512 e = erf16(_mm512_mul_ps(v, _mm512_set1_ps(kInvSqrt2)));
    const __m512 y = _mm512_mul_ps(_mm512_mul_ps(_mm512_set1_ps(0.5f), v), _mm512_add_ps(_mm512_set1_ps(1.0f), e));
    _mm512_mask_storeu_ps(x + j, m, y);
  }
}

void gelu_tanh_avx512(float* x, int64_t n) {
  for (int64_t j = 0; j < n; j += 16) {
    const __mmask16 m = mask_first(n - j);
    const __m512 v = _mm512_maskz_loadu_ps(m, x + j);
    const __m512 t = _mm512_mul_ps(v, _mm512_fmadd_ps(_mm512_set1_ps(kGeluK2), _mm512_mul_ps(v, v),
                                                      _mm512_set1_ps(kGeluK1)));
    const __m512 y = _mm512_div_ps(v, _mm512_add_ps(_mm512_set1_ps(1.0f), exp16(t)));
    _mm512_mask_storeu_ps(x + j, m, y);
  }
}

}  // namespace

const VecMath kVecMathAvx512 = {exp_shift_sum_avx512, max_of_avx512, gelu_erf_avx512, gelu_tanh_avx512,
                              exp_lane_sums_avx512};

}  // namespace sealsum::kernels::detail
