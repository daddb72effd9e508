// Sealed format: round trips and every attack the format claims to stop (see secure/sealed.cpp),
// through the in-memory paths (seal_to_bytes / open_sealed_bytes). File paths: sealed_file_test.cpp.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "secure/sealed.h"
#include "secure/sealed_testutil.h"

using namespace sealsum;
using namespace sealsum::secure;
using sealsum::secure::testing::pattern;

namespace {

SealingKey make_key(uint8_t fill, const std::string& kid) {
  auto k = SealingKey::from_bytes(std::vector<uint8_t>(32, fill), kid);
  REQUIRE(k.ok());
  return std::move(k).value();
}

std::vector<uint8_t> seal(const std::vector<uint8_t>& plain, const SealingKey& key, uint32_t seg,
                          ContentType type = ContentType::kDocument) {
  auto s = seal_to_bytes(plain, key, {type, seg});
  REQUIRE(s.ok());
  return std::move(s).value();
}

Status open_status(const std::vector<uint8_t>& sealed, const SealingKey& key,
                   std::optional<ContentType> type = ContentType::kDocument) {
  auto r = open_sealed_bytes(sealed, key, type, "test input");
  return r.ok() ? Status::ok() : r.status();
}

std::vector<uint8_t> open_ok(const std::vector<uint8_t>& sealed, const SealingKey& key) {
  auto r = open_sealed_bytes(sealed, key, ContentType::kDocument, "test input");
  INFO(r.status().to_string());
  REQUIRE(r.ok());
  return {r->data(), r->data() + r->size()};
}

constexpr uint32_t kSeg = 16;
const std::string kKid = "test-kid";

}  // namespace

TEST_CASE("sealed: round trips at every size boundary", "[sealed]") {
  const SealingKey key = make_key(7, kKid);
  for (uint32_t seg : {kMinSegmentSize, 1000u, kDefaultSegmentSize, 2u << 20}) {
    for (size_t n : {size_t{0}, size_t{1}, size_t{seg} - 1, size_t{seg}, size_t{seg} + 1, size_t{5} * seg + 3}) {
      INFO("segment " << seg << " plaintext " << n);
      const auto plain = pattern(n, static_cast<uint32_t>(n));
      const auto sealed = seal(plain, key, seg);
      auto h = parse_sealed_header(sealed);
      REQUIRE(h.ok());
      CHECK(h->plaintext_size == n);
      CHECK(h->segment_count() == std::max<uint64_t>(1, (n + seg - 1) / seg));
      CHECK(sealed.size() == h->sealed_size());
      CHECK(sealed.size() == 64 + kKid.size() + n + 16 * h->segment_count());
      CHECK(open_ok(sealed, key) == plain);
    }
  }
  SECTION("more than one I/O batch (1 MiB) of segments") {
    const auto plain = pattern((3 << 20) + 7, 9);
    CHECK(open_ok(seal(plain, key, kDefaultSegmentSize), key) == plain);
  }
}

TEST_CASE("sealed: header encodes what it parses", "[sealed]") {
  const SealingKey key = make_key(7, kKid);
  const auto sealed = seal(pattern(40), key, kSeg, ContentType::kModel);
  auto h = parse_sealed_header(sealed);
  REQUIRE(h.ok());
  CHECK(h->version == 1);
  CHECK(h->content_type == ContentType::kModel);
  CHECK(h->segment_size == kSeg);
  CHECK(h->kid == kKid);
  CHECK(h->header_size == 64 + kKid.size());
  SealedHeader copy = *h;
  auto enc = encode_sealed_header(copy);
  REQUIRE(enc.ok());
  CHECK(*enc == std::vector<uint8_t>(sealed.begin(), sealed.begin() + static_cast<long>(h->header_size)));
  CHECK(std::string(reinterpret_cast<const char*>(sealed.data()), 8) == std::string("SEALSUM\0", 8));
}

TEST_CASE("sealed: each file gets a fresh salt, nonce prefix and ciphertext", "[sealed]") {
  const SealingKey key = make_key(7, kKid);
  const auto plain = pattern(100);
  const auto a = seal(plain, key, kSeg), b = seal(plain, key, kSeg);
  auto ha = parse_sealed_header(a), hb = parse_sealed_header(b);
  REQUIRE((ha.ok() && hb.ok()));
  CHECK(ha->salt != hb->salt);
  CHECK(ha->nonce_prefix != hb->nonce_prefix);
  CHECK(std::vector<uint8_t>(a.begin() + 80, a.end()) != std::vector<uint8_t>(b.begin() + 80, b.end()));
}

TEST_CASE("sealed: every single-byte modification of a 3-segment file is rejected", "[sealed]") {
  const SealingKey key = make_key(7, kKid);
  const auto sealed = seal(pattern(40), key, kSeg);  // segments of 16, 16, 8 bytes
  auto h = parse_sealed_header(sealed);
  REQUIRE(h.ok());
  REQUIRE(h->segment_count() == 3);
  size_t rejected = 0;
  for (size_t i = 0; i < sealed.size(); ++i) {
    for (uint8_t x : {uint8_t{0x01}, uint8_t{0x80}, uint8_t{0xff}}) {
      auto bad = sealed;
      bad[i] ^= x;
      Status st = open_status(bad, key);
      INFO("byte " << i << " xor " << int(x) << ": " << st.to_string());
      CHECK_FALSE(st.is_ok());
      if (i >= h->header_size) CHECK(st.code() == Code::kUnauthenticated);
      rejected += st.is_ok() ? 0 : 1;
    }
  }
  CHECK(rejected == 3 * sealed.size());
}

TEST_CASE("sealed: truncation anywhere is rejected", "[sealed]") {
  const SealingKey key = make_key(7, kKid);
  const auto sealed = seal(pattern(40), key, kSeg);
  const size_t hs = 64 + kKid.size();
  for (size_t len = 0; len < sealed.size(); ++len) {
    Status st = open_status(std::vector<uint8_t>(sealed.begin(), sealed.begin() + static_cast<long>(len)), key);
    INFO("length " << len << ": " << st.to_string());
    CHECK_FALSE(st.is_ok());
  }
  // At each segment boundary specifically: the size no longer matches the header.
  for (size_t boundary : {hs, hs + 32, hs + 64}) {
    Status st = open_status(std::vector<uint8_t>(sealed.begin(), sealed.begin() + static_cast<long>(boundary)), key);
    CHECK(st.code() == Code::kDataLoss);
    CHECK(st.message().find("truncated") != std::string::npos);
  }
}

TEST_CASE("sealed: extension is rejected", "[sealed]") {
  const SealingKey key = make_key(7, kKid);
  const auto sealed = seal(pattern(40), key, kSeg);
  auto one_more = sealed;
  one_more.push_back(0);
  CHECK(open_status(one_more, key).code() == Code::kDataLoss);
  auto extra_segment = sealed;  // repeat the last (8 + 16 byte) segment
  extra_segment.insert(extra_segment.end(), sealed.end() - 24, sealed.end());
  CHECK(open_status(extra_segment, key).code() == Code::kDataLoss);
  auto two_files = sealed;
  two_files.insert(two_files.end(), sealed.begin(), sealed.end());
  CHECK(open_status(two_files, key).code() == Code::kDataLoss);
}

TEST_CASE("sealed: reordering, duplicating and splicing segments is rejected", "[sealed]") {
  const SealingKey key = make_key(7, kKid);
  const auto plain = pattern(48);  // three full segments of 16 (+16 tag = 32 bytes on disk)
  const auto a = seal(plain, key, kSeg);
  const auto b = seal(plain, key, kSeg);  // same key, same plaintext, same sizes
  const size_t hs = 64 + kKid.size();
  auto segment = [&](const std::vector<uint8_t>& f, size_t i) {
    return std::vector<uint8_t>(f.begin() + static_cast<long>(hs + 32 * i), f.begin() + static_cast<long>(hs + 32 * (i + 1)));
  };
  auto with_segment = [&](std::vector<uint8_t> f, size_t i, const std::vector<uint8_t>& seg) {
    std::copy(seg.begin(), seg.end(), f.begin() + static_cast<long>(hs + 32 * i));
    return f;
  };
  Status swapped = open_status(with_segment(with_segment(a, 0, segment(a, 1)), 1, segment(a, 0)), key);
  CHECK(swapped.code() == Code::kUnauthenticated);
  CHECK(swapped.message().find("segment 0 of 3") != std::string::npos);
  CHECK(swapped.message().find("test input") != std::string::npos);

  Status dup = open_status(with_segment(a, 2, segment(a, 1)), key);
  CHECK(dup.code() == Code::kUnauthenticated);
  CHECK(dup.message().find("segment 2 of 3") != std::string::npos);

  Status last_moved = open_status(with_segment(with_segment(a, 1, segment(a, 2)), 2, segment(a, 1)), key);
  CHECK(last_moved.code() == Code::kUnauthenticated);
  CHECK(last_moved.message().find("segment 1 of 3") != std::string::npos);

  Status spliced = open_status(with_segment(a, 1, segment(b, 1)), key);
  CHECK(spliced.code() == Code::kUnauthenticated);
  CHECK(spliced.message().find("segment 1 of 3") != std::string::npos);

  // b's header with a's body: every segment depends on the salt, so segment 0 already fails.
  auto header_swap = a;
  std::copy(b.begin(), b.begin() + static_cast<long>(hs), header_swap.begin());
  CHECK(open_status(header_swap, key).code() == Code::kUnauthenticated);
}

TEST_CASE("sealed: wrong key, key id and content type", "[sealed]") {
  const SealingKey key = make_key(7, kKid);
  const auto sealed = seal(pattern(40), key, kSeg);

  Status wrong_key = open_status(sealed, make_key(8, kKid));  // same id, different bytes
  CHECK(wrong_key.code() == Code::kUnauthenticated);
  CHECK(wrong_key.message().find("segment 0 of 3") != std::string::npos);

  Status wrong_kid = open_status(sealed, make_key(7, "other-kid"));
  CHECK(wrong_kid.code() == Code::kInvalidArgument);
  CHECK(wrong_kid.message().find("'test-kid'") != std::string::npos);
  CHECK(wrong_kid.message().find("'other-kid'") != std::string::npos);

  Status wrong_type = open_status(sealed, key, ContentType::kModel);
  CHECK(wrong_type.code() == Code::kInvalidArgument);
  CHECK(wrong_type.message().find("expected a model") != std::string::npos);
  CHECK(open_status(sealed, key, std::nullopt).is_ok());

  const auto model = seal(pattern(40), key, kSeg, ContentType::kModel);
  CHECK(open_status(model, key, ContentType::kModel).is_ok());
  CHECK(open_status(model, key, ContentType::kDocument).code() == Code::kInvalidArgument);
}

TEST_CASE("sealed: header field corruption is refused by the parser", "[sealed]") {
  const SealingKey key = make_key(7, kKid);
  const auto sealed = seal(pattern(40), key, kSeg);
  auto mutate = [&](size_t off, std::vector<uint8_t> bytes) {
    auto b = sealed;
    std::copy(bytes.begin(), bytes.end(), b.begin() + static_cast<long>(off));
    return parse_sealed_header(b).status();
  };
  CHECK(mutate(0, {'X'}).code() == Code::kInvalidArgument);                  // magic
  CHECK(mutate(8, {2, 0}).code() == Code::kUnimplemented);                   // version 2
  CHECK(mutate(8, {0, 1}).code() == Code::kUnimplemented);                   // version 256
  CHECK(mutate(8, {2, 0}).message().find("version 2") != std::string::npos);
  CHECK(mutate(10, {0}).code() == Code::kDataLoss);                          // content type 0
  CHECK(mutate(10, {3}).code() == Code::kDataLoss);                          // content type 3
  CHECK(mutate(10, {3}).message().find("content type") != std::string::npos);
  CHECK(mutate(11, {1}).code() == Code::kDataLoss);                          // reserved flags
  CHECK(mutate(12, {0, 0, 0, 0}).code() == Code::kDataLoss);                 // segment size 0
  CHECK(mutate(12, {15, 0, 0, 0}).code() == Code::kDataLoss);                // below the minimum
  CHECK(mutate(12, {1, 0, 0, 1}).code() == Code::kDataLoss);                 // above 16 MiB
  CHECK(mutate(16, {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}).code() == Code::kDataLoss);  // > 2^32 segments
  CHECK(mutate(63, {0}).code() == Code::kDataLoss);                          // empty key id
  CHECK(mutate(63, {65}).code() == Code::kDataLoss);                         // key id too long
  CHECK(mutate(64, {'/'}).code() == Code::kDataLoss);                        // key id charset
  {  // a longer key id swallows a body byte: may parse, but then cannot open
    auto b = sealed;
    b[63] = static_cast<uint8_t>(kKid.size() + 1);
    CHECK_FALSE(open_status(b, key).is_ok());
  }

  // Truncated headers, at every length.
  for (size_t len = 0; len < 64 + kKid.size(); ++len) {
    auto st = parse_sealed_header(std::span<const uint8_t>(sealed.data(), len)).status();
    CHECK_FALSE(st.is_ok());
  }
  // Largest valid plaintext size (2^32 segments of 16 MiB) parses; the size check refuses the file.
  auto big = sealed;
  const std::vector<uint8_t> seg_max = {0, 0, 0, 1};           // 16 MiB
  const std::vector<uint8_t> size_max = {0, 0, 0, 0, 0, 0, 0, 1};  // 2^56 = 2^32 * 16 MiB
  std::copy(seg_max.begin(), seg_max.end(), big.begin() + 12);
  std::copy(size_max.begin(), size_max.end(), big.begin() + 16);
  auto hbig = parse_sealed_header(big);
  REQUIRE(hbig.ok());
  CHECK(hbig->segment_count() == (uint64_t{1} << 32));
  CHECK(open_status(big, key).code() == Code::kDataLoss);
}

TEST_CASE("sealed: seal refuses bad options; messages never carry plaintext", "[sealed]") {
  const SealingKey key = make_key(7, kKid);
  CHECK(seal_to_bytes(pattern(10), key, {ContentType::kDocument, 8}).status().code() == Code::kInvalidArgument);
  CHECK(seal_to_bytes(pattern(10), key, {ContentType::kDocument, kMaxSegmentSize + 1}).status().code() ==
        Code::kInvalidArgument);
  CHECK(seal_to_bytes(pattern(10), key, {static_cast<ContentType>(9), kSeg}).status().code() == Code::kInvalidArgument);

  const std::string secret = "TOP-SECRET-PLAINTEXT-0123456789";
  auto sealed = seal(std::vector<uint8_t>(secret.begin(), secret.end()), key, kSeg);
  sealed.back() ^= 1;
  Status st = open_status(sealed, key);
  CHECK(st.code() == Code::kUnauthenticated);
  CHECK(st.message().find("TOP-SECRET") == std::string::npos);
  CHECK(st.message().find("segment 1 of 2") != std::string::npos);
}

TEST_CASE("sealed: opens a known-answer file produced by an independent implementation", "[sealed]") {
  // Generated from the specification in sealed.cpp with Python's `cryptography` (HKDF, AESGCM),
  // not with this code: master key 00..1f, kid "kat", salt 10..2f, nonce prefix a0..a6, S = 16,
  // document, 40 bytes of plaintext in 3 segments.
  const std::string hex =
      "5345414c53554d0001000200100000002800000000000000101112131415161718191a1b1c1d1e1f2021222324252627"
      "28292a2b2c2d2e2fa0a1a2a3a4a5a6036b617495d6c953fdd012cc9c880ca1706356cd5ce9a21c105ded1246e5eeea3d"
      "9c54634babce363cd2d2240c3d90a73bcf54510b9a669c32095a39aab22b89570330b8785c34d1ea57eaab47e113eb84"
      "e64879fa21f14946c11b9e";
  std::vector<uint8_t> sealed;
  for (size_t i = 0; i < hex.size(); i += 2) sealed.push_back(static_cast<uint8_t>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  std::vector<uint8_t> master(32);
  for (size_t i = 0; i < 32; ++i) master[i] = static_cast<uint8_t>(i);
  auto key = SealingKey::from_bytes(master, "kat");
  REQUIRE(key.ok());
  auto plain = open_sealed_bytes(sealed, *key, ContentType::kDocument, "kat");
  INFO(plain.status().to_string());
  REQUIRE(plain.ok());
  const std::string expect = "sealed format v1 known-answer vector!!!!";
  CHECK(std::string(reinterpret_cast<const char*>(plain->data()), plain->size()) == expect);
}
