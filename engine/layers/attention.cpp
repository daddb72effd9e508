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

// attention_head over keys packed once as a weight matrix (keys.rows() keys of dh floats): the m
// query rows (stride ldq) are gathered into `queries` (m·dh floats of scratch, as linear() reads
// rows contiguously), and the scores are one linear() over the keys, then scaled (the same single
// rounding as gemm's alpha).
void attention_packed(const float* q, int64_t ldq, int64_t m, const kernels::PackedMatrix& keys, const float* v,
                      int64_t ldv, int64_t dh, float scale, const float* bias, int64_t bias_ld, float* queries,
                      float* scores, float* out, int64_t ldo) {
  if (m <= 0) return;
  const int64_t n = keys.rows();
  for (int64_t i = 0; i < m; ++i) {
    std::memcpy(queries + i * dh, q + i * ldq, static_cast<size_t>(dh) * sizeof(float));
  }
  kernels::linear(queries, m, keys, nullptr, scores, nullptr);
  if (scale != 1.0f) ops::scale(scores, scale, m * n);
  softmax_times_values(scores, m, n, bias, bias_ld, v, ldv, dh, out, ldo);
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

// The bf16 panel layout (weights/panel_layout.h, every ISA's): panel_floats(n, k) elements, a
// multiple of 32 (64 bytes), so matrices stored back to back stay 64-byte aligned.
constexpr int64_t kBf16Panel = weights::kPanelWidth;
int64_t whole_panels(int64_t n) { return (n + kBf16Panel - 1) / kBf16Panel * kBf16Panel; }

// Head h's keys, W[j, c] = kv[j·2·width + h·dh + c] (Lenc x dh), into bf16 panels at dst.
kernels::PackedMatrix pack_keys_bf16(uint16_t* dst, const float* kv, int64_t Lenc, int64_t width, int64_t dh) {
  const int64_t rows = whole_panels(Lenc);
  for (int64_t j = 0; j < rows; ++j) {  // one source row at a time; rows past Lenc are zero padding
    uint16_t* out = dst + (j / kBf16Panel) * dh * kBf16Panel + j % kBf16Panel;
    if (j >= Lenc) {
      for (int64_t c = 0; c < dh; ++c) out[c * kBf16Panel] = 0;
      continue;
    }
    const float* src = kv + j * 2 * width;
    for (int64_t c = 0; c < dh; ++c) out[c * kBf16Panel] = weights::f32_to_bf16(src[c]);
  }
  return kernels::view_panels_bf16(dst, Lenc, dh);
}

// Head h's values transposed, W[j, c] = V[c, j] = kv[c·2·width + width + h·dh + j] (dh x Lenc),
// into bf16 panels at dst: k step c of a panel is 32 consecutive columns of value row c.
kernels::PackedMatrix pack_values_t_bf16(uint16_t* dst, const float* v, int64_t Lenc, int64_t width, int64_t dh) {
  const int64_t cols = whole_panels(dh);
  for (int64_t c = 0; c < Lenc; ++c) {
    const float* src = v + c * 2 * width;
    for (int64_t j = 0; j < cols; ++j) {  // columns past dh are zero padding
      dst[((j / kBf16Panel) * Lenc + c) * kBf16Panel + j % kBf16Panel] = j < dh ? weights::f32_to_bf16(src[j]) : 0;
    }
  }
  return kernels::view_panels_bf16(dst, dh, Lenc);
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
    out.keys.push_back(pack_keys_bf16(base + h * key_elems, kv + h * dh, Lenc, width, dh));
    out.values_t.push_back(
        pack_values_t_bf16(base + heads * key_elems + h * value_elems, kv + width + h * dh, Lenc, width, dh));
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
    // bf16: scores over the keys, softmax, then P·V as a linear layer over Vᵀ. One row writes its
    // output in place; several go through `queries` (free once the scores exist), as linear()
    // writes rows contiguously.
    for (int64_t i = 0; i < R; ++i) {
      std::memcpy(queries + i * dh, q + i * width + h * dh, static_cast<size_t>(dh) * sizeof(float));
    }
    kernels::linear(queries, R, kv.keys[hh], nullptr, scratch, nullptr);
    ops::softmax(scratch, R, Lenc);
    float* out = R == 1 ? ctx + h * dh : queries;
    kernels::linear(scratch, R, kv.values_t[hh], nullptr, out, nullptr);
    for (int64_t i = 0; R > 1 && i < R; ++i) {
      std::memcpy(ctx + i * width + h * dh, out + i * dh, static_cast<size_t>(dh) * sizeof(float));
    }
  }
}

}  // namespace sealsum::layers
