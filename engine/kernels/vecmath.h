// Vectorized float32 math for the row ops (engine/ops): exp, erf- and tanh-based GELU, row max.
// Dispatched on active_isa() like the GEMM kernels; every SIMD routine has a scalar twin, and the
// tests compare both against double precision.
//
// Accuracy (all ISAs): exp within ~2 ulp (inputs below -103.9 give 0, above 88.72 give +inf);
// gelu uses a 13/8-degree rational erf on [-4, 4] (a couple of ulp; erf = ±1 beyond), so its
// absolute error is that of the reference formula evaluated in float32; gelu_tanh is evaluated as
// x / (1 + exp(-2u)), algebraically identical to 0.5·x·(1 + tanh(u)) but free of cancellation.
// NaN inputs give NaN outputs. Thread safety: pure functions.
#pragma once

#include <cstdint>

namespace sealsum::kernels {

// out[j] = exp(x[j] - shift) for j < n (out may equal x, or be null to only sum); returns the sum
// of those values accumulated in double.
double exp_shift_sum(const float* x, float* out, int64_t n, float shift);
// Largest of x[0..n); NaN if any element is NaN; -inf when n == 0.
float max_of(const float* x, int64_t n);
// In place: x = 0.5·x·(1 + erf(x/√2)).
void gelu_erf(float* x, int64_t n);
// In place: x = 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))).
void gelu_tanh(float* x, int64_t n);
// lanes[l] += exp(x[i] − shift) for every i < n with i mod 8 = l, in increasing i, in float: bit for
// bit a plain loop over std::exp(float), on every ISA (beam search's log_softmax ranks sums of these
// and must keep the library's rounding, engine/decoding/logits_process.cpp). The SIMD twins
// reproduce glibc's expf operation by operation (libm_exp.h); where the running C library computes
// expf differently, vecmath_test fails.
void exp_lane_sums(const float* x, int64_t n, float shift, float lanes[8]);

}  // namespace sealsum::kernels
