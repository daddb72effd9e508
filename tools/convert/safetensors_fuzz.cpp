// libFuzzer target: the safetensors parser on arbitrary bytes.
#include <cstddef>
#include <cstdint>

#include "tools/convert/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto r = sealsum::convert::parse_safetensors({data, size}, "fuzz");
  (void)r;
  return 0;
}
