// Kernel tests: every ISA path against a double-precision reference and against the scalar twin on
// ragged shapes; row invariance and thread-count invariance (identical bits); gemm strides,
// trans_b, alpha/beta (beta == 0 ignores NaN in C); no writes outside the output; ISA dispatch
// (set_isa, parse_isa, SEALSUM_ISA, including the fatal stop on a bad value).
#include <catch2/catch.hpp>

#include <unistd.h>

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <limits>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "engine/kernels/isa.h"
#include "engine/kernels/kernels.h"
#include "engine/kernels/threadpool.h"

using namespace sealsum::kernels;

namespace {

// Restores the best ISA when a test that forces one ends.
struct IsaGuard {
  ~IsaGuard() { set_isa(best_isa()); }
};

// All ISAs; an unsupported one fails the test unless SEALSUM_ALLOW_MISSING_ISA=1.
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

std::vector<float> random_floats(size_t n, uint32_t seed, float lo = -1.0f, float hi = 1.0f) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> v(n);
  for (auto& x : v) x = dist(rng);
  return v;
}

// |got - exact| <= (k + 2) * 2^-23 * scale, the worst-case bound for a k-term float dot product
// (with a factor 2 margin). Real bugs (a missing or wrong term) are ~scale / k.
void check_close(double got, double exact, double scale, int64_t k, const std::string& where) {
  const double tol = (static_cast<double>(k) + 2.0) * std::ldexp(1.0, -23) * scale + 1e-30;
  if (!(std::fabs(got - exact) <= tol)) {
    FAIL(where << ": got " << got << " expected " << exact << " (tol " << tol << ")");
  }
}

void reference_linear(const std::vector<float>& x, int64_t m, const std::vector<float>& w, int64_t n, int64_t k,
                      const float* bias, std::vector<double>* y, std::vector<double>* scale) {
  y->assign(static_cast<size_t>(m * n), 0.0);
  scale->assign(static_cast<size_t>(m * n), 0.0);
  for (int64_t i = 0; i < m; ++i) {
    for (int64_t j = 0; j < n; ++j) {
      double s = 0.0, a = 0.0;
      for (int64_t kk = 0; kk < k; ++kk) {
        const double p = static_cast<double>(x[i * k + kk]) * w[j * k + kk];
        s += p;
        a += std::fabs(p);
      }
      if (bias != nullptr) {
        s += bias[j];
        a += std::fabs(bias[j]);
      }
      (*y)[i * n + j] = s;
      (*scale)[i * n + j] = a;
    }
  }
}

std::vector<float> run_linear(Isa isa, const std::vector<float>& x, int64_t m, const std::vector<float>& w, int64_t n,
                              int64_t k, const float* bias, ThreadPool* pool) {
  set_isa(isa);
  PackedMatrix pm = pack_matrix(w.data(), n, k);
  REQUIRE(pm.isa() == isa);
  REQUIRE(pm.rows() == n);
  REQUIRE(pm.cols() == k);
  const float kSentinel = 12345.0f;
  std::vector<float> y(static_cast<size_t>(m * n) + 16, kSentinel);
  linear(x.data(), m, pm, bias, y.data(), pool);
  for (size_t i = static_cast<size_t>(m * n); i < y.size(); ++i) REQUIRE(y[i] == kSentinel);
  y.resize(static_cast<size_t>(m * n));
  return y;
}

}  // namespace

TEST_CASE("linear matches a double reference on ragged shapes for every ISA", "[kernels][linear]") {
  IsaGuard guard;
  const auto isas = isas_under_test();
  for (int64_t m : {1, 2, 3, 4, 5, 8, 9, 17, 65}) {
    for (int64_t n : {1, 17, 32, 33, 65, 129}) {
      for (int64_t k : {1, 3, 17, 64, 129}) {
        const uint32_t seed = static_cast<uint32_t>(m * 10007 + n * 101 + k);
        const auto x = random_floats(static_cast<size_t>(m * k), seed);
        const auto w = random_floats(static_cast<size_t>(n * k), seed + 1);
        const auto b = random_floats(static_cast<size_t>(n), seed + 2);
        for (bool with_bias : {false, true}) {
          const float* bias = with_bias ? b.data() : nullptr;
          std::vector<double> ref, scale;
          reference_linear(x, m, w, n, k, bias, &ref, &scale);
          const auto scalar = run_linear(Isa::kScalar, x, m, w, n, k, bias, nullptr);
          for (Isa isa : isas) {
            const auto y = run_linear(isa, x, m, w, n, k, bias, nullptr);
            for (int64_t i = 0; i < m * n; ++i) {
              std::ostringstream where;
              where << isa_name(isa) << " m=" << m << " n=" << n << " k=" << k << " bias=" << with_bias << " at " << i;
              check_close(y[i], ref[i], scale[i], k, where.str());
              check_close(y[i], scalar[i], scale[i], 2 * k, where.str() + " vs scalar");
            }
          }
        }
      }
    }
  }
}

TEST_CASE("linear with k == 0 writes the bias (or zeros)", "[kernels][linear]") {
  IsaGuard guard;
  const std::vector<float> bias = {1.5f, -2.0f, 3.0f};
  for (Isa isa : isas_under_test()) {
    const auto y = run_linear(isa, {}, 2, {}, 3, 0, bias.data(), nullptr);
    CHECK(y == std::vector<float>({1.5f, -2.0f, 3.0f, 1.5f, -2.0f, 3.0f}));
    const auto z = run_linear(isa, {}, 2, {}, 3, 0, nullptr, nullptr);
    CHECK(z == std::vector<float>(6, 0.0f));
  }
}

TEST_CASE("pack_matrix_into: the same panels as pack_matrix, padding zeroed, strided rows", "[kernels][linear]") {
  IsaGuard guard;
  struct Shape { int64_t m, n, k, ldw; };
  for (Shape s : {Shape{1, 1, 1, 1}, Shape{4, 33, 64, 128}, Shape{3, 1000, 64, 64}, Shape{2, 31, 7, 9}}) {
    const auto x = random_floats(static_cast<size_t>(s.m * s.k), 21);
    const auto w = random_floats(static_cast<size_t>(s.n * s.ldw), 22);
    for (Isa isa : isas_under_test()) {
      set_isa(isa);
      INFO(isa_name(isa) << " n " << s.n << " k " << s.k << " ldw " << s.ldw);
      const size_t floats = packed_floats(s.n, s.k);
      CHECK(floats == static_cast<size_t>((s.n + 31) / 32 * 32 * s.k));
      AlignedFloats dst = aligned_floats(floats);
      std::fill_n(dst.get(), floats, std::numeric_limits<float>::quiet_NaN());  // stale contents
      const PackedMatrix view = pack_matrix_into(dst.get(), w.data(), s.n, s.k, s.ldw);
      const PackedMatrix owned = pack_matrix(w.data(), s.n, s.k, s.ldw);
      CHECK(view.is_view());
      const float* last = dst.get() + floats - static_cast<size_t>(32 * s.k);  // the last panel, k-major
      for (int64_t kk = 0; kk < s.k; ++kk) {
        for (int64_t jj = (s.n - 1) % 32 + 1; jj < 32; ++jj) REQUIRE(last[kk * 32 + jj] == 0.0f);  // padding
      }
      std::vector<float> a(static_cast<size_t>(s.m * s.n)), b(a.size());
      linear(x.data(), s.m, view, nullptr, a.data(), nullptr);
      linear(x.data(), s.m, owned, nullptr, b.data(), nullptr);
      REQUIRE(std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0);
    }
  }
}

TEST_CASE("linear rows do not depend on the batch and thread count does not change bits", "[kernels][linear]") {
  IsaGuard guard;
  ThreadPool two(2);
  REQUIRE(two.size() == 2);
  struct Shape { int64_t m, n, k; };
  for (Shape s : {Shape{64, 512, 512}, Shape{1, 2048, 512}, Shape{3, 1000, 129}, Shape{130, 257, 65}}) {
    const auto x = random_floats(static_cast<size_t>(s.m * s.k), 7);
    const auto w = random_floats(static_cast<size_t>(s.n * s.k), 8);
    const auto b = random_floats(static_cast<size_t>(s.n), 9);
    for (Isa isa : isas_under_test()) {
      const auto one = run_linear(isa, x, s.m, w, s.n, s.k, b.data(), nullptr);
      const auto par = run_linear(isa, x, s.m, w, s.n, s.k, b.data(), &two);
      REQUIRE(std::memcmp(one.data(), par.data(), one.size() * sizeof(float)) == 0);
      // Each row alone gives the same bits as in the batch.
      for (int64_t i = 0; i < s.m; i += std::max<int64_t>(1, s.m / 5)) {
        const std::vector<float> xi(x.begin() + i * s.k, x.begin() + (i + 1) * s.k);
        const auto yi = run_linear(isa, xi, 1, w, s.n, s.k, b.data(), nullptr);
        INFO(isa_name(isa) << " row " << i << " of m=" << s.m);
        REQUIRE(std::memcmp(yi.data(), one.data() + i * s.n, yi.size() * sizeof(float)) == 0);
      }
    }
  }
}

TEST_CASE("linear and gemm: a row alone and the same row among m = 2..8 rows give the same bits", "[kernels][linear]") {
  // The decoder's small-m tiles (beam search, cross-request batching) must not change a row's sum.
  // linear: any m; gemm: m <= 4 for trans_b (see below), any m for op(B) = B.
  IsaGuard guard;
  struct Shape { int64_t n, k; };
  for (Shape s : {Shape{1, 1}, Shape{31, 7}, Shape{33, 64}, Shape{95, 129}, Shape{257, 65}, Shape{160, 512}}) {
    const auto w = random_floats(static_cast<size_t>(s.n * s.k), 21);
    const auto b = random_floats(static_cast<size_t>(s.n), 22);
    const auto x = random_floats(static_cast<size_t>(8 * s.k), 23);
    for (Isa isa : isas_under_test()) {
      std::vector<std::vector<float>> alone, alone_g;
      for (int64_t i = 0; i < 8; ++i) {
        const std::vector<float> xi(x.begin() + i * s.k, x.begin() + (i + 1) * s.k);
        alone.push_back(run_linear(isa, xi, 1, w, s.n, s.k, b.data(), nullptr));
        std::vector<float> yg(static_cast<size_t>(s.n), 0.0f), yt(static_cast<size_t>(s.n), 0.0f);
        gemm(true, 1, s.n, s.k, 0.5f, xi.data(), s.k, w.data(), s.k, 0.0f, yg.data(), s.n);  // x · Wᵀ (attention scores)
        gemm(false, 1, s.n, s.k, 1.0f, xi.data(), s.k, w.data(), s.n, 0.0f, yt.data(), s.n);  // x · W [k, n] (P · V)
        yg.insert(yg.end(), yt.begin(), yt.end());
        alone_g.push_back(yg);
      }
      for (int64_t m = 2; m <= 8; ++m) {
        const std::vector<float> xm(x.begin(), x.begin() + m * s.k);
        const auto y = run_linear(isa, xm, m, w, s.n, s.k, b.data(), nullptr);
        std::vector<float> yg(static_cast<size_t>(m * s.n)), yt(static_cast<size_t>(m * s.n));
        gemm(true, m, s.n, s.k, 0.5f, xm.data(), s.k, w.data(), s.k, 0.0f, yg.data(), s.n);
        gemm(false, m, s.n, s.k, 1.0f, xm.data(), s.k, w.data(), s.n, 0.0f, yt.data(), s.n);
        for (int64_t i = 0; i < m; ++i) {
          INFO(isa_name(isa) << " n=" << s.n << " k=" << s.k << " m=" << m << " row " << i);
          const size_t row = static_cast<size_t>(i * s.n), bytes = static_cast<size_t>(s.n) * sizeof(float);
          REQUIRE(std::memcmp(alone[static_cast<size_t>(i)].data(), y.data() + row, bytes) == 0);
          // gemm's trans_b takes dot products (a horizontal sum) for m <= 4, the tiles' order above:
          // the decoder's attention keeps a session's rows together, so only m <= 4 must agree there.
          if (m <= 4) REQUIRE(std::memcmp(alone_g[static_cast<size_t>(i)].data(), yg.data() + row, bytes) == 0);
          REQUIRE(std::memcmp(alone_g[static_cast<size_t>(i)].data() + s.n, yt.data() + row, bytes) == 0);
        }
      }
    }
  }
}

TEST_CASE("gemm matches a double reference with strides, trans_b, alpha and beta", "[kernels][gemm]") {
  IsaGuard guard;
  const auto isas = isas_under_test();
  const float kSentinel = -777.0f;
  for (int64_t m : {1, 2, 3, 4, 8, 17, 65}) {
    for (int64_t n : {1, 17, 33, 64, 129}) {
      for (int64_t k : {1, 17, 64, 65}) {
        for (bool trans_b : {false, true}) {
          for (float beta : {0.0f, 1.0f, 0.5f}) {
            const float alpha = 0.125f;
            const int64_t lda = k + 3, ldb = (trans_b ? k : n) + 5, ldc = n + 2;
            const int64_t brows = trans_b ? n : k;
            const uint32_t seed = static_cast<uint32_t>(m * 7919 + n * 31 + k * 3 + trans_b);
            const auto a = random_floats(static_cast<size_t>(m * lda), seed);
            const auto b = random_floats(static_cast<size_t>(brows * ldb), seed + 1);
            auto c0 = random_floats(static_cast<size_t>(m * ldc), seed + 2);
            for (int64_t i = 0; i < m; ++i) {
              for (int64_t j = n; j < ldc; ++j) c0[i * ldc + j] = kSentinel;  // padding must survive
              if (beta == 0.0f) {
                for (int64_t j = 0; j < n; ++j) c0[i * ldc + j] = std::numeric_limits<float>::quiet_NaN();
              }
            }
            for (Isa isa : isas) {
              set_isa(isa);
              auto c = c0;
              gemm(trans_b, m, n, k, alpha, a.data(), lda, b.data(), ldb, beta, c.data(), ldc);
              for (int64_t i = 0; i < m; ++i) {
                for (int64_t j = 0; j < ldc; ++j) {
                  std::ostringstream where;
                  where << isa_name(isa) << " m=" << m << " n=" << n << " k=" << k << " trans_b=" << trans_b
                        << " beta=" << beta << " at (" << i << "," << j << ")";
                  if (j >= n) {
                    if (c[i * ldc + j] != kSentinel) FAIL(where.str() << ": wrote outside the output");
                    continue;
                  }
                  double s = 0.0, sc = 0.0;
                  for (int64_t kk = 0; kk < k; ++kk) {
                    const double bv = trans_b ? b[j * ldb + kk] : b[kk * ldb + j];
                    s += static_cast<double>(a[i * lda + kk]) * bv;
                    sc += std::fabs(static_cast<double>(a[i * lda + kk]) * bv);
                  }
                  double exact = alpha * s, scale = alpha * sc;
                  if (beta != 0.0f) {
                    exact += beta * static_cast<double>(c0[i * ldc + j]);
                    scale += std::fabs(beta * static_cast<double>(c0[i * ldc + j]));
                  }
                  check_close(c[i * ldc + j], exact, scale, k + 2, where.str());
                }
              }
            }
          }
        }
      }
    }
  }
}

TEST_CASE("set_isa and parse_isa", "[kernels][isa]") {
  IsaGuard guard;
  CHECK(std::string(isa_name(Isa::kScalar)) == "scalar");
  CHECK(std::string(isa_name(Isa::kAvx2)) == "avx2");
  CHECK(std::string(isa_name(Isa::kAvx512)) == "avx512");
  CHECK(isa_supported(Isa::kScalar));
  for (Isa isa : isas_under_test()) {
    set_isa(isa);
    CHECK(active_isa() == isa);
    auto r = parse_isa(isa_name(isa));
    REQUIRE(r.ok());
    CHECK(*r == isa);
  }
  auto bad = parse_isa("avx513");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().code() == sealsum::Code::kInvalidArgument);
  CHECK(bad.status().message().find("scalar, avx2, avx512") != std::string::npos);
  CHECK_FALSE(parse_isa("").ok());
  CHECK_FALSE(parse_isa("AVX2").ok());
}

TEST_CASE("SEALSUM_ISA chooses the ISA and rejects bad values", "[kernels][isa]") {
  const char* old = std::getenv("SEALSUM_ISA");
  const std::string saved = old ? old : "";
  for (Isa isa : isas_under_test()) {
    REQUIRE(setenv("SEALSUM_ISA", isa_name(isa), 1) == 0);
    auto r = isa_from_env();
    REQUIRE(r.ok());
    CHECK(*r == isa);
  }
  REQUIRE(setenv("SEALSUM_ISA", "sse9", 1) == 0);
  auto bad = isa_from_env();
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().message().find("SEALSUM_ISA") != std::string::npos);
  REQUIRE(unsetenv("SEALSUM_ISA") == 0);
  auto best = isa_from_env();
  REQUIRE(best.ok());
  CHECK(*best == best_isa());
  if (old != nullptr) setenv("SEALSUM_ISA", saved.c_str(), 1);
}

// Run only by the test below, in a child process with SEALSUM_ISA set.
TEST_CASE("isa env child", "[.isa_env_child]") {
  std::printf("active=%s\n", isa_name(active_isa()));
}

TEST_CASE("first use of kernels honours SEALSUM_ISA and stops on a bad value", "[kernels][isa]") {
  char self[4096] = {0};
  const ssize_t len = readlink("/proc/self/exe", self, sizeof(self) - 1);
  REQUIRE(len > 0);
  const std::string out = "/tmp/sealsum_isa_child_" + std::to_string(getpid()) + ".txt";
  auto run = [&](const std::string& value) {
    const std::string cmd = "SEALSUM_ISA=" + value + " '" + std::string(self) + "' '[.isa_env_child]' >" + out + " 2>&1";
    const int rc = std::system(cmd.c_str());
    std::ifstream f(out);
    std::stringstream ss;
    ss << f.rdbuf();
    std::remove(out.c_str());
    return std::make_pair(rc, ss.str());
  };
  for (Isa isa : isas_under_test()) {
    auto [rc, text] = run(isa_name(isa));
    CHECK(rc == 0);
    CHECK(text.find(std::string("active=") + isa_name(isa) + "\n") != std::string::npos);
  }
  auto [rc, text] = run("bogus");
  CHECK(rc != 0);
  CHECK(text.find("SEALSUM_ISA") != std::string::npos);
  CHECK(text.find("unknown ISA 'bogus'") != std::string::npos);
  CHECK(text.find("active=") == std::string::npos);
}
