// AVX-VNNI int8 kernel (256-bit VPDPBUSD; compiled with -mavx2 -mavxvnni -ffp-contract=off; called
// only when dispatch finds AVX-VNNI): the body is kernels_avx2_i8.h with kVnni = true.
#include "engine/kernels/intrinsics.h"

#include "engine/kernels/kernels_avx2_i8.h"

namespace sealsum::kernels::detail {

void linear_i8_avx_vnni(const uint8_t* xu, const float* xs, int64_t m, const PackedMatrix::Impl& w, int64_t p_begin,
                        int64_t p_end, const float* bias, float* y, int64_t ldy) {
  avx2_i8::linear<true>(xu, xs, m, w, p_begin, p_end, bias, y, ldy);
}

}  // namespace sealsum::kernels::detail
