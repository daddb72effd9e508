// GenerationParams from real checkpoint configs (the shared fixtures) and from the golden cases'
// generate() kwargs; field-type and unsupported-feature errors.
#include <catch2/catch.hpp>

#include <filesystem>

#include "common/fixtures.h"
#include "engine/decoding/generation_config.h"

using nlohmann::json;
using sealsum::Code;
using namespace sealsum::decoding;

namespace {
json load(const std::string& rel) { return json::parse(sealsum::read_fixture(rel)); }
}  // namespace

TEST_CASE("generation_defaults: t5-small summarization uses task_specific_params", "[config]") {
  const json config = load("models/t5/t5-small.config.json");
  auto r = generation_defaults(config, json(), "summarization");
  REQUIRE(r.ok());
  const GenerationParams& p = r->params;
  CHECK(p.num_beams == 4);
  CHECK(p.length_penalty == 2.0);
  CHECK(p.max_length == 200);
  CHECK(p.min_length == 30);
  CHECK(p.no_repeat_ngram_size == 3);
  CHECK(p.early_stopping == EarlyStopping::kTrue);
  CHECK(p.decoder_start_token_id == 0);
  CHECK(p.eos_token_ids == std::vector<int32_t>{1});
  CHECK(p.pad_token_id == 0);
  CHECK_FALSE(p.forced_bos_token_id);
  CHECK_FALSE(p.forced_eos_token_id);
  CHECK(r->prefix == "summarize: ");

  // No task: GenerationConfig defaults plus the config's ids.
  auto plain = generation_defaults(config, json(), "");
  REQUIRE(plain.ok());
  CHECK(plain->params.num_beams == 1);
  CHECK(plain->params.max_length == 20);
  CHECK(plain->params.length_penalty == 1.0);
  CHECK(plain->params.early_stopping == EarlyStopping::kFalse);
  CHECK(plain->prefix.empty());
  // {} (ModelFile's "no generation_config.json") is the same as null.
  auto empty = generation_defaults(config, json::object(), "summarization");
  REQUIRE(empty.ok());
  CHECK(empty->params.num_beams == 4);
  CHECK(empty->params.eos_token_ids == std::vector<int32_t>{1});
  // A task the config does not list changes nothing either.
  auto other = generation_defaults(config, json(), "question-answering");
  REQUIRE(other.ok());
  CHECK(other->params.num_beams == 1);
}

TEST_CASE("generation_defaults: distilbart-cnn with its generation_config.json", "[config]") {
  const json config = load("models/bart/distilbart-cnn-6-6.config.json");
  const json gen = load("models/bart/distilbart-cnn-6-6.generation_config.json");
  auto r = generation_defaults(config, gen, "summarization");
  REQUIRE(r.ok());
  const GenerationParams& p = r->params;
  // Exactly the golden BART beam kwargs.
  CHECK(p.num_beams == 4);
  CHECK(p.length_penalty == 2.0);
  CHECK(p.no_repeat_ngram_size == 3);
  CHECK(p.min_length == 56);
  CHECK(p.max_length == 142);
  CHECK(p.early_stopping == EarlyStopping::kTrue);
  CHECK(p.forced_bos_token_id == std::optional<int32_t>(0));
  CHECK(p.forced_eos_token_id == std::optional<int32_t>(2));
  CHECK(p.decoder_start_token_id == 2);
  CHECK(p.eos_token_ids == std::vector<int32_t>{2});
  CHECK(p.pad_token_id == 1);
  CHECK(r->prefix == " ");  // config.json "prefix", which the pipeline prepends

  // generation_config.json replaces config.json's fields: a bare one keeps the defaults.
  auto bare = generation_defaults(config, json{{"decoder_start_token_id", 2}, {"eos_token_id", 2}}, "");
  REQUIRE(bare.ok());
  CHECK(bare->params.num_beams == 1);
  CHECK_FALSE(bare->params.forced_bos_token_id);
  CHECK(bare->params.pad_token_id == 2);  // pad falls back to the first EOS
}

TEST_CASE("params_from_generate_kwargs: every golden case's kwargs", "[config][golden]") {
  int cases = 0;
  for (const char* model : {"synth-t5-small", "synth-flan-t5-small", "synth-distilbart-cnn-6-6", "tiny-random-t5",
                            "tiny-random-bart"}) {
    const auto dir = sealsum::fixture(std::string("golden/") + model + "/cases");
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
      const json c = json::parse(sealsum::read_fixture(std::string("golden/") + model + "/cases/" +
                                                       entry.path().filename().string()));
      for (const char* kind : {"greedy", "beam"}) {
        const json& kw = c.at(kind).at("generate_kwargs");
        auto r = params_from_generate_kwargs(kw);
        INFO(model << " " << entry.path().filename().string() << " " << kind);
        REQUIRE(r.ok());
        CHECK(r->num_beams == kw.at("num_beams").get<int>());
        CHECK(r->decoder_start_token_id == kw.at("decoder_start_token_id").get<int>());
        CHECK(r->eos_token_ids == std::vector<int32_t>{kw.at("eos_token_id").get<int32_t>()});
        CHECK(r->pad_token_id == kw.at("pad_token_id").get<int>());
        if (kw.contains("max_new_tokens")) CHECK(effective_max_length(*r) == 1 + kw["max_new_tokens"].get<int>());
        if (kw.contains("max_length")) CHECK(effective_max_length(*r) == kw["max_length"].get<int>());
        CHECK(r->forced_bos_token_id.has_value() == !kw.at("forced_bos_token_id").is_null());
        CHECK(r->forced_eos_token_id.has_value() == !kw.at("forced_eos_token_id").is_null());
        CHECK(r->min_length == kw.at("min_length").get<int>());
        CHECK(r->no_repeat_ngram_size == kw.at("no_repeat_ngram_size").get<int>());
        if (kw.contains("length_penalty")) CHECK(r->length_penalty == kw["length_penalty"].get<double>());
        if (kw.contains("early_stopping")) CHECK(r->early_stopping == EarlyStopping::kTrue);
        ++cases;
      }
    }
  }
  CHECK(cases == 34);  // 17 cases, greedy and beam each
}

TEST_CASE("generation config: wrong types, unsupported features, missing ids", "[config]") {
  const auto err = [](json kw) {
    auto r = params_from_generate_kwargs(kw);
    REQUIRE_FALSE(r.ok());
    return r.status();
  };
  const json base{{"decoder_start_token_id", 0}, {"eos_token_id", 1}};
  auto with = [&](const char* k, json v) {
    json j = base;
    j[k] = std::move(v);
    return j;
  };
  CHECK_THAT(err(with("num_beams", "4")).message(), Catch::Contains("num_beams must be an integer"));
  CHECK_THAT(err(with("num_beams", 2.5)).message(), Catch::Contains("num_beams"));
  CHECK_THAT(err(with("eos_token_id", json::array({1, "x"}))).message(), Catch::Contains("eos_token_id"));
  CHECK_THAT(err(with("eos_token_id", -3)).message(), Catch::Contains("eos_token_id"));
  CHECK_THAT(err(with("early_stopping", "sometimes")).message(), Catch::Contains("early_stopping"));
  CHECK_THAT(err(with("length_penalty", "2")).message(), Catch::Contains("length_penalty"));
  CHECK_THAT(err(with("max_length", 1)).message(), Catch::Contains("max_length"));
  CHECK_THAT(err(with("num_return_sequences", 3)).message(), Catch::Contains("num_return_sequences"));
  CHECK(err(with("do_sample", true)).code() == Code::kUnimplemented);
  CHECK_THAT(err(with("num_beam_groups", 2)).message(), Catch::Contains("num_beam_groups"));
  CHECK(err(with("forced_eos_token_id", json::array({1, 2}))).code() == Code::kUnimplemented);
  CHECK_THAT(err(json{{"eos_token_id", 1}}).message(), Catch::Contains("decoder_start_token_id is missing"));
  CHECK(err(json::array()).code() == Code::kInvalidArgument);

  // Accepted forms: eos list, early_stopping "never", bos as the start fallback, forced EOS list of one.
  auto ok = params_from_generate_kwargs(json{{"bos_token_id", 5},
                                             {"eos_token_id", {7, 8}},
                                             {"early_stopping", "never"},
                                             {"forced_eos_token_id", {8}},
                                             {"do_sample", false},
                                             {"temperature", 0.7}});
  REQUIRE(ok.ok());
  CHECK(ok->decoder_start_token_id == 5);
  CHECK(ok->eos_token_ids == std::vector<int32_t>{7, 8});
  CHECK(ok->pad_token_id == 7);
  CHECK(ok->early_stopping == EarlyStopping::kNever);
  CHECK(ok->forced_eos_token_id == std::optional<int32_t>(8));

  // Text entry point: bad JSON and oversize input.
  CHECK(generation_defaults_from_text("{", "", "").status().code() == Code::kInvalidArgument);
  CHECK(generation_defaults_from_text("{\"decoder_start_token_id\": 0}", "[", "").status().code() ==
        Code::kInvalidArgument);
  CHECK(generation_defaults_from_text(std::string(5u << 20, ' '), "", "").status().code() ==
        Code::kResourceExhausted);
  auto t = generation_defaults_from_text(
      R"({"decoder_start_token_id": 0, "eos_token_id": 1, "vocab_size": 10,
          "task_specific_params": {"summarization": {"num_beams": 3, "prefix": "s: "}}})",
      "", "summarization");
  REQUIRE(t.ok());
  CHECK(t->params.num_beams == 3);
  CHECK(t->prefix == "s: ");
  // vocab_size bounds the ids.
  CHECK(generation_defaults_from_text(R"({"decoder_start_token_id": 0, "eos_token_id": 10, "vocab_size": 10})", "",
                                      "")
            .status()
            .code() == Code::kInvalidArgument);
}
