// Synthetic-weight generator and manifest -> model builder (formula: synthetic.h).
//
// This file MUST be compiled with -ffp-contract=off (set in tools/convert/CMakeLists.txt): the
// reference computes center + scale * r as a rounded double product followed by a rounded double
// sum; a fused multiply-add would round once and change some float32 values by one ulp.
#include "tools/convert/synthetic.h"

#include <bit>
#include <cstring>
#include <map>

#include "secure/digest.h"
#include "tools/convert/file_io.h"
#include "tools/convert/linear_dtype.h"
#include "weights/schema.h"
#include "weights/tokenizer_blob.h"

namespace sealsum::convert {

static_assert(std::endian::native == std::endian::little, "model files store little-endian tensors");

uint64_t fnv1a64(std::string_view bytes) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char b : bytes) {
    h ^= b;
    h *= 0x100000001b3ull;
  }
  return h;
}

uint64_t splitmix64(uint64_t x) {
  uint64_t z = x + 0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

double synth_r(uint64_t name_hash, uint64_t i) {
  const int64_t top = int64_t(splitmix64(name_hash ^ i) >> 40);  // 24 bits
  return double(top - 8388608) / 8388608.0;
}

float synth_value(double center, double scale, double r) {
  const double product = scale * r;  // rounded to double (no contraction: see the file comment)
  const double sum = center + product;
  return float(sum);  // round to nearest even
}

void synth_fill(std::string_view name, double center, double scale, std::span<float> out, uint64_t first) {
  const uint64_t h = fnv1a64(name);
  for (size_t k = 0; k < out.size(); ++k) out[k] = synth_value(center, scale, synth_r(h, first + k));
}

Result<nlohmann::json> read_manifest(const std::string& path) {
  auto j = read_json_object(path, 16u << 20);
  if (!j.ok()) return j.status().with_context("reading synthetic manifest");
  return j;
}

namespace {

constexpr uint64_t kMaxSynthElements = uint64_t{1} << 32;  // 16 GiB of f32 per tensor

struct ManifestTensor {
  std::string name;
  std::vector<int64_t> shape;
  uint64_t numel = 1;
  double center = 0, scale = 0;
};

Result<std::vector<ManifestTensor>> parse_tensors(const nlohmann::json& m) {
  auto bad = [](const std::string& why) { return invalid_argument("synthetic manifest: " + why); };
  auto it = m.find("tensors");
  if (it == m.end() || !it->is_array() || it->empty()) return bad("'tensors' must be a non-empty list");
  std::vector<ManifestTensor> out;
  for (const auto& t : *it) {
    const std::string at = "tensor #" + std::to_string(out.size());
    if (!t.is_object() || !t.contains("name") || !t["name"].is_string()) return bad(at + " has no name");
    ManifestTensor mt;
    mt.name = t["name"].get<std::string>();
    if (!t.contains("shape") || !t["shape"].is_array() || t["shape"].size() > 8) return bad("'" + mt.name + "' has no shape");
    for (const auto& d : t["shape"]) {
      if (!d.is_number_integer() || d.get<int64_t>() < 0) return bad("'" + mt.name + "' has an invalid dimension");
      const uint64_t x = d.get<uint64_t>();
      if (__builtin_mul_overflow(mt.numel, x, &mt.numel) || mt.numel > kMaxSynthElements) {
        return bad("'" + mt.name + "' is too large");
      }
      mt.shape.push_back(int64_t(x));
    }
    if (!t.contains("center") || !t["center"].is_number() || !t.contains("scale") || !t["scale"].is_number()) {
      return bad("'" + mt.name + "' lacks numeric center/scale");
    }
    mt.center = t["center"].get<double>();
    mt.scale = t["scale"].get<double>();
    out.push_back(std::move(mt));
  }
  return out;
}

}  // namespace

Result<weights::ModelWriter> build_synthetic(const nlohmann::json& manifest, const tok::TokenizerSource& tokenizer,
                                             const std::function<void(size_t, size_t)>& progress,
                                             weights::DType dtype) {
  if (!manifest.is_object()) return invalid_argument("synthetic manifest is not a JSON object");
  auto cfg = manifest.find("config");
  if (cfg == manifest.end() || !cfg->is_object()) return invalid_argument("synthetic manifest has no 'config' object");
  SEALSUM_ASSIGN_OR_RETURN(const std::string arch, weights::architecture_of(*cfg));
  SEALSUM_ASSIGN_OR_RETURN(const weights::Schema schema, weights::expected_schema(arch, *cfg));
  SEALSUM_ASSIGN_OR_RETURN(const std::vector<ManifestTensor> tensors, parse_tensors(manifest));

  std::map<std::string, std::vector<int64_t>> present;
  for (const auto& t : tensors) {
    if (!present.emplace(t.name, t.shape).second) return invalid_argument("synthetic manifest lists '" + t.name + "' twice");
  }
  SEALSUM_RETURN_IF_ERROR(weights::check_tensors(schema, present).with_context("synthetic manifest"));
  std::map<std::string, std::string> tied;
  if (auto t = manifest.find("tied"); t != manifest.end()) {
    if (!t->is_object()) return invalid_argument("synthetic manifest: 'tied' is not an object");
    for (const auto& [alias, target] : t->items()) {
      if (!target.is_string()) return invalid_argument("synthetic manifest: tied '" + alias + "' is not a name");
      tied[alias] = target.get<std::string>();
    }
  }
  if (tied != schema.aliases) {
    return invalid_argument("synthetic manifest: 'tied' does not match the " + arch +
                            " ties implied by its config (check tie_word_embeddings)");
  }

  weights::ModelWriter w(arch, *cfg, nlohmann::json::object());
  std::map<std::string, size_t> by_name;
  for (size_t k = 0; k < tensors.size(); ++k) by_name[tensors[k].name] = k;
  size_t written = 0;
  for (size_t i : schema.storage_order()) {  // check_tensors above: the manifest has exactly these
    const weights::ExpectedTensor& e = schema.tensors[i];
    const ManifestTensor& t = tensors[by_name.at(e.name)];
    std::vector<float> values(size_t(t.numel));
    synth_fill(t.name, t.center, t.scale, values);
    add_schema_tensor(w, schema, e, values, dtype);  // linear weights: the kernels' panel layout
    if (progress) progress(++written, tensors.size());
  }
  add_schema_aliases(w, schema, dtype);  // == tied (checked above)
  SEALSUM_RETURN_IF_ERROR(weights::embed_tokenizer(w, tokenizer));
  const std::string dump = manifest.dump();
  const auto digest = secure::sha256({reinterpret_cast<const uint8_t*>(dump.data()), dump.size()});
  nlohmann::json source = {{"kind", "synthetic"},
                           {"manifest_json_sha256", secure::to_hex(digest)},
                           {"formula", "shared/golden/README.md: value = (float32)(center + scale * r_i)"}};
  if (dtype != weights::DType::kF32) source["linear_dtype"] = weights::dtype_name(dtype);  // f32 files unchanged
  if (auto n = manifest.find("name"); n != manifest.end() && n->is_string()) source["name"] = *n;
  w.set_source(source);
  SEALSUM_RETURN_IF_ERROR(w.validate());
  return w;
}

}  // namespace sealsum::convert
