// Scaled dot-product attention, one head at a time, over strided row-major matrices.
//
// Heads live side by side in the columns of the projection outputs (PyTorch's view(…, H, dh)):
// head h of a row is the dh floats at column h·dh. So no transposes are made: every product is a
// strided gemm on the projection buffers themselves, except the keys that many query rows read:
// the encoder's (all of its rows, 128 at a time) and cross-attention's (every decoder step) are
// packed once per head as a weight matrix, and their scores are kernels::linear (CrossKv).
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
#include <vector>

#include "engine/kernels/kernels.h"
#include "engine/kernels/threadpool.h"
#include "engine/layers/kv_cache.h"

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

// One decoder step of self-attention for R rows (hypotheses) at position t, width = heads·dh.
// qkv: [R, 3·width] (query, key, value side by side). Row r's key and value are stored in `cache`
// (layer `layer`, row r) at position t, then its query attends to that row's positions 0..t.
// bias: [heads][t+1] added to the scores (T5's causal relative bias), or nullptr. scale is 1: a
// model that scales queries does so in qkv first. scores: t+1 floats of scratch. ctx: [R, width].
void decoder_self_attention(const float* qkv, int64_t R, KvCache& cache, int64_t layer, int64_t t, int64_t heads,
                            int64_t dh, const float* bias, float* scores, float* ctx);

// The encoder's keys and values for cross-attention, made once per input from the fused
// projection's rows kv [Lenc, 2·width] (key then value in each row):
//  - keys: per head, its Lenc x dh keys as a kernels::PackedMatrix (the kernels' weight layout), so
//    a step's scores q·Kᵀ are a linear layer over the keys: the R query rows of a step go through
//    each key once together (beam rows cost little more than one row) and no horizontal sums are
//    needed;
//  - values: [heads][Lenc][dh], each head's Lenc x dh block contiguous (P·V streams it).
// Owns its storage; immutable after make_cross_kv, so concurrent reads are safe.
struct CrossKv {
  int64_t length = 0;                       // Lenc
  std::vector<kernels::PackedMatrix> keys;  // [heads], each Lenc x dh: views into `store`
  const float* values = nullptr;            // heads·Lenc·dh, in `store` after the keys
  kernels::AlignedFloats store;             // one allocation for both (see kernels::aligned_floats)
};
CrossKv make_cross_kv(const float* kv, int64_t Lenc, int64_t heads, int64_t dh);

// Cross-attention of R query rows q [R, width] against `kv`. scratch: R·(Lenc + dh) floats (the
// scores and the gathered queries of one head); ctx: [R, width]. Each score is kernels::linear's sum over dh for one key (scale 1: a model that
// scales queries does so in its projection), so a row's scores, softmax and output do not depend
// on R or on the other rows (the same bits alone as among a beam's or a batch's rows).
void cross_attention(const float* q, int64_t R, const CrossKv& kv, int64_t heads, int64_t dh, float* scratch,
                     float* ctx);

}  // namespace sealsum::layers
