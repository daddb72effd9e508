// Beam search against hand-derived expectations on toy tables (ids: 0 start/pad, 1 EOS, 2 "a",
// 3 "b"). Every expected value below was derived by walking transformers 4.36's beam_search /
// BeamSearchScorer.process / finalize by hand over the table; the arithmetic is in the comments.
#include <catch2/catch.hpp>

#include <cmath>

#include "engine/decoding/generation.h"
#include "engine/decoding/toy_session_testing.h"

using sealsum::decoding::EarlyStopping;
using sealsum::decoding::GenerationParams;
using sealsum::decoding::generate;
using sealsum::decoding::testing::ToySession;

namespace {

using V = std::vector<int32_t>;

// Table A. Step 1 from [0]: a .5, b .4, eos .1.
//   [0,a]: eos .30, a .36, b .34      [0,b]: eos .9, a .05, b .05
//   [0,a,a] and [0,a,b]: eos .8, a .12, b .08;  anything else: eos .5, a .3, b .2
ToySession table_a() {
  ToySession s(4, {0, .5, .3, .2});
  s.set({0}, {0, .1, .5, .4});
  s.set({0, 2}, {0, .30, .36, .34});
  s.set({0, 3}, {0, .9, .05, .05});
  s.set({0, 2, 2}, {0, .8, .12, .08});
  s.set({0, 2, 3}, {0, .8, .12, .08});
  return s;
}

GenerationParams beam_params(int beams, double lp, EarlyStopping es, int max_length) {
  GenerationParams p;
  p.num_beams = beams;
  p.length_penalty = lp;
  p.early_stopping = es;
  p.max_length = max_length;
  p.decoder_start_token_id = 0;
  p.pad_token_id = 0;
  p.eos_token_ids = {1};
  return p;
}

}  // namespace

TEST_CASE("beam search: finished hypothesis with the best length-normalised score wins", "[beam]") {
  // Step 1: candidates a -0.693 (rank 0), b -0.916 (rank 1) fill both beams; the EOS at rank 2 is
  //         never reached (the scan stops once 2 beams are filled).
  // Step 2: [0,b]+eos = ln .4 + ln .9 = -1.0217 is rank 0 -> finished, len 2: -0.5108;
  //         [0,a,a] = ln .5 + ln .36 = -1.7148, [0,a,b] = -1.7720 become the beams.
  // Step 3: [0,a,a]+eos = -1.7148 + ln .8 = -1.9379 -> finished, len 3: -0.6460 (rank 0);
  //         [0,a,b]+eos = -1.9951 -> len 3: -0.6650 (rank 1), evicts itself (worst of 3).
  //         Two finished with early_stopping=True -> done after 3 steps.
  ToySession s = table_a();
  auto r = generate(s, beam_params(2, 1.0, EarlyStopping::kTrue, 10));
  REQUIRE(r.ok());
  REQUIRE(r->sequences == std::vector<V>{{0, 3, 1}});
  REQUIRE(r->scores.size() == 1);
  CHECK(r->scores[0] == Approx((std::log(.4) + std::log(.9)) / 2).epsilon(1e-6));
  CHECK(s.steps() == 3);
  // First reorder fans the single row out; step 2 keeps two children of beam 0.
  CHECK(s.reorders() == std::vector<V>{{0, 0}, {0, 0}});
}

TEST_CASE("beam search: length_penalty divides by generated_len ** length_penalty", "[beam]") {
  // lp 2: [0,b]+eos -1.0217 / 2^2 = -0.2554; [0,a,a]+eos -1.9379 / 3^2 = -0.2153 (better);
  //       [0,a,b]+eos -1.9951 / 9 = -0.2217 evicts [0,b]. Best: [0,a,a,eos].
  ToySession s = table_a();
  auto r = generate(s, beam_params(2, 2.0, EarlyStopping::kTrue, 10));
  REQUIRE(r.ok());
  CHECK(r->sequences == std::vector<V>{{0, 2, 2, 1}});
  CHECK(r->scores[0] == Approx((std::log(.5) + std::log(.36) + std::log(.8)) / 9).epsilon(1e-6));

  // lp 0: raw sums, -1.0217 beats -1.9379.
  ToySession s0 = table_a();
  auto r0 = generate(s0, beam_params(2, 0.0, EarlyStopping::kTrue, 10));
  REQUIRE(r0.ok());
  CHECK(r0->sequences == std::vector<V>{{0, 3, 1}});
  CHECK(r0->scores[0] == Approx(std::log(.4) + std::log(.9)).epsilon(1e-6));
}

TEST_CASE("beam search: num_return_sequences returns the best first, padded to one width", "[beam]") {
  // Finished: [0,b] -0.5108 and [0,a,a] -0.6460. Width = min(longest 3 + 1, max_length 10) = 4;
  // the shorter gets its EOS then pad (0); the longer gets its EOS.
  ToySession s = table_a();
  GenerationParams p = beam_params(2, 1.0, EarlyStopping::kTrue, 10);
  p.num_return_sequences = 2;
  auto r = generate(s, p);
  REQUIRE(r.ok());
  CHECK(r->sequences == std::vector<V>{{0, 3, 1, 0}, {0, 2, 2, 1}});
  REQUIRE(r->scores.size() == 2);
  CHECK(r->scores[0] == Approx(-0.5108256).epsilon(1e-6));
  CHECK(r->scores[1] == Approx(-0.6459807).epsilon(1e-6));
}

TEST_CASE("beam search: max_length ends the search and running beams are finalised", "[beam]") {
  // max_length 3: after step 2 the sequences have 3 tokens. Finished: [0,b] -0.5108; the running
  // beams [0,a,a] -1.7148 / 2 = -0.8574 and [0,a,b] -1.7720 / 2 = -0.8860 are added at
  // finalize (generated_len 2, no EOS); [0,a,a] takes the second place, [0,a,b] is rejected.
  ToySession s = table_a();
  GenerationParams p = beam_params(2, 1.0, EarlyStopping::kTrue, 3);
  p.num_return_sequences = 2;
  auto r = generate(s, p);
  REQUIRE(r.ok());
  CHECK(s.steps() == 2);
  // Width = min(3 + 1, 3) = 3: [0,a,a] is full, so no EOS; [0,b] gets its EOS.
  CHECK(r->sequences == std::vector<V>{{0, 3, 1}, {0, 2, 2}});
  CHECK(r->scores[1] == Approx((std::log(.5) + std::log(.36)) / 2).epsilon(1e-6));
}

TEST_CASE("beam search: min_length bans EOS until the sequence is long enough", "[beam]") {
  // min_length 4: EOS is -inf while cur_len < 4, so no hypothesis can end before 4 tokens.
  // Step 2 beams: [0,a,a] -1.7148, [0,a,b] -1.7720 ([0,b,*] needs .05: -3.912).
  // Step 3 beams: [0,a,a,a] -1.7148 + ln .12 = -3.835, [0,a,b,a] -1.7720 + ln .12 = -3.892.
  // Step 4 (fallback eos .5): [0,a,a,a]+eos = -4.528 -> len 4: -1.1321 (rank 0),
  //         [0,a,b,a]+eos = -4.585 -> -1.1463 (rank 1): two finished -> done.
  ToySession s = table_a();
  GenerationParams p = beam_params(2, 1.0, EarlyStopping::kTrue, 10);
  p.min_length = 4;
  auto r = generate(s, p);
  REQUIRE(r.ok());
  CHECK(r->sequences == std::vector<V>{{0, 2, 2, 2, 1}});
  CHECK(r->scores[0] == Approx((std::log(.5) + std::log(.36) + std::log(.12) + std::log(.5)) / 4).epsilon(1e-6));
  CHECK(s.steps() == 4);
  CHECK(s.reorders() == std::vector<V>{{0, 0}, {0, 0}, {0, 1}});
}

TEST_CASE("beam search: forced BOS replaces the first log-prob by 0", "[beam]") {
  // forced_bos 2: step 1 candidates are beam 0 "a" (0) and beam 1 "a" (-1e9), everything else -inf.
  // [0,a] keeps score 0, so [0,a,a]+eos = ln .36 + ln .8 = -1.2448 / 3 = -0.4149 wins.
  ToySession s = table_a();
  GenerationParams p = beam_params(2, 1.0, EarlyStopping::kTrue, 10);
  p.forced_bos_token_id = 2;
  auto r = generate(s, p);
  REQUIRE(r.ok());
  CHECK(r->sequences == std::vector<V>{{0, 2, 2, 1}});
  CHECK(r->scores[0] == Approx((std::log(.36) + std::log(.8)) / 3).epsilon(1e-6));
  // Step 1 took "a" from beams 0 and 1 (the -1e9 copy); both are the session's single row, so the
  // fan-out reorder is {0, 0}. Step 2 keeps [0,a,a] and [0,a,b], both children of beam 0.
  CHECK(s.reorders() == std::vector<V>{{0, 0}, {0, 0}});
}

TEST_CASE("beam search: forced EOS at max_length - 1 closes every beam", "[beam]") {
  // max_length 3, forced_eos 1: at cur_len 2 only EOS is finite (log-prob replaced by 0), so the
  // beams end with their running scores: [0,a] ln .5 / 2 = -0.3466 beats [0,b] ln .4 / 2.
  ToySession s = table_a();
  GenerationParams p = beam_params(2, 1.0, EarlyStopping::kTrue, 3);
  p.forced_eos_token_id = 1;
  auto r = generate(s, p);
  REQUIRE(r.ok());
  CHECK(r->sequences == std::vector<V>{{0, 2, 1}});
  CHECK(r->scores[0] == Approx(std::log(.5) / 2).epsilon(1e-6));
}

namespace {
// Table E: early_stopping decides the outcome.
//   [0]: eos .5, a .3, b .2     [0,b]: eos .1, b .9     [0,a]: eos .55, a .45
//   [0,b,b]: eos .95, a .03, b .02     [0,a,a]: eos .6, a .4     else: eos .5, a .35, b .15
ToySession table_e() {
  ToySession s(4, {0, .5, .35, .15});
  s.set({0}, {0, .5, .3, .2});
  s.set({0, 3}, {0, .1, 0, .9});
  s.set({0, 2}, {0, .55, .45, 0});
  s.set({0, 3, 3}, {0, .95, .03, .02});
  s.set({0, 2, 2}, {0, .6, .4, 0});
  return s;
}
}  // namespace

TEST_CASE("beam search: early_stopping True / False / never", "[beam]") {
  // Step 1: eos (ln .5, rank 0) finishes [0] with -0.6931; beams [0,a] -1.204, [0,b] -1.609.
  // Step 2: [0,b,b] -1.715 (rank 0), [0,a]+eos -1.802 (rank 1) -> finished -0.9009; [0,a,a] -2.003.
  //   True: 2 finished -> done: best [0] + eos.
  //   False: highest attainable = best candidate -1.715 / (cur_len 3 - 1) = -0.857 > worst -0.901:
  //          go on. Step 3: [0,b,b]+eos = -1.766 -> -0.5887 evicts -0.9009 (worst now -0.6931);
  //          -1.766 / 3 = -0.5887 > -0.6931: go on. Step 4: best candidate [0,a,a,a]+eos
  //          -2.919 + ln .5 = -3.612; -3.612 / 4 = -0.903 <= -0.6931: done.
  //   never (lp > 0): highest uses max_length - 1 (= 9 for max_length 10), so it runs to step 7
  //          (best candidate -3.61, -4.66, -5.71, -6.76 at steps 4..7, each fallback step adding ln .35;
  //          step 7: -6.76 / 9 = -0.751 <= -0.6931); same winner.
  struct Case {
    EarlyStopping es;
    int max_length;
    V expected;
    int steps;
  };
  const Case cases[] = {
      {EarlyStopping::kTrue, 10, {0, 1}, 2},
      {EarlyStopping::kFalse, 10, {0, 3, 3, 1}, 4},
      {EarlyStopping::kNever, 6, {0, 3, 3, 1}, 4},
      {EarlyStopping::kNever, 10, {0, 3, 3, 1}, 7},
  };
  for (const Case& c : cases) {
    ToySession s = table_e();
    auto r = generate(s, beam_params(2, 1.0, c.es, c.max_length));
    REQUIRE(r.ok());
    CHECK(r->sequences == std::vector<V>{c.expected});
    CHECK(s.steps() == c.steps);
  }
}

TEST_CASE("beam search: the session's rows always hold the running beams", "[beam]") {
  ToySession s = table_e();
  auto r = generate(s, beam_params(2, 1.0, EarlyStopping::kNever, 10));
  REQUIRE(r.ok());
  // After the last step the rows hold the beams of the step before (they were fed, then the
  // search stopped without another reorder): each row is one of the final running sequences
  // minus its last token, and both start with the decoder start token.
  REQUIRE(s.rows() == 2);
  for (const auto& row : s.row_sequences()) {
    REQUIRE(row.size() == 7);
    CHECK(row.front() == 0);
  }
}
