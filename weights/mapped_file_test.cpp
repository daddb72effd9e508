// Plain model files loaded through a read-only mapping (weights/mapped_file.h): the same model as
// the read path, corrupt and truncated files still refused, the mapping outlives the path's file
// being replaced, a file changed in place is noticed, and the pages are read-only and out of dumps.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "common/proc_status.h"
#include "weights/mapped_file.h"
#include "weights/model_file.h"
#include "weights/tokenizer_blob.h"

using namespace sealsum;
using namespace sealsum::weights;
namespace fs = std::filesystem;

namespace {

ModelWriter writer(float scale) {
  ModelWriter w("t5", {{"model_type", "t5"}, {"d_model", 4}}, nlohmann::json::object());
  std::vector<float> lin(40 * 3);
  for (size_t i = 0; i < lin.size(); ++i) lin[i] = scale * float(i) - 7.0f;
  w.add_linear_weight("encoder.block.0.layer.0.SelfAttention.q.weight", 40, 3, lin);
  std::vector<uint8_t> f(6 * 4);
  for (size_t i = 0; i < f.size(); ++i) f[i] = uint8_t(i * 7 + 1);
  w.add_tensor("shared.weight", DType::kF32, {3, 2}, std::move(f));
  w.add_tensor("odd.i8", DType::kI8, {1, 5}, std::vector<uint8_t>{0x80, 0xff, 0, 1, 127});
  w.add_alias("lm_head.weight", "shared.weight");
  tok::TokenizerSource src{"vocab+merges", {{"vocab.json", "{\"a\": 0}"}, {"merges.txt", "#version: 0.2\n"}}};
  REQUIRE(embed_tokenizer(w, src).is_ok());
  return w;
}

struct TempDir {
  fs::path dir = fs::temp_directory_path() / ("sealsum-map-" + std::to_string(::getpid()));
  TempDir() {
    fs::remove_all(dir);
    fs::create_directories(dir);
  }
  ~TempDir() { fs::remove_all(dir); }
  std::string file(const std::string& name, const std::vector<uint8_t>& bytes) const {
    const std::string p = (dir / name).string();
    std::ofstream(p, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()), long(bytes.size()));
    return p;
  }
};

std::vector<uint8_t> tensor_bytes(const TensorView& t) { return {t.data, t.data + t.nbytes}; }

}  // namespace

TEST_CASE("mapped load equals read load, tensor for tensor", "[weights][mmap]") {
  TempDir tmp;
  const std::vector<uint8_t> good = writer(0.5f).serialize();
  const std::string path = tmp.file("m.model", good);
  auto mapped = ModelFile::load(path);
  auto read = ModelFile::load(path, {.map = false});
  REQUIRE(mapped.ok());
  REQUIRE(read.ok());
  CHECK(mapped->mapped());
  CHECK_FALSE(read->mapped());
  CHECK(std::vector<uint8_t>(mapped->bytes().begin(), mapped->bytes().end()) == good);
  CHECK(mapped->sha256() == read->sha256());
  CHECK(mapped->header() == read->header());
  CHECK(mapped->aliases() == read->aliases());
  REQUIRE(mapped->tensors().size() == read->tensors().size());
  for (size_t i = 0; i < read->tensors().size(); ++i) {
    const TensorView &a = mapped->tensors()[i], &b = read->tensors()[i];
    INFO(b.name);
    CHECK(a.name == b.name);
    CHECK(a.dtype == b.dtype);
    CHECK(a.layout == b.layout);
    CHECK(a.shape == b.shape);
    CHECK(tensor_bytes(a) == tensor_bytes(b));
    CHECK(reinterpret_cast<uintptr_t>(a.data) % kTensorAlignment == 0);
    CHECK(a.data >= mapped->bytes().data());
    CHECK(a.data + a.nbytes <= mapped->bytes().data() + mapped->bytes().size());
  }
  CHECK(mapped->find("encoder.block.0.layer.0.SelfAttention.q.weight")->layout == Layout::kPanels);
  // The mapping is read-only and out of core dumps; the read copy is in the secret buffer.
  const std::string flags = " " + vm_flags_of(mapped->bytes().data()) + " ";
  CHECK(flags.find(" rd ") != std::string::npos);
  CHECK(flags.find(" wr ") == std::string::npos);
  CHECK(excluded_from_dumps(mapped->bytes().data()));
  CHECK(excluded_from_dumps(read->bytes().data()));
}

TEST_CASE("mapped load refuses truncated, bit-flipped and non-regular files", "[weights][mmap]") {
  TempDir tmp;
  const std::vector<uint8_t> good = writer(0.25f).serialize();
  for (size_t n : {size_t(0), size_t(7), size_t(60), good.size() / 2, good.size() - 33, good.size() - 1}) {
    INFO("truncated to " << n);
    const std::string p = tmp.file("t" + std::to_string(n), std::vector<uint8_t>(good.begin(), good.begin() + long(n)));
    auto m = ModelFile::load(p);
    REQUIRE_FALSE(m.ok());
    CHECK(m.status().code() == Code::kDataLoss);
    CHECK_THAT(m.status().message(), Catch::Contains(p));
  }
  for (size_t i : {size_t(30), size_t(200), good.size() / 2, good.size() - 40, good.size() - 1}) {
    std::vector<uint8_t> f = good;
    f[i] ^= 0x10;
    INFO("flip at " << i);
    auto m = ModelFile::load(tmp.file("f" + std::to_string(i), f));
    REQUIRE_FALSE(m.ok());
    CHECK(m.status().code() == Code::kDataLoss);
  }
  CHECK(ModelFile::load(tmp.dir.string()).status().code() == Code::kInvalidArgument);
  CHECK(ModelFile::load((tmp.dir / "absent").string()).status().code() == Code::kNotFound);
  CHECK(ModelFile::load("/dev/null").status().code() == Code::kInvalidArgument);
}

TEST_CASE("a mapped model outlives its path: moved, and the file replaced by rename", "[weights][mmap]") {
  TempDir tmp;
  const std::vector<uint8_t> old_bytes = writer(0.5f).serialize();
  const std::string path = tmp.file("m.model", old_bytes);
  std::vector<ModelFile> holder;
  {
    auto m = ModelFile::load(path);
    REQUIRE(m.ok());
    holder.push_back(std::move(m).value());  // moved: the views still point into the mapping
  }
  const ModelFile& m = holder.front();
  const std::vector<uint8_t> q_before = tensor_bytes(*m.find("encoder.block.0.layer.0.SelfAttention.q.weight"));
  // What the converter does: a new file renamed over the old one. The mapping keeps the old inode.
  REQUIRE(writer(2.0f).write(path).is_ok());
  CHECK(std::vector<uint8_t>(m.bytes().begin(), m.bytes().end()) == old_bytes);
  CHECK(tensor_bytes(*m.find("encoder.block.0.layer.0.SelfAttention.q.weight")) == q_before);
  auto fresh = ModelFile::load(path);
  REQUIRE(fresh.ok());
  CHECK(fresh->sha256() != m.sha256());
}

TEST_CASE("MappedFile notices a file changed in place", "[weights][mmap]") {
  TempDir tmp;
  const std::vector<uint8_t> good = writer(0.5f).serialize();
  const std::string path = tmp.file("m.model", good);
  {
    auto f = MappedFile::open(path, uint64_t{1} << 40);
    REQUIRE(f.ok());
    CHECK((*f)->bytes().size() == good.size());
    CHECK((*f)->unchanged().is_ok());
    std::ofstream(path, std::ios::binary | std::ios::app) << "x";  // grown in place (no SIGBUS)
    auto st = (*f)->unchanged();
    CHECK(st.code() == Code::kDataLoss);
    CHECK_THAT(st.message(), Catch::Contains("changed while it was loaded"));
  }
  tmp.file("m.model", good);  // same size again, new modification time
  auto f = MappedFile::open(path, uint64_t{1} << 40);
  REQUIRE(f.ok());
  const struct timespec times[2] = {{0, UTIME_OMIT}, {12345, 0}};
  REQUIRE(::utimensat(AT_FDCWD, path.c_str(), times, 0) == 0);
  CHECK((*f)->unchanged().code() == Code::kDataLoss);
  CHECK(MappedFile::open(path, 16).status().code() == Code::kResourceExhausted);
}
