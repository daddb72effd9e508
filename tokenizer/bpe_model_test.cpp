// BPE model: byte alphabet, merge loop (against a naive GPT-2 reference), unk handling, cache.
#include <catch2/catch.hpp>

#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "tokenizer/bpe_model.h"
#include "tokenizer/unicode.h"

namespace bpe = sealsum::tok::bpe;

namespace {

using Vocab = std::vector<std::pair<std::string, int32_t>>;
using Merges = std::vector<std::pair<std::string, std::string>>;

std::unique_ptr<bpe::BpeModel> build(const Vocab& v, const Merges& m, bpe::BpeOptions o = {}) {
  auto r = bpe::BpeModel::build(v, m, o);
  INFO(r.status().to_string());
  REQUIRE(r.ok());
  return std::move(r).value();
}

std::vector<std::string> tokens_of(const bpe::BpeModel& m, const std::string& word) {
  std::vector<int32_t> ids;
  m.encode_word(word, ids);
  std::vector<std::string> out;
  for (int32_t id : ids) out.push_back(*m.id_to_token(id));
  return out;
}

// GPT-2's original algorithm: repeatedly take the lowest-ranked adjacent pair and merge every
// occurrence of it, left to right. Quadratic; for checking only. Words are ASCII letters, which
// the byte alphabet maps to themselves.
std::vector<std::string> naive(const std::string& word, const Merges& merges) {
  std::map<std::pair<std::string, std::string>, size_t> rank;
  for (size_t i = 0; i < merges.size(); ++i) rank[merges[i]] = i;
  std::vector<std::string> w;
  for (char c : word) w.emplace_back(1, c);
  while (w.size() > 1) {
    size_t best = SIZE_MAX;
    std::pair<std::string, std::string> pair;
    for (size_t i = 0; i + 1 < w.size(); ++i) {
      auto it = rank.find({w[i], w[i + 1]});
      if (it != rank.end() && it->second < best) {
        best = it->second;
        pair = it->first;
      }
    }
    if (best == SIZE_MAX) break;
    std::vector<std::string> next;
    for (size_t i = 0; i < w.size();) {
      if (i + 1 < w.size() && w[i] == pair.first && w[i + 1] == pair.second) {
        next.push_back(w[i] + w[i + 1]);
        i += 2;
      } else {
        next.push_back(w[i++]);
      }
    }
    w = std::move(next);
  }
  return w;
}

}  // namespace

TEST_CASE("bpe model: GPT-2 byte alphabet", "[bpe][model]") {
  CHECK(bpe::byte_to_unicode('!') == U'!');
  CHECK(bpe::byte_to_unicode('~') == U'~');
  CHECK(bpe::byte_to_unicode(0) == 0x100);
  CHECK(bpe::byte_to_unicode(' ') == 0x120);   // "Ġ"
  CHECK(bpe::byte_to_unicode('\n') == 0x10A);  // "Ċ"
  CHECK(bpe::byte_to_unicode(0x7F) == 0x121);
  CHECK(bpe::byte_to_unicode(0xAD) == 0x143);  // soft hyphen -> "Ń"
  CHECK(bpe::byte_to_unicode(0xA1) == 0xA1);
  std::set<char32_t> seen;
  for (int b = 0; b < 256; ++b) {
    const char32_t c = bpe::byte_to_unicode(static_cast<uint8_t>(b));
    seen.insert(c);
    CHECK(bpe::byte_from_unicode(c) == b);
  }
  CHECK(seen.size() == 256);
  CHECK(bpe::byte_from_unicode(U' ') == -1);
  CHECK(bpe::byte_from_unicode(0x144) == -1);
  CHECK(bpe::byte_from_unicode(0x1F600) == -1);
  CHECK(bpe::bytes_to_token_text(" hi\n") == "\xC4\xA0hi\xC4\x8A");
}

TEST_CASE("bpe model: merge loop equals the naive GPT-2 algorithm", "[bpe][model]") {
  std::mt19937 rng(1234);
  for (int trial = 0; trial < 40; ++trial) {
    // Train-like random merges over {a,b,c}: each merge creates a new token from two existing
    // ones, so later merges may use earlier results (as in a real merges.txt).
    std::vector<std::string> toks = {"a", "b", "c"};
    Merges merges;
    std::set<std::string> have(toks.begin(), toks.end());
    for (int k = 0; k < 60; ++k) {
      const std::string& x = toks[rng() % toks.size()];
      const std::string& y = toks[rng() % toks.size()];
      if (have.count(x + y) || (x + y).size() > 12) continue;
      merges.emplace_back(x, y);
      have.insert(x + y);
      toks.push_back(x + y);
    }
    Vocab vocab;
    for (size_t i = 0; i < toks.size(); ++i) vocab.emplace_back(toks[i], static_cast<int32_t>(i));
    auto m = build(vocab, merges, bpe::BpeOptions{.cache_capacity = 0});
    for (int w = 0; w < 50; ++w) {
      std::string word;
      const size_t len = (w == 0) ? 600 : rng() % 40;  // one long word per trial
      for (size_t i = 0; i < len; ++i) word.push_back(static_cast<char>('a' + rng() % 3));
      INFO("trial " << trial << " word " << word);
      REQUIRE(tokens_of(*m, word) == naive(word, merges));
    }
  }
}

TEST_CASE("bpe model: lookups and a small hand example", "[bpe][model]") {
  auto m = build({{"l", 0}, {"o", 1}, {"w", 2}, {"lo", 3}, {"low", 4}, {"e", 5}, {"r", 6}, {"er", 7}},
                 {{"l", "o"}, {"e", "r"}, {"lo", "w"}});
  CHECK(tokens_of(*m, "lower") == std::vector<std::string>{"low", "er"});
  CHECK(tokens_of(*m, "").empty());
  CHECK(m->token_to_id("low") == 4);
  CHECK_FALSE(m->token_to_id("lowe").has_value());
  CHECK(m->id_to_token(8) == nullptr);
  CHECK(m->id_to_token(-1) == nullptr);
  CHECK(m->size() == 8);
  CHECK(m->max_id() == 7);
}

TEST_CASE("bpe model: bytes outside the vocab are dropped, or become <unk>", "[bpe][model]") {
  const Vocab v = {{"a", 0}, {"b", 1}, {"<unk>", 2}, {"ab", 3}};
  const Merges mg = {{"a", "b"}};
  auto drop = build(v, mg);
  CHECK(tokens_of(*drop, "azzb") == std::vector<std::string>{"ab"});  // the survivors still merge
  CHECK(tokens_of(*drop, "zab") == std::vector<std::string>{"ab"});
  auto unk = build(v, mg, bpe::BpeOptions{.unk_token = "<unk>"});
  CHECK(tokens_of(*unk, "azzb") == std::vector<std::string>{"a", "<unk>", "<unk>", "b"});
  auto fused = build(v, mg, bpe::BpeOptions{.unk_token = "<unk>", .fuse_unk = true});
  CHECK(tokens_of(*fused, "azzbz") == std::vector<std::string>{"a", "<unk>", "b", "<unk>"});
  CHECK_FALSE(bpe::BpeModel::build(v, mg, bpe::BpeOptions{.unk_token = "[UNK]"}).ok());
}

TEST_CASE("bpe model: ignore_merges takes a whole word from the vocab", "[bpe][model]") {
  const Vocab v = {{"a", 0}, {"b", 1}, {"c", 2}, {"abc", 3}, {"ab", 4}};
  auto plain = build(v, {{"a", "b"}});
  auto ignore = build(v, {{"a", "b"}}, bpe::BpeOptions{.ignore_merges = true});
  CHECK(tokens_of(*plain, "abc") == std::vector<std::string>{"ab", "c"});
  CHECK(tokens_of(*ignore, "abc") == std::vector<std::string>{"abc"});
  CHECK(tokens_of(*ignore, "abca") == std::vector<std::string>{"ab", "c", "a"});
}

TEST_CASE("bpe model: build rejects inconsistent inputs", "[bpe][model]") {
  CHECK_FALSE(bpe::BpeModel::build({{"a", 0}, {"b", 0}}, {}, {}).ok());           // id twice
  CHECK_FALSE(bpe::BpeModel::build({{"a", 0}, {"a", 1}}, {}, {}).ok());           // token twice
  CHECK_FALSE(bpe::BpeModel::build({{"a", -1}}, {}, {}).ok());
  CHECK_FALSE(bpe::BpeModel::build({{"a", 1 << 24}}, {}, {}).ok());
  CHECK_FALSE(bpe::BpeModel::build({{"a", 0}, {"b", 1}}, {{"a", "b"}}, {}).ok());  // "ab" missing
  CHECK_FALSE(bpe::BpeModel::build({{"a", 0}, {"ab", 1}}, {{"a", "b"}}, {}).ok()); // "b" missing
  const auto r = bpe::BpeModel::build({{"a", 0}}, {{"a", "SECRETWORD"}}, {});
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().message().find("SECRETWORD") == std::string::npos);  // names the merge number only
  CHECK(r.status().message().find("#1") != std::string::npos);
}

TEST_CASE("bpe model: the word cache is bounded and does not change results", "[bpe][model]") {
  const Vocab v = {{"a", 0}, {"b", 1}, {"ab", 2}};
  auto small = build(v, {{"a", "b"}}, bpe::BpeOptions{.cache_capacity = 2});
  auto none = build(v, {{"a", "b"}}, bpe::BpeOptions{.cache_capacity = 0});
  for (const char* w : {"ab", "aab", "abb", "ba", "abab", "ab"}) {
    CHECK(tokens_of(*small, w) == tokens_of(*none, w));
    CHECK(tokens_of(*small, w) == tokens_of(*small, w));  // second call may come from the cache
  }
  CHECK(small->cache_size() == 2);
  CHECK(none->cache_size() == 0);
  auto big = build(v, {{"a", "b"}}, bpe::BpeOptions{.cache_capacity = 16});
  std::vector<int32_t> ids;
  big->encode_word(std::string(bpe::BpeModel::kMaxCachedWordBytes, 'a'), ids);
  CHECK(big->cache_size() == 0);  // long words are never cached
  big->encode_word(std::string(bpe::BpeModel::kMaxCachedWordBytes - 1, 'a'), ids);
  CHECK(big->cache_size() == 1);
}
