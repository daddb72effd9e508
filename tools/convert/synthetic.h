// Synthetic weights of real geometry from a manifest (shared/golden/README.md, "Synthetic weights").
//
//   fnv1a64(bytes), splitmix64(x) as in the README;
//   r_i   = (double)((int64)(splitmix64(fnv1a64(name) ^ i) >> 40) - 8388608) / 8388608.0
//   value = (float)(center + scale * r_i)   -- one double multiply, one double add, no FMA
//
// synthetic.cpp is compiled with -ffp-contract=off (tools/convert/CMakeLists.txt) so the compiler
// can never fuse the multiply-add; the unit test checks bit-exact values against the README's
// worked vectors. Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/status.h"
#include "tokenizer/tokenizer.h"
#include "weights/model_file.h"

namespace sealsum::convert {

uint64_t fnv1a64(std::string_view bytes);
uint64_t splitmix64(uint64_t x);
double synth_r(uint64_t name_hash, uint64_t i);
float synth_value(double center, double scale, double r);
// Fills out[i] for flat indices first .. first + out.size() - 1 of tensor `name`.
void synth_fill(std::string_view name, double center, double scale, std::span<float> out, uint64_t first = 0);

// Builds a model from a parsed manifest: the manifest's config (architecture from model_type),
// generation config {}, every manifest tensor in manifest order (f32), the `tied` map as aliases,
// and the tokenizer. The tensor list and ties are checked against weights::expected_schema, so a
// manifest that does not describe a complete model fails with the schema's message.
// `progress(done, total)` is called after each tensor when given. dtype: how the linear weights are
// stored (tools/convert/linear_dtype.h).
Result<weights::ModelWriter> build_synthetic(const nlohmann::json& manifest, const tok::TokenizerSource& tokenizer,
                                             const std::function<void(size_t, size_t)>& progress = {},
                                             weights::DType dtype = weights::DType::kF32);

// Reads and parses a manifest file (bounded: 16 MiB), naming the file in errors.
Result<nlohmann::json> read_manifest(const std::string& path);

}  // namespace sealsum::convert
