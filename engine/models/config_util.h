// Reading a Hugging Face config.json and a model file's tensors with every value checked.
//
// Every failure names the config field or tensor, what was found and what was expected, so a user
// can tell a corrupt file from an unsupported model. Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/status.h"
#include "engine/layers/linear.h"
#include "weights/model_file.h"

namespace sealsum::models {

// An integer field in [min, max]; `fallback` when absent or null (nullopt: the field is required).
Result<int64_t> config_int(const nlohmann::json& config, const std::string& field, std::optional<int64_t> fallback,
                           int64_t min, int64_t max);
// A number field, finite; `fallback` as above.
Result<double> config_number(const nlohmann::json& config, const std::string& field, std::optional<double> fallback);
Result<bool> config_bool(const nlohmann::json& config, const std::string& field, std::optional<bool> fallback);
Result<std::string> config_string(const nlohmann::json& config, const std::string& field,
                                  std::optional<std::string> fallback);

// The float32 tensor `name` with exactly `shape` (aliases resolved), stored row-major; or the
// ModelFile's error (kInvalidArgument for a tensor stored in another layout).
Result<const float*> tensor_f32(const weights::ModelFile& file, const std::string& name,
                                const std::vector<int64_t>& shape);
// A matrix [n, k] (a linear weight, or an embedding table) as stored: f32 row-major or f32 panels,
// bf16 panels, or int8 panels with their NAME.scale tensor (`sealsum convert --dtype bf16|int8`). Errors as tensor_f32.
Result<layers::Weight> linear_weight(const weights::ModelFile& file, const std::string& name,
                                     const std::vector<int64_t>& shape);

// Every id in [0, vocab); otherwise kInvalidArgument naming `what` ("input", "decoder"), the id
// and its position.
Status check_token_ids(std::span<const int32_t> ids, int64_t vocab, const char* what);

}  // namespace sealsum::models
