// Unicode helpers: generated class table and Rust-compatible lossy UTF-8 decoding.
#include <catch2/catch.hpp>

#include <string>

#include "tokenizer/unicode.h"

using sealsum::tok::unicode::classify;
using sealsum::tok::unicode::CpClass;
namespace u = sealsum::tok::unicode;

TEST_CASE("unicode: table version and classes", "[unicode]") {
  CHECK(std::string(u::unicode_version()) == "15.0.0");
  CHECK(classify(U'a') == CpClass::kLetter);
  CHECK(classify(U'Z') == CpClass::kLetter);
  CHECK(classify(U'\u00E9') == CpClass::kLetter);   // é (Ll)
  CHECK(classify(U'\u02B0') == CpClass::kLetter);   // modifier letter (Lm)
  CHECK(classify(U'\u4E2D') == CpClass::kLetter);   // CJK, inside a <First>..<Last> range
  CHECK(classify(U'\uAC00') == CpClass::kLetter);   // Hangul syllable range start
  CHECK(classify(U'\U00020000') == CpClass::kLetter);
  CHECK(classify(U'7') == CpClass::kNumber);
  CHECK(classify(U'\u0663') == CpClass::kNumber);   // Arabic-Indic three (Nd)
  CHECK(classify(U'\u00B2') == CpClass::kNumber);   // superscript two (No)
  CHECK(classify(U'\u216B') == CpClass::kNumber);   // Roman numeral twelve (Nl)
  for (char32_t c : {U'\t', U'\n', U'\v', U'\f', U'\r', U' ', U'\u0085', U'\u00A0', U'\u1680', U'\u2000',
                     U'\u200A', U'\u2028', U'\u2029', U'\u202F', U'\u205F', U'\u3000'}) {
    CHECK(classify(c) == CpClass::kSpace);
  }
  for (char32_t c : {U'\0', U'!', U'\'', U'_', U'\u0301', U'\u200B', U'\u180E', U'\U0001F600', U'\uFFFD',
                     U'\U0010FFFF', char32_t{0x110000}, char32_t{0xFFFFFFFF}, U'\x1C', U'\x1F'}) {
    CHECK(classify(c) == CpClass::kOther);
  }
  CHECK(classify(char32_t{0x0378}) == CpClass::kOther);  // unassigned
}

TEST_CASE("unicode: valid UTF-8 decodes and round-trips", "[unicode]") {
  const std::string s = "a\xC3\xA9\xE4\xB8\xAD\xF0\x9F\x98\x80";  // a é 中 😀
  CHECK(u::is_valid_utf8(s));
  CHECK(u::to_valid_utf8(s) == s);
  auto d = u::decode_utf8(s, 1);
  CHECK(d.valid);
  CHECK(d.cp == 0xE9);
  CHECK(d.len == 2);
  d = u::decode_utf8(s, 6);
  CHECK(d.cp == 0x1F600);
  CHECK(d.len == 4);
  std::string out;
  for (char32_t c : {U'a', U'\u00E9', U'\u4E2D', U'\U0001F600'}) u::append_utf8(out, c);
  CHECK(out == s);
}

TEST_CASE("unicode: ill-formed UTF-8 becomes U+FFFD per maximal subpart", "[unicode]") {
  const std::string r = "\xEF\xBF\xBD";
  auto lossy = [](const std::string& s) { return u::to_valid_utf8(s); };
  CHECK(lossy("\x80") == r);
  CHECK(lossy("\xC0\x80") == r + r);                // overlong lead is never valid
  CHECK(lossy("\xC2") == r);                        // truncated
  CHECK(lossy("\xE2\x82") == r);                    // truncated 3-byte: one subpart
  CHECK(lossy("\xE2\x82x") == r + "x");
  CHECK(lossy("\xE0\x80\x80") == r + r + r);        // E0 needs A0..BF next
  CHECK(lossy("\xED\xA0\x80") == r + r + r);        // surrogate
  CHECK(lossy("\xF0\x9F\x98") == r);                // truncated 4-byte
  CHECK(lossy("\xF4\x90\x80\x80") == r + r + r + r);  // above U+10FFFF
  CHECK(lossy("\xF5\xFF") == r + r);
  CHECK(lossy("a\xF0\x9F\x98" "b\xC3") == "a" + r + "b" + r);
  CHECK_FALSE(u::is_valid_utf8("\xC3"));
  CHECK_FALSE(u::is_valid_utf8("ab\xFF"));
  const auto d = u::decode_utf8("\xE2\x82", 0);
  CHECK_FALSE(d.valid);
  CHECK(d.len == 2);
  CHECK(d.cp == u::kReplacement);
}
