// Hugging Face model folder -> sealsum model (a weights::ModelWriter ready to write or seal).
//
// Reads config.json (architecture from model_type: t5 | bart, anything else is an "unknown
// architecture" error), generation_config.json when present (else {}), the tokenizer
// (tok::read_tokenizer_source), and the weights: model.safetensors, else the sharded
// model.safetensors.index.json, else pytorch_model.bin. Then:
//   - names are made canonical: a BartModel checkpoint's "encoder.*" / "shared.weight" gain the
//     "model." prefix of BartForConditionalGeneration;
//   - keys transformers itself ignores on load are dropped and recorded in the provenance (T5:
//     decoder.block.0.layer.1.EncDecAttention.relative_attention_bias.weight; BART:
//     [model.]encoder.version, [model.]decoder.version);
//   - tied names present in the checkpoint (encoder.embed_tokens, lm_head when tied, ...) must equal
//     their canonical tensor bit for bit and are stored as aliases;
//   - a BART checkpoint without final_logits_bias gets zeros [1, vocab_size] (as transformers does);
//   - the result must match weights::expected_schema exactly (missing / unexpected / misshapen
//     tensors are listed by name with both shapes). config vocab_size governs the matrices, so a
//     tokenizer with more tokens than the embedding has rows (bart-large-cnn) is accepted.
// Tensors are written as f32, the linear weights as `dtype` (tools/convert/linear_dtype.h). Provenance: the weight file's name and SHA-256, never paths.
#pragma once

#include <functional>
#include <string>

#include <nlohmann/json.hpp>

#include "common/status.h"
#include "tokenizer/tokenizer.h"
#include "tools/convert/state_dict.h"
#include "weights/model_file.h"

namespace sealsum::convert {

using ProgressFn = std::function<void(size_t done, size_t total)>;

// dtype: how the linear weights are stored (tools/convert/linear_dtype.h); f32 by default.
Result<weights::ModelWriter> convert_hf_dir(const std::string& dir, const ProgressFn& progress = {},
                                            weights::DType dtype = weights::DType::kF32);

// The steps after reading, for callers that already hold the pieces (tests, other front ends).
// `source` is merged into the provenance.
Result<weights::ModelWriter> build_from_state_dict(const nlohmann::json& config, const nlohmann::json& generation_config,
                                                   StateDict state_dict, const tok::TokenizerSource& tokenizer,
                                                   nlohmann::json source,
                                                   weights::DType dtype = weights::DType::kF32);

}  // namespace sealsum::convert
