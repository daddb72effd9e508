// libFuzzer target: the zip reader and the whole torch checkpoint path (zip -> pickle -> strided
// gather) on arbitrary bytes.
#include <cstddef>
#include <cstdint>

#include "tools/convert/torch_checkpoint.h"
#include "tools/convert/zip_reader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto za = sealsum::convert::ZipArchive::open({data, size}, "fuzz");
  if (za.ok()) {
    uint32_t acc = 0;
    for (const auto& e : za->entries()) acc ^= sealsum::convert::crc32(za->data(e));
    (void)acc;
  }
  auto sd = sealsum::convert::parse_torch_checkpoint({data, size}, "fuzz");
  (void)sd;
  return 0;
}
