// libFuzzer target: the summary-file check of `sealsum batch` (batch.h). A summary found in the
// store is untrusted bytes (anyone with write access to the store may have put it there); the
// check decides whether a document is skipped, so it must be total and bounded.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "server/batch.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view s(reinterpret_cast<const char*>(data), size);
  (void)sealsum::server::check_summary_file(s, "doc-1");
  (void)sealsum::server::shard_of(s, 7);
  return 0;
}
