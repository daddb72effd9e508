// Model construction and sessions on small random models built in memory from the weights
// schema: config refusals and tensor checks name the field / tensor; encode is independent of the
// thread count; a session that forks and reorders rows gives the same logits as fresh single-row
// sessions fed each row's history (the cache bookkeeping beam search relies on). Numerical
// agreement with the reference is the golden tests' job (tests/golden).
#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <map>
#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/kernels/kernels.h"
#include "engine/kernels/threadpool.h"
#include "engine/models/seq2seq.h"
#include "engine/models/t5.h"
#include "secure/secret_buffer.h"
#include "weights/model_file.h"
#include "weights/schema.h"

namespace {

using json = nlohmann::json;
using sealsum::Code;
using sealsum::models::Seq2SeqModel;

json tiny_t5_config(bool gated) {
  json c = {{"model_type", "t5"}, {"vocab_size", 50}, {"d_model", 16}, {"d_kv", 4}, {"num_heads", gated ? 3 : 4},
            {"d_ff", 24}, {"num_layers", 2}, {"num_decoder_layers", 3}, {"relative_attention_num_buckets", 8},
            {"relative_attention_max_distance", 20}, {"layer_norm_epsilon", 1e-6},
            {"feed_forward_proj", gated ? "gated-gelu" : "relu"}, {"decoder_start_token_id", 0},
            {"eos_token_id", 1}, {"pad_token_id", 0}};
  if (gated) c["tie_word_embeddings"] = false;
  return c;
}

json tiny_bart_config() {
  return {{"model_type", "bart"}, {"vocab_size", 60}, {"d_model", 16}, {"max_position_embeddings", 20},
          {"encoder_layers", 2}, {"decoder_layers", 2}, {"encoder_attention_heads", 4},
          {"decoder_attention_heads", 2}, {"encoder_ffn_dim", 12}, {"decoder_ffn_dim", 20},
          {"activation_function", "gelu"}, {"scale_embedding", true}, {"decoder_start_token_id", 2},
          {"eos_token_id", 2}, {"pad_token_id", 1}};
}

struct FileOptions {
  std::string skip;         // leave this tensor out
  std::string wrong_shape;  // give this tensor one extra row
  bool with_tensors = true;
  bool panels = false;      // linear weights in the panel layout, in the schema's storage order
  std::string panel_tensor; // store this (rank-2) tensor in the panel layout too
};

std::shared_ptr<const sealsum::weights::ModelFile> make_file(const std::string& arch, const json& config,
                                                             const FileOptions& o = {}) {
  sealsum::weights::ModelWriter w(arch, config, json::object());
  if (o.with_tensors) {
    auto schema = sealsum::weights::expected_schema(arch, config);
    REQUIRE(schema.ok());
    std::mt19937 g(7);
    std::uniform_real_distribution<float> u(-0.5f, 0.5f);
    // Values are drawn in state-dict order (so both layouts hold the same numbers), written in
    // storage order.
    std::map<std::string, std::vector<float>> values;
    for (const auto& t : schema->tensors) {
      if (t.name == o.skip) continue;
      std::vector<int64_t> shape = t.shape;
      if (t.name == o.wrong_shape) shape[0] += 1;
      int64_t n = 1;
      for (int64_t s : shape) n *= s;
      std::vector<float> v(static_cast<size_t>(n));
      const bool norm = t.name.find("norm") != std::string::npos && t.name.ends_with("weight");
      for (auto& x : v) x = norm ? 1.0f + u(g) : u(g);
      values[t.name] = std::move(v);
    }
    for (size_t i : schema->storage_order()) {
      const auto& t = schema->tensors[i];
      if (t.name == o.skip) continue;
      const std::vector<float>& v = values.at(t.name);
      std::vector<int64_t> shape = t.shape;
      if (t.name == o.wrong_shape) shape[0] += 1;
      if ((o.panels && t.linear) || t.name == o.panel_tensor) {
        w.add_linear_weight(t.name, shape[0], shape[1], v);
        continue;
      }
      std::vector<uint8_t> bytes(v.size() * sizeof(float));
      std::memcpy(bytes.data(), v.data(), bytes.size());
      w.add_tensor(t.name, sealsum::weights::DType::kF32, shape, std::move(bytes));
    }
    for (const auto& [alias, target] : schema->aliases) {
      if (target != o.skip) w.add_alias(alias, target);
    }
  }
  REQUIRE(w.validate().is_ok());
  auto buf = sealsum::secure::SecretBuffer::copy_of(w.serialize());
  REQUIRE(buf.ok());
  auto file = sealsum::weights::ModelFile::from_buffer(std::move(buf).value(), "test model");
  INFO(file.status().to_string());
  REQUIRE(file.ok());
  return std::make_shared<const sealsum::weights::ModelFile>(std::move(file).value());
}

sealsum::Status load_status(const std::string& arch, const json& config, const FileOptions& o = {}) {
  auto m = sealsum::models::load_model(make_file(arch, config, o));
  return m.ok() ? sealsum::Status::ok() : m.status();
}

void check_refused(const std::string& arch, const json& config, Code code, const std::string& needle,
                   const FileOptions& o = {}) {
  sealsum::Status st = load_status(arch, config, o);
  INFO(st.to_string());
  CHECK(st.code() == code);
  CHECK(st.message().find(needle) != std::string::npos);
}

// Steps a fresh session through `history` (one row) and returns the last logits.
std::vector<float> single_row_logits(const Seq2SeqModel& m, std::shared_ptr<const sealsum::models::EncoderOutput> enc,
                                     const std::vector<int32_t>& history) {
  auto s = m.start_session(enc, nullptr, 2);
  REQUIRE(s.ok());
  std::vector<float> logits(static_cast<size_t>((*s)->vocab_size()));
  for (int32_t tok : history) REQUIRE((*s)->step(std::span<const int32_t>(&tok, 1), logits.data()).is_ok());
  return logits;
}

void check_fork_and_reorder(const Seq2SeqModel& m, const std::vector<int32_t>& input) {
  sealsum::kernels::ThreadPool p1(1), p2(2);
  auto enc1 = m.encode(input, &p1);
  auto enc2 = m.encode(input, &p2);
  REQUIRE(enc1.ok());
  REQUIRE(enc2.ok());
  CHECK((*enc1)->hidden == (*enc2)->hidden);  // deterministic across thread counts

  auto s = m.start_session(*enc1, &p2, 2);  // capacity 2: the steps below also exercise growth
  REQUIRE(s.ok());
  const int64_t V = (*s)->vocab_size();
  std::vector<float> logits(static_cast<size_t>(4 * V));
  std::vector<std::vector<int32_t>> hist = {{}};
  auto step = [&](std::vector<int32_t> toks) {
    REQUIRE((*s)->step(toks, logits.data()).is_ok());
    for (size_t r = 0; r < toks.size(); ++r) hist[r].push_back(toks[r]);
  };
  auto reorder = [&](std::vector<int32_t> src) {
    REQUIRE((*s)->reorder(src).is_ok());
    std::vector<std::vector<int32_t>> h;
    for (int32_t r : src) h.push_back(hist[static_cast<size_t>(r)]);
    hist = h;
  };
  step({3});
  reorder({0, 0, 0});
  step({7, 8, 9});
  reorder({2, 0, 2});
  step({10, 11, 12});
  reorder({1, 0});
  step({13, 14});
  REQUIRE((*s)->rows() == 2);
  for (int64_t r = 0; r < 2; ++r) {
    auto want = single_row_logits(m, *enc1, hist[static_cast<size_t>(r)]);
    double worst = 0, scale = 0;
    for (int64_t j = 0; j < V; ++j) {
      worst = std::max(worst, std::fabs(static_cast<double>(logits[static_cast<size_t>(r * V + j)]) - want[static_cast<size_t>(j)]));
      scale = std::max(scale, std::fabs(static_cast<double>(want[static_cast<size_t>(j)])));
    }
    INFO("row " << r << ": max |diff| " << worst << " of scale " << scale);
    CHECK(worst <= 1e-5 * std::max(scale, 1.0));
  }
  // Wrong row count and out-of-vocabulary tokens are refused.
  std::vector<int32_t> one = {3};
  CHECK((*s)->step(one, logits.data()).code() == Code::kInvalidArgument);
  std::vector<int32_t> oov = {3, static_cast<int32_t>(V)};
  CHECK((*s)->step(oov, logits.data()).code() == Code::kInvalidArgument);
}

}  // namespace

TEST_CASE("t5_relative_bucket: HF values, bidirectional and causal", "[models][t5]") {
  using sealsum::models::t5_relative_bucket;
  const std::vector<std::pair<int64_t, int64_t>> bidi = {{0, 0},    {1, 17},  {-1, 1},   {7, 23},   {-7, 7},
                                                         {8, 24},   {-8, 8},  {12, 25},  {-12, 9},  {-20, 10},
                                                         {-32, 12}, {32, 28}, {-128, 15}, {1000, 31}, {-1000, 15}};
  for (auto [off, want] : bidi) {
    INFO("bidirectional offset " << off);
    CHECK(t5_relative_bucket(off, true, 32, 128) == want);
  }
  const std::vector<std::pair<int64_t, int64_t>> causal = {{0, 0},   {5, 0},    {-5, 5},    {-15, 15}, {-16, 16},
                                                           {-32, 21}, {-64, 26}, {-127, 31}, {-128, 31}, {-1000, 31}};
  for (auto [off, want] : causal) {
    INFO("causal offset " << off);
    CHECK(t5_relative_bucket(off, false, 32, 128) == want);
  }
}

TEST_CASE("T5 v1.0 and gated: forked and reordered rows equal fresh sessions", "[models][t5]") {
  for (bool gated : {false, true}) {
    auto m = sealsum::models::load_model(make_file("t5", tiny_t5_config(gated)));
    INFO(m.status().to_string());
    REQUIRE(m.ok());
    CHECK((*m)->info().architecture == "t5");
    CHECK((*m)->info().vocab_size == 50);
    check_fork_and_reorder(**m, {4, 9, 13, 22, 40, 1});
  }
}

TEST_CASE("BART: forked and reordered rows equal fresh sessions", "[models][bart]") {
  auto m = sealsum::models::load_model(make_file("bart", tiny_bart_config()));
  INFO(m.status().to_string());
  REQUIRE(m.ok());
  CHECK((*m)->info().max_input_tokens == 20);
  check_fork_and_reorder(**m, {0, 9, 13, 22, 40, 2});
}

TEST_CASE("panel-stored weights (format 2) give bit-identical encoder states and logits", "[models]") {
  using sealsum::kernels::Isa;
  const Isa before = sealsum::kernels::active_isa();
  const std::vector<std::pair<std::string, json>> models = {
      {"t5", tiny_t5_config(false)}, {"t5", tiny_t5_config(true)}, {"bart", tiny_bart_config()}};
  for (Isa isa : {Isa::kScalar, Isa::kAvx2, Isa::kAvx512}) {
    if (!sealsum::kernels::isa_supported(isa)) continue;
    sealsum::kernels::set_isa(isa);  // the ISA at load decides how the matrices are packed or viewed
    for (const auto& [arch, config] : models) {
      INFO(arch << " " << config.dump() << " isa " << sealsum::kernels::isa_name(isa));
      auto rows = sealsum::models::load_model(make_file(arch, config));
      FileOptions o;
      o.panels = true;
      auto panels = sealsum::models::load_model(make_file(arch, config, o));
      REQUIRE(rows.ok());
      REQUIRE(panels.ok());
      const std::vector<int32_t> input = {5, 9, 3, 17, 4, 1};
      auto e1 = (*rows)->encode(input, nullptr);
      auto e2 = (*panels)->encode(input, nullptr);
      REQUIRE(e1.ok());
      REQUIRE(e2.ok());
      CHECK((*e1)->hidden == (*e2)->hidden);
      auto s1 = (*rows)->start_session(*e1, nullptr, 4);
      auto s2 = (*panels)->start_session(*e2, nullptr, 4);
      REQUIRE(s1.ok());
      REQUIRE(s2.ok());
      const int64_t V = (*s1)->vocab_size();
      std::vector<float> l1(static_cast<size_t>(3 * V)), l2(l1.size());
      std::vector<int32_t> tok = {2};
      for (auto* s : {&*s1, &*s2}) REQUIRE((*s)->step(tok, (s == &*s1 ? l1 : l2).data()).is_ok());
      CHECK(std::memcmp(l1.data(), l2.data(), static_cast<size_t>(V) * sizeof(float)) == 0);
      const std::vector<int32_t> fan = {0, 0, 0}, next = {7, 11, 13};
      for (auto* s : {&*s1, &*s2}) {
        REQUIRE((*s)->reorder(fan).is_ok());
        REQUIRE((*s)->step(next, (s == &*s1 ? l1 : l2).data()).is_ok());
      }
      CHECK(l1 == l2);
    }
  }
  sealsum::kernels::set_isa(before);
}

TEST_CASE("encode and sessions refuse bad inputs", "[models]") {
  auto m = sealsum::models::load_model(make_file("bart", tiny_bart_config()));
  REQUIRE(m.ok());
  CHECK((*m)->encode(std::vector<int32_t>{}, nullptr).status().code() == Code::kInvalidArgument);
  CHECK((*m)->encode(std::vector<int32_t>{0, 60, 2}, nullptr).status().code() == Code::kInvalidArgument);
  CHECK((*m)->encode(std::vector<int32_t>{0, -1, 2}, nullptr).status().code() == Code::kInvalidArgument);
  CHECK((*m)->encode(std::vector<int32_t>(21, 5), nullptr).status().code() == Code::kInvalidArgument);
  auto enc = (*m)->encode(std::vector<int32_t>(20, 5), nullptr);
  REQUIRE(enc.ok());
  CHECK((*m)->start_session(nullptr, nullptr, 4).status().code() == Code::kInvalidArgument);
  auto narrow = std::make_shared<sealsum::models::EncoderOutput>();  // d_model 8, not this model's 16
  narrow->length = 2;
  narrow->d_model = 8;
  narrow->hidden.assign(16, 0.5f);
  CHECK((*m)->start_session(narrow, nullptr, 4).status().code() == Code::kInvalidArgument);
  // BART's learned positions end at max_position_embeddings (20): the 21st step is refused.
  auto s = (*m)->start_session(*enc, nullptr, 4);
  REQUIRE(s.ok());
  std::vector<float> logits(60);
  const int32_t tok = 2;
  // Refused steps (token count, vocabulary) leave the session as it was: 20 positions remain.
  CHECK((*s)->step(std::vector<int32_t>{2, 2}, logits.data()).code() == Code::kInvalidArgument);
  CHECK((*s)->step(std::vector<int32_t>{60}, logits.data()).code() == Code::kInvalidArgument);
  CHECK((*s)->rows() == 1);
  for (int i = 0; i < 20; ++i) REQUIRE((*s)->step(std::span<const int32_t>(&tok, 1), logits.data()).is_ok());
  auto st = (*s)->step(std::span<const int32_t>(&tok, 1), logits.data());
  CHECK(st.code() == Code::kInvalidArgument);
  CHECK(st.message().find("max_position_embeddings") != std::string::npos);
  CHECK((*s)->reorder(std::vector<int32_t>{1}).code() == Code::kInvalidArgument);
}

TEST_CASE("the one input limit: T5 512 tokens, BART max_position_embeddings; longer inputs refused", "[models]") {
  auto t5 = sealsum::models::load_model(make_file("t5", tiny_t5_config(false)));
  REQUIRE(t5.ok());
  CHECK((*t5)->info().max_input_tokens == 512);
  CHECK((*t5)->encode(std::vector<int32_t>(512, 5), nullptr).ok());
  auto over = (*t5)->encode(std::vector<int32_t>(513, 5), nullptr);
  CHECK(over.status().code() == Code::kInvalidArgument);
  CHECK(over.status().message() ==
        "encode: 513 input tokens exceed the t5 model's limit of 512; truncate the input to at most 512 tokens");
  auto bart = sealsum::models::load_model(make_file("bart", tiny_bart_config()));
  REQUIRE(bart.ok());
  auto st = (*bart)->encode(std::vector<int32_t>(21, 5), nullptr).status();
  CHECK(st.code() == Code::kInvalidArgument);
  CHECK(st.message().find("limit of 20; truncate") != std::string::npos);
}

TEST_CASE("BART configs this engine cannot run are refused naming the field", "[models][bart]") {
  const FileOptions no_tensors{.skip = "", .wrong_shape = "", .with_tensors = false};
  for (const char* field : {"normalize_before", "add_final_layer_norm", "static_position_embeddings", "add_bias_logits"}) {
    json c = tiny_bart_config();
    c[field] = true;
    check_refused("bart", c, Code::kUnimplemented, field, no_tensors);
  }
  json c = tiny_bart_config();
  c["normalize_embedding"] = false;
  check_refused("bart", c, Code::kUnimplemented, "normalize_embedding", no_tensors);
  c = tiny_bart_config();
  c["model_type"] = "mbart";
  check_refused("bart", c, Code::kUnimplemented, "model_type", no_tensors);
  c = tiny_bart_config();
  c["activation_function"] = "swish";
  check_refused("bart", c, Code::kUnimplemented, "activation_function", no_tensors);
  c = tiny_bart_config();
  c["d_model"] = "sixteen";
  check_refused("bart", c, Code::kInvalidArgument, "d_model", no_tensors);
  c = tiny_bart_config();
  c.erase("encoder_layers");
  check_refused("bart", c, Code::kInvalidArgument, "encoder_layers", no_tensors);
}

TEST_CASE("T5 configs this engine cannot run are refused naming the field", "[models][t5]") {
  const FileOptions no_tensors{.skip = "", .wrong_shape = "", .with_tensors = false};
  json c = tiny_t5_config(false);
  c["feed_forward_proj"] = "gated-silu";
  check_refused("t5", c, Code::kUnimplemented, "feed_forward_proj", no_tensors);
  c["feed_forward_proj"] = "a-b-c";
  check_refused("t5", c, Code::kInvalidArgument, "feed_forward_proj", no_tensors);
  c = tiny_t5_config(false);
  c["num_heads"] = 0;
  check_refused("t5", c, Code::kInvalidArgument, "num_heads", no_tensors);
  c = tiny_t5_config(false);
  c["relative_attention_max_distance"] = 4;
  check_refused("t5", c, Code::kInvalidArgument, "relative_attention_max_distance", no_tensors);
}

TEST_CASE("missing or wrongly shaped tensors are named", "[models]") {
  const std::string t = "decoder.block.1.layer.2.DenseReluDense.wo.weight";
  check_refused("t5", tiny_t5_config(false), Code::kNotFound, t, {.skip = t});
  check_refused("t5", tiny_t5_config(false), Code::kInvalidArgument, t, {.wrong_shape = t});
  const std::string b = "model.decoder.layers.1.encoder_attn.k_proj.weight";
  check_refused("bart", tiny_bart_config(), Code::kNotFound, b, {.skip = b});
  check_refused("bart", tiny_bart_config(), Code::kNotFound, "final_logits_bias", {.skip = "final_logits_bias"});
}

TEST_CASE("a tensor read row-major but stored in the panel layout is refused, named", "[models]") {
  const std::string t = "encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight";
  check_refused("t5", tiny_t5_config(false), Code::kInvalidArgument, t, {.panel_tensor = t});
  check_refused("t5", tiny_t5_config(false), Code::kInvalidArgument, "panel layout", {.panel_tensor = t});
  const std::string b = "model.decoder.embed_positions.weight";
  check_refused("bart", tiny_bart_config(), Code::kInvalidArgument, b, {.panels = true, .panel_tensor = b});
}

TEST_CASE("unknown architectures are refused", "[models]") {
  CHECK(sealsum::models::load_model(nullptr).status().code() == Code::kInvalidArgument);
}
