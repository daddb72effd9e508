// Layers against straightforward double-precision references: attention (bias rows with negative
// stride, multi-head with relative bias, thread-count independence, cross-attention over packed
// keys, f32 and bf16), the KV cache's reorder (ownership hand-over, fork copies, growth), fused linears (also
// over panel-stored weights read in place) and the feed-forward variants.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <functional>
#include <random>
#include <vector>

#include "engine/kernels/kernels.h"
#include "engine/kernels/threadpool.h"
#include "engine/layers/attention.h"
#include "engine/layers/feed_forward.h"
#include "engine/layers/kv_cache.h"
#include "engine/layers/linear.h"
#include "weights/panel_layout.h"

namespace {

using sealsum::layers::Activation;
using sealsum::layers::FeedForward;
using sealsum::layers::KvCache;
using sealsum::layers::Linear;

std::vector<float> random_vec(size_t n, uint32_t seed, float scale = 1.0f) {
  std::mt19937 g(seed);
  std::uniform_real_distribution<float> u(-scale, scale);
  std::vector<float> v(n);
  for (auto& x : v) x = u(g);
  return v;
}

// Reference: out_i = softmax_j(scale q_i·k_j + bias(i, j)) v_j in double.
std::vector<double> ref_attention(const float* q, int64_t ldq, int64_t m, const float* k, int64_t ldk, const float* v,
                                  int64_t ldv, int64_t n, int64_t dh, double scale,
                                  const std::function<double(int64_t, int64_t)>& bias) {
  std::vector<double> out(static_cast<size_t>(m * dh), 0.0);
  for (int64_t i = 0; i < m; ++i) {
    std::vector<double> s(static_cast<size_t>(n));
    double mx = -1e300;
    for (int64_t j = 0; j < n; ++j) {
      double acc = 0;
      for (int64_t c = 0; c < dh; ++c) acc += static_cast<double>(q[i * ldq + c]) * k[j * ldk + c];
      s[static_cast<size_t>(j)] = scale * acc + bias(i, j);
      mx = std::max(mx, s[static_cast<size_t>(j)]);
    }
    double sum = 0;
    for (auto& x : s) sum += (x = std::exp(x - mx));
    for (int64_t j = 0; j < n; ++j) {
      for (int64_t c = 0; c < dh; ++c) out[static_cast<size_t>(i * dh + c)] += s[static_cast<size_t>(j)] / sum * v[j * ldv + c];
    }
  }
  return out;
}

// 64-byte aligned floats (panel-stored weights must be aligned like a model file's tensors).
class AlignedStore {
 public:
  explicit AlignedStore(size_t n) : v_(n + 16) {
    const auto addr = reinterpret_cast<uintptr_t>(v_.data());
    p_ = v_.data() + (16 - addr / sizeof(float) % 16) % 16;
  }
  float* data() { return p_; }

 private:
  std::vector<float> v_;
  float* p_ = nullptr;
};

}  // namespace

TEST_CASE("attention_head matches the reference, with a negatively strided bias", "[layers]") {
  for (int64_t m : {1, 3, 17}) {
    for (int64_t n : {1, 5, 33}) {
      const int64_t dh = 8, ld = 24;  // head occupies 8 of 24 columns
      auto q = random_vec(static_cast<size_t>(m * ld), 1), k = random_vec(static_cast<size_t>(n * ld), 2),
           v = random_vec(static_cast<size_t>(n * ld), 3);
      // Offset table: bias(i, j) = table[(m−1) + j − i]... laid out so that row i starts at
      // table + (m − 1) − i with stride −1, as T5's relative bias is.
      auto table = random_vec(static_cast<size_t>(m + n), 4);
      const float* bias0 = table.data() + (m - 1);
      std::vector<float> scores(static_cast<size_t>(m * n)), out(static_cast<size_t>(m * ld), -7.0f);
      sealsum::layers::attention_head(q.data() + 8, ld, m, k.data() + 8, ld, v.data() + 8, ld, n, dh, 0.5f, bias0, -1,
                                      scores.data(), out.data() + 8, ld);
      auto want = ref_attention(q.data() + 8, ld, m, k.data() + 8, ld, v.data() + 8, ld, n, dh, 0.5,
                                [&](int64_t i, int64_t j) { return static_cast<double>(bias0[j - i]); });
      for (int64_t i = 0; i < m; ++i) {
        for (int64_t c = 0; c < dh; ++c) {
          CHECK(std::fabs(out[static_cast<size_t>(i * ld + 8 + c)] - want[static_cast<size_t>(i * dh + c)]) < 1e-5);
        }
        CHECK(out[static_cast<size_t>(i * ld)] == -7.0f);  // other heads' columns untouched
      }
    }
  }
}

TEST_CASE("self_attention: multi-head with relative bias, identical for 1 and 2 threads", "[layers]") {
  const int64_t L = 150, H = 3, dh = 16, w = H * dh;  // L > the 128-row block: exercises blocking
  auto q = random_vec(static_cast<size_t>(L * w), 11), k = random_vec(static_cast<size_t>(L * w), 12),
       v = random_vec(static_cast<size_t>(L * w), 13), rel = random_vec(static_cast<size_t>(H * (2 * L - 1)), 14);
  for (const float scale : {1.0f, 0.125f}) {  // T5 and BART pass 1 (BART scales q); any scale works
    INFO("scale " << scale);
    std::vector<float> out1(static_cast<size_t>(L * w)), out2(static_cast<size_t>(L * w));
    sealsum::kernels::ThreadPool p1(1), p2(2);
    sealsum::layers::self_attention(q.data(), w, k.data(), w, v.data(), w, L, H, dh, scale, rel.data(), out1.data(), w,
                                    &p1);
    sealsum::layers::self_attention(q.data(), w, k.data(), w, v.data(), w, L, H, dh, scale, rel.data(), out2.data(), w,
                                    &p2);
    CHECK(out1 == out2);
    for (int64_t h = 0; h < H; ++h) {
      const float* table = rel.data() + h * (2 * L - 1);
      auto want = ref_attention(q.data() + h * dh, w, L, k.data() + h * dh, w, v.data() + h * dh, w, L, dh, scale,
                                [&](int64_t i, int64_t j) { return static_cast<double>(table[L - 1 + j - i]); });
      double worst = 0;
      for (int64_t i = 0; i < L; ++i) {
        for (int64_t c = 0; c < dh; ++c) {
          worst = std::max(worst, std::fabs(out1[static_cast<size_t>(i * w + h * dh + c)] -
                                            want[static_cast<size_t>(i * dh + c)]));
        }
      }
      CHECK(worst < 1e-5);
    }
  }
}

TEST_CASE("cross_attention: every head against the reference, each row the same bits alone", "[layers]") {
  using sealsum::kernels::Isa;
  using sealsum::layers::CrossKvPrecision;
  const Isa was = sealsum::kernels::active_isa();
  // bf16 outputs per (Lenc, dh) under each vector ISA: AVX2 and AVX-512 must agree bit for bit.
  std::vector<std::vector<float>> bf16_avx2, bf16_avx512;
  for (const Isa isa : {Isa::kScalar, Isa::kAvx2, Isa::kAvx512}) {
    if (!sealsum::kernels::isa_supported(isa)) continue;
    sealsum::kernels::set_isa(isa);  // keys are packed for the ISA active at make_cross_kv
    for (const CrossKvPrecision precision : {CrossKvPrecision::kF32, CrossKvPrecision::kBF16}) {
      const bool bf16 = precision == CrossKvPrecision::kBF16;
      INFO("ISA " << sealsum::kernels::isa_name(isa) << (bf16 ? ", bf16 keys and values" : ", f32"));
      // Lenc not a multiple of the 32-key panel; dh 8 and 64 (T5's); R 1..6 (greedy, beams, batches).
      for (const int64_t Lenc : {1, 37, 70}) {
        for (const int64_t dh : {8, 64}) {
          const int64_t H = 3, w = H * dh, R = 6;
          const auto kv = random_vec(static_cast<size_t>(Lenc * 2 * w), 21);  // [Lenc, 2w]: keys | values
          const auto q = random_vec(static_cast<size_t>(R * w), 22);
          const sealsum::layers::CrossKv cross = sealsum::layers::make_cross_kv(kv.data(), Lenc, H, dh, precision);
          REQUIRE(cross.length == Lenc);
          REQUIRE(cross.keys.size() == static_cast<size_t>(H));
          REQUIRE(cross.values_t.size() == static_cast<size_t>(bf16 ? H : 0));
          // The reference reads the keys and values as stored: bf16 rounds them (nearest even).
          std::vector<float> stored = kv;
          if (bf16) {
            for (float& x : stored) x = sealsum::weights::bf16_to_f32(sealsum::weights::f32_to_bf16(x));
          }
          std::vector<float> scores(static_cast<size_t>(R * (Lenc + dh))), all(static_cast<size_t>(R * w));
          sealsum::layers::cross_attention(q.data(), R, cross, H, dh, scores.data(), all.data());
          double rounding = 0;  // how far bf16 storage moved the result (it must, or nothing was rounded)
          for (int64_t h = 0; h < H; ++h) {
            const auto want = ref_attention(q.data() + h * dh, w, R, stored.data() + h * dh, 2 * w,
                                            stored.data() + w + h * dh, 2 * w, Lenc, dh, 1.0,
                                            [](int64_t, int64_t) { return 0.0; });
            const auto exact = ref_attention(q.data() + h * dh, w, R, kv.data() + h * dh, 2 * w,
                                             kv.data() + w + h * dh, 2 * w, Lenc, dh, 1.0,
                                             [](int64_t, int64_t) { return 0.0; });
            for (int64_t i = 0; i < R; ++i) {
              for (int64_t c = 0; c < dh; ++c) {
                const auto at = static_cast<size_t>(i * dh + c);
                const float got = all[static_cast<size_t>(i * w + h * dh + c)];
                CHECK(std::fabs(got - want[at]) < 1e-5);
                rounding = std::max(rounding, std::fabs(want[at] - exact[at]));
              }
            }
          }
          if (bf16) {
            CHECK(rounding > 1e-6);
            CHECK(rounding < 1e-2);  // bf16 keeps 8 significant bits of values in [-1, 1]
            if (isa == Isa::kAvx2) bf16_avx2.push_back(all);
            if (isa == Isa::kAvx512) bf16_avx512.push_back(all);
          }
          // Row independence: the first r rows alone give the same bits as among all R.
          for (const int64_t r : {1, 4}) {
            std::vector<float> alone(static_cast<size_t>(r * w));
            sealsum::layers::cross_attention(q.data(), r, cross, H, dh, scores.data(), alone.data());
            CHECK(std::equal(alone.begin(), alone.end(), all.begin()));
          }
        }
      }
    }
  }
  if (!bf16_avx2.empty() && !bf16_avx512.empty()) CHECK(bf16_avx2 == bf16_avx512);
  sealsum::kernels::set_isa(was);
}

namespace {

// Writes a value identifying (row tag, layer, k/v, position, column) into the current position.
float tag_value(int tag, int64_t layer, int kv, int64_t pos, int64_t c) {
  return static_cast<float>(tag * 100000 + layer * 10000 + kv * 1000 + pos * 10 + c);
}

void write_step(KvCache& cache, const std::vector<int>& tags) {
  cache.reserve_next();
  const int64_t t = cache.length();
  for (int64_t r = 0; r < cache.rows(); ++r) {
    for (int64_t l = 0; l < cache.layers(); ++l) {
      for (int64_t c = 0; c < cache.width(); ++c) {
        cache.k(l, r)[t * cache.width() + c] = tag_value(tags[static_cast<size_t>(r)], l, 0, t, c);
        cache.v(l, r)[t * cache.width() + c] = tag_value(tags[static_cast<size_t>(r)], l, 1, t, c);
      }
    }
  }
  cache.advance();
}

// Row r holds, at every position p, the tag history[r][p].
void expect_rows(KvCache& cache, const std::vector<std::vector<int>>& history) {
  REQUIRE(cache.rows() == static_cast<int64_t>(history.size()));
  for (int64_t r = 0; r < cache.rows(); ++r) {
    for (int64_t p = 0; p < cache.length(); ++p) {
      for (int64_t l = 0; l < cache.layers(); ++l) {
        for (int64_t c = 0; c < cache.width(); ++c) {
          const int tag = history[static_cast<size_t>(r)][static_cast<size_t>(p)];
          REQUIRE(cache.k(l, r)[p * cache.width() + c] == tag_value(tag, l, 0, p, c));
          REQUIRE(cache.v(l, r)[p * cache.width() + c] == tag_value(tag, l, 1, p, c));
        }
      }
    }
  }
}

}  // namespace

TEST_CASE("KvCache: reorder follows rows, copies only forks, survives growth", "[layers]") {
  KvCache cache(/*layers=*/2, /*width=*/3, /*capacity_hint=*/2);
  std::vector<std::vector<int>> hist = {{}};
  auto step = [&](std::vector<int> tags) {
    write_step(cache, tags);
    for (size_t r = 0; r < hist.size(); ++r) hist[r].push_back(tags[r]);
  };
  auto reorder = [&](std::vector<int32_t> src) {
    REQUIRE(cache.reorder(src).is_ok());
    std::vector<std::vector<int>> h;
    for (int32_t s : src) h.push_back(hist[static_cast<size_t>(s)]);
    hist = h;
  };
  step({1});
  reorder({0, 0, 0, 0});  // fan out: the first keeps the slot, three copies
  CHECK(cache.rows_copied() == 3);
  step({2, 3, 4, 5});
  expect_rows(cache, hist);
  reorder({3, 1, 2, 0});  // a permutation: no copies
  CHECK(cache.rows_copied() == 3);
  step({6, 7, 8, 9});      // grows capacity 2 -> 4 (length 3)
  reorder({1, 1, 2, 2});  // two forks: two copies into the dropped rows' slots
  CHECK(cache.rows_copied() == 5);
  step({10, 11, 12, 13});
  step({14, 15, 16, 17});  // grows 4 -> 8
  expect_rows(cache, hist);
  reorder({2});
  expect_rows(cache, hist);
  CHECK(cache.length() == 5);
}

TEST_CASE("KvCache: reorder refuses bad source rows", "[layers]") {
  KvCache cache(1, 4, 4);
  write_step(cache, {1});
  CHECK(cache.reorder(std::vector<int32_t>{}).code() == sealsum::Code::kInvalidArgument);
  CHECK(cache.reorder(std::vector<int32_t>{1}).code() == sealsum::Code::kInvalidArgument);
  CHECK(cache.reorder(std::vector<int32_t>{-1}).code() == sealsum::Code::kInvalidArgument);
  CHECK(cache.rows() == 1);
}

TEST_CASE("Linear: fused parts equal separate linears; bias applied", "[layers]") {
  const int64_t in = 37, m = 5;
  auto a = random_vec(static_cast<size_t>(7 * in), 21), b = random_vec(static_cast<size_t>(9 * in), 22);
  auto bb = random_vec(9, 23), x = random_vec(static_cast<size_t>(m * in), 24);
  const Linear::Part parts[] = {{a.data(), 7, nullptr}, {b.data(), 9, bb.data()}};
  Linear fused = Linear::fused(parts, in);
  REQUIRE(fused.out_features() == 16);
  std::vector<float> y(static_cast<size_t>(m * 16));
  fused.forward(x.data(), m, y.data(), nullptr);
  for (int64_t i = 0; i < m; ++i) {
    for (int64_t o = 0; o < 16; ++o) {
      const float* w = o < 7 ? a.data() + o * in : b.data() + (o - 7) * in;
      double acc = o < 7 ? 0.0 : bb[static_cast<size_t>(o - 7)];
      for (int64_t c = 0; c < in; ++c) acc += static_cast<double>(x[static_cast<size_t>(i * in + c)]) * w[c];
      CHECK(std::fabs(y[static_cast<size_t>(i * 16 + o)] - acc) < 1e-4);
    }
  }
}

TEST_CASE("Linear: panel-stored weights give bit-identical outputs, read in place where possible", "[layers]") {
  using sealsum::kernels::Isa;
  const int64_t in = 40, m = 6;
  // Parts of 32 and 64 rows (whole panels), stored back to back as a converter writes them.
  auto a = random_vec(static_cast<size_t>(32 * in), 31), b = random_vec(static_cast<size_t>(64 * in), 32);
  auto x = random_vec(static_cast<size_t>(m * in), 33), bias = random_vec(64, 34);
  const auto pa = sealsum::weights::to_panels(a, 32, in), pb = sealsum::weights::to_panels(b, 64, in);
  AlignedStore store(pa.size() + pb.size());
  std::copy(pa.begin(), pa.end(), store.data());
  std::copy(pb.begin(), pb.end(), store.data() + pa.size());
  // A ragged matrix (45 rows: the second panel half padding) for the single-matrix path.
  auto c = random_vec(static_cast<size_t>(45 * in), 35);
  const auto pc = sealsum::weights::to_panels(c, 45, in);
  AlignedStore store_c(pc.size());
  std::copy(pc.begin(), pc.end(), store_c.data());
  // Parts not back to back (b first): still correct, through a packed copy.
  AlignedStore swapped(pa.size() + pb.size());
  std::copy(pb.begin(), pb.end(), swapped.data());
  std::copy(pa.begin(), pa.end(), swapped.data() + pb.size());

  const Isa before = sealsum::kernels::active_isa();
  for (Isa isa : {Isa::kScalar, Isa::kAvx2, Isa::kAvx512}) {
    if (!sealsum::kernels::isa_supported(isa)) continue;
    sealsum::kernels::set_isa(isa);
    INFO("isa " << sealsum::kernels::isa_name(isa));
    auto run = [&](const Linear& l) {
      std::vector<float> y(static_cast<size_t>(m * l.out_features()));
      l.forward(x.data(), m, y.data(), nullptr);
      return y;
    };
    const Linear::Part rows[] = {{a.data(), 32, nullptr}, {b.data(), 64, bias.data()}};
    const Linear::Part panels[] = {{{store.data(), true}, 32, nullptr},
                                   {{store.data() + pa.size(), true}, 64, bias.data()}};
    const Linear want = Linear::fused(rows, in), got = Linear::fused(panels, in);
    CHECK(!want.reads_in_place());
    CHECK(got.reads_in_place());  // every ISA reads the 32-wide file layout
    CHECK(run(got) == run(want));
    const Linear::Part apart[] = {{{swapped.data() + pb.size(), true}, 32, nullptr},
                                  {{swapped.data(), true}, 64, bias.data()}};
    const Linear copied = Linear::fused(apart, in);
    CHECK(!copied.reads_in_place());
    CHECK(run(copied) == run(want));
    const Linear ragged_rows(c.data(), 45, in, nullptr), ragged({store_c.data(), true}, 45, in, nullptr);
    CHECK(ragged.reads_in_place());
    CHECK(run(ragged) == run(ragged_rows));
    // Embedding lookups read rows of either form.
    std::vector<float> row(static_cast<size_t>(in));
    for (int64_t j : {0, 31, 32, 44}) {
      sealsum::layers::Weight(store_c.data(), true).row(j, in, row.data());
      CHECK(std::equal(row.begin(), row.end(), c.begin() + j * in));
    }
  }
  sealsum::kernels::set_isa(before);
}

TEST_CASE("Linear::quantized: int8 and bf16 weights, also when fused through a dequantized copy", "[layers]") {
  const int64_t in = 8;
  const auto w = random_vec(static_cast<size_t>(48 * in), 36);
  const auto q = sealsum::weights::quantize_i8_panels(std::span<const float>(w.data(), 16 * in), 16, in);
  const auto h = sealsum::weights::to_bf16_panels(std::span<const float>(w.data(), 16 * in), 16, in);
  AlignedStore codes(q.codes.size() / sizeof(float)), halves(h.size() / 2);
  std::memcpy(codes.data(), q.codes.data(), q.codes.size());
  std::memcpy(halves.data(), h.data(), h.size() * sizeof(uint16_t));
  const auto i8 = sealsum::layers::Weight::i8(reinterpret_cast<const int8_t*>(codes.data()), q.scales.data());
  const auto b16 = sealsum::layers::Weight::bf16(reinterpret_cast<const uint16_t*>(halves.data()));
  CHECK_FALSE(Linear(w.data(), 16, in, nullptr).quantized());
  CHECK(Linear(i8, 16, in, nullptr).quantized());
  CHECK(Linear(b16, 16, in, nullptr).quantized());
  // 16-row parts are not whole panels: fused into one f32 copy, still a quantized model's linear.
  const Linear::Part mixed[] = {{w.data() + 16 * in, 16, nullptr}, {i8, 16, nullptr}};
  const Linear::Part plain[] = {{w.data() + 16 * in, 16, nullptr}, {w.data() + 32 * in, 16, nullptr}};
  CHECK(Linear::fused(mixed, in).quantized());
  CHECK_FALSE(Linear::fused(plain, in).quantized());
}

TEST_CASE("FeedForward: plain ReLU and gated gelu_new match the formulas", "[layers]") {
  const int64_t d = 12, dff = 20, m = 3;
  auto wi = random_vec(static_cast<size_t>(dff * d), 31), wi1 = random_vec(static_cast<size_t>(dff * d), 32),
       wo = random_vec(static_cast<size_t>(d * dff), 33), x = random_vec(static_cast<size_t>(m * d), 34);
  auto matvec = [](const float* w, const std::vector<double>& v, int64_t rows, int64_t cols) {
    std::vector<double> r(static_cast<size_t>(rows), 0.0);
    for (int64_t o = 0; o < rows; ++o)
      for (int64_t c = 0; c < cols; ++c) r[static_cast<size_t>(o)] += static_cast<double>(w[o * cols + c]) * v[static_cast<size_t>(c)];
    return r;
  };
  FeedForward plain = FeedForward::plain(Activation::kRelu, wi.data(), nullptr, wo.data(), nullptr, d, dff);
  FeedForward gated = FeedForward::gated(Activation::kGeluNew, wi.data(), wi1.data(), wo.data(), d, dff);
  for (const bool is_gated : {false, true}) {
    const FeedForward& f = is_gated ? gated : plain;
    std::vector<float> scratch(static_cast<size_t>(f.scratch_floats(m))), y(static_cast<size_t>(m * d));
    f.forward(x.data(), m, y.data(), scratch.data(), nullptr);
    for (int64_t i = 0; i < m; ++i) {
      std::vector<double> xi(x.begin() + i * d, x.begin() + (i + 1) * d);
      auto h = matvec(wi.data(), xi, dff, d);
      auto up = matvec(wi1.data(), xi, dff, d);
      for (int64_t j = 0; j < dff; ++j) {
        double& g = h[static_cast<size_t>(j)];
        if (is_gated) {
          g = 0.5 * g * (1 + std::tanh(std::sqrt(2 / M_PI) * (g + 0.044715 * g * g * g))) * up[static_cast<size_t>(j)];
        } else {
          g = std::max(g, 0.0);
        }
      }
      auto want = matvec(wo.data(), h, d, dff);
      for (int64_t o = 0; o < d; ++o) CHECK(std::fabs(y[static_cast<size_t>(i * d + o)] - want[static_cast<size_t>(o)]) < 1e-4);
    }
  }
}

TEST_CASE("activation_from_name: known names, others refused", "[layers]") {
  CHECK(*sealsum::layers::activation_from_name("relu") == Activation::kRelu);
  CHECK(*sealsum::layers::activation_from_name("gelu") == Activation::kGelu);
  CHECK(*sealsum::layers::activation_from_name("gelu_new") == Activation::kGeluNew);
  auto bad = sealsum::layers::activation_from_name("swish");
  REQUIRE(!bad.ok());
  CHECK(bad.status().code() == sealsum::Code::kUnimplemented);
  CHECK(bad.status().message().find("swish") != std::string::npos);
}
