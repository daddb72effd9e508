// Tokenizer files as u8 blobs in a model file, the writer side (see tokenizer_blob.h). Part of
// sealsum_weights_writer (the converter and tests), not of sealsum-serve.
#include "weights/tokenizer_blob.h"

namespace sealsum::weights {

Status embed_tokenizer(ModelWriter& w, const tok::TokenizerSource& src) {
  if (src.kind.empty() || src.files.empty() || src.files.size() > kMaxTokenizerFiles) {
    return invalid_argument("tokenizer source must have a kind and 1..8 files");
  }
  nlohmann::json files = nlohmann::json::array();
  for (const auto& [name, bytes] : src.files) {
    if (!plain_tokenizer_file_name(name)) return invalid_argument("tokenizer file name '" + name + "' is not a plain name");
    const std::string tensor = "tokenizer/" + name;
    const auto* p = reinterpret_cast<const uint8_t*>(bytes.data());
    w.add_tensor(tensor, DType::kU8, {int64_t(bytes.size())}, std::span<const uint8_t>(p, bytes.size()));
    files.push_back({{"name", name}, {"tensor", tensor}});
  }
  w.set_tokenizer({{"kind", src.kind}, {"files", std::move(files)}});
  return w.validate();
}

}  // namespace sealsum::weights
