// ops tests: each op against the formula evaluated in double, with tolerances of a few float32
// roundings scaled to the conditioning of the formula; special values (NaN, ±inf, masks).
#include <catch2/catch.hpp>

#include <cfloat>
#include <cmath>
#include <cstdlib>
#include <string>
#include <limits>
#include <random>
#include <vector>

#include "engine/kernels/isa.h"
#include "engine/ops/ops.h"

namespace ops = sealsum::ops;

namespace {
constexpr double kEps = FLT_EPSILON;
const float kNaN = std::numeric_limits<float>::quiet_NaN();
const float kInf = std::numeric_limits<float>::infinity();

std::vector<float> random_floats(size_t n, uint32_t seed, float lo, float hi) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> v(n);
  for (auto& x : v) x = dist(rng);
  return v;
}

// Every ISA (the transcendental loops are vectorized per ISA); restores the best one afterwards.
// An unsupported ISA fails unless SEALSUM_ALLOW_MISSING_ISA=1.
template <class F>
void for_each_isa(F&& f) {
  namespace k = sealsum::kernels;
  const char* allow = std::getenv("SEALSUM_ALLOW_MISSING_ISA");
  const bool allow_missing = allow != nullptr && std::string(allow) == "1";
  for (k::Isa isa : {k::Isa::kScalar, k::Isa::kAvx2, k::Isa::kAvx512}) {
    if (!k::isa_supported(isa)) {
      if (!allow_missing) FAIL("ISA " << k::isa_name(isa) << " unsupported; set SEALSUM_ALLOW_MISSING_ISA=1 to allow");
      continue;
    }
    k::set_isa(isa);
    INFO("isa " << k::isa_name(isa));
    f();
  }
  k::set_isa(k::best_isa());
}

void near(double got, double exact, double tol, const char* what, size_t i) {
  if (!(std::fabs(got - exact) <= tol)) FAIL(what << "[" << i << "]: got " << got << " expected " << exact << " tol " << tol);
}
}  // namespace

TEST_CASE("rms_norm matches T5LayerNorm in double, also in place", "[ops]") {
  for (int64_t d : {1, 7, 64, 512, 1000}) {
    const int64_t m = 3;
    auto x = random_floats(static_cast<size_t>(m * d), static_cast<uint32_t>(d), -4.0f, 4.0f);
    const auto w = random_floats(static_cast<size_t>(d), 99, 0.5f, 2.0f);
    const float eps = 1e-6f;
    std::vector<float> y(x.size());
    ops::rms_norm(x.data(), m, d, w.data(), eps, y.data());
    for (int64_t i = 0; i < m; ++i) {
      double ss = 0;
      for (int64_t j = 0; j < d; ++j) ss += static_cast<double>(x[i * d + j]) * x[i * d + j];
      const double r = 1.0 / std::sqrt(ss / d + eps);
      for (int64_t j = 0; j < d; ++j) {
        const double exact = w[j] * (x[i * d + j] * r);
        near(y[i * d + j], exact, 8 * kEps * std::fabs(exact) + 1e-30, "rms_norm", static_cast<size_t>(i * d + j));
      }
    }
    auto inplace = x;
    ops::rms_norm(inplace.data(), m, d, w.data(), eps, inplace.data());
    CHECK(inplace == y);
  }
  // Zero row: eps keeps it finite.
  std::vector<float> z(4, 0.0f), w(4, 1.0f), out(4, kNaN);
  ops::rms_norm(z.data(), 1, 4, w.data(), 1e-6f, out.data());
  CHECK(out == std::vector<float>(4, 0.0f));
}

TEST_CASE("layer_norm matches nn.LayerNorm in double, bias and weight optional", "[ops]") {
  for (int64_t d : {1, 5, 64, 1024}) {
    const int64_t m = 4;
    auto x = random_floats(static_cast<size_t>(m * d), static_cast<uint32_t>(d + 1), -3.0f, 5.0f);
    const auto w = random_floats(static_cast<size_t>(d), 7, -2.0f, 2.0f);
    const auto b = random_floats(static_cast<size_t>(d), 8, -1.0f, 1.0f);
    const float eps = 1e-5f;
    for (int variant = 0; variant < 2; ++variant) {
      const float* wp = variant == 0 ? w.data() : nullptr;
      const float* bp = variant == 0 ? b.data() : nullptr;
      std::vector<float> y(x.size());
      ops::layer_norm(x.data(), m, d, wp, bp, eps, y.data());
      for (int64_t i = 0; i < m; ++i) {
        double mean = 0, var = 0;
        for (int64_t j = 0; j < d; ++j) mean += x[i * d + j];
        mean /= d;
        for (int64_t j = 0; j < d; ++j) var += (x[i * d + j] - mean) * (x[i * d + j] - mean);
        var /= d;
        const double rstd = 1.0 / std::sqrt(var + eps);
        for (int64_t j = 0; j < d; ++j) {
          const double wj = wp ? wp[j] : 1.0, bj = bp ? bp[j] : 0.0;
          const double exact = (x[i * d + j] - mean) * rstd * wj + bj;
          const double tol = 8 * kEps * ((std::fabs(x[i * d + j]) + std::fabs(mean)) * rstd * std::fabs(wj) + std::fabs(bj));
          near(y[i * d + j], exact, tol + 1e-30, "layer_norm", static_cast<size_t>(i * d + j));
        }
      }
    }
  }
}

TEST_CASE("softmax and log_softmax match double, with masks and extreme values", "[ops]") {
  for_each_isa([] {
  for (int64_t n : {1, 3, 64, 1000}) {
    const int64_t m = 3;
    auto x = random_floats(static_cast<size_t>(m * n), static_cast<uint32_t>(n + 5), -10.0f, 10.0f);
    x[0] = -std::numeric_limits<float>::max();  // finfo.min mask
    auto s = x, ls = x;
    ops::softmax(s.data(), m, n);
    ops::log_softmax(ls.data(), m, n);
    for (int64_t i = 0; i < m; ++i) {
      double mx = -INFINITY;
      for (int64_t j = 0; j < n; ++j) mx = std::max(mx, static_cast<double>(x[i * n + j]));
      double sum = 0;
      for (int64_t j = 0; j < n; ++j) sum += std::exp(x[i * n + j] - mx);
      double total = 0;
      for (int64_t j = 0; j < n; ++j) {
        const double xv = x[i * n + j];
        const double p = std::exp(xv - mx) / sum;
        const size_t at = static_cast<size_t>(i * n + j);
        near(s[at], p, kEps * (std::fabs(xv - mx) + 8) * p + 1e-37, "softmax", at);
        const double lp = xv - mx - std::log(sum);
        near(ls[at], lp, 4 * kEps * (std::fabs(xv) + std::fabs(mx) + std::log(sum) + 1), "log_softmax", at);
        total += s[at];
      }
      CHECK(std::fabs(total - 1.0) <= (n + 8) * kEps);
    }
  }
  std::vector<float> masked = {-kInf, 0.0f, -kInf, 0.0f};
  ops::softmax(masked.data(), 1, 4);
  CHECK(masked == std::vector<float>({0.0f, 0.5f, 0.0f, 0.5f}));
  std::vector<float> big = {1e30f, 1e30f};
  ops::softmax(big.data(), 1, 2);
  CHECK(big == std::vector<float>({0.5f, 0.5f}));
  std::vector<float> withnan = {1.0f, kNaN, 2.0f, 0.0f, 1.0f, 2.0f};
  ops::softmax(withnan.data(), 2, 3);
  CHECK(std::isnan(withnan[0]));
  CHECK(std::isnan(withnan[2]));
  CHECK_FALSE(std::isnan(withnan[3]));  // the next row is unaffected
  std::vector<float> allmasked = {-kInf, -kInf};
  ops::softmax(allmasked.data(), 1, 2);
  CHECK(std::isnan(allmasked[0]));  // as torch.softmax
  });
}

TEST_CASE("activations match their double formulas", "[ops]") {
  for_each_isa([] {
  auto x = random_floats(4000, 3, -8.0f, 8.0f);
  x.push_back(0.0f);
  x.push_back(-0.0f);
  x.push_back(20.0f);
  x.push_back(-20.0f);
  auto g = x, gn = x, r = x;
  ops::gelu(g.data(), static_cast<int64_t>(g.size()));
  ops::gelu_new(gn.data(), static_cast<int64_t>(gn.size()));
  ops::relu(r.data(), static_cast<int64_t>(r.size()));
  for (size_t i = 0; i < x.size(); ++i) {
    const double v = x[i];
    const double eg = 0.5 * v * (1.0 + std::erf(v / std::sqrt(2.0)));
    near(g[i], eg, 4 * kEps * (std::fabs(v) + std::fabs(eg)) + 1e-37, "gelu", i);
    const double u = std::sqrt(2.0 / M_PI) * (v + 0.044715 * v * v * v);
    const double en = 0.5 * v * (1.0 + std::tanh(u));
    near(gn[i], en, 4 * kEps * (std::fabs(v) + std::fabs(en)) + 1e-37, "gelu_new", i);
    const double accurate = v / (1.0 + std::exp(-2.0 * u));  // same value, no cancellation in double
    near(gn[i], accurate, 4 * kEps * (std::fabs(2 * u) + 4) * std::fabs(accurate) + 1e-37, "gelu_new (relative)", i);
    CHECK(r[i] == (v < 0 ? 0.0f : x[i]));
  }
  std::vector<float> special = {kNaN, kInf, -kInf};
  auto sr = special, sg = special, sn = special;
  ops::relu(sr.data(), 3);
  ops::gelu(sg.data(), 3);
  ops::gelu_new(sn.data(), 3);
  CHECK(std::isnan(sr[0]));
  CHECK(sr[1] == kInf);
  CHECK(sr[2] == 0.0f);
  CHECK(std::isnan(sg[0]));
  CHECK(sg[1] == kInf);
  CHECK(std::isnan(sn[0]));
  CHECK(sn[1] == kInf);
  });
}

TEST_CASE("element-wise helpers are exact float operations", "[ops]") {
  const auto a = random_floats(37, 1, -2.0f, 2.0f), b = random_floats(37, 2, -2.0f, 2.0f);
  auto m = a, s = a, sc = a;
  ops::mul(m.data(), b.data(), 37);
  ops::add(s.data(), b.data(), 37);
  ops::scale(sc.data(), 0.3f, 37);
  for (size_t i = 0; i < a.size(); ++i) {
    CHECK(m[i] == a[i] * b[i]);
    CHECK(s[i] == a[i] + b[i]);
    CHECK(sc[i] == a[i] * 0.3f);
  }
}

