// Constants of the C library's expf (glibc 2.28 and later, x86-64), for the SIMD twins of
// exp_lane_sums (vecmath.h) that must reproduce its results bit for bit.
//
// The algorithm (Szabolcs Nagy's, in glibc since 2.28): with N = 32 and z = x · N/ln 2 in double,
// k = round(z) (by adding and subtracting 1.5·2⁵², which also leaves k in the low bits), r = z − k,
// exp(x) = 2^(k/N) · 2^(r/N), where 2^(k/N) = 2^(k div N) · T[k mod N] is built by adding k << 47
// to the bits of T[k mod N], and 2^(r/N) ≈ C0·r³ + C1·r² + C2·r + 1 with the rounding grouped as
// ((C0·r + C1)·r² + (C2·r + 1)); the product · s is rounded once to float. glibc's x86-64 build
// of its FMA variant (__expf_fma, chosen on every CPU with FMA and AVX2) fuses exactly these steps:
//   kd = fma(x, N/ln2, shift); ki = bits(kd); kd −= shift; r = fma(x, N/ln2, −kd);
//   z = fma(r, C0, C1); y = fma(r, C2, 1); y = fma(z, r·r, y); s = T[ki mod N] + (ki << 47);
//   result = (float)(y · s)
// (read from the disassembly of Debian 12's libm.so.6). Inputs with |x| >= 88 or NaN take special
// paths there (overflow, underflow, the smallest subnormal); the twins hand those to std::exp.
// The values below are that library's: T[i] = bits(2^(i/32)) − (i << 47), the polynomial scaled
// by powers of N. vecmath_test checks the twins against std::exp bit for bit.
#pragma once

#include <cstdint>

namespace sealsum::kernels::detail {

inline constexpr double kExpInvLn2N = 0x1.71547652b82fep+5;  // 32 / ln 2
inline constexpr double kExpShift = 0x1.8p+52;
inline constexpr double kExpC0 = 0x1.c6af84b912394p-20;
inline constexpr double kExpC1 = 0x1.ebfce50fac4f3p-13;
inline constexpr double kExpC2 = 0x1.62e42ff0c52d6p-6;
inline constexpr float kExpFastLimit = 88.0f;  // |x| below this: the plain path of the library
alignas(64) inline constexpr uint64_t kExpTable[32] = {
    0x3ff0000000000000, 0x3fefd9b0d3158574, 0x3fefb5586cf9890f, 0x3fef9301d0125b51, 0x3fef72b83c7d517b,
    0x3fef54873168b9aa, 0x3fef387a6e756238, 0x3fef1e9df51fdee1, 0x3fef06fe0a31b715, 0x3feef1a7373aa9cb,
    0x3feedea64c123422, 0x3feece086061892d, 0x3feebfdad5362a27, 0x3feeb42b569d4f82, 0x3feeab07dd485429,
    0x3feea47eb03a5585, 0x3feea09e667f3bcd, 0x3fee9f75e8ec5f74, 0x3feea11473eb0187, 0x3feea589994cce13,
    0x3feeace5422aa0db, 0x3feeb737b0cdc5e5, 0x3feec49182a3f090, 0x3feed503b23e255d, 0x3feee89f995ad3ad,
    0x3feeff76f2fb5e47, 0x3fef199bdd85529c, 0x3fef3720dcef9069, 0x3fef5818dcfba487, 0x3fef7c97337b9b5f,
    0x3fefa4afa2a490da, 0x3fefd0765b6e4540,
};

}  // namespace sealsum::kernels::detail
