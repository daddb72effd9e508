// Row-wise float32 operations the T5 and BART layers need, written to read like the reference
// (PyTorch / Hugging Face transformers 4.36) formulas they implement.
//
// Numerics: inputs and outputs are float32; reductions (sums for means, variances and softmax
// normalizers) accumulate in double, so each result is within a few float32 roundings of the
// formula evaluated exactly. exp, erf and tanh come from engine/kernels/vecmath.h (SIMD
// approximations within a couple of ulp; libm on the scalar ISA).
// NaN and infinity propagate as in PyTorch (e.g. relu(NaN) = NaN, softmax of a row holding NaN
// is NaN). Shapes: `m` rows of `n` (or `d`) contiguous floats; in-place where documented (x may
// equal y for the norms). Thread safety: pure functions of their arguments.
#pragma once

#include <cstdint>

namespace sealsum::ops {

// T5LayerNorm (RMS norm): var = mean(x²) (float32 result), y = w · (x · rsqrt(var + eps)).
void rms_norm(const float* x, int64_t m, int64_t d, const float* w, float eps, float* y);
// nn.LayerNorm: y = (x − mean) · rsqrt(var + eps) · w + b, biased variance. w, b may be null (1, 0).
void layer_norm(const float* x, int64_t m, int64_t d, const float* w, const float* b, float eps, float* y);

// In place, per row of n: x = exp(x − max) / Σ exp(x − max). A row of all −inf becomes NaN, as in
// PyTorch (the models mask with finfo(float32).min, never −inf).
void softmax(float* x, int64_t m, int64_t n);
// In place, per row of n: x = x − max − log Σ exp(x − max).
void log_softmax(float* x, int64_t m, int64_t n);

// Element-wise, in place over n floats.
void relu(float* x, int64_t n);
void gelu(float* x, int64_t n);      // exact: 0.5·x·(1 + erf(x/√2)); HF "gelu"
void gelu_new(float* x, int64_t n);  // tanh approx: 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)));
                                     // HF "gelu_new" / "gelu_pytorch_tanh"; evaluated as
                                     // x / (1 + exp(−2·√(2/π)·(x + 0.044715·x³))), no cancellation
void mul(float* x, const float* y, int64_t n);  // x *= y (gated FFN: act(gate) * up)
void add(float* x, const float* y, int64_t n);  // x += y (residual)
void scale(float* x, float s, int64_t n);       // x *= s
void add_scalar(float* x, float s, int64_t n);  // x += s (beam search: a beam's score onto its row)

}  // namespace sealsum::ops
