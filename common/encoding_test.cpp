// The encoding module: known answers (RFC 4648 §10), round trips, each grammar option, and corrupt
// inputs (bad characters, misplaced or excess padding, impossible lengths, non-canonical bits,
// limits) that must be refused with a message that names the input but never echoes it.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "common/encoding.h"

using namespace sealsum;
using namespace sealsum::encoding;

namespace {

std::vector<uint8_t> v(std::string_view s) { return {s.begin(), s.end()}; }

Base64Options strict_std() {
  Base64Options o;
  o.alphabet = Alphabet::kStandard;
  o.padding = Padding::kRequired;
  o.canonical = true;
  return o;
}

}  // namespace

TEST_CASE("base64 encoders match RFC 4648 test vectors", "[encoding]") {
  const char* in[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
  const char* out[] = {"", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
  for (size_t i = 0; i < 7; ++i) {
    CHECK(base64_encode(as_bytes(in[i])) == out[i]);
    std::string nopad = out[i];
    while (!nopad.empty() && nopad.back() == '=') nopad.pop_back();
    CHECK(base64_encode(as_bytes(in[i]), false) == nopad);
    CHECK(base64url_encode(as_bytes(in[i])) == nopad);
    CHECK(base64url_encode(as_bytes(in[i]), true) == out[i]);
  }
  const std::vector<uint8_t> hi = {0xfb, 0xff, 0xfe};
  CHECK(base64_encode(hi) == "+//+");
  CHECK(base64url_encode(hi) == "-__-");
}

TEST_CASE("base64 decode round-trips every length and both alphabets", "[encoding]") {
  std::vector<uint8_t> data;
  for (int n = 0; n < 70; ++n) {
    auto a = base64_decode(base64_encode(data), "t", strict_std());
    REQUIRE(a.ok());
    CHECK(*a == data);
    Base64Options url;
    url.alphabet = Alphabet::kUrl;
    url.padding = Padding::kForbidden;
    url.canonical = true;
    auto b = base64_decode(base64url_encode(data), "t", url);
    REQUIRE(b.ok());
    CHECK(*b == data);
    auto c = base64_decode(base64url_encode(data, true), "t");  // either alphabet, padded
    REQUIRE(c.ok());
    CHECK(*c == data);
    data.push_back(uint8_t(n * 37 + 11));
  }
  auto t = base64_decode_text("Zm9vYmFy", "t");
  REQUIRE(t.ok());
  CHECK(*t == "foobar");
}

TEST_CASE("base64 decode refuses corrupt input", "[encoding]") {
  Base64Options any;
  any.whitespace = Whitespace::kNone;
  struct Case {
    std::string text;
    Base64Options opts;
  };
  Base64Options std_only = any;
  std_only.alphabet = Alphabet::kStandard;
  Base64Options url_only = any;
  url_only.alphabet = Alphabet::kUrl;
  Base64Options nopad = any;
  nopad.padding = Padding::kForbidden;
  Base64Options canonical = any;
  canonical.canonical = true;
  const std::vector<Case> bad = {
      {"Zm9v!", any},            // invalid character
      {"Zm 9v", any},            // whitespace not allowed by default
      {"Zm9v\n", any},           // newline not allowed by default
      {"Z", any},                // impossible length (one symbol)
      {"Zm9vY", any},            // 5 symbols
      {"Zg=a", any},             // data after padding
      {"Zg===", any},            // three '='
      {"Zm9v=", any},            // padding where none fits
      {"Zg=", any},              // one '=' where two are needed
      {"=", any},                // padding only
      {"-_-_", std_only},        // url alphabet when standard is required
      {"+/+/", url_only},        // standard alphabet when url is required
      {"Zg==", nopad},           // padding forbidden
      {"Zh==", canonical},       // non-zero trailing bits
      {"Zm9vYg", strict_std()},  // padding required
      {std::string("Zm\0v", 4), any},
  };
  for (const auto& c : bad) {
    auto r = base64_decode(c.text, "the test field", c.opts);
    INFO(c.text);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == Code::kDataLoss);
    CHECK(r.status().message().find("the test field") != std::string::npos);
    if (c.text.size() > 3) CHECK(r.status().message().find(c.text) == std::string::npos);
  }
  // Non-canonical bits are accepted unless asked, and decode to the canonical bytes.
  auto lenient = base64_decode("Zh==", "t", any);
  REQUIRE(lenient.ok());
  CHECK(*lenient == v("f"));
}

TEST_CASE("base64 whitespace options and limits", "[encoding]") {
  Base64Options nl;  // the default
  REQUIRE(base64_decode("Zm9v\r\nYmFy\n", "t").ok());
  CHECK_FALSE(base64_decode("Zm9v YmFy", "t", nl).ok());
  Base64Options none;
  none.whitespace = Whitespace::kNone;
  CHECK_FALSE(base64_decode("Zm9v\nYmFy", "t", none).ok());
  Base64Options ws;
  ws.whitespace = Whitespace::kAny;
  auto r = base64_decode(" Zm9v\tYm\fFy \v", "t", ws);
  REQUIRE(r.ok());
  CHECK(*r == v("foobar"));

  Base64Options small;
  small.max_chars = 8;
  CHECK(base64_decode("Zm9vYmFy", "t", small).ok());
  auto over = base64_decode("Zm9vYmFyYg", "blob", small);
  REQUIRE_FALSE(over.ok());
  CHECK(over.status().code() == Code::kResourceExhausted);
}

TEST_CASE("hex encode and decode", "[encoding]") {
  const std::vector<uint8_t> b = {0x00, 0x01, 0xab, 0xff, 0x7f};
  CHECK(hex_encode(b) == "0001abff7f");
  CHECK(hex_encode({}) == "");
  auto d = hex_decode("0001ABff7F");
  REQUIRE(d.ok());
  CHECK(*d == b);
  for (const char* bad : {"0", "abc", "0g", "zz00", "00 1", "0x00", "+1"}) {
    auto r = hex_decode(bad, "--measurement");
    INFO(bad);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == Code::kDataLoss);
    CHECK(r.status().message().find("--measurement") != std::string::npos);
  }
  auto over = hex_decode("000000", "x", 4);
  REQUIRE_FALSE(over.ok());
  CHECK(over.status().code() == Code::kResourceExhausted);
}

TEST_CASE("percent_encode keeps only unreserved characters", "[encoding]") {
  CHECK(percent_encode("aZ09-._~") == "aZ09-._~");
  CHECK(percent_encode("a b/c?d=e&f") == "a%20b%2Fc%3Fd%3De%26f");
  CHECK(percent_encode(std::string("\xff\x00", 2)) == "%FF%00");
}
