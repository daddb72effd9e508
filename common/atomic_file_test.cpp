// AtomicFile: the destination is complete or untouched, no temporary file survives a failure
// (creation in a missing directory, a write over the file-size limit, a rename onto a directory,
// an uncommitted object), and Overwrite::kNo never replaces an existing file.
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "common/atomic_file.h"

using namespace sealsum;
namespace fs = std::filesystem;

namespace {

struct Dir {
  fs::path path;
  Dir() {
    std::string t = (fs::temp_directory_path() / "sealsum-atomic-XXXXXX").string();
    REQUIRE(::mkdtemp(t.data()) != nullptr);
    path = t;
  }
  ~Dir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  size_t entries() const {
    size_t n = 0;
    for ([[maybe_unused]] const auto& e : fs::directory_iterator(path)) ++n;
    return n;
  }
};

std::string read(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::span<const uint8_t> bytes(const std::string& s) { return {reinterpret_cast<const uint8_t*>(s.data()), s.size()}; }

}  // namespace

TEST_CASE("write_file_atomic writes, replaces, and leaves only the destination", "[atomic_file]") {
  Dir d;
  const fs::path p = d.path / "out.json";
  REQUIRE(write_file_atomic(p, std::string_view("first")).is_ok());
  CHECK(read(p) == "first");
  REQUIRE(write_file_atomic(p, std::string_view("second, longer")).is_ok());
  CHECK(read(p) == "second, longer");
  CHECK(d.entries() == 1);
  struct stat st {};
  REQUIRE(::stat(p.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
}

TEST_CASE("Overwrite::kNo never replaces an existing file", "[atomic_file]") {
  Dir d;
  const fs::path p = d.path / "s.summary.json";
  auto first = write_file_atomic_if_absent(p, bytes("one"));
  REQUIRE(first.ok());
  CHECK(*first);
  auto second = write_file_atomic_if_absent(p, bytes("two"));
  REQUIRE(second.ok());
  CHECK_FALSE(*second);
  CHECK(read(p) == "one");
  CHECK(d.entries() == 1);
}

TEST_CASE("AtomicFile streams and publishes only on commit", "[atomic_file]") {
  Dir d;
  const fs::path p = d.path / "model.bin";
  std::string tmp;
  {
    auto f = AtomicFile::create(p);
    REQUIRE(f.ok());
    tmp = f->temp_path();
    CHECK(fs::path(tmp).parent_path() == d.path);
    REQUIRE(f->write(bytes("abc")).is_ok());
    REQUIRE(f->write(bytes("def")).is_ok());
    CHECK_FALSE(fs::exists(p));
    CHECK(fs::exists(tmp));
  }  // destroyed uncommitted
  CHECK_FALSE(fs::exists(tmp));
  CHECK_FALSE(fs::exists(p));
  CHECK(d.entries() == 0);

  auto f = AtomicFile::create(p);
  REQUIRE(f.ok());
  REQUIRE(f->write(bytes("abc")).is_ok());
  auto c = f->commit();
  REQUIRE(c.ok());
  CHECK(*c);
  CHECK(read(p) == "abc");
  CHECK_FALSE(f->write(bytes("x")).is_ok());  // spent
  CHECK_FALSE(f->commit().ok());
}

TEST_CASE("AtomicFile failures leave no temporary file and the destination untouched", "[atomic_file]") {
  Dir d;
  SECTION("missing directory") {
    Status st = write_file_atomic(d.path / "no-such-dir" / "x", std::string_view("x"));
    CHECK(st.code() == Code::kUnavailable);
    CHECK(st.message().find("no-such-dir") != std::string::npos);
  }
  SECTION("rename onto a non-empty directory") {
    const fs::path target = d.path / "taken";
    fs::create_directory(target);
    std::ofstream(target / "inside") << "keep";
    Status st = write_file_atomic(target, std::string_view("payload"));
    CHECK(st.code() == Code::kUnavailable);
    CHECK(st.message().find("rename") != std::string::npos);
    CHECK(st.message().find("payload") == std::string::npos);
    CHECK(read(target / "inside") == "keep");
    CHECK(d.entries() == 1);  // only the directory: the temporary file is gone
  }
  SECTION("a write over the file-size limit") {
    const fs::path p = d.path / "big";
    std::ofstream(p) << "old";
    struct rlimit old {};
    REQUIRE(::getrlimit(RLIMIT_FSIZE, &old) == 0);
    auto* old_handler = ::signal(SIGXFSZ, SIG_IGN);
    struct rlimit small = old;
    small.rlim_cur = 4096;
    REQUIRE(::setrlimit(RLIMIT_FSIZE, &small) == 0);
    const std::vector<uint8_t> big(64 * 1024, 0x41);
    Status st = write_file_atomic(p, big);
    ::setrlimit(RLIMIT_FSIZE, &old);
    ::signal(SIGXFSZ, old_handler);
    CHECK(st.code() == Code::kUnavailable);
    CHECK(st.message().find("write") != std::string::npos);
    CHECK(read(p) == "old");
    CHECK(d.entries() == 1);
  }
  SECTION("an empty file name") {
    CHECK(write_file_atomic(d.path / "", std::string_view("x")).code() == Code::kInvalidArgument);
    CHECK(d.entries() == 0);
  }
}
