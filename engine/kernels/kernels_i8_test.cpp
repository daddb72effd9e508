// int8 kernels: the scalar twin against an integer reference built from the same quantized
// activations; every SIMD int8 kernel bit-identical to the scalar twin on ragged shapes (m, n, k
// not multiples of the tiles, panel sub-ranges); the public linear() across ISAs and thread counts;
// the activation quantizer (rounding, zero rows, NaN); the kernels' packing against the model
// file's layout (weights/panel_layout.h); the error against the float product.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
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

struct IsaGuard {
  ~IsaGuard() { set_isa(best_isa()); }
};

std::vector<float> random_floats(size_t n, uint32_t seed, float lo = -1.0f, float hi = 1.0f) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> v(n);
  for (auto& x : v) x = dist(rng);
  return v;
}

struct Quantized {
  std::vector<int8_t> codes;  // row-major [n, k]
  std::vector<float> scales;
};

Quantized random_codes(int64_t n, int64_t k, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> code(-127, 127);
  std::uniform_real_distribution<float> scale(1e-3f, 2e-2f);
  Quantized q;
  q.codes.resize(static_cast<size_t>(n * k));
  for (auto& c : q.codes) c = static_cast<int8_t>(code(rng));
  // Extremes: a row of +127 and one of -127 (largest sums; the VNNI offset is most stressed).
  if (n > 1) {
    for (int64_t kk = 0; kk < k; ++kk) q.codes[static_cast<size_t>(kk)] = 127;
    for (int64_t kk = 0; kk < k; ++kk) q.codes[static_cast<size_t>(k + kk)] = -127;
  }
  q.scales.resize(static_cast<size_t>(n));
  for (auto& s : q.scales) s = scale(rng);
  return q;
}

struct Case {
  int64_t m, n, k;
};

const Case kRagged[] = {{1, 1, 1},   {1, 33, 5},   {1, 130, 67},  {1, 257, 512}, {2, 31, 3},  {3, 64, 4},
                        {4, 100, 130}, {5, 17, 9},  {7, 65, 128},  {8, 32, 33},   {9, 97, 63}, {13, 129, 200},
                        {17, 40, 1},  {33, 70, 258}, {64, 96, 512}};

std::vector<float> random_bias(int64_t n, uint32_t seed) { return random_floats(static_cast<size_t>(n), seed); }

}  // namespace

TEST_CASE("quantize_rows: symmetric per-row scale, half-to-even rounding, zero rows and NaN", "[kernels][int8]") {
  const int64_t k = 6, kp = 8;
  // Row 0: max 127 -> scale 1, so codes are round-half-even of the values themselves.
  // Row 1: all zero. Row 2: a NaN.
  const float x[3 * 6] = {127.0f, -2.5f, 3.5f, 0.5f, -0.5f, 1.49f, 0, 0, 0, 0, 0, 0,
                          1.0f,   std::numeric_limits<float>::quiet_NaN(), 0, 0, 0, 0};
  std::vector<uint8_t> xu(3 * kp, 7);
  float xs[3];
  detail::quantize_rows(x, 3, k, kp, xu.data(), xs);
  CHECK(xs[0] == 1.0f);
  const int want0[8] = {127, -2, 4, 0, 0, 1, 0, 0};
  for (int i = 0; i < 8; ++i) CHECK(int(xu[static_cast<size_t>(i)]) - 128 == want0[i]);
  CHECK(xs[1] == 0.0f);
  CHECK(std::isnan(xs[2]));
  for (int i = 8; i < 24; ++i) CHECK(xu[static_cast<size_t>(i)] == 128);
  // Row scale = max|x| / 127; codes within [-127, 127] and within half a step of x / scale.
  const auto r = random_floats(300, 5, -3.0f, 3.0f);
  std::vector<uint8_t> q(300);
  float s = 0;
  detail::quantize_rows(r.data(), 1, 300, 300, q.data(), &s);
  for (size_t i = 0; i < r.size(); ++i) {
    const int c = int(q[i]) - 128;
    REQUIRE(c >= -127);
    REQUIRE(c <= 127);
    CHECK(std::fabs(r[i] / s - static_cast<float>(c)) <= 0.5f + 1e-4f);
  }
}

TEST_CASE("quantize_rows: bit for bit the plain per-element form, at block edges, inf and NaN anywhere",
          "[kernels][int8]") {
  for (int64_t k : {1, 15, 16, 17, 33, 512, 515}) {
    const int64_t kp = (k + 3) / 4 * 4;
    for (int variant = 0; variant < 5; ++variant) {
      auto x = random_floats(static_cast<size_t>(k), 60 + static_cast<uint32_t>(variant), -5.0f, 5.0f);
      // variant 1: the maximum in the tail; 2: an infinity there; 3: a NaN in the first block;
      // 4: exact ties (max 127, so the scale is 1 and every other value is an odd half).
      if (variant == 4) {
        for (int64_t j = 0; j < k; ++j) x[static_cast<size_t>(j)] = static_cast<float>(j % 254 - 127) + 0.5f;
        x[0] = -127.0f;
      }
      if (variant == 1) x[static_cast<size_t>(k - 1)] = -9.0f;
      if (variant == 2) x[static_cast<size_t>(k - 1)] = std::numeric_limits<float>::infinity();
      if (variant == 3) x[0] = std::numeric_limits<float>::quiet_NaN();
      float amax = 0.0f;
      bool finite = true;
      for (float v : x) {
        finite = finite && std::isfinite(v);
        amax = std::max(amax, std::fabs(v));
      }
      std::vector<uint8_t> q(static_cast<size_t>(kp), 7);
      float s = -1.0f;
      detail::quantize_rows(x.data(), 1, k, kp, q.data(), &s);
      INFO("k " << k << " variant " << variant);
      if (has_avx512_vnni()) {  // the AVX-512 form: the same bytes and scale
        std::vector<uint8_t> q16(static_cast<size_t>(kp), 9);
        float s16 = -2.0f;
        detail::quantize_rows_avx512(x.data(), 1, k, kp, q16.data(), &s16);
        CHECK(q16 == q);
        CHECK(std::memcmp(&s16, &s, sizeof s) == 0);
      }
      if (!finite) {
        CHECK(std::isnan(s));
        for (uint8_t c : q) CHECK(c == 128);
        continue;
      }
      CHECK(s == amax / 127.0f);
      const float inv = 127.0f / amax;
      for (int64_t i = 0; i < kp; ++i) {
        int want = 0;
        if (i < k) want = static_cast<int>(std::nearbyint(x[static_cast<size_t>(i)] * inv));  // half to even
        CHECK(int(q[static_cast<size_t>(i)]) - 128 == std::clamp(want, -127, 127));
      }
    }
  }
}

TEST_CASE("int8 scalar twin equals the integer reference", "[kernels][int8]") {
  for (const Case& c : kRagged) {
    INFO("m " << c.m << " n " << c.n << " k " << c.k);
    const Quantized w = random_codes(c.n, c.k, 11);
    const auto x = random_floats(static_cast<size_t>(c.m * c.k), 12);
    const auto bias = random_bias(c.n, 13);
    const PackedMatrix pm = pack_matrix_i8(w.codes.data(), w.scales.data(), c.n, c.k);
    const int64_t kp = pm.impl().kp;
    std::vector<uint8_t> xu(static_cast<size_t>(c.m * kp));
    std::vector<float> xs(static_cast<size_t>(c.m));
    detail::quantize_rows(x.data(), c.m, c.k, kp, xu.data(), xs.data());
    std::vector<float> y(static_cast<size_t>(c.m * c.n), -1.0f);
    detail::linear_i8_scalar(xu.data(), xs.data(), c.m, pm.impl(), 0, pm.impl().panels, bias.data(), y.data(), c.n);
    for (int64_t i = 0; i < c.m; ++i) {
      for (int64_t j = 0; j < c.n; ++j) {
        int64_t acc = 0;
        for (int64_t kk = 0; kk < c.k; ++kk) {
          acc += (int64_t{xu[static_cast<size_t>(i * kp + kk)]} - 128) * w.codes[static_cast<size_t>(j * c.k + kk)];
        }
        const float s = xs[static_cast<size_t>(i)] * w.scales[static_cast<size_t>(j)];
        const float want = static_cast<float>(acc) * s + bias[static_cast<size_t>(j)];
        REQUIRE(y[static_cast<size_t>(i * c.n + j)] == want);
      }
    }
  }
}

TEST_CASE("int8 SIMD kernels are bit-identical to the scalar twin on ragged shapes", "[kernels][int8]") {
  struct Kernel {
    const char* name;
    detail::LinearI8Fn fn;
    bool available;
  };
  const Kernel kernels[] = {{"avx512-vnni", detail::linear_i8_avx512vnni, has_avx512_vnni()},
                            {"avx-vnni", detail::linear_i8_avx_vnni, has_avx_vnni()},
                            {"avx2 (maddubs)", detail::linear_i8_avx2, isa_supported(Isa::kAvx2)}};
  for (const Kernel& kn : kernels) {
    if (!kn.available) {
      WARN("int8 kernel " << kn.name << " not tested: this CPU lacks it");
      continue;
    }
    for (const Case& c : kRagged) {
      for (bool with_bias : {true, false}) {
        INFO(kn.name << " m " << c.m << " n " << c.n << " k " << c.k << " bias " << with_bias);
        const Quantized w = random_codes(c.n, c.k, 21);
        const auto x = random_floats(static_cast<size_t>(c.m * c.k), 22, -4.0f, 4.0f);
        const auto bias = random_bias(c.n, 23);
        const PackedMatrix pm = pack_matrix_i8(w.codes.data(), w.scales.data(), c.n, c.k);
        const auto& im = pm.impl();
        std::vector<uint8_t> xu(static_cast<size_t>(c.m * im.kp));
        std::vector<float> xs(static_cast<size_t>(c.m));
        detail::quantize_rows(x.data(), c.m, c.k, im.kp, xu.data(), xs.data());
        const float* b = with_bias ? bias.data() : nullptr;
        // Whole matrix, and a sub-range of panels (what one thread of linear() computes).
        for (int64_t pb : {int64_t{0}, im.panels / 2}) {
          std::vector<float> ref(static_cast<size_t>(c.m * c.n), 9.0f), got(ref);
          detail::linear_i8_scalar(xu.data(), xs.data(), c.m, im, pb, im.panels, b, ref.data(), c.n);
          kn.fn(xu.data(), xs.data(), c.m, im, pb, im.panels, b, got.data(), c.n);
          REQUIRE(std::memcmp(ref.data(), got.data(), ref.size() * sizeof(float)) == 0);
        }
      }
    }
  }
}

TEST_CASE("int8 kernels: a row alone and the same row among m = 2..8 rows give the same bits", "[kernels][int8]") {
  const std::pair<const char*, detail::LinearI8Fn> kernels[] = {
      {"scalar", detail::linear_i8_scalar},
      {"avx512-vnni", has_avx512_vnni() ? detail::linear_i8_avx512vnni : nullptr},
      {"avx-vnni", has_avx_vnni() ? detail::linear_i8_avx_vnni : nullptr},
      {"avx2 (maddubs)", isa_supported(Isa::kAvx2) ? detail::linear_i8_avx2 : nullptr}};
  struct Shape { int64_t n, k; };
  for (Shape s : {Shape{1, 1}, Shape{31, 7}, Shape{33, 64}, Shape{95, 129}, Shape{257, 65}, Shape{160, 512}}) {
    const Quantized w = random_codes(s.n, s.k, 41);
    const auto x = random_floats(static_cast<size_t>(8 * s.k), 42, -4.0f, 4.0f);
    const auto bias = random_bias(s.n, 43);
    const PackedMatrix pm = pack_matrix_i8(w.codes.data(), w.scales.data(), s.n, s.k);
    const auto& im = pm.impl();
    std::vector<uint8_t> xu(static_cast<size_t>(8 * im.kp));
    std::vector<float> xs(8);
    detail::quantize_rows(x.data(), 8, s.k, im.kp, xu.data(), xs.data());
    for (const auto& [name, fn] : kernels) {
      if (fn == nullptr) continue;
      std::vector<float> alone(static_cast<size_t>(8 * s.n));
      for (int64_t i = 0; i < 8; ++i) {
        fn(xu.data() + i * im.kp, xs.data() + i, 1, im, 0, im.panels, bias.data(), alone.data() + i * s.n, s.n);
      }
      for (int64_t m = 2; m <= 8; ++m) {
        std::vector<float> y(static_cast<size_t>(m * s.n), 7.0f);
        fn(xu.data(), xs.data(), m, im, 0, im.panels, bias.data(), y.data(), s.n);
        INFO(name << " n=" << s.n << " k=" << s.k << " m=" << m);
        REQUIRE(std::memcmp(alone.data(), y.data(), y.size() * sizeof(float)) == 0);
      }
    }
  }
}

TEST_CASE("int8 linear: every ISA and thread count gives the same bits, close to the float product",
          "[kernels][int8]") {
  IsaGuard guard;
  ThreadPool pool(2);
  for (const Case& c : kRagged) {
    INFO("m " << c.m << " n " << c.n << " k " << c.k);
    const auto wf = random_floats(static_cast<size_t>(c.n * c.k), 31);
    const auto x = random_floats(static_cast<size_t>(c.m * c.k), 32);
    const auto bias = random_bias(c.n, 33);
    // The converter's quantization and file layout (weights/panel_layout.h), read in place.
    const sealsum::weights::I8Panels q = sealsum::weights::quantize_i8_panels(wf, c.n, c.k);
    std::vector<int8_t> codes(q.codes.size() + 64);
    int8_t* aligned = codes.data() + (64 - reinterpret_cast<uintptr_t>(codes.data()) % 64) % 64;
    std::memcpy(aligned, q.codes.data(), q.codes.size());
    std::vector<float> first;
    for (Isa isa : {Isa::kScalar, Isa::kAvx2, Isa::kAvx512}) {
      if (!isa_supported(isa)) continue;
      set_isa(isa);
      const PackedMatrix pm = view_panels_i8(aligned, q.scales.data(), c.n, c.k);
      CHECK(pm.is_view());
      for (ThreadPool* p : {static_cast<ThreadPool*>(nullptr), &pool}) {
        std::vector<float> y(static_cast<size_t>(c.m * c.n));
        linear(x.data(), c.m, pm, bias.data(), y.data(), p);
        if (first.empty()) {
          first = y;
        } else {
          INFO("ISA " << isa_name(isa));
          REQUIRE(std::memcmp(first.data(), y.data(), y.size() * sizeof(float)) == 0);
        }
      }
    }
    // Error bound: per term |x·w - xq·wq| <= |x|·|dw| + |dx|·|w| with |dw| <= s_w/2, |dx| <= s_x/2.
    for (int64_t i = 0; i < c.m; ++i) {
      float xmax = 0;
      for (int64_t kk = 0; kk < c.k; ++kk) xmax = std::max(xmax, std::fabs(x[static_cast<size_t>(i * c.k + kk)]));
      for (int64_t j = 0; j < c.n; ++j) {
        double exact = bias[static_cast<size_t>(j)];
        double wmax = 0;
        for (int64_t kk = 0; kk < c.k; ++kk) {
          exact += double(x[static_cast<size_t>(i * c.k + kk)]) * wf[static_cast<size_t>(j * c.k + kk)];
          wmax = std::max(wmax, double(std::fabs(wf[static_cast<size_t>(j * c.k + kk)])));
        }
        const double bound = double(c.k) * (xmax * wmax / 127.0) + 1e-5;
        REQUIRE(std::fabs(first[static_cast<size_t>(i * c.n + j)] - exact) <= bound);
      }
    }
    first.clear();
  }
}

TEST_CASE("pack_matrix_i8 and the model file's int8 panels are the same layout", "[kernels][int8]") {
  const int64_t n = 45, k = 11;
  const auto wf = random_floats(static_cast<size_t>(n * k), 41);
  const sealsum::weights::I8Panels q = sealsum::weights::quantize_i8_panels(wf, n, k);
  REQUIRE(static_cast<int64_t>(q.codes.size()) == sealsum::weights::i8_panel_bytes(n, k));
  std::vector<int8_t> rows(static_cast<size_t>(n * k));
  std::vector<float> row(static_cast<size_t>(k));
  for (int64_t j = 0; j < n; ++j) {
    sealsum::weights::i8_panel_row(q.codes.data(), q.scales.data(), k, j, row.data());
    for (int64_t kk = 0; kk < k; ++kk) {
      const float code = row[static_cast<size_t>(kk)] / q.scales[static_cast<size_t>(j)];
      rows[static_cast<size_t>(j * k + kk)] = static_cast<int8_t>(std::lround(code));
      // Dequantized within half a step of the original.
      CHECK(std::fabs(row[static_cast<size_t>(kk)] - wf[static_cast<size_t>(j * k + kk)]) <=
            0.5f * q.scales[static_cast<size_t>(j)] * 1.0001f);
    }
  }
  const PackedMatrix pm = pack_matrix_i8(rows.data(), q.scales.data(), n, k);
  REQUIRE(std::memcmp(pm.impl().q8, q.codes.data(), q.codes.size()) == 0);
}
