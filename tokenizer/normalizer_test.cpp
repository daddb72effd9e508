// SentencePiece normalizer with T5's precompiled charsmap, whitespace options, corrupt charsmaps,
// and the UTF-8 helpers it relies on.
#include <catch2/catch.hpp>

#include <random>

#include "common/fixtures.h"
#include "tokenizer/normalizer.h"
#include "tokenizer/spm_proto.h"
#include "tokenizer/utf8.h"

using namespace sealsum;
using namespace sealsum::tok;

namespace {

const std::string& t5_charsmap() {
  static const std::string blob = [] {
    auto m = parse_spm_model_proto(read_fixture("models/t5/spiece.model"));
    if (!m.ok()) throw std::runtime_error(m.status().to_string());
    return m->precompiled_charsmap;
  }();
  return blob;
}

std::string norm(std::string_view text, NormalizerOptions o = {}) {
  auto n = Normalizer::create(t5_charsmap(), o);
  REQUIRE(n.ok());
  std::string out;
  n->normalize(text, &out);
  return out;
}

const std::string kU = "\xe2\x96\x81";  // ▁

}  // namespace

TEST_CASE("normalizer: T5 charsmap rules (NFKC and friends)", "[normalizer]") {
  CHECK(norm("Hello") == kU + "Hello");
  CHECK(norm("\xef\xac\x81") == kU + "fi");                  // ﬁ ligature
  CHECK(norm("\xef\xbc\xa1\xef\xbc\xa2") == kU + "AB");      // full-width ＡＢ
  CHECK(norm("\xe2\x91\xa0") == kU + "1");                   // ①
  CHECK(norm("e\xcc\x81") == kU + "\xc3\xa9");               // e + combining acute -> é
  CHECK(norm("a\xe3\x80\x80" "b") == kU + "a" + kU + "b");    // ideographic space -> space
  CHECK(norm("\xff" "a") == kU + "\xef\xbf\xbd" "a");        // malformed byte -> U+FFFD
  CHECK(norm("x\xef\xbf\xbd") == kU + "x");                   // T5's charsmap deletes a literal U+FFFD
  CHECK(norm("\xed\xa0\x80") == kU + "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");  // surrogate: 3 bad bytes
}

TEST_CASE("normalizer: whitespace handling follows the options", "[normalizer]") {
  CHECK(norm("") == "");
  CHECK(norm("   ") == "");
  CHECK(norm("  a   b  ") == kU + "a" + kU + "b");
  CHECK(norm("  a   b  ", {true, false, true}) == kU + kU + kU + "a" + kU + kU + kU + "b" + kU + kU);
  CHECK(norm(" a b", {false, true, true}) == "a" + kU + "b");
  CHECK(norm(" a  b ", {true, true, false}) == " a b");
  auto plain = Normalizer::create("", {});
  REQUIRE(plain.ok());
  std::string out;
  plain->normalize("\xef\xac\x81  x", &out);
  CHECK(out == kU + "\xef\xac\x81" + kU + "x");  // no charsmap: characters copied as is
}

TEST_CASE("normalizer: Darts double-array prefix search", "[normalizer]") {
  auto n = Normalizer::create(t5_charsmap(), {});
  REQUIRE(n.ok());
  const auto [rep, consumed] = n->normalize_prefix("\xef\xac\x81xyz");
  CHECK(rep == "fi");
  CHECK(consumed == 3);
  const auto [rep2, consumed2] = n->normalize_prefix("xyz");
  CHECK(rep2 == "x");
  CHECK(consumed2 == 1);
}

TEST_CASE("normalizer: corrupt charsmaps are refused or stay in bounds", "[normalizer][corrupt]") {
  CHECK(Normalizer::create("abc", {}).status().code() == Code::kDataLoss);
  CHECK(Normalizer::create(std::string("\x08\x00\x00\x00" "abcd", 8), {}).status().code() == Code::kDataLoss);
  CHECK(Normalizer::create(std::string("\x05\x00\x00\x00" "abcdefgh\0", 13), {}).status().code() == Code::kDataLoss);
  CHECK(Normalizer::create(std::string("\x00\x00\x00\x00" "ab\0", 7), {}).status().code() == Code::kDataLoss);
  CHECK(Normalizer::create(std::string("\x04\x00\x00\x00" "abcdxy", 10), {}).status().code() == Code::kDataLoss);
  const std::string& real = t5_charsmap();
  CHECK(Normalizer::create(real.substr(0, real.size() - 1), {}).status().code() == Code::kDataLoss);
  // Random trie units with a valid header: normalization must not read out of bounds.
  std::mt19937 rng(7);
  for (int i = 0; i < 300; ++i) {
    const size_t units = 1 + rng() % 64;
    std::string blob(4, '\0');
    const uint32_t size = static_cast<uint32_t>(units * 4);
    for (int k = 0; k < 4; ++k) blob[static_cast<size_t>(k)] = static_cast<char>((size >> (8 * k)) & 0xFF);
    for (size_t k = 0; k < size; ++k) blob.push_back(static_cast<char>(rng()));
    for (size_t k = 0, m = rng() % 16; k < m; ++k) blob.push_back(static_cast<char>('a' + rng() % 26));
    blob.push_back('\0');
    auto n = Normalizer::create(blob, {});
    REQUIRE(n.ok());
    std::string text(rng() % 40, '\0');
    for (char& c : text) c = static_cast<char>(rng());
    std::string out;
    n->normalize(text, &out);
    CHECK(out.size() <= 3 + text.size() * (3 + 16));
  }
}

TEST_CASE("utf8: decoding and Python whitespace", "[utf8]") {
  char32_t cp = 0;
  size_t len = 0;
  CHECK(utf8::decode("\xc3\xa9", &cp, &len));
  CHECK((cp == 0xE9 && len == 2));
  CHECK_FALSE(utf8::decode("\xc0\x80", &cp, &len));          // overlong
  CHECK(len == 1);
  CHECK_FALSE(utf8::decode("\xed\xa0\x80", &cp, &len));      // surrogate
  CHECK_FALSE(utf8::decode("\xf4\x90\x80\x80", &cp, &len));  // > U+10FFFF
  CHECK_FALSE(utf8::decode("\xe2\x96", &cp, &len));          // truncated
  CHECK(utf8::decode("\xf0\x9f\x98\x80", &cp, &len));
  CHECK((cp == 0x1F600 && len == 4));
  CHECK(utf8::python_strip(" \t\n\x0b\x0c\r\x1c\x1f" "a b" "\xc2\x85\xc2\xa0\xe3\x80\x80\xe2\x80\xa8") == "a b");
  CHECK(utf8::python_strip("\xe2\x80\x8b" "a") == "\xe2\x80\x8b" "a");  // ZWSP is not whitespace
  CHECK(utf8::python_strip("\xa0" "a\x85") == "\xa0" "a\x85");          // malformed bytes are not
  CHECK(utf8::python_rstrip("a\xe2\x80\x83") == "a");
  CHECK(utf8::python_lstrip("   ") == "");
  std::string out;
  utf8::append(0x1F600, &out);
  utf8::append(0xE9, &out);
  utf8::append('x', &out);
  utf8::append(0x2581, &out);
  CHECK(out == "\xf0\x9f\x98\x80\xc3\xa9x\xe2\x96\x81");
}
