// Key files and key ids: format, strict parsing, permissions, and that key bytes never leak into
// messages.
#include <sys/stat.h>

#include <catch2/catch.hpp>

#include <numeric>
#include <string>
#include <vector>

#include "secure/keys.h"
#include "secure/sealed_testutil.h"

using namespace sealsum;
using namespace sealsum::secure;
using sealsum::secure::testing::TempDir;

namespace {

std::vector<uint8_t> bytes_of(const std::string& s) { return {s.begin(), s.end()}; }
std::vector<uint8_t> iota32() {
  std::vector<uint8_t> k(32);
  std::iota(k.begin(), k.end(), 0);
  return k;
}
// base64url(00 01 .. 1f), computed independently (Python's base64.urlsafe_b64encode).
const std::string kIotaB64 = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8";

}  // namespace

TEST_CASE("key ids: validation and derivation", "[keys]") {
  CHECK(validate_kid("acme-docs_2026.v1:a").is_ok());
  CHECK(validate_kid("").code() == Code::kInvalidArgument);
  CHECK(validate_kid(std::string(64, 'a')).is_ok());
  CHECK(validate_kid(std::string(65, 'a')).code() == Code::kInvalidArgument);
  CHECK(validate_kid("a/b").code() == Code::kInvalidArgument);
  CHECK(validate_kid("a b").code() == Code::kInvalidArgument);
  CHECK(validate_kid("a\"b").code() == Code::kInvalidArgument);
  // sha256("sealsum key id v1\0" || 00..1f)[:8], computed independently with Python's hashlib.
  CHECK(derive_kid(iota32()) == "sha256:05aa5f590c9024b7");
  auto k = SealingKey::from_bytes(iota32());
  REQUIRE(k.ok());
  CHECK(k->kid() == "sha256:05aa5f590c9024b7");
  CHECK(SealingKey::from_bytes(std::vector<uint8_t>(31)).status().code() == Code::kInvalidArgument);
  CHECK(SealingKey::from_bytes(iota32(), "bad kid").status().code() == Code::kInvalidArgument);
}

TEST_CASE("key file parsing: the documented format", "[keys]") {
  auto k = parse_key_file(bytes_of(R"({"kty":"oct","alg":"A256GCM","kid":"owner-1","k":")" + kIotaB64 + "\"}\n"));
  REQUIRE(k.ok());
  CHECK(k->kid() == "owner-1");
  CHECK(std::vector<uint8_t>(k->bytes().begin(), k->bytes().end()) == iota32());

  // Any member order, whitespace, optional kty/alg.
  auto k2 = parse_key_file(bytes_of("\n { \"k\" : \"" + kIotaB64 + "\" ,\r\n\t\"kid\":\"x\" } "));
  REQUIRE(k2.ok());
  CHECK(k2->kid() == "x");
}

TEST_CASE("key file parsing: malformed files are refused without echoing the key", "[keys]") {
  const std::string good = kIotaB64;
  std::string flipped_last = good;
  flipped_last.back() = '9';  // '8' = 111100b; '9' = 111101b sets a padding bit: not canonical
  const std::vector<std::string> bad = {
      "",
      "{",
      "[]",
      R"({"kid":"a"})",
      R"({"k":")" + good + "\"}",
      R"({"kid":"a","k":")" + good.substr(0, 42) + "\"}",
      R"({"kid":"a","k":")" + good + "A\"}",
      R"({"kid":"a","k":")" + good + "=\"}",
      R"({"kid":"a","k":")" + flipped_last + "\"}",
      R"({"kid":"a","k":")" + good.substr(0, 10) + "+" + good.substr(11) + "\"}",
      R"({"kid":"a","k":")" + good + R"(","x":"1"})",
      R"({"kid":"a","kid":"b","k":")" + good + "\"}",
      R"({"kid":"a","k":")" + good + "\"} trailing",
      R"({"kty":"RSA","kid":"a","k":")" + good + "\"}",
      R"({"alg":"A128GCM","kid":"a","k":")" + good + "\"}",
      R"({"kid":"a\u0041","k":")" + good + "\"}",
      R"({"kid":"a b","k":")" + good + "\"}",
      R"({"kid":"a","k":")" + good + "\",}",
      R"({"kid":"a" "k":")" + good + "\"}",
      R"({"kid":"a","k":)" + good + "}",
      R"({"kid":"a","k":")" + good,
  };
  for (const auto& text : bad) {
    INFO(text);
    auto k = parse_key_file(bytes_of(text));
    REQUIRE_FALSE(k.ok());
    CHECK(k.status().code() == Code::kInvalidArgument);
    CHECK(k.status().message().find(good.substr(0, 12)) == std::string::npos);
  }
  CHECK_FALSE(parse_key_file(std::vector<uint8_t>(5000, ' ')).ok());
}

TEST_CASE("key files: write, load, permissions", "[keys]") {
  TempDir dir;
  const auto path = dir / "owner.key";
  auto key = SealingKey::generate("owner-1");
  REQUIRE(key.ok());
  REQUIRE(write_key_file(path, *key).is_ok());

  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);

  auto loaded = load_key_file(path);
  REQUIRE(loaded.ok());
  CHECK(loaded->kid() == "owner-1");
  CHECK(ct_equal(loaded->bytes(), key->bytes()));

  SECTION("never overwrites") {
    auto other = SealingKey::generate();
    REQUIRE(other.ok());
    CHECK(write_key_file(path, *other).code() == Code::kInvalidArgument);
    auto again = load_key_file(path);
    REQUIRE(again.ok());
    CHECK(ct_equal(again->bytes(), key->bytes()));
  }
  SECTION("group- or world-accessible key files are refused with chmod advice") {
    for (mode_t mode : {0640, 0604, 0644, 0660, 0602, 0666}) {
      REQUIRE(::chmod(path.c_str(), mode) == 0);
      auto r = load_key_file(path);
      REQUIRE_FALSE(r.ok());
      CHECK(r.status().code() == Code::kPermissionDenied);
      CHECK(r.status().message().find("chmod 600") != std::string::npos);
    }
    REQUIRE(::chmod(path.c_str(), 0400) == 0);
    CHECK(load_key_file(path).ok());
  }
  SECTION("missing, not a file, corrupt") {
    CHECK(load_key_file(dir / "absent.key").status().code() == Code::kNotFound);
    CHECK(load_key_file(dir.path()).status().code() == Code::kInvalidArgument);
    const auto bad = dir / "bad.key";
    sealsum::secure::testing::write_bytes(bad, bytes_of("{\"kid\":\"a\"}"));
    REQUIRE(::chmod(bad.c_str(), 0600) == 0);
    auto r = load_key_file(bad);
    CHECK(r.status().code() == Code::kInvalidArgument);
    CHECK(r.status().message().find(bad.string()) != std::string::npos);
  }
  SECTION("a derived kid round-trips") {
    auto anon = SealingKey::generate();
    REQUIRE(anon.ok());
    CHECK(anon->kid().rfind("sha256:", 0) == 0);
    CHECK(anon->kid().size() == 7 + 16);
    REQUIRE(write_key_file(dir / "anon.key", *anon).is_ok());
    auto l = load_key_file(dir / "anon.key");
    REQUIRE(l.ok());
    CHECK(l->kid() == anon->kid());
    CHECK(l->kid() == derive_kid(l->bytes()));
  }
}

TEST_CASE("key files: the writer's encoding is the documented one", "[keys]") {
  TempDir dir;
  auto key = SealingKey::from_bytes(iota32(), "k1");
  REQUIRE(key.ok());
  REQUIRE(write_key_file(dir / "k.json", *key).is_ok());
  const auto text = sealsum::secure::testing::read_bytes(dir / "k.json");
  CHECK(std::string(text.begin(), text.end()) ==
        "{\"kty\":\"oct\",\"alg\":\"A256GCM\",\"kid\":\"k1\",\"k\":\"" + kIotaB64 + "\"}\n");
}

TEST_CASE("key files: random keys round-trip through base64url", "[keys]") {
  TempDir dir;
  for (int i = 0; i < 50; ++i) {
    auto key = SealingKey::generate();
    REQUIRE(key.ok());
    const auto p = dir / ("k" + std::to_string(i));
    REQUIRE(write_key_file(p, *key).is_ok());
    auto l = load_key_file(p);
    REQUIRE(l.ok());
    CHECK(ct_equal(l->bytes(), key->bytes()));
  }
}
