// The synthetic-weight generator against the reference's worked vectors and check.json sums, and
// the manifest -> model builder for the three synthetic models.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>

#include "common/fixtures.h"
#include "tools/convert/synthetic.h"
#include "weights/model_file.h"
#include "weights/panel_layout.h"
#include "weights/tokenizer_blob.h"

using namespace sealsum;

namespace {

__extension__ typedef __int128 Int128;  // exact fixed-point sums (GCC/Clang extension)

uint64_t parse_hex(const std::string& s) { return std::stoull(s, nullptr, 16); }

nlohmann::json fixture_json(const std::string& rel) { return nlohmann::json::parse(read_fixture(rel)); }

// Exact sum of float32 values on a 2^-100 fixed-point grid (no real value here is below 2^-77, and
// |sum| < 2^27), rounded once to double: equal to check.json's "exact sum, rounded once".
struct ExactSum {
  Int128 acc = 0;
  bool in_range = true;  // every value was representable on the grid
  void add(float v) {
    if (v == 0.0f) return;
    int e = 0;
    const double m = std::frexp(double(v), &e);           // v = m * 2^e, 0.5 <= |m| < 1
    const auto mant = static_cast<int64_t>(std::ldexp(m, 24));  // exact: 24-bit significand
    const int shift = e - 24 + 100;
    if (shift < 0 || shift >= 100) {
      in_range = false;
      return;
    }
    acc += static_cast<Int128>(mant) << shift;
  }
  double value() const { return std::ldexp(static_cast<double>(acc), -100); }
};

}  // namespace

TEST_CASE("synthetic formula matches the worked vectors bit for bit") {
  const nlohmann::json v = fixture_json("golden/synth-formula-vectors.json");
  REQUIRE(v["vectors"].size() >= 10);
  for (const auto& x : v["vectors"]) {
    const std::string name = x["name"];
    const uint64_t i = x["i"];
    INFO(name << " i=" << i);
    const uint64_t h = convert::fnv1a64(name);
    CHECK(h == parse_hex(x["fnv1a64"]));
    CHECK(convert::splitmix64(h ^ i) == parse_hex(x["splitmix64"]));
    const double r = convert::synth_r(h, i);
    CHECK(r == x["r"].get<double>());
    const float value = convert::synth_value(x["center"], x["scale"], r);
    CHECK(value == static_cast<float>(x["value"].get<double>()));
    CHECK(double(value) == x["value"].get<double>());
    float filled = 0;
    convert::synth_fill(name, x["center"], x["scale"], {&filled, 1}, i);
    CHECK(filled == value);
  }
}

TEST_CASE("synthetic tensors match check.json for all three models") {
  for (const char* model : {"synth-t5-small", "synth-flan-t5-small", "synth-distilbart-cnn-6-6"}) {
    const nlohmann::json manifest = fixture_json(std::string("golden/") + model + "/manifest.json");
    const nlohmann::json check = fixture_json(std::string("golden/") + model + "/check.json");
    REQUIRE(check["tensors"].size() == manifest["tensors"].size());
    size_t k = 0, checked = 0;
    std::vector<float> buf;
    for (const auto& t : manifest["tensors"]) {
      const auto& c = check["tensors"][k++];
      const std::string name = t["name"];
      INFO(model << " " << name);
      REQUIRE(c["name"] == name);
      uint64_t n = 1;
      for (const auto& d : t["shape"]) n *= d.get<uint64_t>();
      ExactSum sum;
      constexpr uint64_t kChunk = 1u << 20;
      for (uint64_t first = 0; first < n; first += kChunk) {
        buf.resize(size_t(std::min(kChunk, n - first)));
        convert::synth_fill(name, t["center"], t["scale"], buf, first);
        if (first == 0) {
          for (size_t j = 0; j < 4 && j < buf.size(); ++j) CHECK(double(buf[j]) == c["first4"][j].get<double>());
        }
        for (float v : buf) sum.add(v);
      }
      REQUIRE(sum.in_range);
      CHECK(sum.value() == c["sum"].get<double>());
      ++checked;
    }
    CHECK(checked == manifest["num_distinct_tensors"].get<size_t>());
  }
}

TEST_CASE("synthetic builder makes a loadable model of real geometry") {
  const nlohmann::json manifest = fixture_json("golden/synth-flan-t5-small/manifest.json");
  auto tok = tok::read_tokenizer_source(fixture("models/t5/spiece.model").string());
  REQUIRE(tok.ok());
  size_t calls = 0;
  auto w = convert::build_synthetic(manifest, *tok, [&](size_t done, size_t total) {
    CHECK(done == ++calls);
    CHECK(total == 190);
  });
  REQUIRE(w.ok());
  CHECK(calls == 190);
  const std::vector<uint8_t> bytes = w->serialize();
  auto buf = secure::SecretBuffer::copy_of(bytes);
  REQUIRE(buf.ok());
  auto m = weights::ModelFile::from_buffer(std::move(buf).value(), "flan");
  REQUIRE(m.ok());
  CHECK(m->architecture() == "t5");
  CHECK(m->config() == manifest["config"]);
  CHECK(m->generation_config() == nlohmann::json::object());
  CHECK(m->tensors().size() == 190 + 1);  // + tokenizer/spiece.model
  CHECK(m->find("encoder.embed_tokens.weight") == m->find("shared.weight"));
  CHECK(m->find("lm_head.weight") != m->find("shared.weight"));  // flan-t5 is untied
  auto lm = m->get("lm_head.weight", weights::DType::kF32, {32128, 512});
  REQUIRE(lm.ok());
  // Linear weights are stored in the kernels' panel layout; norms and embeddings row-major.
  CHECK((*lm)->layout == weights::Layout::kPanels);
  CHECK(m->find("shared.weight")->layout == weights::Layout::kRowMajor);  // untied: an embedding only
  CHECK(m->find("encoder.final_layer_norm.weight")->layout == weights::Layout::kRowMajor);
  std::vector<float> row0(512);
  weights::panel_row((*lm)->f32(), 512, 0, row0.data());
  const nlohmann::json check = fixture_json("golden/synth-flan-t5-small/check.json");
  for (const auto& c : check["tensors"]) {
    if (c["name"] != "lm_head.weight") continue;
    for (int j = 0; j < 4; ++j) CHECK(double(row0[size_t(j)]) == c["first4"][j].get<double>());
  }
  auto src = weights::tokenizer_source(*m);
  REQUIRE(src.ok());
  CHECK(src->kind == "spiece");
  CHECK(src->files.at(0).second == read_fixture("models/t5/spiece.model"));
  // Deterministic.
  auto w2 = convert::build_synthetic(manifest, *tok);
  REQUIRE(w2.ok());
  CHECK(w2->serialize() == bytes);
}

TEST_CASE("synthetic builder rejects inconsistent manifests") {
  const nlohmann::json good = fixture_json("golden/synth-t5-small/manifest.json");
  tok::TokenizerSource src{"spiece", {{"spiece.model", "x"}}};
  auto fails_with = [&](const std::function<void(nlohmann::json&)>& edit, const std::string& fragment) {
    nlohmann::json m = good;
    edit(m);
    auto w = convert::build_synthetic(m, src);
    REQUIRE_FALSE(w.ok());
    CHECK_THAT(w.status().message(), Catch::Contains(fragment));
  };
  fails_with([](auto& m) { m["config"]["model_type"] = "gpt2"; }, "unknown architecture");
  fails_with([](auto& m) { m["tensors"].erase(4); }, "missing tensor 'encoder.block.0.layer.0.SelfAttention.o.weight'");
  fails_with([](auto& m) { m["tensors"][0]["shape"] = nlohmann::json::array({32128, 511}); },
             "'shared.weight' has shape [32128, 511], expected [32128, 512]");
  fails_with([](auto& m) { m["tensors"].push_back(m["tensors"][0]); }, "twice");
  fails_with([](auto& m) { m["tied"].erase("lm_head.weight"); }, "tied");
  fails_with([](auto& m) { m["tensors"][1].erase("scale"); }, "center/scale");
  fails_with([](auto& m) { m.erase("config"); }, "config");
}
