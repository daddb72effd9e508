// `sealsum convert --dtype f32|bf16|int8`: which tensors are stored quantized, and how.
//
// Quantized: every linear weight of the schema (attention q/k/v/o, feed-forward, the output
// projection lm_head) as bf16 or int8 panels (weights/panel_layout.h: int8 is symmetric per output
// channel, with an f32 scale per row). Kept f32: embeddings, layer norms, biases, T5's relative
// attention biases and BART's position embeddings and final_logits_bias. When lm_head is tied to the
// embedding, the embedding stays f32 (it is looked up row by row) and a quantized copy is written
// under the name "lm_head.weight" instead of the alias. f32 writes exactly what it always did.
// Pure functions (the writer records misuse, see weights::ModelWriter); not thread-safe per writer.
#pragma once

#include <span>
#include <string_view>

#include "common/status.h"
#include "weights/model_file.h"
#include "weights/schema.h"

namespace sealsum::convert {

// "f32" | "bf16" | "int8" (also "i8") -> dtype; anything else is kInvalidArgument naming the choices.
Result<weights::DType> parse_linear_dtype(std::string_view name);

// Adds schema tensor e (row-major f32 values, e.shape) to w: linear weights as `dtype` panels (the
// tied embedding of a bf16/int8 model: row-major f32 plus the quantized lm_head copy), everything
// else row-major f32.
void add_schema_tensor(weights::ModelWriter& w, const weights::Schema& schema, const weights::ExpectedTensor& e,
                       std::span<const float> values, weights::DType dtype);

// Adds the schema's aliases, except lm_head.weight when it was written as a quantized copy.
void add_schema_aliases(weights::ModelWriter& w, const weights::Schema& schema, weights::DType dtype);

}  // namespace sealsum::convert
