// The expected-tensor schema against the synthetic manifests (names, order and shapes exactly as the
// reference's state dicts) and the real configs, plus config errors.
#include <catch2/catch.hpp>

#include <algorithm>
#include <map>

#include "common/fixtures.h"
#include "weights/schema.h"

using namespace sealsum;
using namespace sealsum::weights;

TEST_CASE("schema equals the reference state dicts of the synthetic models") {
  for (const char* model : {"synth-t5-small", "synth-flan-t5-small", "synth-distilbart-cnn-6-6"}) {
    INFO(model);
    const auto m = nlohmann::json::parse(read_fixture(std::string("golden/") + model + "/manifest.json"));
    auto arch = architecture_of(m["config"]);
    REQUIRE(arch.ok());
    auto s = expected_schema(*arch, m["config"]);
    REQUIRE(s.ok());
    REQUIRE(s->tensors.size() == m["tensors"].size());
    for (size_t i = 0; i < s->tensors.size(); ++i) {
      CHECK(s->tensors[i].name == m["tensors"][i]["name"].get<std::string>());
      CHECK(s->tensors[i].shape == m["tensors"][i]["shape"].get<std::vector<int64_t>>());
    }
    CHECK(s->aliases == m["tied"].get<std::map<std::string, std::string>>());
    int64_t params = 0;
    for (const auto& t : s->tensors) {
      int64_t n = 1;
      for (int64_t d : t.shape) n *= d;
      params += n;
    }
    if (*arch == "t5") CHECK(params == m["num_parameters"].get<int64_t>());
    std::map<std::string, std::vector<int64_t>> present;
    for (const auto& t : s->tensors) present[t.name] = t.shape;
    CHECK(check_tensors(*s, present).is_ok());
  }
}

TEST_CASE("schema follows the config: gating, ties, layer counts, positions") {
  auto t5 = nlohmann::json::parse(read_fixture("models/t5/t5-small.config.json"));
  auto s = expected_schema("t5", t5);
  REQUIRE(s.ok());
  CHECK(s->find("encoder.block.0.layer.1.DenseReluDense.wi.weight") != nullptr);
  CHECK(s->find("encoder.block.0.layer.1.DenseReluDense.wi_0.weight") == nullptr);
  CHECK(s->find("encoder.block.1.layer.0.SelfAttention.relative_attention_bias.weight") == nullptr);
  CHECK(s->find("decoder.block.0.layer.1.EncDecAttention.relative_attention_bias.weight") == nullptr);
  CHECK(s->aliases.at("lm_head.weight") == "shared.weight");
  t5.erase("num_decoder_layers");  // defaults to num_layers
  t5["num_layers"] = 2;
  s = expected_schema("t5", t5);
  REQUIRE(s.ok());
  CHECK(s->find("decoder.block.1.layer.2.layer_norm.weight") != nullptr);
  CHECK(s->find("decoder.block.2.layer.0.layer_norm.weight") == nullptr);

  const auto flan = nlohmann::json::parse(read_fixture("models/t5/flan-t5-small.config.json"));
  s = expected_schema("t5", flan);
  REQUIRE(s.ok());
  CHECK(s->aliases.count("lm_head.weight") == 0);
  REQUIRE(s->find("lm_head.weight") != nullptr);
  CHECK(s->find("lm_head.weight")->shape == std::vector<int64_t>{32128, 512});

  const auto bart = nlohmann::json::parse(read_fixture("models/tiny-random-bart/config.json"));
  s = expected_schema("bart", bart);
  REQUIRE(s.ok());
  CHECK(s->find("model.encoder.embed_positions.weight")->shape == std::vector<int64_t>{102, 16});
  CHECK(s->find("final_logits_bias")->shape == std::vector<int64_t>{1, 1000});
  CHECK(s->aliases.at("lm_head.weight") == "model.shared.weight");
  CHECK(s->aliases.at("model.decoder.embed_tokens.weight") == "model.shared.weight");
}

TEST_CASE("schema errors name the field and value") {
  auto a = architecture_of({{"model_type", "gpt2"}});
  REQUIRE_FALSE(a.ok());
  CHECK(a.status().code() == Code::kUnimplemented);
  CHECK_THAT(a.status().message(), Catch::Contains("unknown architecture") && Catch::Contains("model_type") &&
                                       Catch::Contains("gpt2"));
  CHECK(architecture_of({{"d_model", 3}}).status().code() == Code::kInvalidArgument);
  CHECK(architecture_of(nlohmann::json::array()).status().code() == Code::kInvalidArgument);
  auto t5 = nlohmann::json::parse(read_fixture("models/tiny-random-t5/config.json"));
  t5["d_model"] = 0;
  CHECK_THAT(expected_schema("t5", t5).status().message(), Catch::Contains("'d_model'"));
  t5.erase("d_model");
  CHECK_THAT(expected_schema("t5", t5).status().message(), Catch::Contains("'d_model' is missing"));
  auto bart = nlohmann::json::parse(read_fixture("models/tiny-random-bart/config.json"));
  bart["tie_word_embeddings"] = "yes";
  CHECK_THAT(expected_schema("bart", bart).status().message(), Catch::Contains("tie_word_embeddings"));
  CHECK(expected_schema("gpt2", bart).status().code() == Code::kUnimplemented);
}

TEST_CASE("check_tensors lists missing, unexpected and misshapen tensors with both shapes") {
  Schema s;
  s.architecture = "t5";
  s.tensors = {{"a", {2, 3}}, {"b", {4}}};
  s.aliases = {{"c", "a"}};
  CHECK(check_tensors(s, {{"a", {2, 3}}, {"b", {4}}}).is_ok());
  const Status st = check_tensors(s, {{"a", {3, 2}}, {"c", {2, 3}}, {"z", {}}});
  REQUIRE_FALSE(st.is_ok());
  CHECK(st.code() == Code::kInvalidArgument);
  CHECK_THAT(st.message(), Catch::Contains("4 tensor problems"));
  CHECK_THAT(st.message(), Catch::Contains("tensor 'a' has shape [3, 2], expected [2, 3]"));
  CHECK_THAT(st.message(), Catch::Contains("missing tensor 'b' [4]"));
  CHECK_THAT(st.message(), Catch::Contains("unexpected tensor 'c' [2, 3] (a tied alias"));
  CHECK_THAT(st.message(), Catch::Contains("unexpected tensor 'z' []"));
  std::map<std::string, std::vector<int64_t>> many;
  for (int i = 0; i < 30; ++i) many["x" + std::to_string(i)] = {1};
  CHECK_THAT(check_tensors(s, many).message(), Catch::Contains("and 12 more"));
}

TEST_CASE("schema marks the linear weights and orders q, k, v back to back for storage") {
  for (const char* model : {"synth-t5-small", "synth-distilbart-cnn-6-6"}) {
    INFO(model);
    const auto m = nlohmann::json::parse(read_fixture(std::string("golden/") + model + "/manifest.json"));
    auto s = expected_schema(*architecture_of(m["config"]), m["config"]);
    REQUIRE(s.ok());
    const std::vector<size_t> order = s->storage_order();
    REQUIRE(order.size() == s->tensors.size());
    std::vector<size_t> sorted = order;
    std::sort(sorted.begin(), sorted.end());
    for (size_t i = 0; i < sorted.size(); ++i) CHECK(sorted[i] == i);  // a permutation
    std::map<std::string, size_t> pos;
    for (size_t i = 0; i < order.size(); ++i) pos[s->tensors[order[i]].name] = i;
    size_t linear = 0;
    for (const auto& t : s->tensors) linear += t.linear ? 1 : 0;
    if (s->architecture == "t5") {
      // 6 encoder blocks x (4 attention + 2 FFN) + 6 decoder blocks x (8 attention + 2 FFN) + shared.
      CHECK(linear == 6 * 6 + 6 * 10 + 1);
      CHECK(s->find("shared.weight")->linear);  // tied: it is also lm_head
      CHECK_FALSE(s->find("encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight")->linear);
      const std::string a = "decoder.block.3.layer.1.EncDecAttention.";
      CHECK(pos[a + "k.weight"] == pos[a + "q.weight"] + 1);
      CHECK(pos[a + "v.weight"] == pos[a + "k.weight"] + 1);
    } else {
      // 6 encoder layers x (4 projections + fc1, fc2) + 6 decoder layers x (8 + 2) + shared.
      CHECK(linear == 6 * 6 + 6 * 10 + 1);
      CHECK(s->find("model.shared.weight")->linear);
      CHECK_FALSE(s->find("model.decoder.embed_positions.weight")->linear);
      CHECK_FALSE(s->find("final_logits_bias")->linear);
      CHECK_FALSE(s->find("model.encoder.layers.0.self_attn.q_proj.bias")->linear);
      for (const std::string a : {"model.encoder.layers.2.self_attn.", "model.decoder.layers.5.encoder_attn."}) {
        CHECK(pos[a + "k_proj.weight"] == pos[a + "q_proj.weight"] + 1);
        CHECK(pos[a + "v_proj.weight"] == pos[a + "k_proj.weight"] + 1);
      }
    }
  }
}
