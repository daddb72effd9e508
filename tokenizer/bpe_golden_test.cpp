// Byte-level BPE against the golden corpus (3,000 lines produced by Hugging Face `tokenizers`
// 0.23.2 with models/bart/tokenizer.json; see golden/README.md "Tokenizers"), loaded both from
// tokenizer.json and from vocab.json + merges.txt, plus the tiny-random-bart tokenizer.
#include <catch2/catch.hpp>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "common/fixtures.h"
#include "tokenizer/factories.h"
#include "tokenizer/tokenizer.h"

namespace {

using sealsum::tok::Tokenizer;

struct Line {
  std::string text;
  std::vector<int32_t> ids;
  std::string decoded;
};

const std::vector<Line>& golden() {
  static const std::vector<Line> lines = [] {
    std::vector<Line> out;
    std::istringstream in(sealsum::read_fixture("golden/tokenizers/bart.jsonl"));
    for (std::string l; std::getline(in, l);) {
      if (l.empty()) continue;
      auto j = nlohmann::json::parse(l);
      out.push_back({j.at("text").get<std::string>(), j.at("ids").get<std::vector<int32_t>>(),
                     j.at("decoded").get<std::string>()});
    }
    return out;
  }();
  return lines;
}

std::unique_ptr<Tokenizer> must(sealsum::Result<std::unique_ptr<Tokenizer>> r) {
  INFO(r.status().to_string());
  REQUIRE(r.ok());
  return std::move(r).value();
}

std::unique_ptr<Tokenizer> bart_json() {
  return must(sealsum::tok::make_bpe_from_tokenizer_json(sealsum::read_fixture("models/bart/tokenizer.json")));
}
std::unique_ptr<Tokenizer> bart_files() {
  return must(sealsum::tok::make_bpe_from_vocab_merges(sealsum::read_fixture("models/bart/vocab.json"),
                                                       sealsum::read_fixture("models/bart/merges.txt")));
}

void check_all(const Tokenizer& tok, const char* name) {
  const auto& lines = golden();
  REQUIRE(lines.size() == 3000);
  size_t ids_ok = 0, dec_ok = 0, shown = 0;
  for (size_t i = 0; i < lines.size(); ++i) {
    const auto ids = tok.encode(lines[i].text);
    const bool a = ids == lines[i].ids;
    const bool b = tok.decode(lines[i].ids) == lines[i].decoded;
    ids_ok += a;
    dec_ok += b;
    if ((!a || !b) && shown++ < 5) UNSCOPED_INFO(name << ": line " << i + 1 << (a ? "" : " ids differ") << (b ? "" : " decoded differs"));
  }
  INFO(name << ": ids " << ids_ok << "/3000, decoded " << dec_ok << "/3000");
  CHECK(ids_ok == lines.size());
  CHECK(dec_ok == lines.size());
}

}  // namespace

TEST_CASE("bpe: all golden lines from tokenizer.json", "[bpe][golden]") {
  auto tok = bart_json();
  CHECK(std::string(tok->kind()) == "bpe");
  CHECK(tok->vocab_size() == 50265);
  check_all(*tok, "tokenizer.json");
}

TEST_CASE("bpe: all golden lines from vocab.json + merges.txt", "[bpe][golden]") {
  auto tok = bart_files();
  CHECK(tok->vocab_size() == 50265);
  check_all(*tok, "vocab+merges");
}

TEST_CASE("bpe: loaded through load_tokenizer from the model folder", "[bpe][golden]") {
  auto src = sealsum::tok::read_tokenizer_source(sealsum::fixture("models/bart").string());
  REQUIRE(src.ok());
  CHECK(src->kind == "tokenizer.json");
  auto tok = must(sealsum::tok::load_tokenizer(*src));
  CHECK(tok->encode("Hello world") == std::vector<int32_t>{0, 31414, 232, 2});
}

TEST_CASE("bpe: special tokens, lookups and decode details", "[bpe]") {
  auto tok = bart_json();
  CHECK(tok->encode("") == std::vector<int32_t>{0, 2});
  CHECK(tok->token_to_id("<mask>") == 50264);
  CHECK(tok->token_to_id("Ġthe") == 5);
  CHECK(tok->id_to_token(5) == "Ġthe");
  CHECK(tok->id_to_token(2) == "</s>");
  CHECK_FALSE(tok->id_to_token(50265).has_value());
  CHECK_FALSE(tok->id_to_token(-1).has_value());
  CHECK_FALSE(tok->token_to_id("no such token").has_value());
  // <mask> swallows the space before it; <s> does not.
  const auto m = tok->encode("a <mask> b");
  CHECK(m == std::vector<int32_t>{0, 102, 50264, 741, 2});
  CHECK(tok->encode("a <s> b") == std::vector<int32_t>{0, 102, 1437, 0, 741, 2});
  // Unknown and negative ids are skipped, special tokens dropped, clean-up applied.
  const std::vector<int32_t> ids = {0, 31414, -7, 99999999, 2, 1, 232, 479, 2};
  CHECK(tok->decode(ids) == "Hello world.");
  // A lone continuation byte token decodes to U+FFFD.
  const auto cont = tok->token_to_id("\xC2\xA2");  // byte 0xA2 maps to itself: "¢" in the alphabet
  REQUIRE(cont.has_value());
  CHECK(tok->decode(std::vector<int32_t>{*cont}) == "\xEF\xBF\xBD");
}

TEST_CASE("bpe: invalid UTF-8 input is repaired to U+FFFD before encoding", "[bpe]") {
  auto tok = bart_json();
  CHECK(tok->encode("a\xFF" "b") == tok->encode("a\xEF\xBF\xBD" "b"));
  CHECK(tok->encode("\xE2\x82") == tok->encode("\xEF\xBF\xBD"));
}

TEST_CASE("bpe: tiny-random-bart loads both ways and agrees on the golden texts", "[bpe]") {
  auto a = must(sealsum::tok::make_bpe_from_tokenizer_json(sealsum::read_fixture("models/tiny-random-bart/tokenizer.json")));
  auto b = must(sealsum::tok::make_bpe_from_vocab_merges(sealsum::read_fixture("models/tiny-random-bart/vocab.json"),
                                                         sealsum::read_fixture("models/tiny-random-bart/merges.txt")));
  CHECK(a->vocab_size() == 1000);
  CHECK(b->vocab_size() == 1000);
  CHECK(a->token_to_id("<mask>") == 4);
  size_t same = 0;
  for (const auto& l : golden()) same += a->encode(l.text) == b->encode(l.text);
  CHECK(same == golden().size());
  const auto ids = a->encode("Hello <mask> world");
  REQUIRE(ids.size() >= 3);
  CHECK(ids.front() == 0);
  CHECK(ids.back() == 2);
  CHECK(std::count(ids.begin(), ids.end(), 4) == 1);
}

TEST_CASE("bpe: concurrent encode/decode agree with single-threaded results", "[bpe][threads]") {
  auto tok = bart_json();
  const auto& lines = golden();
  std::vector<std::thread> threads;
  std::vector<size_t> ok(4, 0);
  for (size_t t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (size_t i = t % 2; i < lines.size(); i += 2) {  // threads t and t+2 share lines
        ok[t] += tok->encode(lines[i].text) == lines[i].ids && tok->decode(lines[i].ids) == lines[i].decoded;
      }
    });
  }
  for (auto& th : threads) th.join();
  size_t total = 0;
  for (size_t v : ok) total += v;
  CHECK(total == 2 * lines.size());  // every line checked by two threads at once
}
