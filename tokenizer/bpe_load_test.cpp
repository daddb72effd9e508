// Loaders of byte-level BPE files: corrupt, unsupported and oversized inputs fail with a Status
// (never a crash); huge texts encode; messages carry no file content.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>
#include <random>
#include <string>

#include "common/fixtures.h"
#include "tokenizer/bpe_model.h"
#include "tokenizer/factories.h"
#include "tokenizer/unicode.h"

using nlohmann::json;
using sealsum::Code;
using sealsum::tok::make_bpe_from_tokenizer_json;
using sealsum::tok::make_bpe_from_vocab_merges;

namespace {

// A minimal, valid byte-level BPE tokenizer.json: BART's special tokens, the 256 byte tokens,
// two merges ("a b" -> "ab", "Ġ ab" -> "Ġab"), BART's post-processor.
json minimal() {
  json vocab = json::object();
  int32_t id = 0;
  for (const char* s : {"<s>", "<pad>", "</s>", "<unk>"}) vocab[s] = id++;
  for (int b = 0; b < 256; ++b) {
    std::string t;
    sealsum::tok::unicode::append_utf8(t, sealsum::tok::bpe::byte_to_unicode(static_cast<uint8_t>(b)));
    vocab[t] = id++;
  }
  vocab["ab"] = id++;                // 260
  vocab["\xC4\xA0" "ab"] = id++;     // 261, "Ġab"
  vocab["<mask>"] = id++;            // 262
  json added = json::array();
  for (const char* s : {"<s>", "<pad>", "</s>", "<unk>", "<mask>"}) {
    added.push_back({{"id", vocab[s]}, {"content", s}, {"single_word", false}, {"lstrip", std::string(s) == "<mask>"},
                     {"rstrip", false}, {"normalized", true}, {"special", true}});
  }
  return {
      {"version", "1.0"},
      {"added_tokens", added},
      {"normalizer", nullptr},
      {"pre_tokenizer", {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"trim_offsets", true}, {"use_regex", true}}},
      {"post_processor", {{"type", "RobertaProcessing"}, {"sep", {"</s>", 2}}, {"cls", {"<s>", 0}}}},
      {"decoder", {{"type", "ByteLevel"}}},
      {"model", {{"type", "BPE"}, {"dropout", nullptr}, {"unk_token", nullptr}, {"vocab", vocab},
                 {"merges", {"a b", "\xC4\xA0 ab"}}}},
  };
}

sealsum::Status status_of(const json& j) {
  auto r = make_bpe_from_tokenizer_json(j.dump());
  return r.status();
}
Code code_of(const json& j) { return status_of(j).code(); }

std::vector<int32_t> encode(const json& j, const std::string& text) {
  auto r = make_bpe_from_tokenizer_json(j.dump());
  INFO(r.status().to_string());
  REQUIRE(r.ok());
  return r.value()->encode(text);
}

}  // namespace

TEST_CASE("bpe load: the minimal tokenizer.json works", "[bpe][load]") {
  const json j = minimal();
  CHECK(encode(j, "ab ab") == std::vector<int32_t>{0, 260, 261, 2});
  CHECK(encode(j, "ab <mask>") == std::vector<int32_t>{0, 260, 262, 2});
  auto r = make_bpe_from_tokenizer_json(j.dump());
  REQUIRE(r.ok());
  CHECK(r.value()->decode(std::vector<int32_t>{0, 260, 261, 262, 2}) == "ab ab");
}

TEST_CASE("bpe load: supported variants of pre_tokenizer and post_processor", "[bpe][load]") {
  json j = minimal();
  j["pre_tokenizer"]["add_prefix_space"] = true;
  CHECK(encode(j, "ab") == std::vector<int32_t>{0, 261, 2});
  CHECK(encode(j, "<s>ab") == std::vector<int32_t>{0, 0, 261, 2});  // each piece gets the space
  j = minimal();
  j["model"]["vocab"]["b!"] = 263;
  j["model"]["merges"].push_back("b !");
  CHECK(encode(j, "b!").size() == 4);  // the regex splits "b" from "!"
  j["pre_tokenizer"]["use_regex"] = false;
  CHECK(encode(j, "b!") == std::vector<int32_t>{0, 263, 2});  // one word: the merge applies
  j = minimal();
  j["post_processor"] = nullptr;
  CHECK(encode(j, "ab") == std::vector<int32_t>{260});
  j["post_processor"] = {{"type", "ByteLevel"}};
  CHECK(encode(j, "ab") == std::vector<int32_t>{260});
  j["post_processor"] = json::parse(R"({"type":"TemplateProcessing",
      "single":[{"SpecialToken":{"id":"<s>","type_id":0}},{"Sequence":{"id":"A","type_id":0}},
                {"SpecialToken":{"id":"</s>","type_id":0}}],
      "special_tokens":{"<s>":{"id":"<s>","ids":[0],"tokens":["<s>"]},"</s>":{"id":"</s>","ids":[2],"tokens":["</s>"]}}})");
  CHECK(encode(j, "ab") == std::vector<int32_t>{0, 260, 2});
  j["model"]["merges"] = json::parse(R"([["a","b"]])");  // the newer array form of merges
  CHECK(encode(j, "ab") == std::vector<int32_t>{0, 260, 2});
}

TEST_CASE("bpe load: malformed tokenizer.json is data loss", "[bpe][load]") {
  for (const char* bad : {"", "{", "[]", "null", "42", "{\"model\":", "\xFF\xFE{}"}) {
    auto r = make_bpe_from_tokenizer_json(bad);
    CHECK_FALSE(r.ok());
  }
  json j = minimal();
  j.erase("model");
  CHECK(code_of(j) == Code::kDataLoss);
  j = minimal();
  j["model"]["type"] = "WordPiece";
  CHECK(code_of(j) == Code::kDataLoss);
  j = minimal();
  j["model"]["vocab"] = json::array();
  CHECK(code_of(j) == Code::kDataLoss);
  j = minimal();
  j["model"]["vocab"]["zz"] = "7";
  CHECK(code_of(j) == Code::kDataLoss);
  j = minimal();
  j["model"]["vocab"]["zz"] = -3;
  CHECK(code_of(j) == Code::kDataLoss);
  j = minimal();
  j["model"]["vocab"]["zz"] = 1LL << 40;
  CHECK(code_of(j) == Code::kDataLoss);
  j = minimal();
  j["model"]["vocab"]["zz"] = 5;  // id used twice
  CHECK(code_of(j) == Code::kDataLoss);
  j = minimal();
  j["model"]["merges"] = "a b";
  CHECK(code_of(j) == Code::kDataLoss);
  j = minimal();
  j["model"]["merges"].push_back("ab");  // no space
  CHECK(code_of(j) == Code::kDataLoss);
  j = minimal();
  j["model"]["merges"].push_back(7);
  CHECK(code_of(j) == Code::kDataLoss);
  j = minimal();
  j["added_tokens"][0]["id"] = 99;  // <s> is 0 in the vocab
  CHECK(code_of(j) == Code::kDataLoss);
  j = minimal();
  j["added_tokens"][1]["content"] = "";
  CHECK(code_of(j) == Code::kDataLoss);
  j = minimal();
  j["added_tokens"][1]["lstrip"] = "yes";
  CHECK(code_of(j) == Code::kDataLoss);
  j = minimal();
  j["post_processor"]["cls"] = {"<s>"};
  CHECK(code_of(j) == Code::kDataLoss);
}

TEST_CASE("bpe load: merges with unknown tokens are refused without echoing them", "[bpe][load]") {
  json j = minimal();
  j["model"]["merges"].push_back("SECRET word");
  const auto st = status_of(j);
  CHECK(st.code() == Code::kDataLoss);
  CHECK(st.message().find("SECRET") == std::string::npos);
  j = minimal();
  j["model"]["merges"].push_back("b a");  // both known, "ba" is not
  CHECK(code_of(j) == Code::kDataLoss);
}

TEST_CASE("bpe load: features this build does not reproduce are refused, not approximated", "[bpe][load]") {
  json j = minimal();
  j["normalizer"] = {{"type", "NFC"}};
  CHECK(code_of(j) == Code::kUnimplemented);
  j = minimal();
  j["pre_tokenizer"] = {{"type", "Whitespace"}};
  CHECK(code_of(j) == Code::kUnimplemented);
  j = minimal();
  j.erase("decoder");
  CHECK(code_of(j) == Code::kUnimplemented);
  j = minimal();
  j["model"]["dropout"] = 0.1;
  CHECK(code_of(j) == Code::kUnimplemented);
  j = minimal();
  j["model"]["continuing_subword_prefix"] = "##";
  CHECK(code_of(j) == Code::kUnimplemented);
  j = minimal();
  j["model"]["byte_fallback"] = true;
  CHECK(code_of(j) == Code::kUnimplemented);
  j = minimal();
  j["added_tokens"][4]["single_word"] = true;
  CHECK(code_of(j) == Code::kUnimplemented);
  j = minimal();
  j["post_processor"] = {{"type", "Sequence"}};
  CHECK(code_of(j) == Code::kUnimplemented);
}

TEST_CASE("bpe load: truncated real tokenizer.json never loads", "[bpe][load]") {
  const std::string full = sealsum::read_fixture("models/bart/tokenizer.json");
  for (size_t k = 1; k <= 12; ++k) {
    const size_t cut = full.size() * k / 13;
    CHECK_FALSE(make_bpe_from_tokenizer_json(std::string_view(full).substr(0, cut)).ok());
  }
}

TEST_CASE("bpe load: vocab.json + merges.txt parsing", "[bpe][load]") {
  const std::string vocab = minimal()["model"]["vocab"].dump();
  auto ok = make_bpe_from_vocab_merges(vocab, "#version: 0.2\na b\r\n\xC4\xA0 ab\n");
  REQUIRE(ok.ok());
  CHECK(ok.value()->encode("ab ab <mask>") == std::vector<int32_t>{0, 260, 261, 262, 2});
  CHECK(make_bpe_from_vocab_merges(vocab, "").ok());
  CHECK(make_bpe_from_vocab_merges(vocab, "a b").ok());  // no final newline
  for (const char* bad : {"a b c\n", "a\n", "a  b\n", " a b\n", "a b\n\nb a\n", "a b \n", "SECRET b\n"}) {
    auto r = make_bpe_from_vocab_merges(vocab, bad);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == Code::kDataLoss);
    CHECK(r.status().message().find("SECRET") == std::string::npos);
  }
  CHECK_FALSE(make_bpe_from_vocab_merges("{\"a\": 0", "").ok());
  CHECK_FALSE(make_bpe_from_vocab_merges("[1, 2]", "").ok());
  CHECK_FALSE(make_bpe_from_vocab_merges("{\"a\": 0.5}", "").ok());
  // Special tokens missing from vocab.json are appended after it, as the reference does.
  auto appended = make_bpe_from_vocab_merges("{\"a\": 0, \"b\": 1}", "");
  REQUIRE(appended.ok());
  CHECK(appended.value()->token_to_id("<s>") == 2);
  CHECK(appended.value()->token_to_id("<mask>") == 6);
  CHECK(appended.value()->encode("ab") == std::vector<int32_t>{2, 0, 1, 4});
}

TEST_CASE("bpe load: oversized files are refused", "[bpe][load]") {
  const std::string huge((64u << 20) + 1, ' ');
  auto a = make_bpe_from_tokenizer_json(huge);
  REQUIRE_FALSE(a.ok());
  CHECK(a.status().code() == Code::kResourceExhausted);
  auto b = make_bpe_from_vocab_merges("{}", huge);
  REQUIRE_FALSE(b.ok());
  CHECK(b.status().code() == Code::kResourceExhausted);
}

TEST_CASE("bpe: huge and hostile texts encode and round-trip", "[bpe][load]") {
  auto r = make_bpe_from_tokenizer_json(sealsum::read_fixture("models/bart/tokenizer.json"));
  REQUIRE(r.ok());
  const auto& tok = *r.value();
  // One 200,000-letter word (the merge loop must not be quadratic), and 2 MiB of mixed text.
  const std::string word(200000, 'q');
  auto ids = tok.encode(word);
  CHECK(ids.size() > 2);
  CHECK(tok.decode(ids) == word);
  std::string mixed;
  for (int i = 0; mixed.size() < (2u << 20); ++i) mixed += "Word" + std::to_string(i) + " \xC3\xA9t\xC3\xA9\n\t";
  CHECK(tok.decode(tok.encode(mixed)) == mixed);
  // Random bytes: no crash; the round trip yields the repaired (valid UTF-8) text.
  std::mt19937 rng(99);
  for (int t = 0; t < 20; ++t) {
    std::string s(static_cast<size_t>(rng() % 4000), '\0');
    for (char& c : s) c = static_cast<char>(rng() % 256);
    const std::string out = tok.decode(tok.encode(s));
    CHECK(sealsum::tok::unicode::is_valid_utf8(out));
  }
}
