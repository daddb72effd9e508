// The Engine facade on a small random T5 built in memory with the real T5 tokenizer embedded:
// summarization defaults and prefix from the config, truncation keeping </s>, summarize/generate
// agreement, concurrent calls equal to sequential ones, and load errors.
#include <catch2/catch.hpp>

#include <atomic>
#include <cstring>
#include <fstream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/fixtures.h"
#include "common/proc_status.h"
#include "engine/engine.h"
#include "secure/secret_buffer.h"
#include "tokenizer/tokenizer.h"
#include "weights/model_file.h"
#include "weights/schema.h"
#include "weights/tokenizer_blob.h"

namespace {

using json = nlohmann::json;

sealsum::weights::ModelFile tiny_t5_with_tokenizer() {
  json c = {{"model_type", "t5"}, {"vocab_size", 32128}, {"d_model", 16}, {"d_kv", 4}, {"num_heads", 4},
            {"d_ff", 24}, {"num_layers", 2}, {"num_decoder_layers", 2}, {"relative_attention_num_buckets", 8},
            {"relative_attention_max_distance", 20}, {"feed_forward_proj", "relu"},
            {"decoder_start_token_id", 0}, {"eos_token_id", 1}, {"pad_token_id", 0},
            {"task_specific_params",
             {{"summarization",
               {{"early_stopping", true}, {"length_penalty", 2.0}, {"max_length", 12}, {"min_length", 4},
                {"no_repeat_ngram_size", 3}, {"num_beams", 3}, {"prefix", "summarize: "}}}}}};
  sealsum::weights::ModelWriter w("t5", c, json::object());
  auto schema = sealsum::weights::expected_schema("t5", c);
  REQUIRE(schema.ok());
  std::mt19937 g(3);
  std::uniform_real_distribution<float> u(-0.5f, 0.5f);
  for (const auto& t : schema->tensors) {
    int64_t n = 1;
    for (int64_t s : t.shape) n *= s;
    std::vector<float> v(static_cast<size_t>(n));
    for (auto& x : v) x = u(g) + (t.name.find("layer_norm") != std::string::npos ? 1.0f : 0.0f);
    std::vector<uint8_t> bytes(v.size() * sizeof(float));
    std::memcpy(bytes.data(), v.data(), bytes.size());
    w.add_tensor(t.name, sealsum::weights::DType::kF32, t.shape, std::move(bytes));
  }
  for (const auto& [alias, target] : schema->aliases) w.add_alias(alias, target);
  auto src = sealsum::tok::read_tokenizer_source(sealsum::fixture("models/t5/spiece.model").string());
  REQUIRE(src.ok());
  REQUIRE(sealsum::weights::embed_tokenizer(w, *src).is_ok());
  auto buf = sealsum::secure::SecretBuffer::copy_of(w.serialize());
  REQUIRE(buf.ok());
  auto f = sealsum::weights::ModelFile::from_buffer(std::move(buf).value(), "tiny t5");
  INFO(f.status().to_string());
  REQUIRE(f.ok());
  return std::move(f).value();
}

const sealsum::engine::Engine& engine() {
  static std::unique_ptr<sealsum::engine::Engine> e = [] {
    auto r = sealsum::engine::Engine::from_model_file(tiny_t5_with_tokenizer(), {.threads = 2});
    INFO(r.status().to_string());
    REQUIRE(r.ok());
    return std::move(r).value();
  }();
  return *e;
}

}  // namespace

TEST_CASE("Engine: summarization defaults and prefix come from the config", "[engine]") {
  const auto& e = engine();
  CHECK(e.task_prefix() == "summarize: ");
  CHECK(e.default_params().num_beams == 3);
  CHECK(e.default_params().max_length == 12);
  CHECK(e.default_params().min_length == 4);
  CHECK(e.model_params().num_beams == 1);  // no task applied
  CHECK(e.max_input_tokens() == 512);
  CHECK(e.threads() == 2);
  CHECK(e.prepare_input("Hello world.") == e.tokenizer().encode("summarize: Hello world."));
}

TEST_CASE("Engine: long inputs are truncated to 512 tokens keeping </s>", "[engine]") {
  const auto& e = engine();
  std::string text;
  for (int i = 0; i < 400; ++i) text += "The committee met again today. ";
  const auto full = e.tokenizer().encode("summarize: " + text);
  REQUIRE(full.size() > 512);
  bool truncated = false;
  const auto ids = e.prepare_input(text, &truncated);
  CHECK(truncated);
  REQUIRE(ids.size() == 512);
  CHECK(ids.back() == 1);
  CHECK(std::equal(ids.begin(), ids.end() - 1, full.begin()));
  auto s = e.summarize(text, e.default_params());
  REQUIRE(s.ok());
  CHECK(s->truncated);
  CHECK(s->timings.input_tokens == 512);
}

TEST_CASE("Engine: summarize equals generate on the prepared ids; concurrent calls agree", "[engine]") {
  const auto& e = engine();
  const std::vector<std::string> texts = {"A short note about the weather.", "Markets rose on Monday.",
                                          "The match ended in a draw.", "Rain is expected tomorrow."};
  std::vector<sealsum::engine::SummaryResult> sequential;
  for (const auto& t : texts) {
    auto s = e.summarize(t, e.default_params());
    REQUIRE(s.ok());
    REQUIRE(!s->ids.empty());
    CHECK(s->ids[0] == 0);
    CHECK(static_cast<int>(s->ids.size()) <= 12);
    CHECK(s->text == e.tokenizer().decode(s->ids));
    auto g = e.generate(e.prepare_input(t), e.default_params());
    REQUIRE(g.ok());
    CHECK(g->output.sequences[0] == s->ids);
    CHECK(g->timings.decoder_steps > 0);
    sequential.push_back(std::move(s).value());
  }
  std::vector<std::vector<int32_t>> concurrent(texts.size());
  std::vector<std::thread> threads;
  for (size_t i = 0; i < texts.size(); ++i) {
    threads.emplace_back([&, i] {
      auto s = e.summarize(texts[i], e.default_params());
      if (s.ok()) concurrent[i] = s->ids;
    });
  }
  for (auto& t : threads) t.join();
  for (size_t i = 0; i < texts.size(); ++i) CHECK(concurrent[i] == sequential[i].ids);
}

TEST_CASE("Engine: batch_decoding answers concurrent calls exactly as one request at a time", "[engine][batching]") {
  const auto& solo = engine();
  auto r = sealsum::engine::Engine::from_model_file(tiny_t5_with_tokenizer(), {.threads = 2, .batch_decoding = true});
  REQUIRE(r.ok());
  const auto& batched = **r;
  REQUIRE(batched.batcher() != nullptr);
  CHECK(solo.batcher() == nullptr);
  const std::vector<std::string> texts = {"A short note about the weather.", "Markets rose on Monday after a long week.",
                                          "The match ended in a draw.", "Rain.", "Trains ran late all day in the north."};
  auto greedy = solo.default_params();
  greedy.num_beams = 1;
  greedy.max_length = 20;
  std::vector<sealsum::engine::SummaryResult> want, got(2 * texts.size());
  const std::vector<const sealsum::decoding::GenerationParams*> kinds = {&solo.default_params(), &greedy};
  for (const auto* p : kinds) {
    for (const auto& t : texts) {
      auto s = solo.summarize(t, *p);
      REQUIRE(s.ok());
      want.push_back(std::move(s).value());
    }
  }
  std::vector<std::thread> threads;
  for (size_t i = 0; i < got.size(); ++i) {
    threads.emplace_back([&, i] {
      auto s = batched.summarize(texts[i % texts.size()], i < texts.size() ? batched.default_params() : greedy);
      if (s.ok()) got[i] = std::move(s).value();
    });
  }
  for (auto& t : threads) t.join();
  for (size_t i = 0; i < got.size(); ++i) {
    INFO("call " << i);
    CHECK(got[i].ids == want[i].ids);
    CHECK(got[i].score == want[i].score);
    CHECK(got[i].timings.decoder_steps == want[i].timings.decoder_steps);
  }
  CHECK(batched.batcher()->attached() == 0);
  CHECK(batched.batcher()->steps_shared() > 0);
  CHECK(batched.max_encoders() == std::max(1, sealsum::kernels::available_cpus() - 2));
  CHECK(batched.encoders_peak() >= 1);
  CHECK(batched.encoders_peak() <= batched.max_encoders());
  CHECK(solo.max_encoders() == 0);
}

TEST_CASE("Engine: batch_decoding admits at most max_encoders encoders at once", "[engine][batching]") {
  const auto& solo = engine();
  for (int limit : {1, 2}) {
    auto r = sealsum::engine::Engine::from_model_file(tiny_t5_with_tokenizer(),
                                                      {.threads = 1, .batch_decoding = true, .max_encoders = limit});
    REQUIRE(r.ok());
    const auto& batched = **r;
    REQUIRE(batched.max_encoders() == limit);
    auto params = solo.default_params();
    params.num_beams = 1;
    params.max_length = 12;
    std::string text;
    for (int w = 0; w < 300; ++w) text += "word" + std::to_string(w % 37) + " ";  // a long input: slow encoders
    auto want = solo.summarize(text, params);
    REQUIRE(want.ok());
    std::vector<std::vector<int32_t>> got(8);
    std::atomic<int> ready{0};
    std::vector<std::thread> threads;
    for (size_t i = 0; i < got.size(); ++i) {
      threads.emplace_back([&, i] {
        ready.fetch_add(1);
        while (ready.load() < static_cast<int>(got.size())) std::this_thread::yield();  // start together
        auto s = batched.summarize(text, params);
        if (s.ok()) got[i] = s->ids;
      });
    }
    for (auto& t : threads) t.join();
    INFO("limit " << limit);
    for (const auto& g : got) CHECK(g == want->ids);
    CHECK(batched.encoders_peak() >= 1);
    CHECK(batched.encoders_peak() <= limit);
    CHECK(batched.batcher()->attached() == 0);
  }
}

TEST_CASE("Engine: invalid parameters and missing files fail cleanly", "[engine]") {
  const auto& e = engine();
  auto p = e.default_params();
  p.num_return_sequences = 5;  // > num_beams
  CHECK(e.summarize("text", p).status().code() == sealsum::Code::kInvalidArgument);
  CHECK(e.generate(std::vector<int32_t>{}, e.model_params()).status().code() == sealsum::Code::kInvalidArgument);
  auto missing = sealsum::engine::Engine::load("/nonexistent/model.sealsum", {});
  CHECK(!missing.ok());
}

TEST_CASE("Engine: the facade truncates to the model's own input limit", "[engine]") {
  const auto& e = engine();
  CHECK(e.max_input_tokens() == e.model().info().max_input_tokens);
  const std::vector<int32_t> at_limit(static_cast<size_t>(e.max_input_tokens()), 5);
  CHECK(e.generate(at_limit, e.model_params()).ok());
  std::vector<int32_t> over = at_limit;
  over.push_back(1);
  auto r = e.generate(over, e.model_params());
  CHECK(r.status().code() == sealsum::Code::kInvalidArgument);
  CHECK(r.status().message().find("truncate") != std::string::npos);
}

TEST_CASE("Engine: summarize_secret is summarize, held in memory excluded from dumps", "[engine]") {
  const auto& e = engine();
  const std::string text = "The committee met again today and approved the budget for the coming year.";
  auto plain = e.summarize(text, e.default_params());
  auto secret = e.summarize_secret(text, e.default_params());
  REQUIRE(plain.ok());
  REQUIRE(secret.ok());
  CHECK(sealsum::secure::view(secret->text) == plain->text);
  CHECK(std::vector<int32_t>(secret->ids.begin(), secret->ids.end()) == plain->ids);
  CHECK(secret->score == plain->score);
  const auto ids = e.prepare_secret_input(text);
  CHECK(std::vector<int32_t>(ids.begin(), ids.end()) == e.prepare_input(text));
  CHECK(sealsum::excluded_from_dumps(secret->ids.data()));
  CHECK(sealsum::excluded_from_dumps(ids.data()));
  CHECK(sealsum::excluded_from_dumps(secret->text.data()));  // heap-allocated even when short (reserve 16)
  CHECK_FALSE(sealsum::excluded_from_dumps(plain->ids.data()));  // the check can fail
}
