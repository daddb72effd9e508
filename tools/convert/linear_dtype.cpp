#include "tools/convert/linear_dtype.h"

#include <cstring>
#include <string>

namespace sealsum::convert {
namespace {

constexpr const char* kHead = "lm_head.weight";

bool is_tied_head_target(const weights::Schema& schema, const std::string& name) {
  auto head = schema.aliases.find(kHead);
  return head != schema.aliases.end() && head->second == name;
}

}  // namespace

Result<weights::DType> parse_linear_dtype(std::string_view name) {
  if (name == "f32") return weights::DType::kF32;
  if (name == "bf16") return weights::DType::kBF16;
  if (name == "int8" || name == "i8") return weights::DType::kI8;
  return invalid_argument("unknown --dtype '" + std::string(name.substr(0, 32)) + "'; choose f32, bf16 or int8");
}

void add_schema_tensor(weights::ModelWriter& w, const weights::Schema& schema, const weights::ExpectedTensor& e,
                       std::span<const float> values, weights::DType dtype) {
  const auto row_major_f32 = [&] {
    w.add_tensor(e.name, weights::DType::kF32, e.shape,
                 std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(values.data()), values.size_bytes()));
  };
  if (!e.linear) {
    row_major_f32();
    return;
  }
  if (dtype != weights::DType::kF32 && is_tied_head_target(schema, e.name)) {
    // The embedding stays f32 and row-major: with the head a quantized copy, only row lookups read it,
    // and a row is then one contiguous run (in 32-row panels it is one float in every 128 bytes: a
    // t5-small lookup touched 32 KiB, ~4 ms of a 512-token encode).
    row_major_f32();
    w.add_linear_weight(kHead, e.shape[0], e.shape[1], values, dtype);
    return;
  }
  w.add_linear_weight(e.name, e.shape[0], e.shape[1], values, dtype);
}

void add_schema_aliases(weights::ModelWriter& w, const weights::Schema& schema, weights::DType dtype) {
  for (const auto& [alias, target] : schema.aliases) {
    if (alias == kHead && dtype != weights::DType::kF32) continue;  // written as a quantized tensor
    w.add_alias(alias, target);
  }
}

}  // namespace sealsum::convert
