// One copy of the weights (issue 13): loading and running a model of t5-small's geometry (the
// fixtures' t5-small config, format-2 panels written in the converter's storage order, the real
// T5 tokenizer) raises this process's peak RSS by at most 1.15 x the model file + 64 MiB, for a
// plain file memory-mapped (the default) and for one read into secret memory (the sealed path's
// home). The peak is measured with VmHWM after resetting it (/proc/self/clear_refs "5"), from a
// baseline taken once the writer's memory is freed, so earlier tests in this binary do not count.
#include <catch2/catch.hpp>

#include <malloc.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/fixtures.h"
#include "common/proc_status.h"
#include "engine/engine.h"
#include "tokenizer/tokenizer.h"
#include "weights/model_file.h"
#include "weights/schema.h"
#include "weights/tokenizer_blob.h"

namespace {

namespace fs = std::filesystem;
using sealsum::weights::ModelWriter;

// Writes a t5-small-geometry model with small deterministic weights to `path`; returns its size.
uint64_t write_t5_small(const std::string& path) {
  const auto config = nlohmann::json::parse(sealsum::read_fixture("models/t5/t5-small.config.json"));
  auto schema = sealsum::weights::expected_schema("t5", config);
  REQUIRE(schema.ok());
  ModelWriter w("t5", config, nlohmann::json::object());
  for (size_t i : schema->storage_order()) {
    const auto& t = schema->tensors[i];
    int64_t n = 1;
    for (int64_t s : t.shape) n *= s;
    std::vector<float> v(static_cast<size_t>(n));
    const bool norm = t.name.find("layer_norm") != std::string::npos;
    uint32_t x = static_cast<uint32_t>(i) * 2654435761u + 1;
    for (auto& e : v) {
      x = x * 1664525u + 1013904223u;
      e = (norm ? 1.0f : 0.0f) + (static_cast<float>(x >> 9) / 8388608.0f - 1.0f) * 0.05f;
    }
    if (t.linear) {
      w.add_linear_weight(t.name, t.shape[0], t.shape[1], v);
    } else {
      std::vector<uint8_t> bytes(v.size() * sizeof(float));
      std::memcpy(bytes.data(), v.data(), bytes.size());
      w.add_tensor(t.name, sealsum::weights::DType::kF32, t.shape, std::move(bytes));
    }
  }
  for (const auto& [alias, target] : schema->aliases) w.add_alias(alias, target);
  auto src = sealsum::tok::read_tokenizer_source(sealsum::fixture("models/t5/spiece.model").string());
  REQUIRE(src.ok());
  REQUIRE(sealsum::weights::embed_tokenizer(w, *src).is_ok());
  REQUIRE(w.write(path).is_ok());
  return static_cast<uint64_t>(fs::file_size(path));
}

void reset_peak_rss() {
  std::ofstream f("/proc/self/clear_refs");
  f << "5";
  f.flush();
  REQUIRE(f.good());
}

// Loads (mapped or read), encodes 512 tokens and generates 8 greedily; returns the peak RSS rise
// in KiB over the RSS before loading, and whether the file was mapped.
std::pair<long, bool> peak_rise_kib(const std::string& path, bool map) {
  ::malloc_trim(0);
  reset_peak_rss();
  const long base = sealsum::rss_kib();
  bool mapped = false;
  {
    auto file = sealsum::weights::ModelFile::load(path, {.map = map});
    REQUIRE(file.ok());
    mapped = file->mapped();
    auto e = sealsum::engine::Engine::from_model_file(std::move(file).value(), {.threads = 1});
    INFO(e.status().to_string());
    REQUIRE(e.ok());
    std::vector<int32_t> ids(512);
    for (size_t i = 0; i < ids.size(); ++i) ids[i] = static_cast<int32_t>(100 + (i * 7919) % 30000);
    ids.back() = 1;
    sealsum::decoding::GenerationParams p = (*e)->model_params();
    p.eos_token_ids.clear();
    p.num_beams = 1;
    p.max_new_tokens = 8;
    auto r = (*e)->generate(ids, p);
    REQUIRE(r.ok());
    CHECK(r->timings.generated_tokens == 8);
  }
  return {sealsum::proc_status_kib("VmHWM") - base, mapped};
}

}  // namespace

TEST_CASE("Engine: peak RSS of a t5-small-size model stays within 1.15 x file + 64 MiB", "[engine][memory]") {
  const fs::path dir = fs::temp_directory_path() / ("sealsum-rss-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  const std::string path = (dir / "t5-small.model").string();
  const uint64_t file_bytes = write_t5_small(path);
  REQUIRE(file_bytes > (200u << 20));  // really t5-small's size (about 232 MiB)
  const double limit_kib = 1.15 * static_cast<double>(file_bytes) / 1024.0 + 64.0 * 1024.0;
  for (bool map : {true, false}) {
    const auto [rise, mapped] = peak_rise_kib(path, map);
    INFO((map ? "mapped" : "read") << ": peak rise " << rise / 1024 << " MiB, file " << (file_bytes >> 20)
                                   << " MiB, limit " << static_cast<long>(limit_kib) / 1024 << " MiB");
    CHECK(mapped == map);
    CHECK(rise > static_cast<long>(file_bytes / 1024 / 2));  // the weights were really resident
    CHECK(static_cast<double>(rise) <= limit_kib);
  }
  // A sibling engine (bench --concurrency's batch-decoding engine) shares the loaded weights and computes the same.
  auto e = sealsum::engine::Engine::load(path, {.threads = 1});
  REQUIRE(e.ok());
  auto sib = (*e)->sibling({.threads = 2});
  REQUIRE(sib.ok());
  CHECK(&(*sib)->model_file() == &(*e)->model_file());
  CHECK((*sib)->threads() == 2);
  sealsum::decoding::GenerationParams p = (*e)->model_params();
  p.max_new_tokens = 4;
  const std::vector<int32_t> ids = (*e)->prepare_input("The cat sat on the mat. It was a sunny day.");
  auto a = (*e)->generate(ids, p);
  auto b = (*sib)->generate(ids, p);
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  CHECK(a->output.sequences == b->output.sequences);
  fs::remove_all(dir);
}
