// vecmath tests: every ISA's exp / max / GELU against double precision, on lengths that exercise
// the vector tails, with special values (NaN, ±inf, underflow, overflow).
#include <catch2/catch.hpp>

#include <cfloat>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "engine/kernels/isa.h"
#include "engine/kernels/vecmath.h"

using namespace sealsum::kernels;

namespace {
struct IsaGuard {
  ~IsaGuard() { set_isa(best_isa()); }
};

std::vector<Isa> isas_under_test() {
  std::vector<Isa> out;
  const char* allow = std::getenv("SEALSUM_ALLOW_MISSING_ISA");
  const bool allow_missing = allow != nullptr && std::string(allow) == "1";
  for (Isa isa : {Isa::kScalar, Isa::kAvx2, Isa::kAvx512}) {
    if (isa_supported(isa)) {
      out.push_back(isa);
    } else if (!allow_missing) {
      FAIL("ISA " << isa_name(isa) << " is not supported here; set SEALSUM_ALLOW_MISSING_ISA=1 to test without it");
    }
  }
  return out;
}

const float kNaN = std::numeric_limits<float>::quiet_NaN();
const float kInf = std::numeric_limits<float>::infinity();
constexpr double kEps = FLT_EPSILON;
}  // namespace

TEST_CASE("exp_shift_sum is accurate to a few ulp and sums in double", "[kernels][vecmath]") {
  IsaGuard guard;
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> d(-87.0f, 88.0f);
  for (Isa isa : isas_under_test()) {
    set_isa(isa);
    for (int64_t n : {0, 1, 7, 8, 9, 15, 16, 17, 100, 1001}) {
      std::vector<float> x(static_cast<size_t>(n));
      for (auto& v : x) v = d(rng);
      const float shift = 0.5f;
      std::vector<float> out(x.size() + 1, -1.0f);
      const double sum = exp_shift_sum(x.data(), out.data(), n, shift);
      CHECK(out.back() == -1.0f);  // nothing written past n
      double ref_sum = 0.0;
      for (int64_t j = 0; j < n; ++j) {
        const double ref = std::exp(static_cast<double>(x[j] - shift));  // the float subtraction is exact here
        ref_sum += out[j];
        const double rel = std::fabs(out[j] - ref) / ref;
        INFO(isa_name(isa) << " x=" << x[j] << " got " << out[j] << " ref " << ref);
        REQUIRE(rel <= 4 * kEps);
      }
      CHECK(std::fabs(sum - ref_sum) <= 1e-12 * std::fabs(ref_sum));
      CHECK(exp_shift_sum(x.data(), nullptr, n, shift) == sum);  // sum-only mode agrees
    }
    std::vector<float> special = {kNaN, kInf, -kInf, -200.0f, 100.0f, 88.8f, -103.0f, 0.0f, -0.0f};
    std::vector<float> out(special.size());
    exp_shift_sum(special.data(), out.data(), static_cast<int64_t>(special.size()), 0.0f);
    INFO(isa_name(isa));
    CHECK(std::isnan(out[0]));
    CHECK(out[1] == kInf);
    CHECK(out[2] == 0.0f);
    CHECK(out[3] == 0.0f);
    CHECK(out[4] == kInf);
    CHECK(out[5] == kInf);
    CHECK(std::fabs(out[6] - std::exp(-103.0)) <= 1.5e-45);  // denormal result, absolute accuracy
    CHECK(out[7] == 1.0f);
    CHECK(out[8] == 1.0f);
  }
}

TEST_CASE("max_of finds the maximum, NaN wins, tails are handled", "[kernels][vecmath]") {
  IsaGuard guard;
  for (Isa isa : isas_under_test()) {
    set_isa(isa);
    INFO(isa_name(isa));
    CHECK(max_of(nullptr, 0) == -kInf);
    for (int64_t n : {1, 7, 8, 9, 16, 17, 33}) {
      std::vector<float> x(static_cast<size_t>(n) + 8, 1000.0f);  // larger values past n must be ignored
      for (int64_t j = 0; j < n; ++j) x[j] = -50.0f + static_cast<float>(j % 5);
      x[n - 1] = -1.0f;
      CHECK(max_of(x.data(), n) == (n >= 5 ? -1.0f : -1.0f));
      x[0] = 7.0f;
      CHECK(max_of(x.data(), n) == 7.0f);
      x[n - 1] = kNaN;
      CHECK(std::isnan(max_of(x.data(), n)));
    }
    std::vector<float> neg(5, -kInf);
    CHECK(max_of(neg.data(), 5) == -kInf);
  }
}

TEST_CASE("gelu_erf and gelu_tanh match double formulas on every ISA", "[kernels][vecmath]") {
  IsaGuard guard;
  std::vector<float> x;
  for (float v = -12.0f; v <= 12.0f; v += 0.01f) x.push_back(v);
  x.push_back(1e-30f);
  x.push_back(-1e-30f);
  x.push_back(1e20f);
  x.push_back(-1e20f);
  for (Isa isa : isas_under_test()) {
    set_isa(isa);
    auto g = x, t = x;
    gelu_erf(g.data(), static_cast<int64_t>(g.size()));
    gelu_tanh(t.data(), static_cast<int64_t>(t.size()));
    for (size_t i = 0; i < x.size(); ++i) {
      const double v = x[i];
      const double eg = 0.5 * v * (1.0 + std::erf(v / std::sqrt(2.0)));
      // 0.5·v·(1 + tanh(u)) = v / (1 + exp(−2u)); the latter is accurate in double even when
      // 1 + tanh(u) underflows to 0.
      const double u = std::sqrt(2.0 / M_PI) * (v + 0.044715 * v * v * v);
      const double et = v / (1.0 + std::exp(-2.0 * u));
      INFO(isa_name(isa) << " x=" << x[i] << " gelu " << g[i] << " vs " << eg << "; tanh " << t[i] << " vs " << et);
      // Absolute error of the float32 reference formula: a few ulp of |x| (1 + erf cancels for x < 0).
      REQUIRE(std::fabs(g[i] - eg) <= 4 * kEps * (std::fabs(v) * 0.5 + std::fabs(eg)) + 1e-37);
      // The tanh form is evaluated without cancellation: relative accuracy, limited by the float32
      // rounding of the exponent argument 2u (relative error of exp ≈ |2u|·eps).
      REQUIRE(std::fabs(t[i] - et) <= 4 * kEps * (std::fabs(2 * u) + 4) * std::fabs(et) + 1e-37);
    }
    std::vector<float> special = {kNaN, kInf, -kInf, 0.0f};
    auto sg = special, st = special;
    gelu_erf(sg.data(), 4);
    gelu_tanh(st.data(), 4);
    CHECK(std::isnan(sg[0]));
    CHECK(sg[1] == kInf);
    CHECK(sg[3] == 0.0f);
    CHECK(std::isnan(st[0]));
    CHECK(st[1] == kInf);
    CHECK(st[3] == 0.0f);
  }
}
