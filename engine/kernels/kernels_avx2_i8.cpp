// AVX2 int8 kernel without VNNI (compiled with -mavx2 -mfma -ffp-contract=off): the body is
// kernels_avx2_i8.h with kVnni = false (VPMADDUBSW on |x| and sign-moved weights).
#include "engine/kernels/intrinsics.h"

#include "engine/kernels/kernels_avx2_i8.h"

namespace sealsum::kernels::detail {

void linear_i8_avx2(const uint8_t* xu, const float* xs, int64_t m, const PackedMatrix::Impl& w, int64_t p_begin,
                    int64_t p_end, const float* bias, float* y, int64_t ldy) {
  avx2_i8::linear<false>(xu, xs, m, w, p_begin, p_end, bias, y, ldy);
}

}  // namespace sealsum::kernels::detail
