// AVX2 + FMA kernels (compiled with -mavx2 -mfma -mf16c; called only when dispatch says so).
//
// The same algorithm as kernels_avx512.cpp (read that essay first) with 256-bit vectors: the tiles
// work on 16-wide column blocks ("panels" below: two ymm per k step), large-m tiles of 6 rows x 16
// columns (12 of the 16 ymm registers hold accumulators), and for small m (decoder) up to 4 blocks
// per pass (m = 1), else 2 (one 32-wide panel: each k step one 128-byte run), rows in pairs for
// m = 2..8 (beams, batched decoder steps; later pairs re-read the panel from L1/L2). Linear
// weights are stored 32 wide (the shared layout of kernels_internal.h, read in place from model
// files), so 16-wide block q of a weight lies at (q / 2) * k*32 + (q % 2) * 16 with k steps 32 apart: every tile addresses block q as
// b + (q / 2) * outer + (q % 2) * inner. Lane masks for ragged edges are integer vectors.
#include "engine/kernels/intrinsics.h"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <vector>

#include "engine/kernels/kernels_internal.h"

namespace sealsum::kernels::detail {
namespace {

constexpr int64_t kNr = 16;   // panel width (floats)
constexpr int kMr = 6;        // rows per large-m tile
constexpr int64_t kKc = 256;  // k block (linear, large m)
constexpr int64_t kMc = 192;  // row block (linear, large m)

struct Epilogue {
  float* c;
  int64_t ldc;
  int64_t n;            // columns valid in C
  const float* bias;    // linear: added after the full sum (may be null)
  float alpha, beta;    // gemm: c = alpha*acc + beta*c (beta == 0: c not read)
  bool is_gemm;
};

// Lanes [0, cols) of 8 set (all-ones), the rest clear.
inline __m256i tail_mask(int64_t cols) {
  const int c = static_cast<int>(std::clamp<int64_t>(cols, 0, 8));
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(c), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

// R rows x P panels over kc steps of k. a: first row, first k of the block (row stride lda);
// b: first k step of the first panel; k steps at stride ldbk, panel q at
// b + (q / 2) * outer + (q % 2) * pstride.
// accumulate: start from the partial sums parked in C (linear k blocks); final: apply the
// epilogue, else park the raw sums.
template <int R, int P, bool kPrefetchNext = false>
inline void tile(const float* a, int64_t lda, int64_t kc, const float* b, int64_t ldbk, int64_t pstride, int64_t outer,
                 int64_t row0, int64_t j0, const Epilogue& e, bool accumulate, bool final) {
  int64_t cols[2 * P];
#pragma GCC unroll 8
  for (int q = 0; q < 2 * P; ++q) cols[q] = e.n - (j0 + q * 8);
  __m256 acc[R][2 * P];
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r) {
#pragma GCC unroll 8
    for (int q = 0; q < 2 * P; ++q) {
      float* src = e.c + (row0 + r) * e.ldc + j0 + q * 8;
      acc[r][q] = !accumulate ? _mm256_setzero_ps()
                  : cols[q] >= 8 ? _mm256_loadu_ps(src)
                  : cols[q] > 0  ? _mm256_maskload_ps(src, tail_mask(cols[q]))
                                 : _mm256_setzero_ps();
    }
  }
  for (int64_t kk = 0; kk < kc; ++kk) {
    __m256 bv[2 * P];
#pragma GCC unroll 8
    for (int q = 0; q < P; ++q) {
      const float* bq = b + (q >> 1) * outer + (q & 1) * pstride;
      bv[2 * q] = _mm256_loadu_ps(bq);
      bv[2 * q + 1] = _mm256_loadu_ps(bq + 8);
    }
    if constexpr (kPrefetchNext) {  // the next P / 2 32-wide panels, this k step (128 bytes each)
#pragma GCC unroll 4
      for (int q = P / 2; q < P; ++q) {
        _mm_prefetch(reinterpret_cast<const char*>(b + q * outer), _MM_HINT_T0);
        _mm_prefetch(reinterpret_cast<const char*>(b + q * outer + 16), _MM_HINT_T0);
      }
    }
    b += ldbk;
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
      const __m256 av = _mm256_set1_ps(a[r * lda + kk]);
#pragma GCC unroll 8
      for (int q = 0; q < 2 * P; ++q) acc[r][q] = _mm256_fmadd_ps(av, bv[q], acc[r][q]);
    }
  }
#pragma GCC unroll 8
  for (int q = 0; q < 2 * P; ++q) {
    const int64_t j = j0 + q * 8;  // vector q covers columns j .. j+7
    if (cols[q] <= 0) continue;
    const bool full = cols[q] >= 8;
    const __m256i mask = tail_mask(cols[q]);
    __m256 bias = _mm256_setzero_ps();
    if (final && !e.is_gemm && e.bias != nullptr) bias = full ? _mm256_loadu_ps(e.bias + j) : _mm256_maskload_ps(e.bias + j, mask);
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
      float* out = e.c + (row0 + r) * e.ldc + j;
      __m256 v = acc[r][q];
      if (final) {
        if (!e.is_gemm) {
          if (e.bias != nullptr) v = _mm256_add_ps(v, bias);
        } else {
          v = _mm256_mul_ps(v, _mm256_set1_ps(e.alpha));
          if (e.beta != 0.0f) {
            const __m256 old = full ? _mm256_loadu_ps(out) : _mm256_maskload_ps(out, mask);
            v = _mm256_fmadd_ps(_mm256_set1_ps(e.beta), old, v);
          }
        }
      }
      if (full) {
        _mm256_storeu_ps(out, v);
      } else {
        _mm256_maskstore_ps(out, mask, v);
      }
    }
  }
}

// Runtime row count (1..kMr) -> tile<R, 1>.
inline void tile_rows(int r, const float* a, int64_t lda, int64_t kc, const float* b, int64_t ldbk, int64_t pstride,
                      int64_t outer, int64_t row0, int64_t j0, const Epilogue& e, bool accumulate, bool final) {
  switch (r) {
    case 1: tile<1, 1>(a, lda, kc, b, ldbk, pstride, outer, row0, j0, e, accumulate, final); break;
    case 2: tile<2, 1>(a, lda, kc, b, ldbk, pstride, outer, row0, j0, e, accumulate, final); break;
    case 3: tile<3, 1>(a, lda, kc, b, ldbk, pstride, outer, row0, j0, e, accumulate, final); break;
    case 4: tile<4, 1>(a, lda, kc, b, ldbk, pstride, outer, row0, j0, e, accumulate, final); break;
    case 5: tile<5, 1>(a, lda, kc, b, ldbk, pstride, outer, row0, j0, e, accumulate, final); break;
    default: tile<6, 1>(a, lda, kc, b, ldbk, pstride, outer, row0, j0, e, accumulate, final); break;
  }
}

// Small m (1..8): np panels, whole k in registers, W streamed once. Panel q starts at
// b + (q / 2) * outer + (q % 2) * pstride and covers columns j0 + q*kNr ..; its k steps are ldbk
// apart. Passes start at even q, so each tile's own panels follow the same rule from its start.
void small_m(const float* a, int64_t lda, int64_t m, int64_t k, const float* b, int64_t ldbk, int64_t pstride,
             int64_t outer, int64_t np, int64_t j0, const Epilogue& e) {
  auto at = [&](int64_t q) { return b + (q >> 1) * outer + (q & 1) * pstride; };
  int64_t q = 0;
  if (m == 1) {
    for (; q + 4 <= np; q += 4) tile<1, 4>(a, lda, k, at(q), ldbk, pstride, outer, 0, j0 + q * kNr, e, false, true);
  }
  for (; q + 2 <= np; q += 2) {
    const int64_t jq = j0 + q * kNr;
    // Both 16-wide halves of the 32-wide panel in one pass (each k step is one 128-byte run), rows in
    // pairs (8 accumulators; 3 rows would spill one to the stack): the first pair streams the panel,
    // the others re-read it from L1/L2.
    for (int64_t i = 0; i < m; i += 2) {
      if (m - i >= 2) {
        if (i == 0) {  // the pair that streams this panel also fetches the next one
          tile<2, 2, true>(a + i * lda, lda, k, at(q), ldbk, pstride, outer, i, jq, e, false, true);
        } else {
          tile<2, 2>(a + i * lda, lda, k, at(q), ldbk, pstride, outer, i, jq, e, false, true);
        }
      } else {
        tile<1, 2>(a + i * lda, lda, k, at(q), ldbk, pstride, outer, i, jq, e, false, true);
      }
    }
  }
  for (; q < np; ++q) {
    for (int64_t i = 0; i < m; i += kMr) {
      tile_rows(static_cast<int>(std::min<int64_t>(kMr, m - i)), a + i * lda, lda, k, at(q), ldbk, pstride, outer, i,
                j0 + q * kNr, e, false, true);
    }
  }
}

// Lane j: the sum of v[j]'s lanes, added as lanes i and i+4, then i and i+2, then i and i+1.
inline __m256 hsum8x8(const __m256 (&v)[8]) {
  __m256 a[4], b[2];
#pragma GCC unroll 4
  for (int p = 0; p < 4; ++p) {  // low half: v[2p]'s lanes i + (i+4); high half: v[2p+1]'s
    a[p] = _mm256_add_ps(_mm256_permute2f128_ps(v[2 * p], v[2 * p + 1], 0x20),
                         _mm256_permute2f128_ps(v[2 * p], v[2 * p + 1], 0x31));
  }
#pragma GCC unroll 2
  for (int q = 0; q < 2; ++q) {  // half h: (0 + 2, 1 + 3) of v[4q + h], then of v[4q + 2 + h]
    b[q] = _mm256_add_ps(_mm256_shuffle_ps(a[2 * q], a[2 * q + 1], _MM_SHUFFLE(1, 0, 1, 0)),
                         _mm256_shuffle_ps(a[2 * q], a[2 * q + 1], _MM_SHUFFLE(3, 2, 3, 2)));
  }
  // half h: the sums of v[h], v[2 + h], v[4 + h], v[6 + h]
  const __m256 c = _mm256_add_ps(_mm256_shuffle_ps(b[0], b[1], _MM_SHUFFLE(2, 0, 2, 0)),
                                 _mm256_shuffle_ps(b[0], b[1], _MM_SHUFFLE(3, 1, 3, 1)));
  return _mm256_permutevar8x32_ps(c, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
}

// Prefetches (beam steps and the Milan hosts' decoder; kernels_bench "t5 decoder step", 40
// alternating steps per setting): the first row pair of a small-m pass also fetches the next
// panel (f32 4-row step 24.8 -> 23.0 ms), and dot_rows fetches the next 8 keys (with the vector
// store below: cross-attention one row 0.88 -> 0.74 ms, four rows 1.65 -> 1.30 ms).
//
// trans_b with few rows (decoder attention scores q·kᵀ, m = 1..4): each output is a dot product
// along k (8 lanes, one fused multiply-add per 8 k in increasing k, then a horizontal sum), 8
// columns of B at a time for one row (8 accumulators; the 8 columns stay in L1 for the next row),
// their 8 horizontal sums done together by hsum8x8 (one store instead of eight scalar reductions,
// the same adds: these bits are those of the earlier one-vector-at-a-time reduction). Columns past
// n reuse row n-1 and are not stored. A row's results do not depend on m. Full blocks with beta
// = 0 (attention) are scaled and stored as one vector: the same one product per element.
void dot_rows(const float* a, int64_t lda, int64_t m, int64_t n, int64_t k, const float* b, int64_t ldb,
              const Epilogue& e) {
  for (int64_t j = 0; j < n; j += 8) {
    // Prefetch the next 8 columns (keys) while these are summed; never faults (past n it fetches
    // nothing useful).
#pragma GCC unroll 8
    for (int jj = 0; jj < 8; ++jj) {
      const char* next = reinterpret_cast<const char*>(b + (j + 8 + jj) * ldb);
      for (int64_t off = 0; off < k * 4; off += 64) _mm_prefetch(next + off, _MM_HINT_T0);
    }
    for (int64_t r = 0; r < m; ++r) {
      const float* ar = a + r * lda;
      __m256 acc[8];
#pragma GCC unroll 8
      for (int jj = 0; jj < 8; ++jj) acc[jj] = _mm256_setzero_ps();
      for (int64_t kk = 0; kk < k; kk += 8) {
        const bool full = k - kk >= 8;
        const __m256i mk = tail_mask(k - kk);
        const __m256 av = full ? _mm256_loadu_ps(ar + kk) : _mm256_maskload_ps(ar + kk, mk);
#pragma GCC unroll 8
        for (int jj = 0; jj < 8; ++jj) {
          const float* bj = b + std::min<int64_t>(j + jj, n - 1) * ldb + kk;
          acc[jj] = _mm256_fmadd_ps(av, full ? _mm256_loadu_ps(bj) : _mm256_maskload_ps(bj, mk), acc[jj]);
        }
      }
      if (e.beta == 0.0f && j + 8 <= n) {  // alpha · sum: the scalar loop's one product per element
        _mm256_storeu_ps(e.c + r * e.ldc + j, _mm256_mul_ps(_mm256_set1_ps(e.alpha), hsum8x8(acc)));
        continue;
      }
      alignas(32) float h[8];
      _mm256_store_ps(h, hsum8x8(acc));
      for (int jj = 0; jj < 8 && j + jj < n; ++jj) {
        float* out = e.c + r * e.ldc + j + jj;
        const float v = e.alpha * h[jj];
        *out = e.beta != 0.0f ? v + e.beta * *out : v;
      }
    }
  }
}

}  // namespace

void linear_panels_avx2(const float* x, int64_t ldx, int64_t m, const PackedMatrix::Impl& w, int64_t p_begin,
                          int64_t p_end, const float* bias, float* y, int64_t ldy) {
  const Epilogue e{y, ldy, w.n, bias, 1.0f, 0.0f, false};
  // w's panels are w.nr = 32 wide: 16-wide block v of panel range [p_begin, p_end) is at
  // b + (v / 2) * k*32 + (v % 2) * 16, k steps 32 apart; blocks wholly past n are skipped.
  const int64_t k = w.k, ldbk = w.nr, outer = k * w.nr;
  const float* b = w.data + p_begin * outer;
  const int64_t j_begin = p_begin * w.nr;
  const int64_t nb = std::min(p_end * w.nr, (w.n + kNr - 1) / kNr * kNr) - j_begin;
  const int64_t np = std::max<int64_t>(nb, 0) / kNr;
  if (m <= 8) {  // decoder rows (beams, batched requests): whole k per tile, W streamed once
    small_m(x, ldx, m, k, b, ldbk, kNr, outer, np, j_begin, e);
    return;
  }
  int64_t pc = 0;
  do {  // k blocks (runs once when k == 0, to write the bias)
    const int64_t kc = std::min(kKc, k - pc);
    const bool accumulate = pc > 0, final = pc + kc >= k;
    for (int64_t ic = 0; ic < m; ic += kMc) {
      const int64_t mlen = std::min(kMc, m - ic);
      for (int64_t v = 0; v < np; ++v) {
        const float* bp = b + (v >> 1) * outer + (v & 1) * kNr + pc * ldbk;
        const int64_t jv = j_begin + v * kNr;
        int64_t i = ic;
        for (; i + kMr <= ic + mlen; i += kMr) {
          tile<kMr, 1>(x + i * ldx + pc, ldx, kc, bp, ldbk, kNr, outer, i, jv, e, accumulate, final);
        }
        if (i < ic + mlen) {
          tile_rows(static_cast<int>(ic + mlen - i), x + i * ldx + pc, ldx, kc, bp, ldbk, kNr, outer, i, jv, e,
                    accumulate, final);
        }
      }
    }
    pc += kc;
  } while (pc < k);
}

void gemm_avx2(bool trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float* a, int64_t lda,
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
      const __m256i m0 = tail_mask(cols), m1 = tail_mask(cols - 8);
      for (int64_t kk = 0; kk < k; ++kk) {
        const float* src = b + kk * ldb + j0;
        _mm256_store_ps(dst + kk * kNr, _mm256_maskload_ps(src, m0));
        _mm256_store_ps(dst + kk * kNr + 8, _mm256_maskload_ps(src + 8, m1));
      }
    }
  }
  // np panels starting at bb (panel q at bb + q*pstride, columns j0 + q*kNr ..; uniformly spaced,
  // so outer = 2*pstride): rows in tiles of kMr, or all rows at once when m <= 4 (B streamed once).
  auto run = [&](const float* bb, int64_t ldbk, int64_t pstride, int64_t np, int64_t j0) {
    if (np <= 0) return;
    if (m <= 4) {
      small_m(a, lda, m, k, bb, ldbk, pstride, 2 * pstride, np, j0, e);
      return;
    }
    for (int64_t q = 0; q < np; ++q) {
      const float* bq = bb + q * pstride;
      const int64_t jq = j0 + q * kNr;
      int64_t i = 0;
      for (; i + kMr <= m; i += kMr) tile<kMr, 1>(a + i * lda, lda, k, bq, ldbk, pstride, 2 * pstride, i, jq, e, false, true);
      if (i < m) {
        tile_rows(static_cast<int>(m - i), a + i * lda, lda, k, bq, ldbk, pstride, 2 * pstride, i, jq, e, false, true);
      }
    }
  };
  run(b, ldb, kNr, full, 0);
  run(pk, kNr, k * kNr, panels - full, full * kNr);
}

}  // namespace sealsum::kernels::detail

// ---- Vector math (contracts in vecmath.h; constants and method in kernels_internal.h) ----
namespace sealsum::kernels::detail {
namespace {

inline __m256 exp8(__m256 x) {
  // Clamp with x as the second operand so that NaN passes through (max/min return it).
  x = _mm256_min_ps(_mm256_set1_ps(kExpHi), _mm256_max_ps(_mm256_set1_ps(kExpLo), x));
  const __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(kLog2e)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(kLn2Hi), x);
  r = _mm256_fnmadd_ps(n, _mm256_set1_ps(kLn2Lo), r);
  __m256 p = _mm256_set1_ps(kExpP[0]);
  for (int i = 1; i < 6; ++i) p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(kExpP[i]));
  const __m256 y = _mm256_add_ps(_mm256_fmadd_ps(p, _mm256_mul_ps(r, r), r), _mm256_set1_ps(1.0f));
  // 2ⁿ for n in [-150, 129] as two in-range powers 2^(n1)·2^(n2), n1 = n >> 1, n2 = n − n1, so
  // that overflow gives inf and deep underflow gives 0 through ordinary multiplication.
  const __m256i ni = _mm256_cvtps_epi32(n);
  const __m256i n1 = _mm256_srai_epi32(ni, 1);
  const __m256i n2 = _mm256_sub_epi32(ni, n1);
  const __m256i bias = _mm256_set1_epi32(127);
  const __m256 s1 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n1, bias), 23));
  const __m256 s2 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n2, bias), 23));
  return _mm256_mul_ps(_mm256_mul_ps(y, s1), s2);
}

inline __m256 erf8(__m256 x) {
  x = _mm256_min_ps(_mm256_set1_ps(4.0f), _mm256_max_ps(_mm256_set1_ps(-4.0f), x));
  const __m256 x2 = _mm256_mul_ps(x, x);
  __m256 p = _mm256_set1_ps(kErfAlpha[0]);
  for (int i = 1; i < 7; ++i) p = _mm256_fmadd_ps(x2, p, _mm256_set1_ps(kErfAlpha[i]));
  p = _mm256_mul_ps(x, p);
  __m256 q = _mm256_set1_ps(kErfBeta[0]);
  for (int i = 1; i < 5; ++i) q = _mm256_fmadd_ps(x2, q, _mm256_set1_ps(kErfBeta[i]));
  return _mm256_div_ps(p, q);
}

// Loads lanes [0, count) of x (count may exceed 8), zero elsewhere; stores likewise.
inline __m256 load_first(const float* x, int64_t count) {
  return count >= 8 ? _mm256_loadu_ps(x) : _mm256_maskload_ps(x, tail_mask(count));
}
inline void store_first(float* x, int64_t count, __m256 v) {
  if (count >= 8) {
    _mm256_storeu_ps(x, v);
  } else {
    _mm256_maskstore_ps(x, tail_mask(count), v);
  }
}

double exp_shift_sum_avx2(const float* x, float* out, int64_t n, float shift) {
  const __m256 s = _mm256_set1_ps(shift);
  __m256d acc0 = _mm256_setzero_pd(), acc1 = _mm256_setzero_pd();
  for (int64_t j = 0; j < n; j += 8) {
    __m256 v = exp8(_mm256_sub_ps(load_first(x + j, n - j), s));
    if (n - j < 8) v = _mm256_and_ps(v, _mm256_castsi256_ps(tail_mask(n - j)));
    if (out != nullptr) store_first(out + j, n - j, v);
    acc0 = _mm256_add_pd(acc0, _mm256_cvtps_pd(_mm256_castps256_ps128(v)));
    acc1 = _mm256_add_pd(acc1, _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1)));
  }
  alignas(32) double lanes[4];
  _mm256_store_pd(lanes, _mm256_add_pd(acc0, acc1));
  return (lanes[0] + lanes[1]) + (lanes[2] + lanes[3]);
}

float max_of_avx2(const float* x, int64_t n) {
  __m256 mx = _mm256_set1_ps(-std::numeric_limits<float>::infinity());
  int nan = 0;
  for (int64_t j = 0; j < n; j += 8) {
    __m256 v = load_first(x + j, n - j);
    if (n - j < 8) v = _mm256_blendv_ps(mx, v, _mm256_castsi256_ps(tail_mask(n - j)));  // past n: keep max
    nan |= _mm256_movemask_ps(_mm256_cmp_ps(v, v, _CMP_UNORD_Q));
    mx = _mm256_max_ps(mx, v);
  }
  if (nan != 0) return std::numeric_limits<float>::quiet_NaN();
  alignas(32) float lanes[8];
  _mm256_store_ps(lanes, mx);
  float best = lanes[0];
  for (int i = 1; i < 8; ++i) best = std::max(best, lanes[i]);
  return best;
}

void gelu_erf_avx2(float* x, int64_t n) {
  for (int64_t j = 0; j < n; j += 8) {
    const __m256 v = load_first(x + j, n - j);
    const __m256 e = erf8(_mm256_mul_ps(v, _mm256_set1_ps(kInvSqrt2)));
    store_first(x + j, n - j, _mm256_mul_ps(_mm256_mul_ps(_mm256_set1_ps(0.5f), v), _mm256_add_ps(_mm256_set1_ps(1.0f), e)));
  }
}

void gelu_tanh_avx2(float* x, int64_t n) {
  for (int64_t j = 0; j < n; j += 8) {
    const __m256 v = load_first(x + j, n - j);
    const __m256 t = _mm256_mul_ps(v, _mm256_fmadd_ps(_mm256_set1_ps(kGeluK2), _mm256_mul_ps(v, v),
                                                      _mm256_set1_ps(kGeluK1)));
    store_first(x + j, n - j, _mm256_div_ps(v, _mm256_add_ps(_mm256_set1_ps(1.0f), exp8(t))));
  }
}

}  // namespace

const VecMath kVecMathAvx2 = {exp_shift_sum_avx2, max_of_avx2, gelu_erf_avx2, gelu_tanh_avx2,
                            exp_lane_sums_avx2};

}  // namespace sealsum::kernels::detail
