// Zip reader: CRC-32, the real torch archive, archives built in the test (with and without zip64
// records), and truncated / corrupt / unsupported variants.
#include <catch2/catch.hpp>

#include "common/fixtures.h"
#include "tools/convert/convert_testing.h"
#include "tools/convert/zip_reader.h"

using namespace sealsum;
using namespace sealsum::convert;
using namespace sealsum::convert::testing;

namespace {

Bytes t5_bin() { return fixture_bytes("models/tiny-random-t5/pytorch_model.bin"); }

}  // namespace

TEST_CASE("crc32 matches the standard check value") {
  const std::string s = "123456789";
  CHECK(crc32({reinterpret_cast<const uint8_t*>(s.data()), s.size()}) == 0xCBF43926u);
  CHECK(crc32({}) == 0u);
  Bytes big(1000);
  for (size_t i = 0; i < big.size(); ++i) big[i] = uint8_t(i * 7);
  // Incremental == one shot (slicing-by-8 and the byte loop agree).
  CHECK(crc32(std::span<const uint8_t>(big).subspan(13), crc32(std::span<const uint8_t>(big).first(13))) == crc32(big));
}

TEST_CASE("zip reader reads the real torch archive") {
  const Bytes bin = t5_bin();
  auto za = ZipArchive::open(bin, "t5.bin");
  REQUIRE(za.ok());
  CHECK(za->entries().size() == 112);
  const ZipEntry* s0 = za->find("pytorch_model/data/0");
  REQUIRE(s0 != nullptr);
  CHECK(s0->size == 41664 * 4);
  CHECK(s0->data_offset % 64 == 0);  // torch aligns storages
  CHECK(za->find("pytorch_model/version") != nullptr);
  // Our own writer's archives, with and without zip64 records, read back.
  for (bool z64 : {true, false}) {
    const Bytes z = make_zip({{"a/x", {1, 2, 3}}, {"a/y", {}}}, z64);
    auto r = ZipArchive::open(z, "mine");
    REQUIRE(r.ok());
    REQUIRE(r->entries().size() == 2);
    CHECK(Bytes(r->data(*r->find("a/x")).begin(), r->data(*r->find("a/x")).end()) == Bytes{1, 2, 3});
  }
}

TEST_CASE("zip reader rejects truncated, corrupt and unsupported archives") {
  const Bytes bin = t5_bin();
  for (size_t n : {size_t(0), size_t(10), size_t(100), bin.size() / 2, bin.size() - 30, bin.size() - 1}) {
    INFO("truncated to " << n);
    auto r = ZipArchive::open(std::span<const uint8_t>(bin).first(n), "t5.bin");
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == Code::kDataLoss);
    CHECK_THAT(r.status().message(), Catch::Contains("t5.bin"));
  }
  auto za = ZipArchive::open(bin, "t5.bin");
  REQUIRE(za.ok());
  {
    Bytes b = bin;
    b[za->find("pytorch_model/data/3")->data_offset + 5] ^= 0x40;
    auto r = ZipArchive::open(b, "t5.bin");
    CHECK(r.status().code() == Code::kDataLoss);
    CHECK_THAT(r.status().message(), Catch::Contains("'pytorch_model/data/3': CRC-32 mismatch"));
  }
  // Find the central directory entry of data.pkl and patch its method to deflate (8).
  const Bytes z = make_zip({{"a/data.pkl", {1, 2}}}, false);
  const size_t cd = 30 + 10 + 2 + 16;  // local header + name + data + descriptor
  REQUIRE(z[cd] == 0x50);
  {
    Bytes b = z;
    b[cd + 10] = 8;
    auto r = ZipArchive::open(b, "m");
    CHECK(r.status().code() == Code::kUnimplemented);
    CHECK_THAT(r.status().message(), Catch::Contains("compressed"));
  }
  {
    Bytes b = z;
    b[cd + 8] |= 1;  // encrypted
    CHECK(ZipArchive::open(b, "m").status().code() == Code::kUnimplemented);
  }
  {
    Bytes b = z;
    b[cd + 42] = 1;  // local header offset off by one
    CHECK_THAT(ZipArchive::open(b, "m").status().message(), Catch::Contains("local header"));
  }
  {
    Bytes b = z;
    b[cd + 24] = 200;  // uncompressed size beyond the data
    CHECK(ZipArchive::open(b, "m").status().code() == Code::kDataLoss);
  }
  CHECK_THAT(ZipArchive::open(make_zip({{"a", {1}}, {"a", {2}}}), "m").status().message(), Catch::Contains("duplicate"));
  Bytes not_zip(100, 0x20);
  CHECK_THAT(ZipArchive::open(not_zip, "m").status().message(), Catch::Contains("end-of-central-directory"));
}
