#include "engine/models/config_util.h"

#include <algorithm>
#include <cmath>

#include "weights/panel_layout.h"

namespace sealsum::models {

namespace {

const nlohmann::json* field_of(const nlohmann::json& config, const std::string& field) {
  if (!config.is_object()) return nullptr;
  auto it = config.find(field);
  if (it == config.end() || it->is_null()) return nullptr;
  return &*it;
}

Status missing(const std::string& field) {
  return invalid_argument("model config: required field '" + field + "' is missing; is the config.json complete?");
}

}  // namespace

Result<int64_t> config_int(const nlohmann::json& config, const std::string& field, std::optional<int64_t> fallback,
                           int64_t min, int64_t max) {
  const nlohmann::json* v = field_of(config, field);
  if (v == nullptr) {
    if (!fallback) return missing(field);
    return *fallback;
  }
  if (!v->is_number_integer()) {
    return invalid_argument("model config: field '" + field + "' must be an integer, found " + v->type_name());
  }
  const int64_t x = v->get<int64_t>();
  if (x < min || x > max) {
    return invalid_argument("model config: field '" + field + "' = " + std::to_string(x) + " is outside " +
                            std::to_string(min) + ".." + std::to_string(max));
  }
  return x;
}

Result<double> config_number(const nlohmann::json& config, const std::string& field, std::optional<double> fallback) {
  const nlohmann::json* v = field_of(config, field);
  if (v == nullptr) {
    if (!fallback) return missing(field);
    return *fallback;
  }
  if (!v->is_number()) {
    return invalid_argument("model config: field '" + field + "' must be a number, found " + v->type_name());
  }
  const double x = v->get<double>();
  if (!std::isfinite(x)) return invalid_argument("model config: field '" + field + "' is not finite");
  return x;
}

Result<bool> config_bool(const nlohmann::json& config, const std::string& field, std::optional<bool> fallback) {
  const nlohmann::json* v = field_of(config, field);
  if (v == nullptr) {
    if (!fallback) return missing(field);
    return *fallback;
  }
  if (!v->is_boolean()) {
    return invalid_argument("model config: field '" + field + "' must be true or false, found " + v->type_name());
  }
  return v->get<bool>();
}

Result<std::string> config_string(const nlohmann::json& config, const std::string& field,
                                  std::optional<std::string> fallback) {
  const nlohmann::json* v = field_of(config, field);
  if (v == nullptr) {
    if (!fallback) return missing(field);
    return *fallback;
  }
  if (!v->is_string()) {
    return invalid_argument("model config: field '" + field + "' must be a string, found " + v->type_name());
  }
  return v->get<std::string>();
}

Result<const float*> tensor_f32(const weights::ModelFile& file, const std::string& name,
                                const std::vector<int64_t>& shape) {
  SEALSUM_ASSIGN_OR_RETURN(const weights::TensorView* t, file.get(name, weights::DType::kF32, shape));
  if (t->layout != weights::Layout::kRowMajor) {
    return invalid_argument("tensor '" + name + "' is stored in the panel layout, where a row-major tensor is expected");
  }
  return t->f32();
}

Result<layers::Weight> linear_weight(const weights::ModelFile& file, const std::string& name,
                                     const std::vector<int64_t>& shape) {
  const weights::TensorView* t = file.find(name);
  if (t != nullptr && t->dtype == weights::DType::kI8) {
    if (t->layout != weights::Layout::kPanels || t->shape != shape) {
      return invalid_argument("tensor '" + name + "' is an int8 tensor that is not a [" + std::to_string(shape[0]) +
                              ", " + std::to_string(shape[1]) + "] int8 panel matrix; reconvert the model");
    }
    SEALSUM_ASSIGN_OR_RETURN(const weights::TensorView* s,
                             file.get(name + weights::kScaleSuffix, weights::DType::kF32, {shape[0]}));
    const int8_t* codes = reinterpret_cast<const int8_t*>(t->data);
    if (std::find(codes, codes + t->nbytes, int8_t{-128}) != codes + t->nbytes) {
      return invalid_argument("tensor '" + name + "' holds the int8 code -128, which the converter never writes "
                              "(codes are -127..127); reconvert the model");
    }
    return layers::Weight::i8(codes, s->f32());
  }
  if (t != nullptr && t->dtype == weights::DType::kBF16) {
    if (t->layout != weights::Layout::kPanels || t->shape != shape) {
      return invalid_argument("tensor '" + name + "' is a bf16 tensor that is not a [" + std::to_string(shape[0]) +
                              ", " + std::to_string(shape[1]) + "] bf16 panel matrix; reconvert the model");
    }
    return layers::Weight::bf16(reinterpret_cast<const uint16_t*>(t->data));
  }
  SEALSUM_ASSIGN_OR_RETURN(t, file.get(name, weights::DType::kF32, shape));
  return layers::Weight(t->f32(), t->layout == weights::Layout::kPanels);
}

Status check_token_ids(std::span<const int32_t> ids, int64_t vocab, const char* what) {
  for (size_t i = 0; i < ids.size(); ++i) {
    if (ids[i] < 0 || ids[i] >= vocab) {
      return invalid_argument(std::string(what) + " id " + std::to_string(ids[i]) + " at position " +
                              std::to_string(i) + " is outside the vocabulary 0.." + std::to_string(vocab - 1));
    }
  }
  return Status::ok();
}

}  // namespace sealsum::models
