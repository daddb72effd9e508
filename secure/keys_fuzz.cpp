// libFuzzer target: the key-file parser on arbitrary bytes. Invariants: no out-of-bounds read
// (ASan), an accepted file yields a 32-byte key and a key id that passes validate_kid.
#include <cstdint>
#include <cstdlib>

#include "secure/keys.h"

using namespace sealsum::secure;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto key = parse_key_file({data, size});
  if (key.ok()) {
    if (key->bytes().size() != kSealingKeySize) std::abort();
    if (!validate_kid(key->kid()).is_ok()) std::abort();
  }
  return 0;
}
