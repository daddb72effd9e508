// Hugging Face folder -> ModelWriter (see hf_convert.h).
#include "tools/convert/hf_convert.h"

#include <cstring>
#include <filesystem>
#include <map>

#include "secure/digest.h"
#include "tools/convert/file_io.h"
#include "tools/convert/linear_dtype.h"
#include "tools/convert/safetensors.h"
#include "tools/convert/torch_checkpoint.h"
#include "weights/schema.h"
#include "weights/tokenizer_blob.h"

namespace sealsum::convert {
namespace {

namespace fs = std::filesystem;

constexpr uint64_t kMaxCheckpoint = uint64_t{64} << 30;

// Keys transformers drops on load (_keys_to_ignore_on_load_unexpected), per architecture.
bool ignored_on_load(const std::string& arch, const std::string& name) {
  if (arch == "t5") return name == "decoder.block.0.layer.1.EncDecAttention.relative_attention_bias.weight";
  return name == "encoder.version" || name == "decoder.version" || name == "model.encoder.version" ||
         name == "model.decoder.version";
}

}  // namespace

Result<weights::ModelWriter> build_from_state_dict(const nlohmann::json& config, const nlohmann::json& generation_config,
                                                   StateDict state_dict, const tok::TokenizerSource& tokenizer,
                                                   nlohmann::json source, weights::DType dtype) {
  SEALSUM_ASSIGN_OR_RETURN(const std::string arch, weights::architecture_of(config));
  SEALSUM_ASSIGN_OR_RETURN(const weights::Schema schema, weights::expected_schema(arch, config));
  auto known = [&](const std::string& n) { return schema.find(n) != nullptr || schema.aliases.count(n) != 0; };

  // 1. Canonical names; drop what transformers ignores.
  std::map<std::string, SourceTensor*> by_name;
  nlohmann::json ignored = nlohmann::json::array(), renamed_note = nullptr;
  for (auto& t : state_dict) {
    if (ignored_on_load(arch, t.name)) {
      ignored.push_back(t.name);
      continue;
    }
    if (arch == "bart" && !known(t.name) && known("model." + t.name)) {
      t.name = "model." + t.name;
      renamed_note = "BartModel checkpoint: keys given the 'model.' prefix";
    }
    if (!by_name.emplace(t.name, &t).second) {
      return invalid_argument("checkpoint has tensor '" + t.name + "' twice (after adding the 'model.' prefix)");
    }
  }

  // 2. Ties: a stored alias must be bit-identical to its canonical tensor, then it is dropped.
  for (const auto& [alias, target] : schema.aliases) {
    auto a = by_name.find(alias);
    if (a == by_name.end()) continue;
    auto t = by_name.find(target);
    if (t == by_name.end()) {
      // Only the alias was saved (e.g. lm_head without shared): adopt it as the canonical tensor.
      SourceTensor* s = a->second;
      by_name.erase(a);
      s->name = target;
      by_name[target] = s;
      continue;
    }
    if (a->second->shape != t->second->shape || a->second->f32 != t->second->f32) {
      return invalid_argument("checkpoint stores '" + alias + "' " + weights::shape_string(a->second->shape) +
                              " with values different from '" + target + "' " +
                              weights::shape_string(t->second->shape) +
                              ", but the config ties them (tie_word_embeddings); refusing to guess which one is meant");
    }
    by_name.erase(a);
  }

  // 3. BART's final_logits_bias is a zero buffer when the checkpoint lacks it (BartModel).
  SourceTensor zero_bias;
  nlohmann::json notes = nlohmann::json::array();
  if (arch == "bart" && !by_name.count("final_logits_bias")) {
    const weights::ExpectedTensor* e = schema.find("final_logits_bias");
    zero_bias.name = "final_logits_bias";
    zero_bias.shape = e->shape;
    zero_bias.f32.assign(size_t(e->shape[1]) * 4, 0);
    by_name["final_logits_bias"] = &zero_bias;
    notes.push_back("final_logits_bias absent: zeros");
  }
  if (!renamed_note.is_null()) notes.push_back(renamed_note);

  // 4. Exactly the schema's tensors.
  std::map<std::string, std::vector<int64_t>> present;
  for (const auto& [name, t] : by_name) present[name] = t->shape;
  SEALSUM_RETURN_IF_ERROR(weights::check_tensors(schema, present).with_context("checkpoint"));

  weights::ModelWriter w(arch, config, generation_config.is_null() ? nlohmann::json::object() : generation_config);
  for (size_t i : schema.storage_order()) {
    const weights::ExpectedTensor& e = schema.tensors[i];
    SourceTensor* t = by_name.at(e.name);
    if (e.linear) {
      // Stored in the kernels' panel layout of `dtype` (read in place at load).
      std::vector<float> values(t->f32.size() / sizeof(float));
      std::memcpy(values.data(), t->f32.data(), values.size() * sizeof(float));
      t->f32 = {};
      add_schema_tensor(w, schema, e, values, dtype);
    } else {
      w.add_tensor(e.name, weights::DType::kF32, e.shape, std::move(t->f32));
    }
  }
  add_schema_aliases(w, schema, dtype);
  SEALSUM_RETURN_IF_ERROR(weights::embed_tokenizer(w, tokenizer));
  if (!source.is_object()) source = nlohmann::json::object();
  source["kind"] = "huggingface";
  if (dtype != weights::DType::kF32) source["linear_dtype"] = weights::dtype_name(dtype);  // f32 files unchanged
  if (!ignored.empty()) source["ignored_on_load"] = ignored;
  if (!notes.empty()) source["notes"] = notes;
  w.set_source(source);
  SEALSUM_RETURN_IF_ERROR(w.validate());
  return w;
}

Result<weights::ModelWriter> convert_hf_dir(const std::string& dir, const ProgressFn& progress, weights::DType dtype) {
  const fs::path d(dir);
  std::error_code ec;
  if (!fs::is_directory(d, ec)) return not_found("'" + dir + "' is not a folder (expected a Hugging Face model folder)");
  SEALSUM_ASSIGN_OR_RETURN(const nlohmann::json config, read_json_object((d / "config.json").string()));
  auto arch = weights::architecture_of(config);
  if (!arch.ok()) return arch.status().with_context("'" + (d / "config.json").string() + "'");
  nlohmann::json generation = nlohmann::json::object();
  if (fs::exists(d / "generation_config.json", ec)) {
    SEALSUM_ASSIGN_OR_RETURN(generation, read_json_object((d / "generation_config.json").string()));
  }
  SEALSUM_ASSIGN_OR_RETURN(const tok::TokenizerSource tokenizer, tok::read_tokenizer_source(dir));

  StateDict sd;
  nlohmann::json source = nlohmann::json::object();
  auto digest_of = [](const std::vector<uint8_t>& b) { return secure::to_hex(secure::sha256(b)); };
  if (fs::exists(d / "model.safetensors", ec)) {
    const std::string p = (d / "model.safetensors").string();
    SEALSUM_ASSIGN_OR_RETURN(const std::vector<uint8_t> bytes, read_file_bytes(p, kMaxCheckpoint));
    source["weights"] = {{"file", "model.safetensors"}, {"sha256", digest_of(bytes)}};
    SEALSUM_ASSIGN_OR_RETURN(sd, parse_safetensors(bytes, p));
  } else if (fs::exists(d / "model.safetensors.index.json", ec)) {
    const std::string p = (d / "model.safetensors.index.json").string();
    SEALSUM_ASSIGN_OR_RETURN(const std::vector<uint8_t> bytes, read_file_bytes(p, 16u << 20));
    source["weights"] = {{"file", "model.safetensors.index.json"}, {"sha256", digest_of(bytes)}};
    SEALSUM_ASSIGN_OR_RETURN(sd, read_safetensors_index(p, progress));
  } else if (fs::exists(d / "pytorch_model.bin", ec)) {
    const std::string p = (d / "pytorch_model.bin").string();
    SEALSUM_ASSIGN_OR_RETURN(const std::vector<uint8_t> bytes, read_file_bytes(p, kMaxCheckpoint));
    source["weights"] = {{"file", "pytorch_model.bin"}, {"sha256", digest_of(bytes)}};
    SEALSUM_ASSIGN_OR_RETURN(sd, parse_torch_checkpoint(bytes, p, progress));
  } else if (fs::exists(d / "pytorch_model.bin.index.json", ec)) {
    return unimplemented("'" + dir + "' has a sharded pytorch_model.bin; save it as safetensors "
                         "(model.save_pretrained(dir, safe_serialization=True)) and convert that");
  } else {
    return not_found("no weights in '" + dir + "': expected model.safetensors, model.safetensors.index.json or "
                     "pytorch_model.bin");
  }
  auto w = build_from_state_dict(config, generation, std::move(sd), tokenizer, std::move(source), dtype);
  if (!w.ok()) return w.status().with_context("converting '" + dir + "'");
  return w;
}

}  // namespace sealsum::convert
