// Expected tensors of T5ForConditionalGeneration and BartForConditionalGeneration (see schema.h).
// The layouts follow transformers' modeling_t5.py / modeling_bart.py module trees; the order is
// the state-dict order (module registration order), which the synthetic manifests confirm.
#include "weights/schema.h"

namespace sealsum::weights {
namespace {

constexpr int64_t kMaxConfigInt = int64_t{1} << 24;  // no real dimension is larger

// A positive integer config field (or `fallback_key`'s value when `key` is absent/null).
Result<int64_t> int_field(const nlohmann::json& c, const char* key, const char* fallback_key = nullptr) {
  auto it = c.find(key);
  if ((it == c.end() || it->is_null()) && fallback_key != nullptr) return int_field(c, fallback_key);
  if (it == c.end() || !it->is_number_integer()) {
    return invalid_argument(std::string("config.json field '") + key + "' is missing or not an integer");
  }
  const int64_t v = it->get<int64_t>();
  if (v <= 0 || v > kMaxConfigInt) {
    return invalid_argument(std::string("config.json field '") + key + "' = " + std::to_string(v) + " is out of range");
  }
  return v;
}

Result<bool> bool_field(const nlohmann::json& c, const char* key, bool fallback) {
  auto it = c.find(key);
  if (it == c.end() || it->is_null()) return fallback;
  if (!it->is_boolean()) return invalid_argument(std::string("config.json field '") + key + "' is not a boolean");
  return it->get<bool>();
}

Result<Schema> t5_schema(const nlohmann::json& c) {
  SEALSUM_ASSIGN_OR_RETURN(const int64_t vocab, int_field(c, "vocab_size"));
  SEALSUM_ASSIGN_OR_RETURN(const int64_t d, int_field(c, "d_model"));
  SEALSUM_ASSIGN_OR_RETURN(const int64_t d_kv, int_field(c, "d_kv"));
  SEALSUM_ASSIGN_OR_RETURN(const int64_t d_ff, int_field(c, "d_ff"));
  SEALSUM_ASSIGN_OR_RETURN(const int64_t heads, int_field(c, "num_heads"));
  SEALSUM_ASSIGN_OR_RETURN(const int64_t enc_layers, int_field(c, "num_layers"));
  SEALSUM_ASSIGN_OR_RETURN(const int64_t dec_layers, int_field(c, "num_decoder_layers", "num_layers"));
  SEALSUM_ASSIGN_OR_RETURN(const int64_t buckets, int_field(c, "relative_attention_num_buckets"));
  SEALSUM_ASSIGN_OR_RETURN(const bool tied, bool_field(c, "tie_word_embeddings", true));
  std::string ff = "relu";
  if (auto it = c.find("feed_forward_proj"); it != c.end()) {
    if (!it->is_string()) return invalid_argument("config.json field 'feed_forward_proj' is not a string");
    ff = it->get<std::string>();
  }
  const bool gated = ff.rfind("gated-", 0) == 0;
  const int64_t inner = heads * d_kv;

  Schema s;
  s.architecture = "t5";
  auto add = [&](std::string name, std::vector<int64_t> shape) { s.tensors.push_back({std::move(name), std::move(shape)}); };
  add("shared.weight", {vocab, d});
  auto attention = [&](const std::string& p, bool relative_bias) {
    add(p + ".q.weight", {inner, d});
    add(p + ".k.weight", {inner, d});
    add(p + ".v.weight", {inner, d});
    add(p + ".o.weight", {d, inner});
    if (relative_bias) add(p + ".relative_attention_bias.weight", {buckets, heads});
  };
  auto feed_forward = [&](const std::string& p) {
    if (gated) {
      add(p + ".DenseReluDense.wi_0.weight", {d_ff, d});
      add(p + ".DenseReluDense.wi_1.weight", {d_ff, d});
    } else {
      add(p + ".DenseReluDense.wi.weight", {d_ff, d});
    }
    add(p + ".DenseReluDense.wo.weight", {d, d_ff});
    add(p + ".layer_norm.weight", {d});
  };
  for (int64_t i = 0; i < enc_layers; ++i) {
    const std::string b = "encoder.block." + std::to_string(i);
    attention(b + ".layer.0.SelfAttention", i == 0);
    add(b + ".layer.0.layer_norm.weight", {d});
    feed_forward(b + ".layer.1");
  }
  add("encoder.final_layer_norm.weight", {d});
  for (int64_t i = 0; i < dec_layers; ++i) {
    const std::string b = "decoder.block." + std::to_string(i);
    attention(b + ".layer.0.SelfAttention", i == 0);
    add(b + ".layer.0.layer_norm.weight", {d});
    attention(b + ".layer.1.EncDecAttention", false);
    add(b + ".layer.1.layer_norm.weight", {d});
    feed_forward(b + ".layer.2");
  }
  add("decoder.final_layer_norm.weight", {d});
  s.aliases["encoder.embed_tokens.weight"] = "shared.weight";
  s.aliases["decoder.embed_tokens.weight"] = "shared.weight";
  if (tied) {
    s.aliases["lm_head.weight"] = "shared.weight";
  } else {
    add("lm_head.weight", {vocab, d});
  }
  return s;
}

Result<Schema> bart_schema(const nlohmann::json& c) {
  SEALSUM_ASSIGN_OR_RETURN(const int64_t vocab, int_field(c, "vocab_size"));
  SEALSUM_ASSIGN_OR_RETURN(const int64_t d, int_field(c, "d_model"));
  SEALSUM_ASSIGN_OR_RETURN(const int64_t enc_layers, int_field(c, "encoder_layers"));
  SEALSUM_ASSIGN_OR_RETURN(const int64_t dec_layers, int_field(c, "decoder_layers"));
  SEALSUM_ASSIGN_OR_RETURN(const int64_t enc_ffn, int_field(c, "encoder_ffn_dim"));
  SEALSUM_ASSIGN_OR_RETURN(const int64_t dec_ffn, int_field(c, "decoder_ffn_dim"));
  SEALSUM_ASSIGN_OR_RETURN(const int64_t max_pos, int_field(c, "max_position_embeddings"));
  SEALSUM_ASSIGN_OR_RETURN(const bool tied, bool_field(c, "tie_word_embeddings", true));

  Schema s;
  s.architecture = "bart";
  auto add = [&](std::string name, std::vector<int64_t> shape) { s.tensors.push_back({std::move(name), std::move(shape)}); };
  auto linear = [&](const std::string& p, int64_t out, int64_t in) {
    add(p + ".weight", {out, in});
    add(p + ".bias", {out});
  };
  auto norm = [&](const std::string& p) {
    add(p + ".weight", {d});
    add(p + ".bias", {d});
  };
  auto attention = [&](const std::string& p) {
    linear(p + ".k_proj", d, d);
    linear(p + ".v_proj", d, d);
    linear(p + ".q_proj", d, d);
    linear(p + ".out_proj", d, d);
  };
  add("final_logits_bias", {1, vocab});
  add("model.shared.weight", {vocab, d});
  add("model.encoder.embed_positions.weight", {max_pos + 2, d});  // BART's learned positions start at 2
  for (int64_t i = 0; i < enc_layers; ++i) {
    const std::string l = "model.encoder.layers." + std::to_string(i);
    attention(l + ".self_attn");
    norm(l + ".self_attn_layer_norm");
    linear(l + ".fc1", enc_ffn, d);
    linear(l + ".fc2", d, enc_ffn);
    norm(l + ".final_layer_norm");
  }
  norm("model.encoder.layernorm_embedding");
  add("model.decoder.embed_positions.weight", {max_pos + 2, d});
  for (int64_t i = 0; i < dec_layers; ++i) {
    const std::string l = "model.decoder.layers." + std::to_string(i);
    attention(l + ".self_attn");
    norm(l + ".self_attn_layer_norm");
    attention(l + ".encoder_attn");
    norm(l + ".encoder_attn_layer_norm");
    linear(l + ".fc1", dec_ffn, d);
    linear(l + ".fc2", d, dec_ffn);
    norm(l + ".final_layer_norm");
  }
  norm("model.decoder.layernorm_embedding");
  s.aliases["model.encoder.embed_tokens.weight"] = "model.shared.weight";
  s.aliases["model.decoder.embed_tokens.weight"] = "model.shared.weight";
  if (tied) {
    s.aliases["lm_head.weight"] = "model.shared.weight";
  } else {
    add("lm_head.weight", {vocab, d});
  }
  return s;
}

}  // namespace

const ExpectedTensor* Schema::find(const std::string& name) const {
  for (const auto& t : tensors) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

std::string shape_string(const std::vector<int64_t>& shape) {
  std::string o = "[";
  for (size_t i = 0; i < shape.size(); ++i) o += (i ? ", " : "") + std::to_string(shape[i]);
  return o + "]";
}

Result<std::string> architecture_of(const nlohmann::json& config) {
  if (!config.is_object()) return invalid_argument("config.json is not a JSON object");
  auto it = config.find("model_type");
  if (it == config.end() || !it->is_string()) {
    return invalid_argument("config.json has no string field 'model_type' (expected \"t5\" or \"bart\")");
  }
  const std::string t = it->get<std::string>();
  if (t == "t5" || t == "bart") return t;
  return unimplemented("unknown architecture: config.json field 'model_type' is '" + t.substr(0, 64) +
                       "'; sealsum supports \"t5\" and \"bart\"");
}

namespace {

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// Marks the linear weights: rank-2 tensors named like a T5 or BART projection, and the target of
// the lm_head.weight alias (the tied embedding, which is also the output projection).
Schema mark_linear(Schema s) {
  static const char* const kSuffixes[] = {".q.weight",    ".k.weight",    ".v.weight",   ".o.weight",
                                          ".wi.weight",   ".wi_0.weight", ".wi_1.weight", ".wo.weight",
                                          "_proj.weight", ".fc1.weight",  ".fc2.weight"};
  auto head = s.aliases.find("lm_head.weight");
  for (ExpectedTensor& t : s.tensors) {
    if (t.shape.size() != 2) continue;
    bool linear = t.name == "lm_head.weight" || (head != s.aliases.end() && head->second == t.name);
    for (const char* suffix : kSuffixes) linear = linear || ends_with(t.name, suffix);
    t.linear = linear;
  }
  return s;
}

}  // namespace

std::vector<size_t> Schema::storage_order() const {
  std::map<std::string, size_t> index;
  for (size_t i = 0; i < tensors.size(); ++i) index[tensors[i].name] = i;
  std::vector<size_t> order;
  std::vector<char> done(tensors.size(), 0);
  auto emit = [&](size_t i) {
    if (!done[i]) order.push_back(i);
    done[i] = 1;
  };
  for (size_t i = 0; i < tensors.size(); ++i) {
    const std::string& n = tensors[i].name;
    const std::string k_suffix = ".k_proj.weight";
    if (ends_with(n, k_suffix)) {
      const std::string prefix = n.substr(0, n.size() - k_suffix.size());
      for (const char* part : {".q_proj.weight", ".k_proj.weight", ".v_proj.weight"}) {
        if (auto it = index.find(prefix + part); it != index.end()) emit(it->second);
      }
    }
    emit(i);
  }
  return order;
}

Result<Schema> expected_schema(const std::string& architecture, const nlohmann::json& config) {
  if (!config.is_object()) return invalid_argument("config.json is not a JSON object");
  if (architecture == "t5") {
    SEALSUM_ASSIGN_OR_RETURN(Schema s, t5_schema(config));
    return mark_linear(std::move(s));
  }
  if (architecture == "bart") {
    SEALSUM_ASSIGN_OR_RETURN(Schema s, bart_schema(config));
    return mark_linear(std::move(s));
  }
  return unimplemented("unknown architecture '" + architecture + "'; sealsum supports \"t5\" and \"bart\"");
}

Status check_tensors(const Schema& schema, const std::map<std::string, std::vector<int64_t>>& present) {
  std::vector<std::string> problems;
  size_t count = 0;
  auto note = [&](std::string p) {
    if (problems.size() < 20) problems.push_back(std::move(p));
    ++count;
  };
  for (const auto& t : schema.tensors) {
    auto it = present.find(t.name);
    if (it == present.end()) {
      note("missing tensor '" + t.name + "' " + shape_string(t.shape));
    } else if (it->second != t.shape) {
      note("tensor '" + t.name + "' has shape " + shape_string(it->second) + ", expected " + shape_string(t.shape));
    }
  }
  for (const auto& [name, shape] : present) {
    if (schema.find(name) == nullptr) {
      note("unexpected tensor '" + name + "' " + shape_string(shape) +
           (schema.aliases.count(name) ? " (a tied alias; must not be stored separately)" : ""));
    }
  }
  if (count == 0) return Status::ok();
  std::string msg = std::to_string(count) + " tensor problem" + (count > 1 ? "s" : "") + " for " +
                    schema.architecture + ": ";
  for (size_t i = 0; i < problems.size(); ++i) msg += (i ? "; " : "") + problems[i];
  if (count > problems.size()) msg += "; and " + std::to_string(count - problems.size()) + " more";
  return invalid_argument(msg);
}

}  // namespace sealsum::weights
