#include "engine/layers/attention.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "engine/kernels/kernels.h"
#include "engine/ops/ops.h"
#include "weights/panel_layout.h"

namespace sealsum::layers {

namespace {

// The rest of a head once scores[m, n] hold the scaled products: bias rows (bias + i·bias_ld; null:
// none), softmax, out[m, dh] = P V.
void softmax_times_values(float* scores, int64_t m, int64_t n, const float* bias, int64_t bias_ld, const float* v,
                          int64_t ldv, int64_t dh, float* out, int64_t ldo) {
  if (bias != nullptr) {
    for (int64_t i = 0; i < m; ++i) ops::add(scores + i * n, bias + i * bias_ld, n);
  }
  ops::softmax(scores, m, n);
  kernels::gemm(/*trans_b=*/false, m, dh, n, 1.0f, scores, n, v, ldv, 0.0f, out, ldo);
}

// Scores of m query rows (stride ldq) over keys packed once as a weight matrix (keys.rows() keys
// of dh floats): the rows are gathered into `queries` (m·dh floats of scratch, as linear() reads
// rows contiguously), and scores[m, keys.rows()] are one linear() over the keys, then scaled (the
// same single rounding as gemm's alpha).
void packed_scores(const float* q, int64_t ldq, int64_t m, const kernels::PackedMatrix& keys, int64_t dh, float scale,
                   float* queries, float* scores) {
  for (int64_t i = 0; i < m; ++i) {
    std::memcpy(queries + i * dh, q + i * ldq, static_cast<size_t>(dh) * sizeof(float));
  }
  kernels::linear(queries, m, keys, nullptr, scores, nullptr);
  if (scale != 1.0f) ops::scale(scores, scale, m * keys.rows());
}

// attention_head over packed keys (packed_scores), values row-major.
void attention_packed(const float* q, int64_t ldq, int64_t m, const kernels::PackedMatrix& keys, const float* v,
                      int64_t ldv, int64_t dh, float scale, const float* bias, int64_t bias_ld, float* queries,
                      float* scores, float* out, int64_t ldo) {
  if (m <= 0) return;
  packed_scores(q, ldq, m, keys, dh, scale, queries, scores);
  softmax_times_values(scores, m, keys.rows(), bias, bias_ld, v, ldv, dh, out, ldo);
}

}  // namespace

void attention_head(const float* q, int64_t ldq, int64_t m, const float* k, int64_t ldk, const float* v,
                    int64_t ldv, int64_t n, int64_t dh, float scale, const float* bias, int64_t bias_ld,
                    float* scores, float* out, int64_t ldo) {
  if (m <= 0) return;
  // scores[m, n] = scale · Q Kᵀ
  kernels::gemm(/*trans_b=*/true, m, n, dh, scale, q, ldq, k, ldk, 0.0f, scores, n);
  softmax_times_values(scores, m, n, bias, bias_ld, v, ldv, dh, out, ldo);
}

void self_attention(const float* q, int64_t ldq, const float* k, int64_t ldk, const float* v, int64_t ldv,
                    int64_t L, int64_t heads, int64_t dh, float scale, const float* rel_bias, float* out,
                    int64_t ldo, kernels::ThreadPool* pool) {
  // Query rows per block: bounds the score scratch to kBlock × L floats per head in flight.
  constexpr int64_t kBlock = 128;
  auto run = [&](int64_t h0, int64_t h1) {
    const int64_t block = std::min(kBlock, L);
    std::vector<float> scores(static_cast<size_t>(block * L)), queries(static_cast<size_t>(block * dh));
    for (int64_t h = h0; h < h1; ++h) {
      // Head h's keys packed once for all of its query blocks (gemm with trans_b would pack them
      // again for every block).
      const kernels::PackedMatrix keys = kernels::pack_matrix(k + h * dh, L, dh, ldk);
      // Row i of head h's bias starts at table_h + (L−1) − i, so bias_ld = −1.
      const float* table = rel_bias != nullptr ? rel_bias + h * (2 * L - 1) : nullptr;
      for (int64_t i0 = 0; i0 < L; i0 += kBlock) {
        const int64_t rows = std::min(kBlock, L - i0);
        attention_packed(q + i0 * ldq + h * dh, ldq, rows, keys, v + h * dh, ldv, dh, scale,
                         table != nullptr ? table + (L - 1) - i0 : nullptr, -1, queries.data(), scores.data(),
                         out + i0 * ldo + h * dh, ldo);
      }
    }
  };
  if (pool != nullptr && pool->size() > 1) {
    pool->parallel_for(heads, 1, run);
  } else {
    run(0, heads);
  }
}

void decoder_self_attention(const float* qkv, int64_t R, KvCache& cache, int64_t layer, int64_t t, int64_t heads,
                            int64_t dh, const float* bias, float* scores, float* ctx) {
  const int64_t width = heads * dh, n_keys = t + 1;
  for (int64_t r = 0; r < R; ++r) {
    const float* row = qkv + r * 3 * width;
    float* K = cache.k(layer, r);
    float* V = cache.v(layer, r);
    std::memcpy(K + t * width, row + width, static_cast<size_t>(width) * sizeof(float));
    std::memcpy(V + t * width, row + 2 * width, static_cast<size_t>(width) * sizeof(float));
    for (int64_t h = 0; h < heads; ++h) {
      attention_head(row + h * dh, 3 * width, 1, K + h * dh, width, V + h * dh, width, n_keys, dh, 1.0f,
                     bias != nullptr ? bias + h * n_keys : nullptr, 0, scores, ctx + r * width + h * dh, width);
    }
  }
}

namespace {

// W [n, k] with W[j, c] = w[j·sj + c·sc] (a head's keys among the projection's rows, or its values
// read transposed) rounded into the bf16 panel layout at dst (weights/panel_layout.h, every ISA's:
// weights::panel_floats(n, k) elements, rows past n zero), viewed as a matrix. The source is walked
// in its memory order (the smaller stride innermost): the strided gather the other order makes cost
// half again as much per input.
kernels::PackedMatrix pack_bf16_into(uint16_t* dst, const float* w, int64_t n, int64_t k, int64_t sj, int64_t sc) {
  constexpr int64_t nr = weights::kPanelWidth;
  const auto at = [&](int64_t j, int64_t c) -> uint16_t& { return dst[(j / nr * k + c) * nr + j % nr]; };
  if (n % nr != 0) std::memset(&at(n / nr * nr, 0), 0, static_cast<size_t>(k * nr) * sizeof(uint16_t));
  if (sj < sc) {
    for (int64_t c = 0; c < k; ++c) {
      for (int64_t j = 0; j < n; ++j) at(j, c) = weights::f32_to_bf16(w[j * sj + c * sc]);
    }
  } else {
    for (int64_t j = 0; j < n; ++j) {
      for (int64_t c = 0; c < k; ++c) at(j, c) = weights::f32_to_bf16(w[j * sj + c * sc]);
    }
  }
  return kernels::view_panels_bf16(dst, n, k);
}

CrossKv make_cross_kv_bf16(const float* kv, int64_t Lenc, int64_t heads, int64_t dh) {
  const int64_t width = heads * dh;
  const int64_t key_elems = weights::panel_floats(Lenc, dh), value_elems = weights::panel_floats(dh, Lenc);
  CrossKv out;
  out.length = Lenc;
  out.keys.reserve(static_cast<size_t>(heads));
  out.values_t.reserve(static_cast<size_t>(heads));
  // Two bf16 elements per float of storage; every part starts 64-byte aligned (sizes are multiples of 32).
  out.store = kernels::aligned_floats(static_cast<size_t>(heads * (key_elems + value_elems) / 2));
  auto* const base = reinterpret_cast<uint16_t*>(out.store.get());
  for (int64_t h = 0; h < heads; ++h) {
    out.keys.push_back(pack_bf16_into(base + h * key_elems, kv + h * dh, Lenc, dh, 2 * width, 1));
    out.values_t.push_back(  // Vᵀ: row j is value column j, k step c value row c
        pack_bf16_into(base + heads * key_elems + h * value_elems, kv + width + h * dh, dh, Lenc, 1, 2 * width));
  }
  return out;
}

}  // namespace

CrossKv make_cross_kv(const float* kv, int64_t Lenc, int64_t heads, int64_t dh, CrossKvPrecision precision) {
  if (precision == CrossKvPrecision::kBF16) return make_cross_kv_bf16(kv, Lenc, heads, dh);
  const int64_t width = heads * dh, block = Lenc * dh;
  const size_t packed = kernels::packed_floats(Lenc, dh);  // a multiple of 32 floats: heads stay aligned
  CrossKv out;
  out.length = Lenc;
  out.keys.reserve(static_cast<size_t>(heads));
  out.store = kernels::aligned_floats(static_cast<size_t>(heads) * packed + static_cast<size_t>(heads * block));
  float* const values_at = out.store.get() + static_cast<size_t>(heads) * packed;
  out.values = values_at;
  for (int64_t h = 0; h < heads; ++h) {
    out.keys.push_back(kernels::pack_matrix_into(out.store.get() + static_cast<size_t>(h) * packed, kv + h * dh,
                                                 Lenc, dh, 2 * width));
    float* values = values_at + h * block;
    for (int64_t j = 0; j < Lenc; ++j) {
      std::memcpy(values + j * dh, kv + j * 2 * width + width + h * dh, static_cast<size_t>(dh) * sizeof(float));
    }
  }
  return out;
}

void cross_attention(const float* q, int64_t R, const CrossKv& kv, int64_t heads, int64_t dh, float* scratch,
                     float* ctx) {
  const int64_t width = heads * dh, Lenc = kv.length;
  float* queries = scratch + R * Lenc;
  for (int64_t h = 0; h < heads; ++h) {
    const auto hh = static_cast<size_t>(h);
    if (kv.values_t.empty()) {
      attention_packed(q + h * dh, width, R, kv.keys[hh], kv.values + h * Lenc * dh, dh, dh, 1.0f, nullptr, 0,
                       queries, scratch, ctx + h * dh, width);
      continue;
    }
    // bf16: softmax of the scores, then P·V as a linear layer over Vᵀ into `queries` (free once
    // the scores exist; linear() writes rows contiguously), copied to the rows' columns of head h.
    packed_scores(q + h * dh, width, R, kv.keys[hh], dh, 1.0f, queries, scratch);
    ops::softmax(scratch, R, Lenc);
    kernels::linear(scratch, R, kv.values_t[hh], nullptr, queries, nullptr);
    for (int64_t i = 0; i < R; ++i) {
      std::memcpy(ctx + i * width + h * dh, queries + i * dh, static_cast<size_t>(dh) * sizeof(float));
    }
  }
}

}  // namespace sealsum::layers
