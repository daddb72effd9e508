// T5 unigram tokenizer: the 3,000 golden lines (ids and decoded text) from spiece.model and from
// tokenizer.json, T5 special-token rules, the Viterbi tie rules, tokenizer.json failure modes and
// concurrent use.
#include <catch2/catch.hpp>

#include <fstream>
#include <functional>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "common/fixtures.h"
#include "tokenizer/factories.h"
#include "tokenizer/unigram.h"
#include "tokenizer/unigram_model.h"

using namespace sealsum;
using namespace sealsum::tok;

namespace {

const Tokenizer& t5_spm() {
  static const std::unique_ptr<Tokenizer> tok = [] {
    auto r = make_unigram_from_spm(read_fixture("models/t5/spiece.model"));
    if (!r.ok()) throw std::runtime_error(r.status().to_string());
    return std::move(r).value();
  }();
  return *tok;
}

const Tokenizer& t5_json() {
  static const std::unique_ptr<Tokenizer> tok = [] {
    auto r = make_unigram_from_tokenizer_json(read_fixture("models/t5/tokenizer.json"));
    if (!r.ok()) throw std::runtime_error(r.status().to_string());
    return std::move(r).value();
  }();
  return *tok;
}

struct GoldenLine {
  std::string text;
  std::vector<int32_t> ids;
  std::string decoded;
};

const std::vector<GoldenLine>& golden() {
  static const std::vector<GoldenLine> lines = [] {
    std::vector<GoldenLine> out;
    std::istringstream in(read_fixture("golden/tokenizers/t5.jsonl"));
    std::string line;
    while (std::getline(in, line)) {
      const auto j = nlohmann::json::parse(line);
      out.push_back({j.at("text").get<std::string>(), j.at("ids").get<std::vector<int32_t>>(),
                     j.at("decoded").get<std::string>()});
    }
    return out;
  }();
  return lines;
}

// Counts golden lines whose ids / decoded text match; prints the first few mismatches.
void check_golden(const Tokenizer& tok, const char* name) {
  const auto& lines = golden();
  REQUIRE(lines.size() == 3000);
  size_t ids_ok = 0, dec_ok = 0, shown = 0;
  for (size_t i = 0; i < lines.size(); ++i) {
    const auto& g = lines[i];
    const bool a = tok.encode(g.text) == g.ids;
    const bool b = tok.decode(g.ids) == g.decoded;
    ids_ok += a;
    dec_ok += b;
    if ((!a || !b) && shown++ < 5) UNSCOPED_INFO(name << ": golden line " << i + 1 << (a ? "" : " ids") << (b ? "" : " decoded") << " differ");
  }
  WARN(name << ": ids " << ids_ok << "/" << lines.size() << ", decoded " << dec_ok << "/" << lines.size());
  CHECK(ids_ok == lines.size());
  CHECK(dec_ok == lines.size());
}

std::vector<int32_t> ids_of(const Tokenizer& tok, std::initializer_list<const char*> pieces) {
  std::vector<int32_t> ids;
  for (const char* p : pieces) {
    auto id = tok.token_to_id(p);
    REQUIRE(id.has_value());
    ids.push_back(*id);
  }
  return ids;
}

}  // namespace

TEST_CASE("unigram: all golden T5 lines from spiece.model", "[unigram][golden]") { check_golden(t5_spm(), "spiece.model"); }

TEST_CASE("unigram: all golden T5 lines from tokenizer.json", "[unigram][golden]") { check_golden(t5_json(), "tokenizer.json"); }

TEST_CASE("unigram: vocabulary and special ids", "[unigram]") {
  for (const Tokenizer* tok : {&t5_spm(), &t5_json()}) {
    CHECK(std::string(tok->kind()) == "unigram");
    CHECK(tok->vocab_size() == 32100);
    CHECK(tok->token_to_id("<pad>") == 0);
    CHECK(tok->token_to_id("</s>") == 1);
    CHECK(tok->token_to_id("<unk>") == 2);
    CHECK(tok->token_to_id("<extra_id_0>") == 32099);
    CHECK(tok->token_to_id("<extra_id_99>") == 32000);
    CHECK_FALSE(tok->token_to_id("<extra_id_100>").has_value());
    CHECK(tok->id_to_token(32099) == "<extra_id_0>");
    CHECK(tok->id_to_token(3) == "\xe2\x96\x81");
    CHECK_FALSE(tok->id_to_token(32100).has_value());
    CHECK_FALSE(tok->id_to_token(-1).has_value());
  }
}

TEST_CASE("unigram: T5 special-token rules", "[unigram]") {
  const Tokenizer& tok = t5_spm();
  CHECK(tok.encode("") == std::vector<int32_t>{1});
  CHECK(tok.encode("   ") == std::vector<int32_t>{1});
  CHECK(tok.encode("<extra_id_0>") == std::vector<int32_t>{32099, 1});
  // Text ending in </s> gets no second </s>; whitespace around specials is stripped.
  const auto a = tok.encode("Hello </s>");
  REQUIRE(a.size() >= 2);
  CHECK(a.back() == 1);
  CHECK(a[a.size() - 2] != 1);
  CHECK(tok.encode("Hello </s>") == tok.encode("Hello</s>"));
  CHECK(tok.encode("a <extra_id_1> b") == tok.encode("a<extra_id_1>b"));
  // Each segment is encoded on its own, with its own dummy prefix.
  auto expected = tok.encode("Hello");
  expected.back() = 0;  // </s> -> <pad>
  const auto world = tok.encode("world");
  expected.insert(expected.end(), world.begin(), world.end());
  CHECK(tok.encode("Hello<pad>world") == expected);
  CHECK(tok.encode("Hello \t<pad>\n world") == expected);
  CHECK(tok.encode("Hello\xe3\x80\x80<pad>\xc2\x85world") == expected);  // Python whitespace
  // <s>, <mask> and <extra_id_100> are plain text for T5.
  CHECK(tok.encode("<s>").size() > 2);
  CHECK(tok.encode("<extra_id_100>").size() > 2);
}

TEST_CASE("unigram: decode skips specials and unknowns, then cleans up", "[unigram]") {
  const Tokenizer& tok = t5_spm();
  auto ids = ids_of(tok, {"\xe2\x96\x81" "Hello", "\xe2\x96\x81" "world"});
  ids.insert(ids.begin(), 32099);
  ids.push_back(2);
  ids.push_back(ids_of(tok, {"."})[0]);
  ids.push_back(1);
  ids.push_back(0);
  ids.push_back(999999);  // out of range: ignored
  ids.push_back(-5);
  CHECK(tok.decode(ids) == "Hello world.");
  CHECK(tok.decode({}) == "");
  CHECK(clean_up_tokenization("a . b ? c ! d , e ' f do n't I 'm it 's we 've they 're") ==
        "a. b? c! d, e'f don't I'm it's we've they're");
  CHECK(clean_up_tokenization(" ,  , ") == ", , ");
}

TEST_CASE("unigram: Viterbi ties keep the earliest start; unknown runs merge", "[unigram]") {
  std::vector<UnigramPiece> pieces = {{"<unk>", 0.0f, UnigramPieceKind::kUnknown},
                                      {"a", -1.0f, UnigramPieceKind::kNormal},
                                      {"b", -1.0f, UnigramPieceKind::kNormal},
                                      {"ab", -2.0f, UnigramPieceKind::kNormal},
                                      {"</s>", 0.0f, UnigramPieceKind::kControl},
                                      {"zz", -0.5f, UnigramPieceKind::kUnused}};
  auto m = UnigramModel::create(pieces, 0);
  REQUIRE(m.ok());
  CHECK(m->unk_score() == -12.0f);
  std::vector<int32_t> ids;
  m->encode("ab", &ids);
  CHECK(ids == std::vector<int32_t>{3});  // "ab" (start 0) ties "a"+"b" and wins
  ids.clear();
  m->encode("xy\xc3\xa9" "a" "zz" "b", &ids);  // unknown run "xyé" -> one <unk>; control/unused never match
  CHECK(ids == std::vector<int32_t>{0, 1, 0, 2});
  ids.clear();
  m->encode("", &ids);
  CHECK(ids.empty());

  // Model construction failures.
  CHECK_FALSE(UnigramModel::create({}, 0).ok());
  CHECK_FALSE(UnigramModel::create(pieces, 1).ok());  // unk id names a normal piece
  CHECK_FALSE(UnigramModel::create(pieces, 99).ok());
  auto dup = pieces;
  dup.push_back({"a", -3.0f, UnigramPieceKind::kNormal});
  CHECK_FALSE(UnigramModel::create(dup, 0).ok());
  auto nul = pieces;
  nul[1].text = std::string("a\0b", 3);
  CHECK_FALSE(UnigramModel::create(nul, 0).ok());
  auto empty = pieces;
  empty[2].text.clear();
  CHECK_FALSE(UnigramModel::create(empty, 0).ok());
}

TEST_CASE("unigram: tiny-random-t5 tokenizer.json loads with its own special ids", "[unigram]") {
  auto r = make_unigram_from_tokenizer_json(read_fixture("models/tiny-random-t5/tokenizer.json"));
  REQUIRE(r.ok());
  const Tokenizer& tok = *r.value();
  CHECK(tok.vocab_size() == 1302);
  CHECK(tok.token_to_id("<extra_id_99>") == 3);
  const auto ids = tok.encode("Hello world <extra_id_99>");
  REQUIRE(ids.size() >= 3);
  CHECK(ids[ids.size() - 2] == 3);
  CHECK(ids.back() == 1);
  for (int32_t id : ids) CHECK((id >= 0 && id < 1302));
}

TEST_CASE("unigram: the tokenizer loads through load_tokenizer from a model folder", "[unigram]") {
  auto src = read_tokenizer_source(fixture("models/t5").string());
  REQUIRE(src.ok());
  CHECK(src->kind == "spiece");
  auto tok = load_tokenizer(*src);
  REQUIRE(tok.ok());
  CHECK(tok.value()->encode(golden()[0].text) == golden()[0].ids);
}

TEST_CASE("unigram: corrupt tokenizer.json is refused", "[unigram][corrupt]") {
  const std::string good = read_fixture("models/tiny-random-t5/tokenizer.json");
  REQUIRE(make_unigram_from_tokenizer_json(good).ok());
  auto with = [&](const std::function<void(nlohmann::json&)>& edit) {
    auto j = nlohmann::json::parse(good);
    edit(j);
    return make_unigram_from_tokenizer_json(j.dump());
  };
  CHECK(make_unigram_from_tokenizer_json("").status().code() == Code::kDataLoss);
  CHECK(make_unigram_from_tokenizer_json("{\"model\": ").status().code() == Code::kDataLoss);
  CHECK(make_unigram_from_tokenizer_json("[1,2]").status().code() == Code::kDataLoss);
  CHECK(make_unigram_from_tokenizer_json(good.substr(0, good.size() / 2)).status().code() == Code::kDataLoss);
  CHECK(with([](auto& j) { j["model"]["type"] = "BPE"; }).status().code() == Code::kInvalidArgument);
  CHECK(with([](auto& j) { j["model"]["unk_id"] = 999999; }).status().code() == Code::kDataLoss);
  CHECK(with([](auto& j) { j["model"]["unk_id"] = "2"; }).status().code() == Code::kDataLoss);
  CHECK(with([](auto& j) { j["model"]["vocab"][5] = "x"; }).status().code() == Code::kDataLoss);
  CHECK(with([](auto& j) { j["model"]["vocab"][5][1] = "x"; }).status().code() == Code::kDataLoss);
  CHECK(with([](auto& j) { j["model"]["vocab"][6][0] = j["model"]["vocab"][7][0]; }).status().code() == Code::kDataLoss);
  CHECK(with([](auto& j) { j["model"]["vocab"] = nlohmann::json::array(); }).status().code() == Code::kDataLoss);
  CHECK(with([](auto& j) { j["model"]["byte_fallback"] = true; }).status().code() == Code::kUnimplemented);
  CHECK(with([](auto& j) { j["added_tokens"][3]["id"] = 50; }).status().code() == Code::kDataLoss);
  CHECK(with([](auto& j) { j["added_tokens"][3]["special"] = false; }).status().code() == Code::kUnimplemented);
  CHECK(with([](auto& j) { j["normalizer"]["type"] = "NFKC"; }).status().code() == Code::kUnimplemented);
  CHECK(with([](auto& j) { j["normalizer"]["precompiled_charsmap"] = "AAA"; }).status().code() == Code::kDataLoss);
  CHECK(with([](auto& j) { j["normalizer"]["precompiled_charsmap"] = "AA*A"; }).status().code() == Code::kDataLoss);
  CHECK(with([](auto& j) { j["normalizer"]["precompiled_charsmap"] = "A=AA"; }).status().code() == Code::kDataLoss);
  CHECK(with([](auto& j) { j["normalizer"]["precompiled_charsmap"] = "AAAAAAAA"; }).status().code() == Code::kDataLoss);
  CHECK(with([](auto& j) { j["pre_tokenizer"] = nullptr; }).status().code() == Code::kUnimplemented);
  CHECK(with([](auto& j) { j["pre_tokenizer"] = {{"type", "ByteLevel"}}; }).status().code() == Code::kUnimplemented);
  // Removing the </s> added token leaves no end-of-sequence special.
  CHECK(with([](auto& j) { j["added_tokens"].erase(1); }).status().code() == Code::kDataLoss);
  // A null normalizer is valid: no character rules apply.
  CHECK(with([](auto& j) { j["normalizer"] = nullptr; }).ok());
}

TEST_CASE("unigram: concurrent encode/decode agree with sequential results", "[unigram]") {
  const Tokenizer& tok = t5_spm();
  const auto& lines = golden();
  std::vector<std::thread> threads;
  std::vector<size_t> bad(4, 0);
  for (size_t t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (size_t i = t; i < lines.size(); i += 4) {
        if (tok.encode(lines[i].text) != lines[i].ids || tok.decode(lines[i].ids) != lines[i].decoded) ++bad[t];
      }
    });
  }
  for (auto& th : threads) th.join();
  for (size_t b : bad) CHECK(b == 0);
}
