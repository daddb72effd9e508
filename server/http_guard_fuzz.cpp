// libFuzzer target: the guarded server's request-head scanner (http_guard.h) on arbitrary bytes.
// Checks its contract: a complete head lies within the input and the limit.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "server/http_guard.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view s(reinterpret_cast<const char*>(data), size);
  for (size_t max_head : {size_t{64}, size_t{16 * 1024}}) {
    const auto scan = sealsum::server::scan_request_head(s, max_head, 16);
    if (scan.state == sealsum::server::HeadScan::State::kComplete) {
      if (scan.head_bytes > s.size() || scan.head_bytes > max_head) std::abort();
      if (scan.expect_end < scan.expect_begin || scan.expect_end > scan.head_bytes) std::abort();
    }
  }
  return 0;
}
