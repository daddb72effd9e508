// ModelFile / ModelWriter: round trips, determinism, atomic writes and every corruption the reader
// must catch (truncation, flipped bytes, and header lies re-signed with a valid checksum).
#include <catch2/catch.hpp>

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#include <filesystem>
#include <fstream>

#include "secure/digest.h"
#include "weights/model_file.h"
#include "weights/panel_layout.h"
#include "weights/tokenizer_blob.h"

using namespace sealsum;
using namespace sealsum::weights;

namespace {

std::vector<uint8_t> f32_bytes(const std::vector<float>& v) {
  std::vector<uint8_t> b(v.size() * 4);
  std::memcpy(b.data(), v.data(), b.size());
  return b;
}

ModelWriter sample_writer() {
  ModelWriter w("t5", {{"model_type", "t5"}, {"d_model", 4}}, nlohmann::json::object());
  w.add_tensor("shared.weight", DType::kF32, {3, 2}, f32_bytes({1, 2, 3, 4, 5, -6.5f}));
  w.add_tensor("odd.bf16", DType::kBF16, {3}, std::vector<uint8_t>{1, 2, 3, 4, 5, 6});
  w.add_tensor("odd.i8", DType::kI8, {1, 5}, std::vector<uint8_t>{0x80, 0xff, 0, 1, 127});
  w.add_tensor("scalar", DType::kF32, {}, f32_bytes({42}));
  w.add_tensor("empty", DType::kF32, {0, 4}, std::vector<uint8_t>{});
  w.add_alias("lm_head.weight", "shared.weight");
  tok::TokenizerSource src{"vocab+merges", {{"vocab.json", "{\"a\": 0}"}, {"merges.txt", "#version: 0.2\n"}}};
  REQUIRE(embed_tokenizer(w, src).is_ok());
  w.set_source({{"kind", "test"}});
  return w;
}

secure::SecretBuffer to_buffer(const std::vector<uint8_t>& b) {
  auto r = secure::SecretBuffer::copy_of(b);
  REQUIRE(r.ok());
  return std::move(r).value();
}

Result<ModelFile> parse(const std::vector<uint8_t>& b) { return ModelFile::from_buffer(to_buffer(b), "test.model"); }

uint64_t le64(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = v << 8 | p[i];
  return v;
}

// Splits a valid file into (header JSON, data section).
std::pair<nlohmann::json, std::vector<uint8_t>> split(const std::vector<uint8_t>& f) {
  const uint64_t h = le64(f.data() + 16);
  const uint64_t data_start = (24 + h + 63) / 64 * 64;
  return {nlohmann::json::parse(f.begin() + 24, f.begin() + 24 + long(h)),
          std::vector<uint8_t>(f.begin() + long(data_start), f.end() - 32)};
}

// Reassembles a file around an arbitrary header string and a valid checksum.
// (Version 1 by default: the reader still reads version-1 files, which have no tensor layouts.)
std::vector<uint8_t> assemble(const std::string& header, const std::vector<uint8_t>& data, uint32_t version = 1) {
  std::vector<uint8_t> f(kModelMagic, kModelMagic + 8);
  for (uint64_t v : {uint64_t(version), uint64_t(0)}) {
    for (int i = 0; i < 4; ++i) f.push_back(uint8_t(v >> (8 * i)));
  }
  for (int i = 0; i < 8; ++i) f.push_back(uint8_t(uint64_t(header.size()) >> (8 * i)));
  f.insert(f.end(), header.begin(), header.end());
  f.resize((f.size() + 63) / 64 * 64, 0);
  f.insert(f.end(), data.begin(), data.end());
  auto d = secure::sha256(f);
  f.insert(f.end(), d.begin(), d.end());
  return f;
}

void reseal(std::vector<uint8_t>& f) {
  f.resize(f.size() - 32);
  auto d = secure::sha256(f);
  f.insert(f.end(), d.begin(), d.end());
}

void expect_data_loss(const std::vector<uint8_t>& f, const std::string& fragment) {
  auto m = parse(f);
  REQUIRE_FALSE(m.ok());
  CHECK(m.status().code() == Code::kDataLoss);
  CHECK_THAT(m.status().message(), Catch::Contains("test.model"));
  CHECK_THAT(m.status().message(), Catch::Contains(fragment));
}

}  // namespace

TEST_CASE("model file round trip keeps every tensor, alias and header field") {
  const ModelWriter w = sample_writer();
  REQUIRE(w.validate().is_ok());
  const std::vector<uint8_t> bytes = w.serialize();
  REQUIRE(bytes.size() == w.serialized_size());
  auto m = parse(bytes);
  REQUIRE(m.ok());
  CHECK(m->architecture() == "t5");
  CHECK(m->config()["d_model"] == 4);
  CHECK(m->generation_config() == nlohmann::json::object());
  CHECK(m->header()["source"]["kind"] == "test");
  REQUIRE(m->tensors().size() == 7);  // 5 + 2 tokenizer blobs

  const TensorView* s = m->find("shared.weight");
  REQUIRE(s != nullptr);
  CHECK(s->dtype == DType::kF32);
  CHECK(s->shape == std::vector<int64_t>{3, 2});
  CHECK(s->numel() == 6);
  CHECK(s->f32()[5] == -6.5f);
  CHECK(m->find("lm_head.weight") == s);
  CHECK(m->aliases().at("lm_head.weight") == "shared.weight");
  CHECK(m->find("nope") == nullptr);
  for (const auto& t : m->tensors()) CHECK(reinterpret_cast<uintptr_t>(t.data) % 64 == 0);
  CHECK(m->find("odd.i8")->data[0] == 0x80);
  CHECK(m->find("odd.bf16")->nbytes == 6);
  CHECK(m->find("scalar")->f32()[0] == 42.0f);
  CHECK(m->find("empty")->nbytes == 0);

  auto g = m->get("shared.weight", DType::kF32, {3, 2});
  REQUIRE(g.ok());
  CHECK(*g == s);
  auto wrong = m->get("shared.weight", DType::kF32, {2, 3});
  REQUIRE_FALSE(wrong.ok());
  CHECK(wrong.status().code() == Code::kInvalidArgument);
  CHECK_THAT(wrong.status().message(), Catch::Contains("[3, 2]") && Catch::Contains("[2, 3]"));
  auto missing = m->get("x.weight", DType::kF32, {1});
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.status().code() == Code::kNotFound);
  CHECK_THAT(missing.status().message(), Catch::Contains("x.weight"));

  CHECK_FALSE(m->blob("shared.weight").ok());
  auto src = tokenizer_source(*m);
  REQUIRE(src.ok());
  CHECK(src->kind == "vocab+merges");
  REQUIRE(src->files.size() == 2);
  CHECK(src->files[0] == std::pair<std::string, std::string>{"vocab.json", "{\"a\": 0}"});
  CHECK(src->files[1].second == "#version: 0.2\n");

  CHECK(m->sha256_hex() == secure::to_hex(secure::sha256(bytes)));
}

TEST_CASE("model file output is deterministic and written atomically") {
  const std::vector<uint8_t> a = sample_writer().serialize();
  CHECK(a == sample_writer().serialize());
  std::vector<uint8_t> streamed;
  REQUIRE(sample_writer().stream([&](std::span<const uint8_t> b) {
    streamed.insert(streamed.end(), b.begin(), b.end());
    return Status::ok();
  }).is_ok());
  CHECK(streamed == a);

  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / ("sealsum-mf-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  const std::string path = (dir / "m.model").string();
  { std::ofstream(path) << "old contents"; }
  REQUIRE(sample_writer().write(path).is_ok());
  auto m = ModelFile::load(path);
  REQUIRE(m.ok());
  CHECK(std::vector<uint8_t>(m->bytes().begin(), m->bytes().end()) == a);
  CHECK(std::distance(fs::directory_iterator(dir), fs::directory_iterator()) == 1);  // no temp left
  CHECK((fs::status(path).permissions() & fs::perms::others_read) == fs::perms::none);

  // A failing write leaves the target untouched and no temp file behind.
  ModelWriter bad("t5", nlohmann::json::object(), nlohmann::json::object());
  bad.add_tensor("a", DType::kF32, {2}, std::vector<uint8_t>(7));
  CHECK_FALSE(bad.write(path).is_ok());
  CHECK(ModelFile::load(path).ok());
  CHECK(std::distance(fs::directory_iterator(dir), fs::directory_iterator()) == 1);
  CHECK(ModelFile::load((dir / "absent").string()).status().code() == Code::kNotFound);
  fs::remove_all(dir);
}

TEST_CASE("model writer records misuse") {
  auto first_error = [](auto fn) {
    ModelWriter w("bart", nlohmann::json::object(), nlohmann::json::object());
    fn(w);
    CHECK(w.serialize().empty());
    return w.validate();
  };
  CHECK_THAT(first_error([](ModelWriter& w) { w.add_tensor("a", DType::kF32, {2}, std::vector<uint8_t>(7)); })
                 .message(), Catch::Contains("'a'"));
  CHECK_THAT(first_error([](ModelWriter& w) {
               w.add_tensor("a", DType::kU8, {1}, std::vector<uint8_t>(1));
               w.add_tensor("a", DType::kU8, {1}, std::vector<uint8_t>(1));
             }).message(), Catch::Contains("twice"));
  CHECK_THAT(first_error([](ModelWriter& w) { w.add_alias("b", "a"); }).message(), Catch::Contains("not a tensor"));
  CHECK_THAT(first_error([](ModelWriter& w) { w.add_tensor("bad name", DType::kU8, {0}, std::vector<uint8_t>()); })
                 .message(), Catch::Contains("printable"));
  CHECK_FALSE(ModelWriter("gpt2", nlohmann::json::object(), nlohmann::json::object()).validate().is_ok());
  ModelWriter w("t5", nlohmann::json::object(), nlohmann::json::object());
  CHECK_FALSE(embed_tokenizer(w, {"spiece", {{"../spiece.model", "x"}}}).is_ok());
}

TEST_CASE("model file reader rejects truncated and bit-flipped files") {
  const std::vector<uint8_t> good = sample_writer().serialize();
  for (size_t n : {size_t(0), size_t(7), size_t(24), size_t(60), good.size() / 2, good.size() - 33, good.size() - 1}) {
    INFO("truncated to " << n);
    auto m = parse(std::vector<uint8_t>(good.begin(), good.begin() + long(n)));
    REQUIRE_FALSE(m.ok());
    CHECK(m.status().code() == Code::kDataLoss);
    CHECK_THAT(m.status().message(), Catch::Contains("test.model"));
  }
  // Every single-byte flip is caught (the checksum covers everything but itself, and a flip in the
  // trailer breaks the comparison).
  for (size_t i = 0; i < good.size(); ++i) {
    std::vector<uint8_t> f = good;
    f[i] ^= 0x01;
    auto m = parse(f);
    INFO("flip at " << i);
    REQUIRE_FALSE(m.ok());
    if (i >= 8 && i < 12) CHECK(m.status().code() == Code::kUnimplemented);  // the version field
    else CHECK(m.status().code() == Code::kDataLoss);
  }
  std::vector<uint8_t> f = good;
  f[0] = 'X';
  expect_data_loss(f, "magic");
  f = good;
  f[8] = 3;
  auto m = parse(f);
  CHECK(m.status().code() == Code::kUnimplemented);
  CHECK_THAT(m.status().message(), Catch::Contains("version 3"));
  f = good;
  f[20] = 0x7f;  // header length far beyond the file
  expect_data_loss(f, "header length");
  f = good;
  f.back() ^= 1;
  expect_data_loss(f, "checksum");
}

TEST_CASE("model file reader rejects lying headers even with a valid checksum") {
  const auto [header, data] = split(sample_writer().serialize());
  REQUIRE(parse(assemble(header.dump(), data)).ok());  // the harness itself is sound

  auto with = [&, &header = header, &data = data](const std::function<void(nlohmann::json&)>& edit) {
    nlohmann::json h = header;
    edit(h);
    return assemble(h.dump(), data);
  };
  expect_data_loss(assemble("[1, 2]", data), "not a JSON object");
  expect_data_loss(assemble("{\"format\": ", data), "not a JSON object");
  expect_data_loss(with([](auto& h) { h["format"] = "other"; }), "format");
  expect_data_loss(with([](auto& h) { h["tensors"][0]["dtype"] = "f64"; }), "unknown dtype 'f64'");
  expect_data_loss(with([](auto& h) { h["tensors"][0]["nbytes"] = 20; }), "nbytes 20");
  expect_data_loss(with([](auto& h) { h["tensors"][1]["offset"] = 8; }), "not 64-byte aligned");
  expect_data_loss(with([](auto& h) { h["tensors"][1]["offset"] = 1u << 20; }), "outside the data section");
  expect_data_loss(with([](auto& h) { h["tensors"][1]["offset"] = 0; h["tensors"][1]["shape"] = nlohmann::json::array({3}); }),
                   "overlap");
  expect_data_loss(with([](auto& h) { h["tensors"][1]["name"] = "shared.weight"; }), "duplicate tensor 'shared.weight'");
  expect_data_loss(with([](auto& h) { h["tensors"][0]["shape"] = nlohmann::json::array({uint64_t(1) << 40, uint64_t(1) << 40}); }),
                   "overflows");
  expect_data_loss(with([](auto& h) { h["tensors"][0]["shape"] = nlohmann::json::array({-3, 2}); }), "invalid dimension");
  expect_data_loss(with([](auto& h) { h["tensors"][0]["shape"] = nlohmann::json::array({1, 1, 1, 1, 1, 1, 1, 1, 6}); }), "no shape");
  expect_data_loss(with([](auto& h) { h["tensors"][0].erase("offset"); }), "offset");
  expect_data_loss(with([](auto& h) { h["tensors"][0]["name"] = ""; }), "no valid name");
  expect_data_loss(with([](auto& h) { h["tensors"] = 3; }), "'tensors'");
  expect_data_loss(with([](auto& h) { h["aliases"]["lm_head.weight"] = "missing"; }), "not a tensor");
  expect_data_loss(with([](auto& h) { h["aliases"]["scalar"] = "shared.weight"; }), "also a tensor name");
  expect_data_loss(with([](auto& h) { h["aliases"]["x"] = "lm_head.weight"; }), "not a tensor");
  expect_data_loss(with([](auto& h) { h["config"] = "t5"; }), "'config'");
  expect_data_loss(with([](auto& h) { h.erase("tokenizer"); }), "'tokenizer'");
  auto arch = parse(with([](auto& h) { h["architecture"] = "gpt2"; }));
  CHECK(arch.status().code() == Code::kUnimplemented);
  CHECK_THAT(arch.status().message(), Catch::Contains("gpt2"));

  // Non-zero padding between header and data.
  std::vector<uint8_t> f = assemble(header.dump(), data);
  const uint64_t h = le64(f.data() + 16);
  if ((24 + h) % 64 != 0) {
    f[24 + h] = 1;
    reseal(f);
    expect_data_loss(f, "padding");
  }
  // A tokenizer entry that names a non-blob tensor.
  auto m = parse(with([](auto& hh) { hh["tokenizer"]["files"][0]["tensor"] = "shared.weight"; }));
  REQUIRE(m.ok());
  CHECK(tokenizer_source(*m).status().code() == Code::kDataLoss);
}

TEST_CASE("panel-stored linear weights: written in format 2, read back, malformed entries refused") {
  const int64_t n = 45, k = 3;  // 45 rows: two panels, the second one padded
  std::vector<float> w(static_cast<size_t>(n * k));
  for (size_t i = 0; i < w.size(); ++i) w[i] = 0.25f * float(i) - 7.0f;
  ModelWriter writer = sample_writer();
  writer.add_linear_weight("proj.weight", n, k, w);
  REQUIRE(writer.validate().is_ok());
  const std::vector<uint8_t> bytes = writer.serialize();
  CHECK(bytes[8] == kModelFormatVersion);
  CHECK(kModelFormatVersion == 2);
  auto m = parse(bytes);
  REQUIRE(m.ok());
  const TensorView* t = m->find("proj.weight");
  REQUIRE(t != nullptr);
  CHECK(t->layout == Layout::kPanels);
  CHECK(t->shape == std::vector<int64_t>{n, k});
  CHECK(t->nbytes == size_t(panel_floats(n, k)) * 4);
  CHECK(panel_floats(n, k) == 64 * k);
  CHECK(from_panels(t->f32(), n, k) == w);
  CHECK(m->find("shared.weight")->layout == Layout::kRowMajor);
  std::vector<float> row(k);
  panel_row(t->f32(), k, 33, row.data());
  CHECK(std::equal(row.begin(), row.end(), w.begin() + 33 * k));
  // Padding rows are zero.
  const std::vector<float> padded = to_panels(w, n, k);
  for (int64_t kk = 0; kk < k; ++kk) {
    for (int64_t jj = n - 32; jj < 32; ++jj) CHECK(padded[size_t(32 * k + kk * 32 + jj)] == 0.0f);
  }

  const auto [header, data] = split(bytes);
  size_t idx = 0;
  while (header["tensors"][idx]["name"] != "proj.weight") ++idx;
  auto with = [&, &header = header, &data = data](const std::function<void(nlohmann::json&)>& edit, uint32_t version) {
    nlohmann::json h = header;
    edit(h);
    return assemble(h.dump(), data, version);
  };
  REQUIRE(parse(with([](auto&) {}, 2)).ok());  // the harness itself is sound
  expect_data_loss(with([](auto&) {}, 1), "unknown layout");  // layouts need version 2
  expect_data_loss(with([&](auto& h) { h["tensors"][idx]["layout"] = "rows"; }, 2), "unknown layout");
  expect_data_loss(with([&](auto& h) { h["tensors"][idx]["layout"] = 1; }, 2), "unknown layout");
  expect_data_loss(with([&](auto& h) { h["tensors"][idx]["dtype"] = "u8"; }, 2), "needs an f32, bf16 or i8 matrix");
  expect_data_loss(with([&](auto& h) { h["tensors"][idx]["dtype"] = "bf16"; }, 2), "nbytes");  // half the size
  expect_data_loss(with([&](auto& h) { h["tensors"][idx]["shape"] = nlohmann::json::array({n * k}); }, 2),
                   "needs an f32, bf16 or i8 matrix");
  expect_data_loss(with([&](auto& h) { h["tensors"][idx]["nbytes"] = n * k * 4; }, 2), "nbytes");
  expect_data_loss(with([&](auto& h) { h["tensors"][idx].erase("layout"); }, 2), "nbytes");
  expect_data_loss(with([&](auto& h) { h["tensors"][idx]["shape"] = nlohmann::json::array({uint64_t(1) << 40, uint64_t(1) << 40}); }, 2),
                   "overflows");
  auto future = parse(with([](auto&) {}, 3));
  CHECK(future.status().code() == Code::kUnimplemented);
  CHECK_THAT(future.status().message(), Catch::Contains("convert the model again"));

  ModelWriter bad = sample_writer();
  bad.add_linear_weight("short.weight", 4, 4, std::vector<float>(15));
  CHECK(bad.validate().code() == Code::kInvalidArgument);
}

TEST_CASE("int8 and bf16 linear weights: quantized panels and scales round trip, sizes checked") {
  const int64_t n = 45, k = 6;  // two panels (the second padded), k padded to 8 for int8
  std::vector<float> w(static_cast<size_t>(n * k));
  for (size_t i = 0; i < w.size(); ++i) w[i] = 0.37f * float(i % 17) - 3.0f;
  ModelWriter writer = sample_writer();
  writer.add_linear_weight("a.weight", n, k, w, DType::kI8);
  writer.add_linear_weight("b.weight", n, k, w, DType::kI8);
  writer.add_linear_weight("c.weight", n, k, w, DType::kBF16);
  REQUIRE(writer.validate().is_ok());
  const std::vector<uint8_t> bytes = writer.serialize();
  auto m = parse(bytes);
  REQUIRE(m.ok());
  const TensorView* a = m->find("a.weight");
  const TensorView* b = m->find("b.weight");
  REQUIRE(a != nullptr);
  REQUIRE(b != nullptr);
  CHECK(a->dtype == DType::kI8);
  CHECK(a->layout == Layout::kPanels);
  CHECK(a->shape == std::vector<int64_t>{n, k});
  CHECK(a->nbytes == size_t(64 * 8));
  CHECK(b->data == a->data + a->nbytes);  // back to back: the scales are written after every weight
  const TensorView* s = m->find(std::string("a.weight") + kScaleSuffix);
  REQUIRE(s != nullptr);
  CHECK(s->dtype == DType::kF32);
  CHECK(s->shape == std::vector<int64_t>{n});
  std::vector<float> row(static_cast<size_t>(k));
  for (int64_t j = 0; j < n; ++j) {
    i8_panel_row(reinterpret_cast<const int8_t*>(a->data), s->f32(), k, j, row.data());
    for (int64_t kk = 0; kk < k; ++kk) {
      CHECK(std::fabs(row[size_t(kk)] - w[size_t(j * k + kk)]) <= 0.5f * s->f32()[j] * 1.0001f);
    }
  }
  const TensorView* c = m->find("c.weight");
  REQUIRE(c != nullptr);
  CHECK(c->dtype == DType::kBF16);
  CHECK(c->nbytes == size_t(panel_floats(n, k)) * 2);
  bf16_panel_row(reinterpret_cast<const uint16_t*>(c->data), k, 40, row.data());
  for (int64_t kk = 0; kk < k; ++kk) CHECK(std::fabs(row[size_t(kk)] - w[size_t(40 * k + kk)]) <= 0.02f);
  CHECK(bf16_to_f32(f32_to_bf16(1.0f + 1.0f / 256)) == 1.0f);  // tie: to even
  CHECK(bf16_to_f32(f32_to_bf16(1.0f + 3.0f / 256)) == 1.0f + 1.0f / 64);

  const auto [header, data] = split(bytes);
  size_t idx = 0;
  while (header["tensors"][idx]["name"] != "a.weight") ++idx;
  nlohmann::json h = header;
  h["tensors"][idx]["nbytes"] = n * k;  // unpadded: refused
  expect_data_loss(assemble(h.dump(), data, 2), "nbytes");
}
