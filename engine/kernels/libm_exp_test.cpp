// exp_lane_sums (vecmath.h): every ISA's lanes are bit for bit a plain loop over std::exp. The SIMD
// twins re-implement the C library's expf (libm_exp.h), so this is also the check that the running
// library is the one they copy: a different libm fails here, not silently in beam search.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "engine/kernels/isa.h"
#include "engine/kernels/vecmath.h"

using namespace sealsum::kernels;

namespace {
struct IsaGuard {
  ~IsaGuard() { set_isa(best_isa()); }
};

float from_bits(uint32_t b) {
  float f;
  std::memcpy(&f, &b, sizeof f);
  return f;
}

bool same_bits(float a, float b) { return std::memcmp(&a, &b, sizeof a) == 0; }

// The plain form of the contract.
void plain_lane_sums(const float* x, int64_t n, float shift, float* lanes) {
  for (int64_t i = 0; i < n; ++i) lanes[i % 8] += std::exp(x[i] - shift);
}

// Values whose exp is checked one by one: a stride through the bit patterns of [-89, 89] (both
// signs; the fast path is |x| < 88), plus the edges of the library's special paths. (During
// development all 2.24e9 floats with |x| <= 90 were compared on AVX2 and AVX-512: no difference.)
std::vector<float> sweep_values() {
  std::vector<float> v;
  for (uint32_t b = 0; b <= 0x42b20000u; b += 1009u) {  // +0 .. 89.0
    v.push_back(from_bits(b));
    v.push_back(from_bits(b | 0x80000000u));
  }
  // The two inputs of |x| <= 90 where an unfused r = x·N/ln2 − k changes the result (exhaustive
  // search over all floats): they pin the fused step.
  // They sit in a block of their own: a block holding a special-path value goes to std::exp whole.
  while (v.size() % 8 != 0) v.push_back(0.5f);
  v.push_back(0x1.04845ep+5f);
  v.push_back(-0x1.f8cbb2p+5f);
  while (v.size() % 8 != 0) v.push_back(0.5f);
  for (float e : {88.0f, -88.0f, 88.72283f, 88.72284f, -103.27893f, -103.97208f, -103.5f, -104.0f, 1e-30f,
                  std::nextafter(88.0f, 0.0f), std::nextafter(-88.0f, 0.0f)}) {
    v.push_back(e);
  }
  while (v.size() % 8 != 0) v.push_back(0.5f);
  return v;
}
}  // namespace

TEST_CASE("exp_lane_sums: each exp bit for bit std::exp on every ISA", "[kernels][vecmath]") {
  IsaGuard guard;
  const std::vector<float> values = sweep_values();
  for (Isa isa : {Isa::kScalar, Isa::kAvx2, Isa::kAvx512}) {
    if (!isa_supported(isa)) continue;  // vecmath_test fails loudly on a missing ISA
    set_isa(isa);
    // Blocks of 16 holding 8 values twice: lane l = e + e = 2e, exact, so each e is seen alone.
    int64_t mismatches = 0;
    for (size_t b = 0; b < values.size(); b += 8) {
      float x[16], lanes[8] = {};
      for (int l = 0; l < 8; ++l) x[l] = x[l + 8] = values[b + static_cast<size_t>(l)];
      exp_lane_sums(x, 16, 0.0f, lanes);
      for (int l = 0; l < 8; ++l) {
        const float want = 2.0f * std::exp(x[l]);
        if (!same_bits(lanes[l], want)) {
          if (++mismatches <= 5) {
            UNSCOPED_INFO(isa_name(isa) << ": exp(" << std::hexfloat << x[l] << ") gave " << lanes[l] / 2
                                        << ", std::exp " << want / 2);
          }
        }
      }
    }
    CHECK(mismatches == 0);
  }
}

TEST_CASE("exp_lane_sums: lane sums bit for bit the plain loop, tails and special values", "[kernels][vecmath]") {
  IsaGuard guard;
  std::mt19937 rng(7);
  std::normal_distribution<float> d(0.0f, 8.0f);
  const float specials[] = {std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity(),
                            -std::numeric_limits<float>::infinity(), 88.5f, -95.0f, -103.5f, -200.0f, -0.0f};
  for (Isa isa : {Isa::kScalar, Isa::kAvx2, Isa::kAvx512}) {
    if (!isa_supported(isa)) continue;
    set_isa(isa);
    for (int trial = 0; trial < 400; ++trial) {
      const int64_t n = trial < 100 ? trial : 1 + static_cast<int64_t>(rng() % 3000);
      std::vector<float> x(static_cast<size_t>(n));
      for (auto& v : x) v = d(rng);
      if (trial % 4 == 1 && n > 0) x[rng() % static_cast<size_t>(n)] = specials[rng() % 8];
      const float shift = trial % 3 == 0 ? 0.0f : d(rng) * 4.0f;
      float got[8], want[8];
      for (int l = 0; l < 8; ++l) got[l] = want[l] = trial % 5 == 0 ? static_cast<float>(l) * 0.375f : 0.0f;
      exp_lane_sums(x.data(), n, shift, got);
      plain_lane_sums(x.data(), n, shift, want);
      for (int l = 0; l < 8; ++l) {
        INFO(isa_name(isa) << " trial " << trial << " n " << n << " lane " << l);
        CHECK(same_bits(got[l], want[l]));
      }
    }
  }
}
