// libFuzzer target: the model file reader. The input is used twice: as a whole file, and as a file
// body with a valid SHA-256 trailer appended, so the fuzzer reaches the header checks behind the
// checksum. Every exposed tensor is read end to end (ASan catches any out-of-bounds view).
#include <cstddef>
#include <cstdint>
#include <vector>

#include "secure/digest.h"
#include "weights/model_file.h"
#include "weights/tokenizer_blob.h"

namespace {

void exercise(const std::vector<uint8_t>& bytes) {
  auto buf = sealsum::secure::SecretBuffer::copy_of(bytes);
  if (!buf.ok()) return;
  auto m = sealsum::weights::ModelFile::from_buffer(std::move(buf).value(), "fuzz");
  if (!m.ok()) return;
  uint8_t acc = 0;
  for (const auto& t : m->tensors()) {
    for (size_t i = 0; i < t.nbytes; ++i) acc ^= t.data[i];
  }
  for (const auto& [alias, target] : m->aliases()) acc ^= m->find(alias) != nullptr;
  auto src = sealsum::weights::tokenizer_source(*m);
  (void)src;
  (void)m->architecture();
  (void)acc;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<uint8_t> bytes(data, data + size);
  exercise(bytes);
  const auto digest = sealsum::secure::sha256(bytes);
  bytes.insert(bytes.end(), digest.begin(), digest.end());
  exercise(bytes);
  return 0;
}
