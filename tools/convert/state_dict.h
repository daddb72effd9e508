// A checkpoint's tensors after reading, converted to float32: what the torch and safetensors
// readers produce and the Hugging Face converter consumes.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace sealsum::convert {

struct SourceTensor {
  std::string name;             // as in the checkpoint (not yet canonical)
  std::vector<int64_t> shape;
  std::vector<uint8_t> f32;     // contiguous row-major little-endian float32, numel * 4 bytes
};

using StateDict = std::vector<SourceTensor>;  // checkpoint order

// Element conversions (exact: every f16 and bf16 value is representable in f32).
float f16_to_f32(uint16_t h);
float bf16_to_f32(uint16_t b);

}  // namespace sealsum::convert
