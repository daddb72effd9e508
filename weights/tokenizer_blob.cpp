// Tokenizer files as u8 blobs in a model file, the reader side (see tokenizer_blob.h).
#include "weights/tokenizer_blob.h"

namespace sealsum::weights {

bool plain_tokenizer_file_name(const std::string& n) {
  if (n.empty() || n.size() > 128 || n == "." || n == "..") return false;
  for (char c : n) {
    if (c <= 0x20 || c >= 0x7f || c == '/' || c == '\\') return false;
  }
  return true;
}

Result<tok::TokenizerSource> tokenizer_source(const ModelFile& m) {
  const nlohmann::json& h = m.header();
  auto it = h.find("tokenizer");
  if (it == h.end() || !it->is_object() || it->empty()) return not_found("the model file has no tokenizer");
  const nlohmann::json& e = *it;
  auto bad = [](const std::string& why) { return data_loss("model file tokenizer entry: " + why); };
  if (!e.contains("kind") || !e["kind"].is_string()) return bad("no 'kind'");
  if (!e.contains("files") || !e["files"].is_array() || e["files"].empty() || e["files"].size() > kMaxTokenizerFiles) {
    return bad("'files' must list 1..8 files");
  }
  tok::TokenizerSource src;
  src.kind = e["kind"].get<std::string>();
  for (const auto& f : e["files"]) {
    if (!f.is_object() || !f.contains("name") || !f["name"].is_string() || !f.contains("tensor") ||
        !f["tensor"].is_string()) {
      return bad("a file entry lacks 'name' or 'tensor'");
    }
    const std::string name = f["name"].get<std::string>();
    if (!plain_tokenizer_file_name(name)) return bad("file name is not a plain name");
    auto b = m.blob(f["tensor"].get<std::string>());
    if (!b.ok()) return data_loss("model file tokenizer entry: " + b.status().message());
    src.files.emplace_back(name, std::string(reinterpret_cast<const char*>(b->data()), b->size()));
  }
  return src;
}

}  // namespace sealsum::weights
