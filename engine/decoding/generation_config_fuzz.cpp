// libFuzzer target: arbitrary bytes as config.json (first half) and generation_config.json (second
// half) through generation_defaults_from_text. Must never crash, hang or leak; every input yields a
// value or a Status.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "engine/decoding/generation_config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view all(reinterpret_cast<const char*>(data), size);
  const size_t half = size / 2;
  auto r = sealsum::decoding::generation_defaults_from_text(all.substr(0, half), all.substr(half), "summarization");
  if (r.ok()) {
    // A value that validates must respect the parameter invariants.
    if (!sealsum::decoding::validate_params(r->params, 0).is_ok()) __builtin_trap();
  }
  return 0;
}
