// Fuzz target: model construction from an arbitrary config.json (the part of a model file the
// models parse themselves). Byte 0 picks the architecture (even: t5, odd: bart); the rest is the
// config. The file holds no tensors, so a config that parses must fail on the first tensor lookup;
// nothing may crash, hang or allocate from unchecked sizes.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "engine/models/seq2seq.h"
#include "secure/secret_buffer.h"
#include "weights/model_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1 || size > (1u << 16)) return 0;
  const std::string arch = (data[0] & 1) ? "bart" : "t5";
  nlohmann::json config = nlohmann::json::parse(data + 1, data + size, nullptr, /*allow_exceptions=*/false);
  if (config.is_discarded()) return 0;
  sealsum::weights::ModelWriter w(arch, config, nlohmann::json::object());
  auto bytes = w.serialize();
  if (bytes.empty()) return 0;
  auto buf = sealsum::secure::SecretBuffer::copy_of(bytes);
  if (!buf.ok()) return 0;
  auto file = sealsum::weights::ModelFile::from_buffer(std::move(buf).value(), "fuzz");
  if (!file.ok()) return 0;
  auto model = sealsum::models::load_model(std::make_shared<const sealsum::weights::ModelFile>(std::move(file).value()));
  (void)model;
  return 0;
}
