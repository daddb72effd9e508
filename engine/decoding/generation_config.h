// GenerationParams from a Hugging Face checkpoint's config.json / generation_config.json and a
// pipeline task, as transformers 4.36 resolves them for `pipeline(task)(text)` -> `generate()`:
//
//   1. GenerationConfig defaults (max_length 20, num_beams 1, length_penalty 1.0, ...);
//   2. the model's generation config: generation_config.json when the checkpoint has one (it
//      *replaces* the config.json values, as from_pretrained does), else the generation fields of
//      config.json (GenerationConfig.from_model_config);
//   3. config.json's task_specific_params[task] (e.g. t5-small "summarization": num_beams 4,
//      length_penalty 2.0, max_length 200, min_length 30, no_repeat_ngram_size 3,
//      early_stopping true, prefix "summarize: "), which the pipeline applies on top.
// Then generate()'s fallbacks: decoder_start_token_id <- bos_token_id when unset; pad_token_id <-
// the first eos_token_id when unset.
//
// Field types are checked (eos_token_id: int, list of ints or null; early_stopping: bool or
// "never"; ...); a wrong type or a missing decoder start token is kInvalidArgument naming the
// file and field. Generation features sealsum does not implement (sampling, beam groups, bad
// words, ...) set to a non-default value are kUnimplemented naming the field, never silently
// ignored. Pure functions; thread-safe.
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "engine/decoding/generation.h"

namespace sealsum::decoding {

struct GenerationDefaults {
  GenerationParams params;
  std::string prefix;  // text the pipeline prepends to the input ("summarize: " for T5), may be empty
};

// `generation_config`: the parsed generation_config.json, or null / {} when the checkpoint has none.
// `task`: e.g. "summarization"; empty or absent from task_specific_params: no task overrides.
Result<GenerationDefaults> generation_defaults(const nlohmann::json& config, const nlohmann::json& generation_config,
                                               std::string_view task);

// transformers `generate(**kwargs)` on a bare GenerationConfig() (how the golden cases were run):
// the defaults, then the kwargs (same field rules as above), then generate()'s fallbacks. Keys
// that are not generation fields are ignored.
Result<GenerationParams> params_from_generate_kwargs(const nlohmann::json& kwargs);

// The same from file contents (each at most 4 MiB); `generation_config_text` empty: no such file.
Result<GenerationDefaults> generation_defaults_from_text(std::string_view config_text,
                                                         std::string_view generation_config_text,
                                                         std::string_view task);

}  // namespace sealsum::decoding
