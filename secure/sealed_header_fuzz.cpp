// libFuzzer target: the sealed header parser and a full open attempt on arbitrary bytes.
//
// The key is fixed; its key id is taken from the parsed header so inputs get past the key-id check
// and into the size check and segment authentication. Invariants checked: parsing never reads
// out of bounds (ASan), a parsed header's sizes are self-consistent, and an input that opens
// yields exactly plaintext_size bytes. Inputs up to 4 KiB are also sealed and reopened
// (round trip with a 16-byte segment size).
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "secure/sealed.h"

using namespace sealsum::secure;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::vector<uint8_t> kMaster(32, 0x42);
  const std::span<const uint8_t> in(data, size);

  auto h = parse_sealed_header(in);
  if (h.ok()) {
    if (h->header_size < kSealedFixedHeaderSize || h->header_size > kSealedMaxHeaderSize) std::abort();
    if (h->segment_count() == 0 || h->segment_count() > kMaxSegments) std::abort();
    auto key = SealingKey::from_bytes(kMaster, h->kid);
    if (!key.ok()) std::abort();  // the parser accepted a kid the key rules refuse
    auto opened = open_sealed_bytes(in, *key, std::nullopt, "fuzz input");
    if (opened.ok() && opened->size() != h->plaintext_size) std::abort();
  }

  if (size <= 4096) {
    auto key = SealingKey::from_bytes(kMaster, "fuzz");
    if (!key.ok()) std::abort();
    auto sealed = seal_to_bytes(in, *key, {ContentType::kDocument, kMinSegmentSize});
    if (!sealed.ok()) std::abort();
    auto back = open_sealed_bytes(*sealed, *key, ContentType::kDocument, "round trip");
    if (!back.ok() || back->size() != size || (size != 0 && std::memcmp(back->data(), data, size) != 0)) std::abort();
  }
  return 0;
}
