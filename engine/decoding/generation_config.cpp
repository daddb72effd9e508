#include "engine/decoding/generation_config.h"

#include <cmath>
#include <optional>
#include <vector>

namespace sealsum::decoding {

namespace {

using nlohmann::json;

constexpr size_t kMaxConfigBytes = 4u << 20;
constexpr int64_t kMaxInt = 1 << 30;

// The generation fields as transformers holds them before generate()'s fallbacks (ids may be None).
struct Fields {
  GenerationParams p;
  std::optional<int32_t> decoder_start, bos, pad;
  std::vector<int32_t> eos;
  std::string prefix;
};

Status type_error(const std::string& where, const char* key, const char* expected) {
  return invalid_argument(where + ": " + key + " must be " + expected);
}

Result<int64_t> as_int(const json& v, const std::string& where, const char* key, int64_t lo, int64_t hi) {
  if (!v.is_number_integer()) return type_error(where, key, "an integer");
  // is_number_integer covers signed and unsigned; an unsigned beyond int64 range fails the bound.
  if (v.is_number_unsigned() && v.get<uint64_t>() > static_cast<uint64_t>(hi)) {
    return invalid_argument(where + ": " + key + " is out of range [" + std::to_string(lo) + ", " +
                            std::to_string(hi) + "]");
  }
  const int64_t x = v.get<int64_t>();
  if (x < lo || x > hi) {
    return invalid_argument(where + ": " + key + " (" + std::to_string(x) + ") is out of range [" +
                            std::to_string(lo) + ", " + std::to_string(hi) + "]");
  }
  return x;
}

Result<std::optional<int32_t>> as_token(const json& v, const std::string& where, const char* key) {
  if (v.is_null()) return std::optional<int32_t>();
  SEALSUM_ASSIGN_OR_RETURN(int64_t x, as_int(v, where, key, 0, kMaxInt));
  return std::optional<int32_t>(static_cast<int32_t>(x));
}

Result<double> as_number(const json& v, const std::string& where, const char* key) {
  if (!v.is_number()) return type_error(where, key, "a number");
  const double x = v.get<double>();
  if (!std::isfinite(x)) return type_error(where, key, "a finite number");
  return x;
}

// Features sealsum does not implement: accepted only at their transformers default.
Status check_unsupported(const json& obj, const std::string& where) {
  struct Rule {
    const char* key;
    bool (*is_default)(const json&);
  };
  static const Rule rules[] = {
      {"do_sample", [](const json& v) { return v.is_null() || v == false; }},
      {"num_beam_groups", [](const json& v) { return v.is_null() || v == 1; }},
      {"diversity_penalty", [](const json& v) { return v.is_null() || (v.is_number() && v.get<double>() == 0.0); }},
      {"penalty_alpha", [](const json& v) { return v.is_null(); }},
      {"encoder_repetition_penalty",
       [](const json& v) { return v.is_null() || (v.is_number() && v.get<double>() == 1.0); }},
      {"encoder_no_repeat_ngram_size", [](const json& v) { return v.is_null() || v == 0; }},
      {"bad_words_ids", [](const json& v) { return v.is_null(); }},
      {"force_words_ids", [](const json& v) { return v.is_null(); }},
      {"constraints", [](const json& v) { return v.is_null(); }},
      {"min_new_tokens", [](const json& v) { return v.is_null(); }},
      {"forced_decoder_ids", [](const json& v) { return v.is_null(); }},
      {"suppress_tokens", [](const json& v) { return v.is_null(); }},
      {"begin_suppress_tokens", [](const json& v) { return v.is_null(); }},
      {"sequence_bias", [](const json& v) { return v.is_null(); }},
      {"exponential_decay_length_penalty", [](const json& v) { return v.is_null(); }},
      {"remove_invalid_values", [](const json& v) { return v.is_null() || v == false; }},
      {"renormalize_logits", [](const json& v) { return v.is_null() || v == false; }},
  };
  for (const Rule& r : rules) {
    if (auto it = obj.find(r.key); it != obj.end() && !r.is_default(*it)) {
      return unimplemented(where + ": " + r.key + " is set to a non-default value; sealsum implements greedy and "
                           "beam search without it (remove the field or use its default)");
    }
  }
  return Status::ok();
}

// Applies the generation fields present in `obj` (a config.json, generation_config.json or
// task_specific_params entry) over `f`. Unknown keys are ignored (config.json has many).
Status apply(const json& obj, const std::string& where, Fields& f) {
  if (!obj.is_object()) return invalid_argument(where + " must be a JSON object");
  SEALSUM_RETURN_IF_ERROR(check_unsupported(obj, where));
  const auto field = [&](const char* key) -> const json* {
    auto it = obj.find(key);
    return it == obj.end() ? nullptr : &*it;
  };
  const auto set_int = [&](const char* key, int64_t lo, int& out) -> Status {
    const json* v = field(key);
    if (!v || v->is_null()) return Status::ok();
    SEALSUM_ASSIGN_OR_RETURN(int64_t x, as_int(*v, where, key, lo, kMaxInt));
    out = static_cast<int>(x);
    return Status::ok();
  };
  const auto set_token = [&](const char* key, std::optional<int32_t>& out) -> Status {
    const json* v = field(key);
    if (!v) return Status::ok();
    SEALSUM_ASSIGN_OR_RETURN(out, as_token(*v, where, key));
    return Status::ok();
  };
  SEALSUM_RETURN_IF_ERROR(set_int("num_beams", 1, f.p.num_beams));
  SEALSUM_RETURN_IF_ERROR(set_int("max_length", 1, f.p.max_length));
  SEALSUM_RETURN_IF_ERROR(set_int("min_length", 0, f.p.min_length));
  SEALSUM_RETURN_IF_ERROR(set_int("no_repeat_ngram_size", 0, f.p.no_repeat_ngram_size));
  SEALSUM_RETURN_IF_ERROR(set_int("num_return_sequences", 1, f.p.num_return_sequences));
  if (const json* v = field("max_new_tokens")) {
    if (v->is_null()) {
      f.p.max_new_tokens.reset();
    } else {
      SEALSUM_ASSIGN_OR_RETURN(int64_t x, as_int(*v, where, "max_new_tokens", 1, kMaxInt));
      f.p.max_new_tokens = static_cast<int>(x);
    }
  }
  if (const json* v = field("length_penalty"); v && !v->is_null()) {
    SEALSUM_ASSIGN_OR_RETURN(f.p.length_penalty, as_number(*v, where, "length_penalty"));
  }
  if (const json* v = field("repetition_penalty"); v && !v->is_null()) {
    SEALSUM_ASSIGN_OR_RETURN(f.p.repetition_penalty, as_number(*v, where, "repetition_penalty"));
  }
  if (const json* v = field("early_stopping"); v && !v->is_null()) {
    if (v->is_boolean()) {
      f.p.early_stopping = v->get<bool>() ? EarlyStopping::kTrue : EarlyStopping::kFalse;
    } else if (v->is_string() && v->get<std::string>() == "never") {
      f.p.early_stopping = EarlyStopping::kNever;
    } else {
      return type_error(where, "early_stopping", "true, false or \"never\"");
    }
  }
  SEALSUM_RETURN_IF_ERROR(set_token("decoder_start_token_id", f.decoder_start));
  SEALSUM_RETURN_IF_ERROR(set_token("bos_token_id", f.bos));
  SEALSUM_RETURN_IF_ERROR(set_token("pad_token_id", f.pad));
  SEALSUM_RETURN_IF_ERROR(set_token("forced_bos_token_id", f.p.forced_bos_token_id));
  if (const json* v = field("forced_eos_token_id")) {
    if (v->is_array()) {  // transformers accepts a list; sealsum forces one token
      if (v->size() != 1) {
        return unimplemented(where + ": forced_eos_token_id lists " + std::to_string(v->size()) +
                             " tokens; sealsum supports exactly one");
      }
      SEALSUM_ASSIGN_OR_RETURN(f.p.forced_eos_token_id, as_token((*v)[0], where, "forced_eos_token_id"));
    } else {
      SEALSUM_ASSIGN_OR_RETURN(f.p.forced_eos_token_id, as_token(*v, where, "forced_eos_token_id"));
    }
  }
  if (const json* v = field("eos_token_id")) {
    f.eos.clear();
    if (v->is_array()) {
      if (v->size() > 64) return invalid_argument(where + ": eos_token_id lists more than 64 tokens");
      for (const json& e : *v) {
        SEALSUM_ASSIGN_OR_RETURN(auto id, as_token(e, where, "eos_token_id"));
        if (!id) return type_error(where, "eos_token_id", "an integer or a list of integers");
        f.eos.push_back(*id);
      }
    } else if (!v->is_null()) {
      SEALSUM_ASSIGN_OR_RETURN(auto id, as_token(*v, where, "eos_token_id"));
      f.eos.push_back(*id);
    }
  }
  if (const json* v = field("prefix"); v && !v->is_null()) {
    if (!v->is_string()) return type_error(where, "prefix", "a string");
    f.prefix = v->get<std::string>();
  }
  return Status::ok();
}

// generate()'s fallbacks, then the parameter checks.
Result<GenerationParams> finish(const Fields& f, int64_t vocab_size, const std::string& where) {
  const std::optional<int32_t> start = f.decoder_start ? f.decoder_start : f.bos;
  if (!start) {
    return invalid_argument(where + ": decoder_start_token_id is missing (and no bos_token_id to fall back on)");
  }
  GenerationParams p = f.p;
  p.decoder_start_token_id = *start;
  p.pad_token_id = f.pad ? *f.pad : (f.eos.empty() ? 0 : f.eos.front());
  p.eos_token_ids = f.eos;
  SEALSUM_RETURN_IF_ERROR(validate_params(p, vocab_size).with_context(where));
  return p;
}

}  // namespace

Result<GenerationDefaults> generation_defaults(const json& config, const json& generation_config,
                                               std::string_view task) {
  if (!config.is_object()) return invalid_argument("config.json must be a JSON object");
  Fields f;
  // Step 2: generation_config.json replaces config.json's generation fields when present.
  // ModelFile::generation_config() is {} when the checkpoint had none: null and {} mean "absent".
  if (generation_config.is_null() || (generation_config.is_object() && generation_config.empty())) {
    SEALSUM_RETURN_IF_ERROR(apply(config, "config.json", f));
  } else {
    SEALSUM_RETURN_IF_ERROR(apply(generation_config, "generation_config.json", f));
  }
  // The pipeline's prefix comes from the model config (PretrainedConfig.prefix), then the task.
  if (auto it = config.find("prefix"); it != config.end() && !it->is_null()) {
    if (!it->is_string()) return type_error("config.json", "prefix", "a string");
    f.prefix = it->get<std::string>();
  }
  // Step 3: task_specific_params[task].
  if (!task.empty()) {
    if (auto tsp = config.find("task_specific_params"); tsp != config.end() && !tsp->is_null()) {
      if (!tsp->is_object()) return type_error("config.json", "task_specific_params", "an object");
      if (auto t = tsp->find(std::string(task)); t != tsp->end()) {
        SEALSUM_RETURN_IF_ERROR(apply(*t, "config.json task_specific_params." + std::string(task), f));
      }
    }
  }
  const int64_t vocab = config.contains("vocab_size") && config["vocab_size"].is_number_integer()
                            ? config["vocab_size"].get<int64_t>()
                            : 0;
  GenerationDefaults out;
  SEALSUM_ASSIGN_OR_RETURN(out.params, finish(f, vocab > 0 ? vocab : 0, "config"));
  out.prefix = f.prefix;
  return out;
}

Result<GenerationParams> params_from_generate_kwargs(const json& kwargs) {
  Fields f;
  SEALSUM_RETURN_IF_ERROR(apply(kwargs, "generate kwargs", f));
  return finish(f, 0, "generate kwargs");
}

Result<GenerationDefaults> generation_defaults_from_text(std::string_view config_text,
                                                         std::string_view generation_config_text,
                                                         std::string_view task) {
  if (config_text.size() > kMaxConfigBytes || generation_config_text.size() > kMaxConfigBytes) {
    return resource_exhausted("config.json / generation_config.json larger than 4 MiB");
  }
  json config = json::parse(config_text.begin(), config_text.end(), nullptr, /*allow_exceptions=*/false);
  if (config.is_discarded()) return invalid_argument("config.json is not valid JSON");
  json gen;  // null: no generation_config.json
  if (!generation_config_text.empty()) {
    gen = json::parse(generation_config_text.begin(), generation_config_text.end(), nullptr, false);
    if (gen.is_discarded()) return invalid_argument("generation_config.json is not valid JSON");
  }
  return generation_defaults(config, gen, task);
}

}  // namespace sealsum::decoding
