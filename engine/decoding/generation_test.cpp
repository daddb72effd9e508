// Building blocks (log_softmax, topk, BeamHypotheses) and generate()'s argument checks.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "engine/decoding/beam_hypotheses.h"
#include "engine/decoding/generation.h"
#include "engine/decoding/logits_process.h"
#include "engine/decoding/toy_session_testing.h"
#include "engine/decoding/topk.h"

using sealsum::Code;
using sealsum::Status;
using namespace sealsum::decoding;
using sealsum::decoding::testing::ToySession;

TEST_CASE("log_softmax_row: (x - max) - log(sum exp(x - max)) in float32", "[math]") {
  std::vector<float> x{1.0f, 2.0f, 3.0f, -4.0f, 0.5f, 7.25f, 7.0f, -1.0f, 2.0f, 3.5f, 0.0f};
  std::vector<float> out(x.size());
  log_softmax_row(x.data(), out.data(), static_cast<int64_t>(x.size()));
  double s = 0;
  for (float v : x) s += std::exp(static_cast<double>(v) - 7.25);
  for (size_t i = 0; i < x.size(); ++i) {
    const double expect = (static_cast<double>(x[i]) - 7.25) - std::log(s);
    CHECK(out[i] == Approx(expect).margin(2e-6));
  }
  // The structure is exactly (x - max) - lse: the max element's output is exactly -lse.
  const float lse = -out[5];
  for (size_t i = 0; i < x.size(); ++i) CHECK(out[i] == (x[i] - 7.25f) - lse);
  // In-place works; a single element gives 0.
  float one = 42.0f;
  log_softmax_row(&one, &one, 1);
  CHECK(one == 0.0f);
}

TEST_CASE("argmax_row: first maximum; NaN wins", "[math]") {
  const float a[] = {1.f, 3.f, 3.f, 2.f};
  CHECK(argmax_row(a, 4) == 1);
  const float b[] = {-std::numeric_limits<float>::infinity(), -std::numeric_limits<float>::infinity()};
  CHECK(argmax_row(b, 2) == 0);
  const float c[] = {1.f, std::nanf(""), 5.f, std::nanf("")};
  CHECK(argmax_row(c, 4) == 1);
}

TEST_CASE("argmax_row equals torch.argmax's left-to-right scan on ragged rows with ties, zeros, infinities, NaN",
          "[math]") {
  // The specification: keep the first maximum; a NaN is the maximum and the first NaN wins.
  const auto scan = [](const std::vector<float>& r) {
    int64_t best = 0;
    for (size_t i = 1; i < r.size(); ++i) {
      if (std::isnan(r[static_cast<size_t>(best)])) break;
      if (std::isnan(r[i]) || r[i] > r[static_cast<size_t>(best)]) best = static_cast<int64_t>(i);
    }
    return best;
  };
  std::mt19937 rng(7);
  const float inf = std::numeric_limits<float>::infinity(), nan = std::nanf("");
  const float specials[] = {0.0f, -0.0f, inf, -inf, nan, 3.0f, -3.0f};
  int64_t checked = 0;
  for (const int64_t n : {1, 2, 3, 15, 63, 64, 65, 127, 128, 129, 200, 1000, 32128}) {
    for (int trial = 0; trial < 60; ++trial) {
      std::vector<float> r(static_cast<size_t>(n));
      // Few distinct values (ties), specials sprinkled with a trial-dependent density.
      for (auto& v : r) v = static_cast<float>(static_cast<int>(rng() % 7) - 5);
      const uint32_t density = 1 + static_cast<uint32_t>(trial % 6) * 40;
      for (auto& v : r) {
        if (rng() % density == 0) v = specials[rng() % 7];
      }
      if (trial % 10 == 9) std::fill(r.begin(), r.end(), trial % 20 == 9 ? -0.0f : -inf);
      if (trial % 10 == 8) r[static_cast<size_t>(rng() % static_cast<uint32_t>(n))] = nan;
      REQUIRE(argmax_row(r.data(), n) == scan(r));
      ++checked;
    }
  }
  CHECK(checked == 13 * 60);
}

TEST_CASE("topk_torch: descending values, both torch code paths", "[topk]") {
  std::vector<float> v(1000);
  for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<float>((i * 7919) % 1000) * 0.5f - 100.f;  // distinct
  std::vector<std::pair<float, int64_t>> queue;
  std::vector<TopkEntry> top;
  for (int64_t k : {1, 8, 15, 16, 200}) {  // k * 64 <= 1000: partial_sort; otherwise nth_element
    topk_torch(v.data(), 1000, k, queue, top);
    REQUIRE(top.size() == static_cast<size_t>(k));
    for (int64_t j = 0; j < k; ++j) {
      const float expect = static_cast<float>(999 - j) * 0.5f - 100.f;
      CHECK(top[static_cast<size_t>(j)].value == expect);
      CHECK(v[static_cast<size_t>(top[static_cast<size_t>(j)].index)] == expect);
    }
  }
  // Equal values are all returned (their relative order follows the library algorithm, as in torch).
  std::vector<float> t{1.f, 5.f, 5.f, 2.f, 5.f};
  topk_torch(t.data(), 5, 3, queue, top);
  std::vector<int64_t> idx{top[0].index, top[1].index, top[2].index};
  std::sort(idx.begin(), idx.end());
  CHECK(idx == std::vector<int64_t>{1, 2, 4});
  CHECK(top[2].value == 5.f);
}

// log_softmax_row's contract written plainly: sequential std::max, 8 interleaved lanes of exp.
static void plain_log_softmax(const std::vector<float>& in, std::vector<float>& out) {
  const size_t n = in.size();
  float mx = in[0];
  for (size_t i = 1; i < n; ++i) mx = std::max(mx, in[i]);
  float lane[8] = {};
  for (size_t i = 0; i < n; ++i) lane[i % 8] += std::exp(in[i] - mx);
  float sum = lane[0];
  for (size_t l = 1; l < 8 && l < n; ++l) sum += lane[l];
  const float lse = std::log(sum);
  out.resize(n);
  for (size_t i = 0; i < n; ++i) out[i] = (in[i] - mx) - lse;
}

TEST_CASE("log_softmax_row: bit for bit the plain sequential form, signed-zero maxima included", "[math]") {
  std::mt19937 rng(11);
  std::normal_distribution<float> d(0.0f, 4.0f);
  for (int trial = 0; trial < 300; ++trial) {
    const size_t n = 1 + rng() % (trial < 100 ? 40 : 3000);
    std::vector<float> x(n);
    for (auto& v : x) v = d(rng);
    if (trial % 3 == 0) {  // the maximum is zero, with both signs in the row
      for (auto& v : x) v = -std::fabs(v) - 200.0f;
      x[rng() % n] = -0.0f;
      x[rng() % n] = 0.0f;
    }
    std::vector<float> expect, got(n);
    plain_log_softmax(x, expect);
    log_softmax_row(x.data(), got.data(), static_cast<int64_t>(n));
    std::vector<float> in_place = x;  // in and out may alias
    log_softmax_row(in_place.data(), in_place.data(), static_cast<int64_t>(n));
    for (size_t i = 0; i < n; ++i) {
      INFO("trial " << trial << " n " << n << " i " << i);
      CHECK(std::memcmp(&in_place[i], &expect[i], sizeof(float)) == 0);
      CHECK(std::signbit(got[i]) == std::signbit(expect[i]));
      CHECK(got[i] == expect[i]);
    }
  }
}

TEST_CASE("all_finite: any NaN or infinity anywhere, blocks and tail", "[math]") {
  for (int64_t n : {1, 7, 64, 65, 200, 32128}) {
    std::vector<float> row(static_cast<size_t>(n), -3.5f);
    row[0] = std::numeric_limits<float>::max();
    CHECK(all_finite(row.data(), n));
    for (float bad : {std::numeric_limits<float>::infinity(), -std::numeric_limits<float>::infinity(), std::nanf("")}) {
      for (int64_t pos : {int64_t{0}, n / 2, n - 1}) {
        std::vector<float> r = row;
        r[static_cast<size_t>(pos)] = bad;
        INFO("n " << n << " pos " << pos);
        CHECK_FALSE(all_finite(r.data(), n));
      }
    }
  }
}

// The plain torch path: every (value, index) pair in a queue, std::partial_sort with torch's comparator.
static std::vector<std::pair<float, int64_t>> plain_topk(const std::vector<float>& v, int64_t k) {
  std::vector<std::pair<float, int64_t>> q;
  for (size_t j = 0; j < v.size(); ++j) q.emplace_back(v[j], static_cast<int64_t>(j));
  std::partial_sort(q.begin(), q.begin() + k, q.end(), [](const auto& x, const auto& y) {
    return (std::isnan(x.first) && !std::isnan(y.first)) || (x.first > y.first);
  });
  q.resize(static_cast<size_t>(k));
  return q;
}

TEST_CASE("topk_torch: the filtered partial_sort keeps torch's order of ties, and NaN rows", "[topk]") {
  std::mt19937 rng(7);
  std::vector<std::pair<float, int64_t>> queue;
  std::vector<TopkEntry> top;
  for (int trial = 0; trial < 200; ++trial) {
    const int64_t n = 64 + static_cast<int64_t>(rng() % 3000);
    const int64_t k = 1 + static_cast<int64_t>(rng() % static_cast<uint32_t>(n / 64));
    // Few distinct values (many ties), ascending trends (many entries enter the heap) or NaNs.
    const int levels = trial % 3 == 0 ? 3 : trial % 3 == 1 ? 50 : 100000;
    std::vector<float> v(static_cast<size_t>(n));
    for (int64_t j = 0; j < n; ++j) {
      float x = static_cast<float>(static_cast<int>(rng() % static_cast<uint32_t>(levels)));
      if (trial % 4 == 1) x += static_cast<float>(j / 16);
      v[static_cast<size_t>(j)] = x;
    }
    if (trial % 10 == 9) v[rng() % v.size()] = std::nanf("");
    const auto expect = plain_topk(v, k);
    topk_torch(v.data(), n, k, queue, top);
    REQUIRE(top.size() == static_cast<size_t>(k));
    for (int64_t j = 0; j < k; ++j) {
      INFO("trial " << trial << " rank " << j);
      CHECK(top[static_cast<size_t>(j)].index == expect[static_cast<size_t>(j)].second);
      const float got = top[static_cast<size_t>(j)].value;
      CHECK((got == expect[static_cast<size_t>(j)].first || (std::isnan(got) && std::isnan(expect[static_cast<size_t>(j)].first))));
    }
  }
}

TEST_CASE("BeamHypotheses: scoring, eviction and is_done", "[hyps]") {
  BeamHypotheses h(2, 2.0, EarlyStopping::kFalse, 20);
  h.add({0, 5}, -4.0, 2);  // -4 / 2^2 = -1
  CHECK(h.worst_score() == -1.0);
  h.add({0, 5, 6}, -18.0, 3);  // -18 / 9 = -2: set not full, worst -2
  CHECK(h.size() == 2);
  CHECK(h.worst_score() == -2.0);
  h.add({0, 7}, -10.0, 2);  // -2.5 <= worst: rejected
  CHECK(h.size() == 2);
  h.add({0, 8, 8}, -13.5, 3);  // -1.5 > -2: enters, evicts -2, worst = -1.5
  CHECK(h.size() == 2);
  CHECK(h.worst_score() == -1.5);
  auto best = h.best(2);
  CHECK(best[0].tokens == std::vector<int32_t>{0, 5});
  CHECK(best[1].tokens == std::vector<int32_t>{0, 8, 8});

  // False: best_sum / (cur_len - 1)^lp compared with worst (-1.5).
  CHECK(h.is_done(-6.0, 3));        // -6 / 4 = -1.5 <= -1.5
  CHECK_FALSE(h.is_done(-5.9, 3));  // -1.475 > -1.5
  BeamHypotheses never(2, 2.0, EarlyStopping::kNever, 4);
  never.add({0, 1}, -3.0, 2);  // -0.75
  never.add({0, 1}, -3.0, 2);
  CHECK_FALSE(never.is_done(-6.0, 3));  // lp > 0: -6 / (4 - 1)^2 = -0.667 > -0.75
  CHECK(never.is_done(-6.8, 3));        // -0.756 <= -0.75
  BeamHypotheses never_neg(2, -1.0, EarlyStopping::kNever, 40);
  never_neg.add({0, 1}, -3.0, 2);  // -3 * 2 = -6
  never_neg.add({0, 1}, -3.0, 2);
  CHECK(never_neg.is_done(-3.0, 3));  // lp <= 0: cur_len: -3 * 2 = -6 <= -6
  BeamHypotheses t(2, 1.0, EarlyStopping::kTrue, 20);
  t.add({0}, -1.0, 1);
  CHECK_FALSE(t.is_done(0.0, 2));
  t.add({0}, -5.0, 1);
  CHECK(t.is_done(0.0, 2));

  // Equal scores: best() returns the later-added first (Python's stable sort + pop()).
  BeamHypotheses e(3, 1.0, EarlyStopping::kTrue, 20);
  e.add({0, 2}, -2.0, 2);
  e.add({0, 3}, -2.0, 2);
  CHECK(e.best(1)[0].tokens == std::vector<int32_t>{0, 3});
}

TEST_CASE("generate: invalid parameters are rejected with the field named", "[params]") {
  const auto err = [](GenerationParams p) {
    ToySession s(4, {0, .5, .3, .2});
    auto r = generate(s, p);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == Code::kInvalidArgument);
    return r.status().message();
  };
  GenerationParams base;
  base.eos_token_ids = {1};
  auto p = base;
  p.num_beams = 0;
  CHECK_THAT(err(p), Catch::Contains("num_beams"));
  p = base;
  p.num_beams = 2;
  p.num_return_sequences = 3;
  CHECK_THAT(err(p), Catch::Contains("num_return_sequences"));
  p = base;
  p.num_return_sequences = 2;  // greedy returns one
  CHECK_THAT(err(p), Catch::Contains("num_return_sequences"));
  p = base;
  p.max_length = 1;
  CHECK_THAT(err(p), Catch::Contains("max_length"));
  p = base;
  p.max_new_tokens = 0;
  CHECK_THAT(err(p), Catch::Contains("max_new_tokens"));
  p = base;
  p.min_length = -1;
  CHECK_THAT(err(p), Catch::Contains("min_length"));
  p = base;
  p.no_repeat_ngram_size = -2;
  CHECK_THAT(err(p), Catch::Contains("no_repeat_ngram_size"));
  p = base;
  p.repetition_penalty = 0.0;
  CHECK_THAT(err(p), Catch::Contains("repetition_penalty"));
  p = base;
  p.length_penalty = std::nan("");
  CHECK_THAT(err(p), Catch::Contains("length_penalty"));
  p = base;
  p.eos_token_ids = {4};
  CHECK_THAT(err(p), Catch::Contains("eos_token_id"));
  p = base;
  p.decoder_start_token_id = -1;
  CHECK_THAT(err(p), Catch::Contains("decoder_start_token_id"));
  p = base;
  p.forced_bos_token_id = 9;
  CHECK_THAT(err(p), Catch::Contains("forced_bos_token_id"));
  p = base;
  p.forced_eos_token_id = 4;
  CHECK_THAT(err(p), Catch::Contains("forced_eos_token_id"));
  p = base;
  p.pad_token_id = 100;
  CHECK_THAT(err(p), Catch::Contains("pad_token_id"));
  p = base;
  p.num_beams = 3;  // 2 * 3 = 6 candidates > 3 beams * 1 token
  {
    ToySession tiny(1, {1.0});
    p.eos_token_ids = {};
    p.decoder_start_token_id = 0;
    p.pad_token_id = 0;
    auto r = generate(tiny, p);
    REQUIRE_FALSE(r.ok());
    CHECK_THAT(r.status().message(), Catch::Contains("num_beams"));
  }
}

namespace {
class FailingSession : public DecoderSession {
 public:
  explicit FailingSession(bool nan) : nan_(nan) {}
  int64_t vocab_size() const override { return 3; }
  int64_t rows() const override { return rows_; }
  Status step(std::span<const int32_t>, float* logits) override {
    if (!nan_) return sealsum::unavailable("device lost");
    for (int64_t i = 0; i < 3 * rows_; ++i) logits[i] = i == 1 ? std::nanf("") : 0.f;
    return Status::ok();
  }
  Status reorder(std::span<const int32_t> src) override {
    rows_ = static_cast<int64_t>(src.size());
    return Status::ok();
  }
  int64_t rows_ = 1;
  bool nan_;
};
}  // namespace

TEST_CASE("generate: session failures and non-finite logits surface as errors", "[errors]") {
  GenerationParams p;
  p.eos_token_ids = {2};
  for (int beams : {1, 2}) {
    p.num_beams = beams;
    FailingSession down(false);
    auto r = generate(down, p);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == Code::kUnavailable);
    CHECK_THAT(r.status().message(), Catch::Contains("decoder step"));
    FailingSession nan(true);
    auto r2 = generate(nan, p);
    REQUIRE_FALSE(r2.ok());
    CHECK(r2.status().code() == Code::kInternal);
  }
  // A session that already holds several rows is refused.
  FailingSession two(true);
  two.rows_ = 2;
  p.num_beams = 1;
  auto r3 = generate(two, p);
  REQUIRE_FALSE(r3.ok());
  CHECK(r3.status().code() == Code::kInvalidArgument);
}
