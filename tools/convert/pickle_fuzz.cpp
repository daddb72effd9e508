// libFuzzer target: the restricted unpickler must never crash, hang or leak on any input.
#include <cstddef>
#include <cstdint>

#include "tools/convert/torch_pickle.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto r = sealsum::convert::parse_torch_pickle({data, size});
  if (r.ok()) {
    size_t n = 0;
    for (const auto& t : *r) n += t.shape.size() + t.name.size();
    (void)n;
  }
  return 0;
}
