#include "engine/layers/attention.h"

#include <algorithm>
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
    std::vector<float> scores(static_cast<size_t>(std::min(kBlock, L) * L));
    for (int64_t h = h0; h < h1; ++h) {
      // Row i of head h's bias starts at table_h + (L−1) − i, so bias_ld = −1.
      const float* table = rel_bias != nullptr ? rel_bias + h * (2 * L - 1) : nullptr;
      for (int64_t i0 = 0; i0 < L; i0 += kBlock) {
        const int64_t rows = std::min(kBlock, L - i0);
        const float* bias = table != nullptr ? table + (L - 1) - i0 : nullptr;
        attention_head(q + i0 * ldq + h * dh, ldq, rows, k + h * dh, ldk, v + h * dh, ldv, L, dh, scale, bias, -1,
                       scores.data(), out + i0 * ldo + h * dh, ldo);
      }
    }
  };
  if (pool != nullptr && pool->size() > 1) {
    pool->parallel_for(heads, 1, run);
  } else {
    run(0, heads);
  }
}

}  // namespace sealsum::layers
