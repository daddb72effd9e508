// libFuzzer target: arbitrary bytes as a serialized ModelProto (spiece.model). When they load, the
// resulting tokenizer must encode and decode a fixed text with ids inside its vocabulary.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "tokenizer/factories.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  auto tok = sealsum::tok::make_unigram_from_spm(bytes);
  if (!tok.ok()) return 0;
  const auto& t = *tok.value();
  const auto ids = t.encode("Hello  w\xc3\xb6rld <extra_id_0> \xff </s>");
  for (int32_t id : ids) {
    if (id < 0 || static_cast<size_t>(id) >= t.vocab_size()) std::abort();
  }
  (void)t.decode(ids);
  return 0;
}
