// Generation flag parsing: values land in the right fields, untouched fields keep the defaults,
// `none` clears forced tokens, and bad values are usage errors naming the flag.
#include <catch2/catch.hpp>

#include "tools/cli/generation_flags.h"

using sealsum::Code;
using sealsum::Status;
using sealsum::cli::Args;
using sealsum::decoding::EarlyStopping;
using sealsum::decoding::GenerationParams;

namespace {

Status run(const std::vector<std::string>& argv, GenerationParams& p) {
  Args args("summarize", "[options] FILE");
  args.positionals("FILE", "input", 0, 1);
  sealsum::cli::add_generation_flags(args);
  Status st = args.parse(argv);
  if (!st.is_ok()) return st;
  return sealsum::cli::apply_generation_flags(args, p);
}

GenerationParams model_defaults() {
  GenerationParams p;
  p.num_beams = 4;
  p.max_length = 142;
  p.min_length = 56;
  p.length_penalty = 2.0;
  p.no_repeat_ngram_size = 3;
  p.early_stopping = EarlyStopping::kTrue;
  p.forced_bos_token_id = 0;
  p.forced_eos_token_id = 2;
  p.decoder_start_token_id = 2;
  p.eos_token_ids = {2};
  p.pad_token_id = 1;
  return p;
}

}  // namespace

TEST_CASE("generation flags: no flags keep the model defaults", "[cli]") {
  GenerationParams p = model_defaults();
  REQUIRE(run({"doc.txt"}, p).is_ok());
  CHECK(p.num_beams == 4);
  CHECK(p.max_length == 142);
  CHECK(p.forced_bos_token_id == std::optional<int32_t>(0));
  CHECK(p.early_stopping == EarlyStopping::kTrue);
}

TEST_CASE("generation flags: every flag sets its field", "[cli]") {
  GenerationParams p = model_defaults();
  p.early_stopping = EarlyStopping::kFalse;
  REQUIRE(run({"--num-beams", "1", "--max-length", "64", "--min-length", "0", "--length-penalty", "0.6",
               "--no-repeat-ngram-size=0", "--early-stopping", "--forced-bos-token-id", "none",
               "--forced-eos-token-id", "7", "--decoder-start-token-id", "0", "doc.txt"},
              p)
              .is_ok());
  CHECK(p.num_beams == 1);
  CHECK(p.max_length == 64);
  CHECK(p.min_length == 0);
  CHECK(p.length_penalty == 0.6);
  CHECK(p.no_repeat_ngram_size == 0);
  CHECK(p.early_stopping == EarlyStopping::kTrue);
  CHECK_FALSE(p.forced_bos_token_id.has_value());
  CHECK(p.forced_eos_token_id == std::optional<int32_t>(7));
  CHECK(p.decoder_start_token_id == 0);
  CHECK(p.eos_token_ids == std::vector<int32_t>{2});  // no flag: untouched
}

TEST_CASE("generation flags: max-new-tokens and max-length", "[cli]") {
  GenerationParams p = model_defaults();
  REQUIRE(run({"--max-new-tokens", "32", "--max-length", "10"}, p).is_ok());
  CHECK(p.max_new_tokens == std::optional<int>(32));  // wins, as in transformers
  CHECK(p.max_length == 10);
  REQUIRE(run({"--max-length", "50"}, p).is_ok());
  CHECK_FALSE(p.max_new_tokens.has_value());  // an explicit --max-length clears it
  CHECK(p.max_length == 50);
}

TEST_CASE("generation flags: early stopping modes", "[cli]") {
  GenerationParams p = model_defaults();
  REQUIRE(run({"--early-stopping-mode", "never"}, p).is_ok());
  CHECK(p.early_stopping == EarlyStopping::kNever);
  REQUIRE(run({"--early-stopping-mode", "false"}, p).is_ok());
  CHECK(p.early_stopping == EarlyStopping::kFalse);
  REQUIRE(run({"--early-stopping-mode=true"}, p).is_ok());
  CHECK(p.early_stopping == EarlyStopping::kTrue);
  Status st = run({"--early-stopping-mode", "sometimes"}, p);
  CHECK(st.code() == Code::kInvalidArgument);
  CHECK_THAT(st.message(), Catch::Contains("--early-stopping-mode"));
  CHECK(run({"--early-stopping", "--early-stopping-mode", "never"}, p).code() == Code::kInvalidArgument);
}

TEST_CASE("generation flags: bad values are usage errors naming the flag", "[cli]") {
  const auto bad = [](std::vector<std::string> argv, const std::string& flag) {
    GenerationParams p = model_defaults();
    Status st = run(argv, p);
    INFO(flag);
    CHECK(st.code() == Code::kInvalidArgument);
    CHECK_THAT(st.message(), Catch::Contains(flag));
  };
  bad({"--num-beams", "0"}, "--num-beams");
  bad({"--num-beams", "four"}, "--num-beams");
  bad({"--num-beams", "4x"}, "--num-beams");
  bad({"--max-length", "1"}, "--max-length");
  bad({"--max-new-tokens", "0"}, "--max-new-tokens");
  bad({"--min-length", "-1"}, "--min-length");
  bad({"--length-penalty", "fast"}, "--length-penalty");
  bad({"--length-penalty", "inf"}, "--length-penalty");
  bad({"--no-repeat-ngram-size", "-3"}, "--no-repeat-ngram-size");
  bad({"--forced-bos-token-id", "None"}, "--forced-bos-token-id");
  bad({"--forced-eos-token-id", "-1"}, "--forced-eos-token-id");
  bad({"--decoder-start-token-id", "none"}, "--decoder-start-token-id");
  bad({"--num-beams"}, "--num-beams");           // missing value
  bad({"--early-stopping=yes"}, "--early-stopping");  // a switch takes no value
}

TEST_CASE("generation flags map to server API members; local-only flags are refused") {
  auto members = [](const std::vector<std::string>& argv) {
    Args args("summarize", "[options]");
    sealsum::cli::add_generation_flags(args);
    REQUIRE(args.parse(argv).is_ok());
    return sealsum::cli::generation_request_members(args);
  };
  auto none = members({});
  REQUIRE(none.ok());
  CHECK(none->empty());
  auto all = members({"--num-beams", "3", "--max-length", "40", "--min-length", "5", "--length-penalty", "1.5",
                      "--no-repeat-ngram-size", "2", "--early-stopping-mode", "never", "--max-new-tokens", "30"});
  REQUIRE(all.ok());
  CHECK(*all == nlohmann::json{{"num_beams", 3},        {"max_length", 40},
                               {"min_length", 5},       {"length_penalty", 1.5},
                               {"no_repeat_ngram_size", 2}, {"early_stopping", "never"},
                               {"max_new_tokens", 30}});
  auto early = members({"--early-stopping"});
  REQUIRE(early.ok());
  CHECK((*early)["early_stopping"] == true);
  CHECK(members({"--num-beams", "0"}).status().code() == Code::kInvalidArgument);
  for (const char* flag : {"--forced-bos-token-id", "--forced-eos-token-id", "--decoder-start-token-id"}) {
    INFO(flag);
    auto r = members({flag, "1"});
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().message().find(std::string(flag)) != std::string::npos);
  }
}
