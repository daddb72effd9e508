// Dispatch of vecmath.h to the active ISA's implementation.
#include "engine/kernels/vecmath.h"

#include "engine/kernels/kernels_internal.h"

namespace sealsum::kernels {
namespace {
const detail::VecMath& vm() {
  switch (active_isa()) {
    case Isa::kAvx512: return detail::kVecMathAvx512;
    case Isa::kAvx2: return detail::kVecMathAvx2;
    case Isa::kScalar: return detail::kVecMathScalar;
  }
  return detail::kVecMathScalar;
}
}  // namespace

double exp_shift_sum(const float* x, float* out, int64_t n, float shift) { return vm().exp_shift_sum(x, out, n, shift); }
float max_of(const float* x, int64_t n) { return vm().max_of(x, n); }
void gelu_erf(float* x, int64_t n) { vm().gelu_erf(x, n); }
void gelu_tanh(float* x, int64_t n) { vm().gelu_tanh(x, n); }
void exp_lane_sums(const float* x, int64_t n, float shift, float lanes[8]) { vm().exp_lane_sums(x, n, shift, lanes); }

}  // namespace sealsum::kernels
