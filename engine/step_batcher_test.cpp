// Cross-request batching: models::step_sessions (rows of several sessions, each with its own
// encoder output, input length, position and row count, in one step) gives every session the exact
// bits of its own step(); StepBatcher runs concurrent searches (greedy and beam) joined at
// different steps to the same sequences and scores as solo runs; an Engine with batch_decoding
// answers concurrent calls exactly as one without.
#include <catch2/catch.hpp>

#include <atomic>
#include <cstring>
#include <functional>
#include <random>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/decoding/generation.h"
#include "engine/engine.h"
#include "engine/models/seq2seq.h"
#include "engine/step_batcher.h"
#include "secure/secret_buffer.h"
#include "weights/model_file.h"
#include "weights/schema.h"

namespace {

using json = nlohmann::json;
using sealsum::models::DecoderSession;
using sealsum::models::EncoderOutput;
using sealsum::models::Seq2SeqModel;

json t5_config() {
  return {{"model_type", "t5"}, {"vocab_size", 40}, {"d_model", 24}, {"d_kv", 4}, {"num_heads", 6},
          {"d_ff", 40}, {"num_layers", 2}, {"num_decoder_layers", 2}, {"relative_attention_num_buckets", 8},
          {"relative_attention_max_distance", 20}, {"feed_forward_proj", "gated-gelu"},
          {"tie_word_embeddings", false}, {"decoder_start_token_id", 0}, {"eos_token_id", 1}, {"pad_token_id", 0}};
}

json bart_config() {
  return {{"model_type", "bart"}, {"vocab_size", 45}, {"d_model", 16}, {"max_position_embeddings", 40},
          {"encoder_layers", 2}, {"decoder_layers", 2}, {"encoder_attention_heads", 4},
          {"decoder_attention_heads", 2}, {"encoder_ffn_dim", 12}, {"decoder_ffn_dim", 20},
          {"activation_function", "gelu"}, {"scale_embedding", true}, {"decoder_start_token_id", 2},
          {"eos_token_id", 2}, {"pad_token_id", 1}};
}

// Random weights (norm weights near 1) in the panel layout, as converted model files hold them;
// linear weights as `dtype` (int8 and bf16 models also keep cross-attention keys and values in bf16).
std::unique_ptr<Seq2SeqModel> make_model(const std::string& arch, const json& config,
                                         sealsum::weights::DType dtype = sealsum::weights::DType::kF32) {
  sealsum::weights::ModelWriter w(arch, config, json::object());
  auto schema = sealsum::weights::expected_schema(arch, config);
  REQUIRE(schema.ok());
  std::mt19937 g(11);
  std::uniform_real_distribution<float> u(-0.5f, 0.5f);
  for (size_t i : schema->storage_order()) {
    const auto& t = schema->tensors[i];
    int64_t n = 1;
    for (int64_t s : t.shape) n *= s;
    std::vector<float> v(static_cast<size_t>(n));
    const bool norm = t.name.find("norm") != std::string::npos && t.name.ends_with("weight");
    for (auto& x : v) x = norm ? 1.0f + u(g) : u(g);
    if (t.linear) {
      w.add_linear_weight(t.name, t.shape[0], t.shape[1], v, dtype);
      continue;
    }
    std::vector<uint8_t> bytes(v.size() * sizeof(float));
    std::memcpy(bytes.data(), v.data(), bytes.size());
    w.add_tensor(t.name, sealsum::weights::DType::kF32, t.shape, std::move(bytes));
  }
  for (const auto& [alias, target] : schema->aliases) w.add_alias(alias, target);
  REQUIRE(w.validate().is_ok());
  auto buf = sealsum::secure::SecretBuffer::copy_of(w.serialize());
  REQUIRE(buf.ok());
  auto file = sealsum::weights::ModelFile::from_buffer(std::move(buf).value(), "test model");
  REQUIRE(file.ok());
  auto m = sealsum::models::load_model(std::make_shared<const sealsum::weights::ModelFile>(std::move(file).value()));
  INFO(m.status().to_string());
  REQUIRE(m.ok());
  return std::move(m).value();
}

std::shared_ptr<const EncoderOutput> encode(const Seq2SeqModel& m, int64_t length, int seed) {
  std::vector<int32_t> ids;
  for (int64_t i = 0; i < length; ++i) ids.push_back(static_cast<int32_t>(3 + (i * 7 + seed * 5) % 30));
  auto enc = m.encode(ids, nullptr);
  REQUIRE(enc.ok());
  return *enc;
}

// One session driven two ways: `solo` by its own step(), `shared` inside step_sessions batches.
struct Twin {
  std::unique_ptr<DecoderSession> solo, shared;
  std::vector<int32_t> tokens;
  std::vector<float> want, got;
};

Twin twin(const Seq2SeqModel& m, int64_t length, int seed) {
  auto enc = encode(m, length, seed);
  auto a = m.start_session(enc, nullptr, 4);
  auto b = m.start_session(enc, nullptr, 4);
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  return Twin{std::move(a).value(), std::move(b).value(), {}, {}, {}};
}

// Steps the twins in `active` together (shared) and one by one (solo); logits must be bit-equal.
void step_together(std::vector<Twin*> active, int step) {
  std::vector<DecoderSession*> sessions;
  std::vector<std::span<const int32_t>> tokens;
  std::vector<float*> logits;
  for (size_t i = 0; i < active.size(); ++i) {
    Twin& t = *active[i];
    const int64_t R = t.solo->rows(), V = t.solo->vocab_size();
    t.tokens.assign(static_cast<size_t>(R), 0);
    for (int64_t r = 0; r < R; ++r) t.tokens[static_cast<size_t>(r)] = static_cast<int32_t>(3 + (step * 3 + r * 5 + i) % 35);
    t.want.assign(static_cast<size_t>(R * V), 0.0f);
    t.got.assign(static_cast<size_t>(R * V), -1.0f);
    REQUIRE(t.solo->step(t.tokens, t.want.data()).is_ok());
    sessions.push_back(t.shared.get());
    tokens.push_back(t.tokens);
    logits.push_back(t.got.data());
  }
  REQUIRE(sealsum::models::step_sessions(sessions, tokens, logits, nullptr).is_ok());
  for (size_t i = 0; i < active.size(); ++i) {
    INFO("step " << step << ", session " << i);
    CHECK(std::memcmp(active[i]->want.data(), active[i]->got.data(), active[i]->want.size() * sizeof(float)) == 0);
  }
}

void reorder_both(Twin& t, std::vector<int32_t> src) {
  REQUIRE(t.solo->reorder(src).is_ok());
  REQUIRE(t.shared->reorder(src).is_ok());
}

void check_step_sessions(const Seq2SeqModel& m) {
  Twin a = twin(m, 9, 1), b = twin(m, 3, 2), c = twin(m, 14, 3);
  step_together({&a}, 0);  // a alone
  step_together({&a}, 1);
  reorder_both(a, {0, 0, 0, 0});   // a fans out to 4 beams
  step_together({&a, &b}, 2);      // b joins at a's third step
  reorder_both(b, {0, 0});
  step_together({&b, &a}, 3);
  reorder_both(a, {2, 0, 2, 3});
  step_together({&a, &c, &b}, 4);  // c joins: 4 + 1 + 2 rows, three input lengths, three positions
  reorder_both(c, {0, 0, 0});
  for (int s = 5; s < 12; ++s) step_together({&c, &a}, s);  // b left; the cache grows past 4
  step_together({&b}, 12);                                // b goes on alone at its own position
}

}  // namespace

TEST_CASE("step_sessions: rows of several sessions in one step get their solo bits", "[batching]") {
  SECTION("t5") { check_step_sessions(*make_model("t5", t5_config())); }
  SECTION("bart") { check_step_sessions(*make_model("bart", bart_config())); }
  SECTION("t5 int8") { check_step_sessions(*make_model("t5", t5_config(), sealsum::weights::DType::kI8)); }
  SECTION("bart bf16") { check_step_sessions(*make_model("bart", bart_config(), sealsum::weights::DType::kBF16)); }
}

TEST_CASE("step_sessions refuses mixed models, repeats and bad tokens, changing nothing", "[batching]") {
  auto t5 = make_model("t5", t5_config());
  auto other = make_model("t5", t5_config());
  Twin a = twin(*t5, 4, 1), b = twin(*other, 4, 1);
  std::vector<int32_t> one{3}, bad{99};
  std::vector<float> la(40), lb(40);
  std::vector<DecoderSession*> mixed{a.shared.get(), b.shared.get()};
  std::vector<std::span<const int32_t>> toks{one, one};
  std::vector<float*> outs{la.data(), lb.data()};
  CHECK(sealsum::models::step_sessions(mixed, toks, outs, nullptr).code() == sealsum::Code::kInvalidArgument);
  std::vector<DecoderSession*> twice{a.shared.get(), a.shared.get()};
  CHECK(sealsum::models::step_sessions(twice, toks, outs, nullptr).code() == sealsum::Code::kInvalidArgument);
  Twin c = twin(*t5, 6, 2);
  std::vector<DecoderSession*> two{a.shared.get(), c.shared.get()};
  std::vector<std::span<const int32_t>> with_bad{one, bad};
  CHECK(sealsum::models::step_sessions(two, with_bad, outs, nullptr).code() == sealsum::Code::kInvalidArgument);
  // Nothing moved: a and c still step in lockstep with their solo twins from position 0.
  step_together({&a, &c}, 0);
}

namespace {

sealsum::decoding::GenerationParams params(int beams, int new_tokens) {
  sealsum::decoding::GenerationParams p;
  p.num_beams = beams;
  p.max_new_tokens = new_tokens;
  p.decoder_start_token_id = 0;
  p.pad_token_id = 0;
  p.eos_token_ids = {1};
  p.no_repeat_ngram_size = beams > 1 ? 2 : 0;
  p.num_return_sequences = beams > 1 ? 2 : 1;
  return p;
}

// Runs `before(n)` ahead of the n-th step (n from 0) of `inner`: lets a test hold a search at a step.
class Gated final : public DecoderSession {
 public:
  Gated(DecoderSession& inner, std::function<void(int64_t)> before) : inner_(inner), before_(std::move(before)) {}
  int64_t vocab_size() const override { return inner_.vocab_size(); }
  int64_t rows() const override { return inner_.rows(); }
  sealsum::Status step(std::span<const int32_t> tokens, float* logits) override {
    before_(steps_++);
    return inner_.step(tokens, logits);
  }
  sealsum::Status reorder(std::span<const int32_t> src) override { return inner_.reorder(src); }

 private:
  DecoderSession& inner_;
  std::function<void(int64_t)> before_;
  int64_t steps_ = 0;
};

}  // namespace

TEST_CASE("StepBatcher: searches joined at different steps equal solo runs", "[batching]") {
  auto m = make_model("t5", t5_config());
  std::mutex pool_mu;
  sealsum::engine::StepBatcher batcher(nullptr, pool_mu);
  CHECK(batcher.mean_sessions_per_batch() == 0.0);  // no batch yet
  struct Job {
    int64_t length;
    sealsum::decoding::GenerationParams p;
    int64_t join_after;  // batches run before this search attaches
    sealsum::decoding::GenerateOutput got, want;
  };
  // Job 0 runs all 30 steps (no EOS): the later jobs wait on its batches to attach.
  sealsum::decoding::GenerationParams first = params(1, 30);
  first.eos_token_ids.clear();
  std::vector<Job> jobs = {{11, first, 0, {}, {}}, {4, params(4, 25), 3, {}, {}},
                           {17, params(3, 20), 6, {}, {}}, {7, params(1, 12), 9, {}, {}}};
  for (size_t i = 0; i < jobs.size(); ++i) {
    auto s = m->start_session(encode(*m, jobs[i].length, static_cast<int>(i)), nullptr, 8);
    REQUIRE(s.ok());
    auto out = sealsum::decoding::generate(**s, jobs[i].p);
    REQUIRE(out.ok());
    jobs[i].want = *out;
  }
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  std::vector<std::atomic<bool>> joined(jobs.size());
  for (size_t i = 0; i < jobs.size(); ++i) {
    threads.emplace_back([&, i] {
      Job& j = jobs[i];
      auto s = m->start_session(encode(*m, j.length, static_cast<int>(i)), nullptr, 8);
      while (batcher.batches() < j.join_after) std::this_thread::yield();
      auto attached = batcher.attach(**s);
      joined[i] = true;
      // Job 0 holds at each later job's join step until that job has attached: the joins overlap.
      Gated gated(*attached, [&](int64_t n) {
        for (size_t k = 1; k < jobs.size(); ++k) {
          if (i == 0 && n == jobs[k].join_after) {
            while (!joined[k]) std::this_thread::yield();
          }
        }
      });
      auto out = sealsum::decoding::generate(gated, j.p);
      if (!out.ok()) {
        ++failures;
        return;
      }
      j.got = *out;
    });
  }
  for (auto& t : threads) t.join();
  REQUIRE(failures == 0);
  for (size_t i = 0; i < jobs.size(); ++i) {
    INFO("job " << i);
    CHECK(jobs[i].got.sequences == jobs[i].want.sequences);
    CHECK(jobs[i].got.scores == jobs[i].want.scores);
  }
  CHECK(batcher.attached() == 0);
  // Steps were shared: fewer batches than session-steps.
  CHECK(batcher.steps_shared() > batcher.batches());
  CHECK(batcher.mean_sessions_per_batch() ==
        static_cast<double>(batcher.steps_shared()) / static_cast<double>(batcher.batches()));
}
