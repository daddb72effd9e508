// bf16-weight kernels: the AVX-512 and AVX2 kernels against the scalar twin and all against a double
// reference of the bf16-rounded weights, on ragged shapes; AVX2 and AVX-512 bit for bit (the same
// fused sums in the same order); dispatch; thread-count invariance (identical bits).
// Tolerance (f32 summation contract): |got - exact| <= (k + 2) · 2^-23 · sum_k |x · w|.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "engine/kernels/isa.h"
#include "engine/kernels/kernels.h"
#include "engine/kernels/kernels_internal.h"
#include "engine/kernels/threadpool.h"
#include "weights/panel_layout.h"

using namespace sealsum::kernels;

namespace {

std::vector<float> random_floats(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  std::vector<float> v(n);
  for (auto& x : v) x = dist(rng);
  return v;
}

}  // namespace

TEST_CASE("bf16 kernels: AVX-512, AVX2 and the scalar twin within the f32 tolerance on ragged shapes", "[kernels][bf16]") {
  struct Case {
    int64_t m, n, k;
  };
  const Case cases[] = {{1, 1, 1},   {1, 33, 5},   {1, 130, 67}, {2, 31, 3},   {3, 64, 4},   {4, 100, 130},
                        {5, 17, 9},  {7, 65, 128}, {8, 32, 33},  {9, 97, 63},  {13, 129, 200}, {33, 70, 258},
                        {6, 40, 17}, {12, 64, 31}, {2, 96, 2}, {1, 64, 300}, {4, 200, 64},
                        // one row over more than kShortBf16Elems weights: the wide m = 1 tiles
                        // (the cases above are short: one panel at a time, kernels_internal.h)
                        {1, 150, 450}, {1, 300, 257}};
  ThreadPool pool(2);
  for (const Case& c : cases) {
    INFO("m " << c.m << " n " << c.n << " k " << c.k);
    const auto wf = random_floats(static_cast<size_t>(c.n * c.k), 51);
    const auto x = random_floats(static_cast<size_t>(c.m * c.k), 52);
    const auto bias = random_floats(static_cast<size_t>(c.n), 53);
    const std::vector<uint16_t> p = sealsum::weights::to_bf16_panels(wf, c.n, c.k);
    std::vector<uint16_t> store(p.size() + 32);
    uint16_t* aligned = store.data() + (64 - reinterpret_cast<uintptr_t>(store.data()) % 64) % 64 / 2;
    std::memcpy(aligned, p.data(), p.size() * 2);
    const PackedMatrix pm = view_panels_bf16(aligned, c.n, c.k);
    CHECK(pm.is_view());
    std::vector<float> ys(static_cast<size_t>(c.m * c.n)), yv(ys), yp(ys), y2(ys);
    detail::linear_bf16_scalar(x.data(), c.k, c.m, pm.impl(), 0, pm.impl().panels, bias.data(), ys.data(), c.n);
    if (isa_supported(Isa::kAvx512)) {
      detail::linear_bf16_avx512(x.data(), c.k, c.m, pm.impl(), 0, pm.impl().panels, bias.data(), yv.data(), c.n);
    } else {
      WARN("AVX-512 bf16 kernel not tested: this CPU lacks AVX-512");
      yv = ys;
    }
    if (isa_supported(Isa::kAvx2)) {
      detail::linear_bf16_avx2(x.data(), c.k, c.m, pm.impl(), 0, pm.impl().panels, bias.data(), y2.data(), c.n);
      if (isa_supported(Isa::kAvx512)) REQUIRE(std::memcmp(y2.data(), yv.data(), y2.size() * sizeof(float)) == 0);
    } else {
      WARN("AVX2 bf16 kernel not tested: this CPU lacks AVX2");
      y2 = ys;
    }
    // Without a bias, and on a panel range that starts past the first panel (threads split so).
    if (c.n > 32 && isa_supported(Isa::kAvx2)) {
      std::vector<float> a(ys.size(), -7.0f), b(ys.size(), -7.0f);
      detail::linear_bf16_avx2(x.data(), c.k, c.m, pm.impl(), 1, pm.impl().panels, nullptr, a.data(), c.n);
      if (isa_supported(Isa::kAvx512)) {
        detail::linear_bf16_avx512(x.data(), c.k, c.m, pm.impl(), 1, pm.impl().panels, nullptr, b.data(), c.n);
        REQUIRE(std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0);
      }
      for (int64_t i = 0; i < c.m; ++i) {
        for (int64_t j = 0; j < c.n; ++j) {
          const float got = a[static_cast<size_t>(i * c.n + j)];
          if (j < 32) {
            REQUIRE(got == -7.0f);  // columns of panel 0 untouched
          } else {  // the same sum: adding the bias gives the biased result's bits
            REQUIRE(got + bias[static_cast<size_t>(j)] == y2[static_cast<size_t>(i * c.n + j)]);
          }
        }
      }
    }
    linear(x.data(), c.m, pm, bias.data(), yp.data(), &pool);
    std::vector<float> y1(ys.size());
    linear(x.data(), c.m, pm, bias.data(), y1.data(), nullptr);
    REQUIRE(std::memcmp(y1.data(), yp.data(), y1.size() * sizeof(float)) == 0);  // threads change no bits
    for (int64_t i = 0; i < c.m; ++i) {
      for (int64_t j = 0; j < c.n; ++j) {
        double exact = bias[static_cast<size_t>(j)], mag = std::fabs(exact);
        for (int64_t kk = 0; kk < c.k; ++kk) {
          const double t = double(x[static_cast<size_t>(i * c.k + kk)]) *
                           sealsum::weights::bf16_to_f32(sealsum::weights::f32_to_bf16(wf[static_cast<size_t>(j * c.k + kk)]));
          exact += t;
          mag += std::fabs(t);
        }
        const double tol = (double(c.k) + 2.0) * std::ldexp(1.0, -23) * mag + 1e-30;
        const size_t at = static_cast<size_t>(i * c.n + j);
        REQUIRE(std::fabs(ys[at] - exact) <= tol);
        REQUIRE(std::fabs(yv[at] - exact) <= tol);
        REQUIRE(std::fabs(yv[at] - ys[at]) <= 2 * tol);
        REQUIRE(std::fabs(y2[at] - exact) <= tol);
      }
    }
  }
}

TEST_CASE("bf16 kernels: dispatch picks the kernel of the ISA", "[kernels][bf16]") {
  CHECK(detail::linear_bf16_fn(Isa::kScalar) == detail::linear_bf16_scalar);
  CHECK(detail::linear_bf16_fn(Isa::kAvx2) == detail::linear_bf16_avx2);
  CHECK(detail::linear_bf16_fn(Isa::kAvx512) == detail::linear_bf16_avx512);
}
