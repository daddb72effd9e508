// The tensors each architecture's checkpoint must provide, derived from its Hugging Face config.
//
// Names are the canonical state-dict names of T5ForConditionalGeneration and
// BartForConditionalGeneration (in state-dict order); aliases are the tied names that share storage
// with a canonical tensor. Used by the converter (to report missing / extra / wrongly shaped
// tensors) and by the engine (to find every weight). Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/status.h"

namespace sealsum::weights {

struct ExpectedTensor {
  std::string name;
  std::vector<int64_t> shape;
  // A linear layer's weight [out, in] (also the embedding tied to lm_head): the converter stores
  // it in the panel layout (weights/panel_layout.h) that the kernels read in place.
  bool linear = false;
};

struct Schema {
  std::string architecture;                      // "t5" or "bart"
  std::vector<ExpectedTensor> tensors;           // distinct tensors, state-dict order
  std::map<std::string, std::string> aliases;    // tied name -> canonical tensor name
  const ExpectedTensor* find(const std::string& name) const;
  // Indices into `tensors` in the order a converter writes them: state-dict order, except that
  // each attention's q, k and v weights are written back to back in that order (BART lists
  // k, v, q with biases between), so the engine can read its fused q|k|v (and cross-attention
  // k|v) matrix in place.
  std::vector<size_t> storage_order() const;
};

// "t5" or "bart" from config.json's model_type. kUnimplemented "unknown architecture" naming the
// field and its value for any other model_type; kInvalidArgument when model_type is absent.
Result<std::string> architecture_of(const nlohmann::json& config);

// The expected tensors for an architecture and config. kInvalidArgument naming a config field that
// is missing or out of range (e.g. d_model <= 0).
//   T5: shared [V, d]; per block q/k/v [h*d_kv, d], o [d, h*d_kv], relative_attention_bias
//     [buckets, h] only in block 0 of encoder and decoder, layer norms [d], DenseReluDense wi (or
//     wi_0 and wi_1 when feed_forward_proj is "gated-*") [d_ff, d] and wo [d, d_ff]; final layer
//     norms; lm_head [V, d] unless tie_word_embeddings (default true). Aliases:
//     encoder/decoder.embed_tokens.weight -> shared.weight (+ lm_head.weight when tied).
//   BART: final_logits_bias [1, V], model.shared [V, d], embed_positions [max_pos + 2, d],
//     attention k/v/q/out_proj weight [d, d] and bias [d], layer norms, fc1 [ffn, d], fc2 [d, ffn],
//     layernorm_embedding; lm_head [V, d] unless tie_word_embeddings (default true). Aliases:
//     model.encoder/decoder.embed_tokens.weight -> model.shared.weight (+ lm_head.weight).
Result<Schema> expected_schema(const std::string& architecture, const nlohmann::json& config);

// Compares present tensors (name -> shape, aliases excluded) against the schema. The failed Status
// (kInvalidArgument) lists every missing, unexpected and wrongly shaped tensor (up to 20, then a
// count), each named with both shapes.
Status check_tensors(const Schema& schema, const std::map<std::string, std::vector<int64_t>>& present);

std::string shape_string(const std::vector<int64_t>& shape);  // "[32128, 512]"

}  // namespace sealsum::weights
