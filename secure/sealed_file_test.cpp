// Sealed files on disk: seal/open/unseal paths, atomic outputs, and bounded memory on 1 GiB.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <fstream>
#include <string>
#include <vector>

#include "common/proc_status.h"
#include "secure/sealed.h"
#include "secure/sealed_testutil.h"

using namespace sealsum;
using namespace sealsum::secure;
using sealsum::secure::testing::pattern;
using sealsum::secure::testing::read_bytes;
using sealsum::secure::testing::TempDir;
using sealsum::secure::testing::write_bytes;

namespace {

SealingKey make_key(uint8_t fill, const std::string& kid = "file-kid") {
  auto k = SealingKey::from_bytes(std::vector<uint8_t>(32, fill), kid);
  REQUIRE(k.ok());
  return std::move(k).value();
}

long status_kib(const std::string& field) { return sealsum::proc_status_kib(field); }

// Resets the peak-RSS watermark (VmHWM) to the current RSS (Linux >= 4.0).
void reset_peak_rss() {
  std::ofstream f("/proc/self/clear_refs");
  f << "5";
  f.flush();
  REQUIRE(f.good());
}

}  // namespace

TEST_CASE("sealed files: seal, open and unseal round trips", "[sealed][file]") {
  TempDir dir;
  const SealingKey key = make_key(1);
  for (size_t n : {size_t{0}, size_t{1}, size_t{65536}, size_t{65537}, size_t{(2 << 20) + 5}}) {
    INFO("plaintext " << n);
    const auto plain = pattern(n, static_cast<uint32_t>(n));
    write_bytes(dir / "in", plain);
    REQUIRE(seal_file(dir / "in", dir / "in.sealed", key, {ContentType::kDocument, kDefaultSegmentSize}).is_ok());
    auto h = read_sealed_header(dir / "in.sealed");
    REQUIRE(h.ok());
    CHECK(h->plaintext_size == n);
    CHECK(h->kid == "file-kid");
    CHECK(std::filesystem::file_size(dir / "in.sealed") == h->sealed_size());

    auto opened = open_sealed_file(dir / "in.sealed", key, ContentType::kDocument);
    REQUIRE(opened.ok());
    CHECK(std::vector<uint8_t>(opened->data(), opened->data() + opened->size()) == plain);

    REQUIRE(unseal_file(dir / "in.sealed", dir / "out", key, std::nullopt).is_ok());
    CHECK(read_bytes(dir / "out") == plain);
  }
  // Only the outputs remain: no temporary files left behind.
  CHECK(dir.entries() == std::vector<std::string>{"in", "in.sealed", "out"});
}

TEST_CASE("sealed files: seal_memory writes a file open_sealed_file reads", "[sealed][file]") {
  TempDir dir;
  const SealingKey key = make_key(2);
  const auto plain = pattern(200000, 3);
  REQUIRE(seal_memory(plain, dir / "m.sealed", key, {ContentType::kModel, 4096}).is_ok());
  struct stat st {};
  REQUIRE(::stat((dir / "m.sealed").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  auto opened = open_sealed_file(dir / "m.sealed", key, ContentType::kModel);
  REQUIRE(opened.ok());
  CHECK(std::vector<uint8_t>(opened->data(), opened->data() + opened->size()) == plain);
  CHECK(open_sealed_file(dir / "m.sealed", key, ContentType::kDocument).status().code() == Code::kInvalidArgument);
}

TEST_CASE("sealed files: the digest of the opened bytes is the file's SHA-256", "[sealed][file][digest]") {
  TempDir dir;
  const SealingKey key = make_key(4);
  REQUIRE(seal_memory(pattern(100000, 5), dir / "d.sealed", key, {ContentType::kModel, 4096}).is_ok());
  Digest256 opened_digest{};
  REQUIRE(open_sealed_file(dir / "d.sealed", key, ContentType::kModel, &opened_digest).ok());
  auto file_digest = sha256_file(dir / "d.sealed");
  REQUIRE(file_digest.ok());
  CHECK(opened_digest == *file_digest);
  CHECK(opened_digest == sha256(read_bytes(dir / "d.sealed")));
  // A file that fails to open leaves the digest untouched.
  auto bytes = read_bytes(dir / "d.sealed");
  bytes[bytes.size() / 2] ^= 1;
  write_bytes(dir / "bad.sealed", bytes);
  Digest256 untouched{};
  CHECK(open_sealed_file(dir / "bad.sealed", key, ContentType::kModel, &untouched).status().code() ==
        Code::kUnauthenticated);
  CHECK(untouched == Digest256{});
  CHECK(sha256_file(dir / "missing").status().code() == Code::kNotFound);
}

TEST_CASE("sealed files: failures leave no plaintext output behind", "[sealed][file]") {
  TempDir dir;
  const SealingKey key = make_key(3);
  const auto plain = pattern(10000, 4);
  write_bytes(dir / "in", plain);
  REQUIRE(seal_file(dir / "in", dir / "s", key, {ContentType::kDocument, 1024}).is_ok());
  auto sealed = read_bytes(dir / "s");

  SECTION("a modified last segment: nothing written, an existing output untouched") {
    sealed[sealed.size() - 3] ^= 0x10;
    write_bytes(dir / "s", sealed);
    write_bytes(dir / "out", {'o', 'l', 'd'});
    Status st = unseal_file(dir / "s", dir / "out", key, std::nullopt);
    CHECK(st.code() == Code::kUnauthenticated);
    CHECK(st.message().find((dir / "s").string()) != std::string::npos);
    CHECK(st.message().find("segment 9 of 10") != std::string::npos);
    CHECK(read_bytes(dir / "out") == std::vector<uint8_t>{'o', 'l', 'd'});
    CHECK(dir.entries() == std::vector<std::string>{"in", "out", "s"});
    CHECK(open_sealed_file(dir / "s", key, std::nullopt).status().code() == Code::kUnauthenticated);
  }
  SECTION("truncated file: refused before decryption, naming the file") {
    sealed.resize(sealed.size() - 1040);  // exactly one segment less
    write_bytes(dir / "s", sealed);
    Status st = unseal_file(dir / "s", dir / "out", key, std::nullopt);
    CHECK(st.code() == Code::kDataLoss);
    CHECK(st.message().find((dir / "s").string()) != std::string::npos);
    CHECK(dir.entries() == std::vector<std::string>{"in", "s"});
  }
  SECTION("wrong key id and wrong key") {
    CHECK(unseal_file(dir / "s", dir / "out", make_key(3, "other"), std::nullopt).code() == Code::kInvalidArgument);
    Status st = unseal_file(dir / "s", dir / "out", make_key(4), std::nullopt);
    CHECK(st.code() == Code::kUnauthenticated);
    CHECK(st.message().find("segment 0 of 10") != std::string::npos);
    CHECK(dir.entries() == std::vector<std::string>{"in", "s"});
  }
  SECTION("refuses to overwrite its input") {
    CHECK(unseal_file(dir / "s", dir / "s", key, std::nullopt).code() == Code::kInvalidArgument);
    CHECK(unseal_file(dir / "s", dir / "." / "s", key, std::nullopt).code() == Code::kInvalidArgument);
    REQUIRE(::link((dir / "s").c_str(), (dir / "hard").c_str()) == 0);
    CHECK(unseal_file(dir / "s", dir / "hard", key, std::nullopt).code() == Code::kInvalidArgument);
    CHECK(seal_file(dir / "in", dir / "in", key, {}).code() == Code::kInvalidArgument);
    CHECK(read_bytes(dir / "s") == sealed);
    CHECK(read_bytes(dir / "in") == plain);
  }
  SECTION("missing inputs and non-files") {
    CHECK(seal_file(dir / "absent", dir / "x", key, {}).code() == Code::kNotFound);
    CHECK(unseal_file(dir / "absent", dir / "x", key, std::nullopt).code() == Code::kNotFound);
    CHECK(open_sealed_file(dir.path(), key, std::nullopt).status().code() == Code::kInvalidArgument);
    CHECK(read_sealed_header(dir / "in").status().code() == Code::kInvalidArgument);  // not sealed
    CHECK(seal_file(dir / "in", dir / "no-such-dir" / "x", key, {}).code() == Code::kInvalidArgument);
  }
}

TEST_CASE("sealed files: 1 GiB file->file seal and unseal stream in bounded memory", "[sealed][file][large]") {
  // tmpfs when available: this test is about memory, and fsync of 2 GiB to a slow disk takes minutes.
  // tmpfs pages are page cache, not this process's RSS, so they do not blur the measurement.
  TempDir dir(std::filesystem::is_directory("/dev/shm") ? "/dev/shm" : "");
  const SealingKey key = make_key(5);
  constexpr size_t kChunk = 1 << 20;
  constexpr size_t kChunks = 1024;  // 1 GiB
  // Chunk c is a fixed pattern stamped with c, so a lost, repeated or moved MiB is visible.
  const auto base = pattern(kChunk, 11);
  auto chunk = [&](size_t c) {
    std::vector<uint8_t> v = base;
    for (int i = 0; i < 8; ++i) v[static_cast<size_t>(i)] = static_cast<uint8_t>(c >> (8 * i));
    return v;
  };
  {
    std::ofstream f(dir / "big", std::ios::binary);
    for (size_t c = 0; c < kChunks; ++c) {
      const auto v = chunk(c);
      f.write(reinterpret_cast<const char*>(v.data()), static_cast<std::streamsize>(v.size()));
    }
    REQUIRE(f.good());
  }
  constexpr long kBoundKiB = 64 * 1024;

  reset_peak_rss();
  long before = status_kib("VmRSS");
  REQUIRE(seal_file(dir / "big", dir / "big.sealed", key, {ContentType::kModel, kDefaultSegmentSize}).is_ok());
  const long seal_growth = status_kib("VmHWM") - before;
  INFO("seal peak RSS growth " << seal_growth << " KiB");
  CHECK(seal_growth < kBoundKiB);
  std::filesystem::remove(dir / "big");

  reset_peak_rss();
  before = status_kib("VmRSS");
  REQUIRE(unseal_file(dir / "big.sealed", dir / "big.out", key, ContentType::kModel).is_ok());
  const long unseal_growth = status_kib("VmHWM") - before;
  INFO("unseal peak RSS growth " << unseal_growth << " KiB");
  CHECK(unseal_growth < kBoundKiB);
  std::filesystem::remove(dir / "big.sealed");

  REQUIRE(std::filesystem::file_size(dir / "big.out") == kChunks * kChunk);
  std::ifstream f(dir / "big.out", std::ios::binary);
  std::vector<uint8_t> got(kChunk);
  size_t mismatches = 0;
  for (size_t c = 0; c < kChunks; ++c) {
    f.read(reinterpret_cast<char*>(got.data()), static_cast<std::streamsize>(kChunk));
    REQUIRE(f.good());
    if (got != chunk(c)) ++mismatches;
  }
  CHECK(mismatches == 0);
}
