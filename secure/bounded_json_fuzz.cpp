// libFuzzer target: the bounded JSON reader on arbitrary bytes (small limits so every limit is hit).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "secure/bounded_json.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  sealsum::secure::JsonLimits l;
  l.max_bytes = 64 * 1024;
  l.max_depth = 6;
  l.max_elements = 100;
  l.max_string_bytes = 256;
  auto r = sealsum::secure::parse_bounded_json(std::string_view(reinterpret_cast<const char*>(data), size), l, "fuzz");
  if (r.ok() && !r->is_discarded()) (void)r->dump();
  return 0;
}
