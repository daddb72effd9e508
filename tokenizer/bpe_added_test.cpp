// Added-token matching: leftmost-longest, lstrip/rstrip, and the raw-then-normalized passes.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "tokenizer/bpe_added.h"

namespace bpe = sealsum::tok::bpe;

namespace {

// "piece|piece" rendering: added tokens as "[id:text]", plain text as is.
std::string render(const bpe::AddedMatcher& m, const std::string& text) {
  std::vector<bpe::Segment> segs;
  m.split(text, segs);
  std::string out;
  size_t expect = 0;
  for (const auto& s : segs) {
    REQUIRE(s.begin == expect);  // segments tile the text
    REQUIRE(s.end > s.begin);
    expect = s.end;
    const std::string piece = text.substr(s.begin, s.end - s.begin);
    if (!out.empty()) out += "|";
    out += s.id >= 0 ? "[" + std::to_string(s.id) + ":" + piece + "]" : piece;
  }
  REQUIRE(expect == text.size());
  return out;
}

bpe::AddedToken tok(const std::string& c, int32_t id, bool lstrip = false, bool rstrip = false, bool normalized = true) {
  bpe::AddedToken t;
  t.content = c;
  t.id = id;
  t.lstrip = lstrip;
  t.rstrip = rstrip;
  t.normalized = normalized;
  t.special = true;
  return t;
}

}  // namespace

TEST_CASE("added: leftmost, then longest", "[bpe][added]") {
  const bpe::AddedMatcher m({tok("<s>", 0), tok("<s>x", 1), tok("bcd", 2), tok("cd", 3)});
  CHECK(render(m, "a<s>xb") == "a|[1:<s>x]|b");
  CHECK(render(m, "a<s>b") == "a|[0:<s>]|b");
  CHECK(render(m, "xbcd") == "x|[2:bcd]");
  CHECK(render(m, "<s><s>") == "[0:<s>]|[0:<s>]");
  CHECK(render(m, "<s") == "<s");
  CHECK(render(m, "") == "");
  CHECK(render(bpe::AddedMatcher(), "plain") == "plain");
}

TEST_CASE("added: lstrip and rstrip take Unicode White_Space", "[bpe][added]") {
  const bpe::AddedMatcher m({tok("<mask>", 9, /*lstrip=*/true), tok("<r>", 7, false, /*rstrip=*/true)});
  CHECK(render(m, "a  <mask> b") == "a|[9:  <mask>]| b");
  CHECK(render(m, "<mask>") == "[9:<mask>]");
  CHECK(render(m, "a\n\xE3\x80\x80<mask>") == "a|[9:\n\xE3\x80\x80<mask>]");
  CHECK(render(m, "a\xE2\x80\x8B<mask>") == "a\xE2\x80\x8B|[9:<mask>]");  // U+200B is not White_Space
  CHECK(render(m, "<r>  \tb") == "[7:<r>  \t]|b");
  // lstrip never takes what the previous match (with its rstrip) already took.
  CHECK(render(m, "<r>  <mask>x") == "[7:<r>  ]|[9:<mask>]|x");
}

TEST_CASE("added: non-normalized tokens are matched first, over the whole text", "[bpe][added]") {
  const bpe::AddedMatcher m({tok("abc", 1, false, false, /*normalized=*/true), tok("ab", 2, false, false, /*normalized=*/false)});
  CHECK(render(m, "xabc") == "x|[2:ab]|c");
  CHECK(render(m, "abxabc") == "[2:ab]|x|[2:ab]|c");
  const bpe::AddedMatcher only_norm({tok("abc", 1), tok("ab", 2)});
  CHECK(render(only_norm, "xabc") == "x|[1:abc]");
}

TEST_CASE("added: duplicate contents keep the last definition; empty ones are ignored", "[bpe][added]") {
  const bpe::AddedMatcher m({tok("<x>", 1), tok("", 5), tok("<x>", 2, /*lstrip=*/true)});
  CHECK(render(m, "a <x>") == "a|[2: <x>]");
}
