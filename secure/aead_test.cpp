// Known-answer tests for the primitives under the sealed format: AES-256-GCM (McGrew & Viega,
// "The Galois/Counter Mode of Operation", test case 16) and HKDF-SHA256 (RFC 5869, test case 1).
#include <catch2/catch.hpp>

#include <algorithm>
#include <string>
#include <vector>

#include "secure/aead.h"

using namespace sealsum;
using namespace sealsum::secure;

namespace {

std::vector<uint8_t> hex(const std::string& s) {
  std::vector<uint8_t> out;
  for (size_t i = 0; i + 1 < s.size(); i += 2) out.push_back(static_cast<uint8_t>(std::stoi(s.substr(i, 2), nullptr, 16)));
  return out;
}

const std::vector<uint8_t> kKey = hex("feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308");
const std::vector<uint8_t> kPlain = hex(
    "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5"
    "aa0de657ba637b39");
const std::vector<uint8_t> kAad = hex("feedfacedeadbeeffeedfacedeadbeefabaddad2");
const std::vector<uint8_t> kNonce = hex("cafebabefacedbaddecaf888");
const std::vector<uint8_t> kCipher = hex(
    "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b1056828838c5f61e63"
    "93ba7a0abcc9f662");
const std::vector<uint8_t> kTag = hex("76fc6ece0f4e1768cddf8853bb2d551b");

}  // namespace

TEST_CASE("AES-256-GCM matches the GCM specification's test case 16", "[aead]") {
  auto gcm = Aes256Gcm::create(kKey);
  REQUIRE(gcm.ok());
  std::vector<uint8_t> out(kPlain.size()), tag(16);
  REQUIRE(gcm->seal(kNonce, kAad, kPlain, out, tag).is_ok());
  CHECK(out == kCipher);
  CHECK(tag == kTag);

  std::vector<uint8_t> back(kCipher.size());
  REQUIRE(gcm->open(kNonce, kAad, kCipher, back, kTag).is_ok());
  CHECK(back == kPlain);

  SECTION("in place") {
    std::vector<uint8_t> buf = kPlain;
    REQUIRE(gcm->seal(kNonce, kAad, buf, buf, tag).is_ok());
    CHECK(buf == kCipher);
    REQUIRE(gcm->open(kNonce, kAad, buf, buf, tag).is_ok());
    CHECK(buf == kPlain);
  }
}

TEST_CASE("AES-256-GCM rejects any modified input and wipes the output", "[aead]") {
  auto gcm = Aes256Gcm::create(kKey);
  REQUIRE(gcm.ok());
  std::vector<uint8_t> out(kCipher.size());
  auto expect_reject = [&](std::vector<uint8_t> n, std::vector<uint8_t> a, std::vector<uint8_t> c, std::vector<uint8_t> t) {
    std::fill(out.begin(), out.end(), 0xAA);
    Status st = gcm->open(n, a, c, out, t);
    CHECK(st.code() == Code::kUnauthenticated);
    CHECK(std::all_of(out.begin(), out.end(), [](uint8_t b) { return b == 0; }));
  };
  for (size_t i = 0; i < kCipher.size(); ++i) {
    auto c = kCipher;
    c[i] ^= 0x01;
    expect_reject(kNonce, kAad, c, kTag);
  }
  for (size_t i = 0; i < kTag.size(); ++i) {
    auto t = kTag;
    t[i] ^= 0x80;
    expect_reject(kNonce, kAad, kCipher, t);
  }
  auto a = kAad;
  a[0] ^= 1;
  expect_reject(kNonce, a, kCipher, kTag);
  auto n = kNonce;
  n[11] ^= 1;
  expect_reject(n, kAad, kCipher, kTag);
}

TEST_CASE("AES-256-GCM refuses malformed arguments", "[aead]") {
  CHECK(Aes256Gcm::create(std::vector<uint8_t>(16)).status().code() == Code::kInvalidArgument);
  auto gcm = Aes256Gcm::create(kKey);
  REQUIRE(gcm.ok());
  std::vector<uint8_t> out(kPlain.size()), tag(16), short_nonce(8), short_out(3);
  CHECK(gcm->seal(short_nonce, kAad, kPlain, out, tag).code() == Code::kInternal);
  CHECK(gcm->seal(kNonce, kAad, kPlain, short_out, tag).code() == Code::kInternal);
}

TEST_CASE("HKDF-SHA256 matches RFC 5869 test case 1", "[aead]") {
  const std::vector<uint8_t> ikm(22, 0x0b);
  const auto salt = hex("000102030405060708090a0b0c");
  const auto info = hex("f0f1f2f3f4f5f6f7f8f9");
  auto okm = hkdf_sha256(ikm, salt, info, 42);
  REQUIRE(okm.ok());
  const auto expect = hex("3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865");
  CHECK(std::vector<uint8_t>(okm->data(), okm->data() + okm->size()) == expect);
  CHECK(hkdf_sha256(ikm, salt, info, 0).status().code() == Code::kInternal);
}

TEST_CASE("random_bytes fills distinct values", "[aead]") {
  std::vector<uint8_t> a(32), b(32);
  REQUIRE(random_bytes(a).is_ok());
  REQUIRE(random_bytes(b).is_ok());
  CHECK(a != b);
}

TEST_CASE("open_message opens the GCM specification's test case 16", "[aead]") {
  auto pt = open_message(kKey, kAad, kNonce, kCipher, kTag);
  REQUIRE(pt.ok());
  CHECK(std::vector<uint8_t>(pt->span().begin(), pt->span().end()) == kPlain);
}

TEST_CASE("seal_message draws its own nonce and round-trips", "[aead]") {
  auto a = seal_message(kKey, kAad, kPlain);
  auto b = seal_message(kKey, kAad, kPlain);
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  CHECK(a->nonce != b->nonce);  // 96 random bits each: equal only by a broken generator
  CHECK(a->ciphertext != b->ciphertext);
  CHECK(a->ciphertext.size() == kPlain.size());
  auto back = open_message(kKey, kAad, a->nonce, a->ciphertext, a->tag);
  REQUIRE(back.ok());
  CHECK(std::vector<uint8_t>(back->span().begin(), back->span().end()) == kPlain);

  auto empty = seal_message(kKey, {}, {});
  REQUIRE(empty.ok());
  auto e = open_message(kKey, {}, empty->nonce, empty->ciphertext, empty->tag);
  REQUIRE(e.ok());
  CHECK(e->size() == 0);
}

TEST_CASE("open_message refuses modified messages and wrong shapes", "[aead]") {
  auto m = seal_message(kKey, kAad, kPlain);
  REQUIRE(m.ok());
  std::vector<uint8_t> nonce(m->nonce.begin(), m->nonce.end()), tag(m->tag.begin(), m->tag.end());
  auto code = [&](std::span<const uint8_t> k, std::span<const uint8_t> a, std::span<const uint8_t> n,
                  std::span<const uint8_t> c, std::span<const uint8_t> t) {
    auto r = open_message(k, a, n, c, t);
    return r.ok() ? Code::kOk : r.status().code();
  };
  auto flip = [](std::vector<uint8_t> v, size_t i) {
    v[i] ^= 1;
    return v;
  };
  CHECK(code(kKey, kAad, nonce, m->ciphertext, tag) == Code::kOk);
  CHECK(code(flip(kKey, 0), kAad, nonce, m->ciphertext, tag) == Code::kUnauthenticated);
  CHECK(code(kKey, flip(kAad, 3), nonce, m->ciphertext, tag) == Code::kUnauthenticated);
  CHECK(code(kKey, kAad, flip(nonce, 11), m->ciphertext, tag) == Code::kUnauthenticated);
  CHECK(code(kKey, kAad, nonce, flip(m->ciphertext, 7), tag) == Code::kUnauthenticated);
  CHECK(code(kKey, kAad, nonce, m->ciphertext, flip(tag, 15)) == Code::kUnauthenticated);
  std::vector<uint8_t> shorter(m->ciphertext.begin(), m->ciphertext.end() - 1);
  CHECK(code(kKey, kAad, nonce, shorter, tag) == Code::kUnauthenticated);
  CHECK(code(kKey, kAad, std::vector<uint8_t>(11), m->ciphertext, tag) == Code::kInvalidArgument);
  CHECK(code(kKey, kAad, nonce, m->ciphertext, std::vector<uint8_t>(12)) == Code::kInvalidArgument);
  CHECK(code(std::vector<uint8_t>(16), kAad, nonce, m->ciphertext, tag) == Code::kInvalidArgument);
  CHECK_FALSE(seal_message(std::vector<uint8_t>(31), kAad, kPlain).ok());
}
