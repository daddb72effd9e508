// libFuzzer target: the first input byte picks the options and a split point; the bytes before the
// split are a precompiled charsmap, the rest is text to normalize with it.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "tokenizer/normalizer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const uint8_t ctl = data[0];
  const std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);
  const size_t split = (static_cast<size_t>(ctl >> 3) * rest.size()) / 31;
  const sealsum::tok::NormalizerOptions opts{(ctl & 1) != 0, (ctl & 2) != 0, (ctl & 4) != 0};
  auto n = sealsum::tok::Normalizer::create(rest.substr(0, split), opts);
  if (!n.ok()) return 0;
  std::string out;
  n->normalize(rest.substr(split), &out);
  return 0;
}
