// libFuzzer target: the base64 and hex decoders on arbitrary bytes under every option (the first
// byte picks them). Invariants: no out-of-bounds read (ASan); anything accepted re-encodes to a text
// that decodes to the same bytes; canonical, unpadded, standard-alphabet input re-encodes to itself.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "common/encoding.h"

using namespace sealsum::encoding;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t sel = data[0];
  std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  Base64Options o;
  o.alphabet = static_cast<Alphabet>(sel % 3);
  o.padding = static_cast<Padding>((sel / 3) % 3);
  o.whitespace = static_cast<Whitespace>((sel / 9) % 3);
  o.canonical = (sel / 27) % 2 != 0;
  o.max_chars = 4096;
  auto r = base64_decode(text, "fuzz", o);
  if (r.ok()) {
    auto again = base64_decode(base64_encode(*r), "fuzz");
    if (!again.ok() || *again != *r) std::abort();
    if (o.canonical && o.alphabet == Alphabet::kStandard && o.padding == Padding::kForbidden &&
        o.whitespace == Whitespace::kNone && base64_encode(*r, false) != text) {
      std::abort();
    }
  }
  auto h = hex_decode(text, "fuzz", 4096);
  if (h.ok()) {
    auto hh = hex_decode(hex_encode(*h));
    if (!hh.ok() || *hh != *h) std::abort();
  }
  return 0;
}
