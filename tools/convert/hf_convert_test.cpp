// Hugging Face folder conversion: the real tiny-random-t5 / tiny-random-bart fixtures (counts,
// values, aliases, BartModel renaming), the safetensors path, and corrupt folders.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <vector>

#include "common/fixtures.h"
#include "tools/convert/convert_testing.h"
#include "tools/convert/hf_convert.h"
#include "tools/convert/torch_checkpoint.h"
#include "weights/panel_layout.h"
#include "weights/schema.h"
#include "weights/tokenizer_blob.h"

using namespace sealsum;
using namespace sealsum::convert;
using namespace sealsum::convert::testing;
namespace fs = std::filesystem;

namespace {

weights::ModelFile to_model(const weights::ModelWriter& w) {
  auto buf = secure::SecretBuffer::copy_of(w.serialize());
  REQUIRE(buf.ok());
  auto m = weights::ModelFile::from_buffer(std::move(buf).value(), "converted");
  REQUIRE(m.ok());
  return std::move(m).value();
}

float at(const weights::ModelFile& m, const std::string& name, size_t i) {
  const weights::TensorView* t = m.find(name);
  REQUIRE(t != nullptr);
  REQUIRE(t->dtype == weights::DType::kF32);
  REQUIRE(i < size_t(t->numel()));
  if (t->layout == weights::Layout::kPanels) {  // linear weights are stored in the kernels' layout
    const int64_t k = t->shape[1];
    std::vector<float> row(static_cast<size_t>(k));
    weights::panel_row(t->f32(), k, int64_t(i) / k, row.data());
    return row[i % size_t(k)];
  }
  return t->f32()[i];
}

// A scratch copy of a fixture folder (in the temp dir, never in the repo) that tests may damage.
struct Scratch {
  fs::path dir;
  explicit Scratch(const std::string& fixture_dir) {
    dir = fs::temp_directory_path() / ("sealsum-hf-" + std::to_string(::getpid()));
    fs::remove_all(dir);
    fs::create_directories(dir);
    for (const auto& e : fs::directory_iterator(sealsum::fixture(fixture_dir))) {
      fs::copy_file(e.path(), dir / e.path().filename());
      fs::permissions(dir / e.path().filename(), fs::perms::owner_read | fs::perms::owner_write);
    }
  }
  ~Scratch() { fs::remove_all(dir); }
  Bytes read(const std::string& name) const {
    std::ifstream f(dir / name, std::ios::binary);
    return Bytes(std::istreambuf_iterator<char>(f), {});
  }
  void write(const std::string& name, const Bytes& b) const {
    std::ofstream f(dir / name, std::ios::binary | std::ios::trunc);
    f.write(reinterpret_cast<const char*>(b.data()), std::streamsize(b.size()));
  }
  void write(const std::string& name, const std::string& s) const { write(name, Bytes(s.begin(), s.end())); }
  Status convert() const { return convert_hf_dir(dir.string()).status(); }
};

}  // namespace

TEST_CASE("tiny-random-t5 converts with its ties and exact values") {
  auto w = convert_hf_dir(fixture("models/tiny-random-t5").string());
  REQUIRE(w.ok());
  const weights::ModelFile m = to_model(*w);
  CHECK(m.architecture() == "t5");
  auto schema = weights::expected_schema("t5", m.config());
  REQUIRE(schema.ok());
  CHECK(schema->tensors.size() == 110);              // 113 keys - encoder/decoder.embed_tokens - lm_head
  CHECK(m.tensors().size() == schema->tensors.size() + 1);  // + tokenizer/tokenizer.json
  CHECK(m.find("lm_head.weight") == m.find("shared.weight"));
  CHECK(m.find("encoder.embed_tokens.weight") == m.find("shared.weight"));
  CHECK(m.find("decoder.embed_tokens.weight") == m.find("shared.weight"));
  CHECK(m.generation_config() == nlohmann::json::object());
  CHECK(m.header()["source"]["weights"]["file"] == "pytorch_model.bin");
  // Values read independently (Python zipfile + struct) from the fixture's storages.
  CHECK(at(m, "shared.weight", 0) == float(2.3760099665537382e-08));
  CHECK(at(m, "shared.weight", 3) == float(0.0003790989867411554));
  CHECK(at(m, "shared.weight", 41663) == float(-0.00016470334958285093));
  CHECK(at(m, "encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight", 1) == float(0.0007564669940620661));
  CHECK(at(m, "decoder.final_layer_norm.weight", 31) == float(0.0020000000949949026));
  auto tok = weights::tokenizer_source(m);
  REQUIRE(tok.ok());
  CHECK(tok->kind == "tokenizer.json");
  CHECK(tok->files.at(0).second == read_fixture("models/tiny-random-t5/tokenizer.json"));
  // Deterministic.
  auto again = convert_hf_dir(fixture("models/tiny-random-t5").string());
  REQUIRE(again.ok());
  CHECK(again->serialize() == w->serialize());
}

TEST_CASE("tiny-random-bart (a BartModel checkpoint) gets canonical names, a tied head and a zero bias") {
  auto w = convert_hf_dir(fixture("models/tiny-random-bart").string());
  REQUIRE(w.ok());
  const weights::ModelFile m = to_model(*w);
  CHECK(m.architecture() == "bart");
  auto schema = weights::expected_schema("bart", m.config());
  REQUIRE(schema.ok());
  CHECK(schema->tensors.size() == 93 - 2 + 1);  // 93 keys - encoder/decoder.embed_tokens + final_logits_bias
  CHECK(m.tensors().size() == schema->tensors.size() + 1);  // + tokenizer/tokenizer.json
  CHECK(m.find("lm_head.weight") == m.find("model.shared.weight"));
  CHECK(m.find("model.encoder.embed_tokens.weight") == m.find("model.shared.weight"));
  auto bias = m.get("final_logits_bias", weights::DType::kF32, {1, 1000});
  REQUIRE(bias.ok());
  for (int64_t i = 0; i < 1000; ++i) CHECK((*bias)->f32()[i] == 0.0f);
  CHECK(m.get("model.encoder.embed_positions.weight", weights::DType::kF32, {102, 16}).ok());
  CHECK(at(m, "model.shared.weight", 0) == float(-0.0004903490771539509));
  CHECK(at(m, "model.shared.weight", 15999) == float(-0.033432599157094955));
  CHECK(at(m, "model.encoder.embed_positions.weight", 2) == float(-0.018426401540637016));
  CHECK(at(m, "model.decoder.layernorm_embedding.weight", 0) == 1.0f);
  CHECK(m.find("shared.weight") == nullptr);
  const auto notes = m.header()["source"]["notes"].dump();
  CHECK_THAT(notes, Catch::Contains("final_logits_bias"));
}

TEST_CASE("a safetensors folder converts to the same tensors as the pytorch one") {
  Scratch s("models/tiny-random-t5");
  auto sd = read_torch_checkpoint((s.dir / "pytorch_model.bin").string());
  REQUIRE(sd.ok());
  std::vector<StTensor> ts;
  for (const auto& t : *sd) {
    if (t.name == "lm_head.weight" || t.name.find("embed_tokens") != std::string::npos) continue;  // as HF saves
    ts.push_back({t.name, "F32", t.shape, t.f32});
  }
  s.write("model.safetensors", make_safetensors(ts));
  fs::remove(s.dir / "pytorch_model.bin");
  auto from_st = convert_hf_dir(s.dir.string());
  REQUIRE(from_st.ok());
  auto from_pt = convert_hf_dir(fixture("models/tiny-random-t5").string());
  REQUIRE(from_pt.ok());
  const weights::ModelFile a = to_model(*from_st), b = to_model(*from_pt);
  REQUIRE(a.tensors().size() == b.tensors().size());
  for (size_t i = 0; i < a.tensors().size(); ++i) {
    const auto& x = a.tensors()[i];
    const auto& y = b.tensors()[i];
    CHECK(x.name == y.name);
    CHECK(x.shape == y.shape);
    CHECK(std::equal(x.data, x.data + x.nbytes, y.data, y.data + y.nbytes));
  }
  CHECK(a.header()["source"]["weights"]["file"] == "model.safetensors");
}

TEST_CASE("corrupt Hugging Face folders fail with the file named") {
  Scratch s("models/tiny-random-t5");
  const Bytes bin = s.read("pytorch_model.bin");
  auto fails = [&](const std::string& fragment) {
    Status st = s.convert();
    REQUIRE_FALSE(st.is_ok());
    CHECK_THAT(st.message(), Catch::Contains(fragment));
    return st.code();
  };
  s.write("pytorch_model.bin", Bytes(bin.begin(), bin.begin() + long(bin.size() * 2 / 3)));
  CHECK(fails("pytorch_model.bin") == Code::kDataLoss);
  auto za = ZipArchive::open(bin, "x");
  REQUIRE(za.ok());
  Bytes flipped = bin;
  flipped[za->find("pytorch_model/data/0")->data_offset + 100] ^= 0x10;
  s.write("pytorch_model.bin", flipped);
  fails("CRC-32 mismatch");
  s.write("pytorch_model.bin", rezip(*za, [](const std::string& n, Bytes& b) {
            if (n.ends_with("data.pkl")) b[3] = 0x94;
          }));
  CHECK(fails("forbidden pickle opcode 0x94 at offset 3") == Code::kPermissionDenied);
  fails("pytorch_model.bin");
  s.write("pytorch_model.bin", bin);
  REQUIRE(s.convert().is_ok());

  // Wrong shapes: the config says d_ff 40 but the checkpoint has 37.
  const std::string config = read_fixture("models/tiny-random-t5/config.json");
  nlohmann::json c = nlohmann::json::parse(config);
  c["d_ff"] = 40;
  s.write("config.json", c.dump());
  fails("tensor 'encoder.block.0.layer.1.DenseReluDense.wi.weight' has shape [37, 32], expected [40, 32]");
  c = nlohmann::json::parse(config);
  c["num_layers"] = 6;
  s.write("config.json", c.dump());
  fails("missing tensor 'encoder.block.5.layer.0.SelfAttention.q.weight' [32, 32]");
  c = nlohmann::json::parse(config);
  c["num_layers"] = 4;
  s.write("config.json", c.dump());
  fails("unexpected tensor 'encoder.block.4.layer.0.SelfAttention.q.weight' [32, 32]");
  c = nlohmann::json::parse(config);
  c["model_type"] = "gpt2";
  s.write("config.json", c.dump());
  CHECK(fails("unknown architecture: config.json field 'model_type' is 'gpt2'") == Code::kUnimplemented);
  fails("config.json");
  s.write("config.json", std::string("{not json"));
  fails("config.json");
  s.write("config.json", config);
  fs::remove(s.dir / "pytorch_model.bin");
  CHECK(fails("no weights") == Code::kNotFound);
}

TEST_CASE("state-dict rules: ignored keys, differing ties, duplicates") {
  const nlohmann::json config = nlohmann::json::parse(read_fixture("models/tiny-random-t5/config.json"));
  auto sd = read_torch_checkpoint(fixture("models/tiny-random-t5/pytorch_model.bin").string());
  REQUIRE(sd.ok());
  const tok::TokenizerSource tok{"tokenizer.json", {{"tokenizer.json", "{}"}}};
  {
    StateDict x = *sd;  // transformers ignores the old EncDecAttention bias key: so do we
    x.push_back({"decoder.block.0.layer.1.EncDecAttention.relative_attention_bias.weight", {8, 4}, Bytes(128)});
    auto w = build_from_state_dict(config, nullptr, std::move(x), tok, nlohmann::json::object());
    REQUIRE(w.ok());
    CHECK_THAT(to_model(*w).header()["source"].dump(), Catch::Contains("ignored_on_load"));
  }
  {
    StateDict x = *sd;
    x.back().f32[0] ^= 1;  // lm_head no longer equals shared, but the config ties them
    auto w = build_from_state_dict(config, nullptr, std::move(x), tok, nlohmann::json::object());
    REQUIRE_FALSE(w.ok());
    CHECK_THAT(w.status().message(), Catch::Contains("'lm_head.weight'") && Catch::Contains("tie_word_embeddings"));
  }
  {
    StateDict x = *sd;
    x.push_back({"encoder.extra.weight", {1}, Bytes(4)});
    x.erase(x.begin() + 5);
    auto w = build_from_state_dict(config, nullptr, std::move(x), tok, nlohmann::json::object());
    REQUIRE_FALSE(w.ok());
    CHECK_THAT(w.status().message(), Catch::Contains("unexpected tensor 'encoder.extra.weight' [1]") &&
                                         Catch::Contains("missing tensor"));
  }
  {
    nlohmann::json untied = config;
    untied["tie_word_embeddings"] = false;  // now lm_head is its own tensor and must be present
    StateDict x = *sd;
    x.pop_back();
    auto w = build_from_state_dict(untied, nullptr, std::move(x), tok, nlohmann::json::object());
    REQUIRE_FALSE(w.ok());
    CHECK_THAT(w.status().message(), Catch::Contains("missing tensor 'lm_head.weight' [1302, 32]"));
  }
}
