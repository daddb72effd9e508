// Scaled dot-product attention, one head at a time, over strided row-major matrices.
//
// Heads live side by side in the columns of the projection outputs (PyTorch's view(…, H, dh)):
// head h of a row is the dh floats at column h·dh. So no transposes are ever made: every product
// is a strided gemm on the projection buffers themselves.
//
//   out_i = Σ_j softmax_j(scale · q_i·k_j + bias_i[j]) · v_j        i < m, j < n
//
// The additive bias covers T5's relative position bias (and would cover masks): row i of the bias
// is `bias + i * bias_ld`, and bias_ld may be negative or zero. T5's bias depends only on j − i, so
// a table indexed by offset (see relative_bias_by_offset) with bias_ld = −1 gives every row of an
// L×L bias without materialising it.
//
// Thread safety: pure functions of their arguments; the multi-head forms split heads over the
// pool (each head is computed by exactly one thread: results do not depend on the thread count).
#pragma once

#include <cstdint>

#include "engine/kernels/threadpool.h"

namespace sealsum::layers {

// One head. scores: scratch of m·n floats. out[i] written at out + i·ldo (dh floats).
void attention_head(const float* q, int64_t ldq, int64_t m, const float* k, int64_t ldk, const float* v,
                    int64_t ldv, int64_t n, int64_t dh, float scale, const float* bias, int64_t bias_ld,
                    float* scores, float* out, int64_t ldo);

// Full bidirectional self-attention of L positions (the encoder). q, k, v: [L, heads·dh] with row
// strides ldq/ldk/ldv; out: [L, heads·dh] with row stride ldo. rel_bias (nullptr: none) is
// [heads][2L−1], entry (h, L−1 + j−i) added to score (i, j). Scratch is allocated internally, per
// head and per block of query rows (bounded: no L×L×heads buffer).
void self_attention(const float* q, int64_t ldq, const float* k, int64_t ldk, const float* v, int64_t ldv,
                    int64_t L, int64_t heads, int64_t dh, float scale, const float* rel_bias, float* out,
                    int64_t ldo, kernels::ThreadPool* pool);

}  // namespace sealsum::layers
