#include "engine/layers/attention.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "engine/kernels/kernels.h"
#include "engine/ops/ops.h"

namespace sealsum::layers {

void attention_head(const float* q, int64_t ldq, int64_t m, const float* k, int64_t ldk, const float* v,
                    int64_t ldv, int64_t n, int64_t dh, float scale, const float* bias, int64_t bias_ld,
                    float* scores, float* out, int64_t ldo) {
  if (m <= 0) return;
  // scores[m, n] = scale · Q Kᵀ
  kernels::gemm(/*trans_b=*/true, m, n, dh, scale, q, ldq, k, ldk, 0.0f, scores, n);
  if (bias != nullptr) {
    for (int64_t i = 0; i < m; ++i) ops::add(scores + i * n, bias + i * bias_ld, n);
  }
  ops::softmax(scores, m, n);
  // out[m, dh] = P V
  kernels::gemm(/*trans_b=*/false, m, dh, n, 1.0f, scores, n, v, ldv, 0.0f, out, ldo);
}

void self_attention(const float* q, int64_t ldq, const float* k, int64_t ldk, const float* v, int64_t ldv,
                    int64_t L, int64_t heads, int64_t dh, float scale, const float* rel_bias, float* out,
                    int64_t ldo, kernels::ThreadPool* pool) {
  // Query rows per block: bounds the score scratch to kBlock × L floats per head in flight.
  constexpr int64_t kBlock = 128;
  auto run = [&](int64_t h0, int64_t h1) {
    const int64_t block = std::min(kBlock, L);
    std::vector<float> scores(static_cast<size_t>(block * L)), keys(static_cast<size_t>(L * dh)),
        queries(static_cast<size_t>(block * dh));
    for (int64_t h = h0; h < h1; ++h) {
      // Head h's keys packed once as a weight matrix for all of its query blocks (scores = one
      // linear() per block; gemm with trans_b would pack them again for every block).
      for (int64_t j = 0; j < L; ++j) {
        std::memcpy(keys.data() + j * dh, k + j * ldk + h * dh, static_cast<size_t>(dh) * sizeof(float));
      }
      const kernels::PackedMatrix packed = kernels::pack_matrix(keys.data(), L, dh);
      // Row i of head h's bias starts at table_h + (L−1) − i, so bias_ld = −1.
      const float* table = rel_bias != nullptr ? rel_bias + h * (2 * L - 1) : nullptr;
      for (int64_t i0 = 0; i0 < L; i0 += kBlock) {
        const int64_t rows = std::min(kBlock, L - i0);
        for (int64_t i = 0; i < rows; ++i) {
          std::memcpy(queries.data() + i * dh, q + (i0 + i) * ldq + h * dh, static_cast<size_t>(dh) * sizeof(float));
        }
        kernels::linear(queries.data(), rows, packed, nullptr, scores.data(), nullptr);
        if (scale != 1.0f) ops::scale(scores.data(), scale, rows * L);
        if (table != nullptr) {
          const float* bias = table + (L - 1) - i0;
          for (int64_t i = 0; i < rows; ++i) ops::add(scores.data() + i * L, bias - i, L);
        }
        ops::softmax(scores.data(), rows, L);
        kernels::gemm(/*trans_b=*/false, rows, dh, L, 1.0f, scores.data(), L, v + h * dh, ldv, 0.0f,
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

CrossKv make_cross_kv(const float* kv, int64_t Lenc, int64_t heads, int64_t dh) {
  const int64_t width = heads * dh, block = Lenc * dh;
  CrossKv out;
  out.length = Lenc;
  out.keys.reserve(static_cast<size_t>(heads));
  out.values.resize(static_cast<size_t>(heads * block));
  std::vector<float> keys(static_cast<size_t>(block));  // head h's keys, row-major, for pack_matrix
  for (int64_t h = 0; h < heads; ++h) {
    float* values = out.values.data() + h * block;
    for (int64_t j = 0; j < Lenc; ++j) {
      const float* row = kv + j * 2 * width + h * dh;
      std::memcpy(keys.data() + j * dh, row, static_cast<size_t>(dh) * sizeof(float));
      std::memcpy(values + j * dh, row + width, static_cast<size_t>(dh) * sizeof(float));
    }
    out.keys.push_back(kernels::pack_matrix(keys.data(), Lenc, dh));
  }
  return out;
}

void cross_attention(const float* q, int64_t R, const CrossKv& kv, int64_t heads, int64_t dh, float* scores,
                     float* ctx) {
  const int64_t width = heads * dh, Lenc = kv.length;
  if (R <= 0) return;
  std::vector<float> qh(static_cast<size_t>(R * dh));  // head h's queries, rows contiguous for linear()
  for (int64_t h = 0; h < heads; ++h) {
    for (int64_t r = 0; r < R; ++r) {
      std::memcpy(qh.data() + r * dh, q + r * width + h * dh, static_cast<size_t>(dh) * sizeof(float));
    }
    kernels::linear(qh.data(), R, kv.keys[static_cast<size_t>(h)], nullptr, scores, nullptr);
    ops::softmax(scores, R, Lenc);
    kernels::gemm(/*trans_b=*/false, R, dh, Lenc, 1.0f, scores, Lenc, kv.values.data() + h * Lenc * dh, dh, 0.0f,
                  ctx + h * dh, width);
  }
}

}  // namespace sealsum::layers
