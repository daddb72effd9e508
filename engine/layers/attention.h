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
// projection's rows kv [Lenc, 2·width] (key then value in each row), held at one of two precisions:
//  - kF32 (f32 models: the reference's bits):
//    - keys: per head, its Lenc x dh keys as a kernels::PackedMatrix (the kernels' weight layout),
//      so a step's scores q·Kᵀ are a linear layer over the keys: the R query rows of a step go
//      through each key once together (beam rows cost little more than one row) and no horizontal
//      sums are needed;
//    - values: [heads][Lenc][dh], each head's Lenc x dh block contiguous (P·V streams it).
//  - kBF16 (int8 and bf16 models): keys and values rounded to bf16 (nearest even) in the bf16 weight
//    panel layout, the keys as above and each head's values transposed (dh x Lenc, `values_t`), so
//    P·V is also a linear layer. Every decoder step streams all of them once per input (12 MiB a step
//    for t5-small at 512 tokens in f32, more than the int8 weights' 38 MiB once a batch holds a few
//    inputs); bf16 halves that. The arithmetic stays f32 (kernels::view_panels_bf16's contract), so
//    the only change is the rounding of K and V, below these models' own weight rounding (README,
//    "Quantized weights").
// Owns its storage; immutable after make_cross_kv, so concurrent reads are safe.
enum class CrossKvPrecision { kF32, kBF16 };
struct CrossKv {
  int64_t length = 0;                           // Lenc
  std::vector<kernels::PackedMatrix> keys;      // [heads], each Lenc x dh: views into `store`
  const float* values = nullptr;                // kF32: heads·Lenc·dh, in `store` after the keys; kBF16: null
  std::vector<kernels::PackedMatrix> values_t;  // kBF16: [heads], each dh x Lenc (Vᵀ): views into `store`
  kernels::AlignedFloats store;                 // one allocation for all (see kernels::aligned_floats)
};
CrossKv make_cross_kv(const float* kv, int64_t Lenc, int64_t heads, int64_t dh,
                      CrossKvPrecision precision = CrossKvPrecision::kF32);
// Cross-attention of R query rows q [R, width] against `kv`. scratch: R·(Lenc + dh) floats (the
// scores and the gathered queries of one head); ctx: [R, width]. Each score is kernels::linear's sum over dh for one key (scale 1: a model that
// scales queries does so in its projection), and with kBF16 values each output is kernels::linear's
// sum over Lenc, so a row's scores, softmax and output do not depend on R or on the other rows (the
// same bits alone as among a beam's or a batch's rows).
void cross_attention(const float* q, int64_t R, const CrossKv& kv, int64_t heads, int64_t dh, float* scratch,
                     float* ctx);

}  // namespace sealsum::layers
