// Tokenizer discovery and dispatch: which files make a tokenizer, and which class reads them.
#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "tokenizer/factories.h"
#include "tokenizer/tokenizer.h"

namespace sealsum::tok {
namespace {

constexpr size_t kMaxTokenizerFile = 64u << 20;  // 64 MiB: far above any real tokenizer file

Result<std::string> read_file(const std::filesystem::path& p) {
  std::error_code ec;
  auto size = std::filesystem::file_size(p, ec);
  if (ec) return not_found("cannot read tokenizer file '" + p.string() + "': " + ec.message());
  if (size > kMaxTokenizerFile) {
    return invalid_argument("tokenizer file '" + p.string() + "' is larger than 64 MiB; is it really a tokenizer?");
  }
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  if (!in.good() && !in.eof()) return data_loss("error reading tokenizer file '" + p.string() + "'");
  return ss.str();
}

const std::string* file_named(const TokenizerSource& src, const std::string& name) {
  for (const auto& [n, bytes] : src.files) {
    if (n == name) return &bytes;
  }
  return nullptr;
}

}  // namespace

Result<TokenizerSource> read_tokenizer_source(const std::string& path) {
  namespace fs = std::filesystem;
  fs::path p(path);
  std::error_code ec;
  TokenizerSource src;
  auto add = [&](const fs::path& file) -> Status {
    auto bytes = read_file(file);
    if (!bytes.ok()) return bytes.status();
    src.files.emplace_back(file.filename().string(), std::move(bytes).value());
    return Status::ok();
  };
  if (fs::is_directory(p, ec)) {
    if (fs::exists(p / "spiece.model")) {
      src.kind = "spiece";
      SEALSUM_RETURN_IF_ERROR(add(p / "spiece.model"));
    } else if (fs::exists(p / "tokenizer.json")) {
      src.kind = "tokenizer.json";
      SEALSUM_RETURN_IF_ERROR(add(p / "tokenizer.json"));
    } else if (fs::exists(p / "vocab.json") && fs::exists(p / "merges.txt")) {
      src.kind = "vocab+merges";
      SEALSUM_RETURN_IF_ERROR(add(p / "vocab.json"));
      SEALSUM_RETURN_IF_ERROR(add(p / "merges.txt"));
    } else {
      return not_found("no tokenizer in '" + path +
                       "': expected spiece.model, tokenizer.json, or vocab.json + merges.txt");
    }
    return src;
  }
  const std::string name = p.filename().string();
  if (name.ends_with(".model")) {
    src.kind = "spiece";
  } else if (name.ends_with(".json") && name != "vocab.json") {
    src.kind = "tokenizer.json";
  } else if (name == "vocab.json" || name == "merges.txt") {
    fs::path dir = p.parent_path();
    src.kind = "vocab+merges";
    SEALSUM_RETURN_IF_ERROR(add(dir / "vocab.json"));
    SEALSUM_RETURN_IF_ERROR(add(dir / "merges.txt"));
    return src;
  } else {
    return invalid_argument("cannot tell the tokenizer kind of '" + path +
                            "': give spiece.model, tokenizer.json, vocab.json or a model folder");
  }
  SEALSUM_RETURN_IF_ERROR(add(p));
  src.files.front().first = src.kind == "spiece" ? "spiece.model" : "tokenizer.json";
  return src;
}

Result<std::unique_ptr<Tokenizer>> load_tokenizer(const TokenizerSource& src) {
  if (src.kind == "spiece") {
    const std::string* f = file_named(src, "spiece.model");
    if (f == nullptr) return invalid_argument("tokenizer source 'spiece' lacks spiece.model");
    return make_unigram_from_spm(*f);
  }
  if (src.kind == "tokenizer.json") {
    const std::string* f = file_named(src, "tokenizer.json");
    if (f == nullptr) return invalid_argument("tokenizer source 'tokenizer.json' lacks tokenizer.json");
    auto j = nlohmann::json::parse(*f, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded() || !j.is_object()) return data_loss("tokenizer.json is not a JSON object");
    const auto model = j.find("model");
    if (model == j.end() || !model->is_object() || !model->contains("type") || !(*model)["type"].is_string()) {
      return data_loss("tokenizer.json has no model.type");
    }
    const std::string type = (*model)["type"].get<std::string>();
    if (type == "Unigram") return make_unigram_from_tokenizer_json(*f);
    if (type == "BPE") return make_bpe_from_tokenizer_json(*f);
    return unimplemented("tokenizer.json model.type '" + type + "' is not supported (Unigram and BPE are)");
  }
  if (src.kind == "vocab+merges") {
    const std::string* v = file_named(src, "vocab.json");
    const std::string* m = file_named(src, "merges.txt");
    if (v == nullptr || m == nullptr) return invalid_argument("tokenizer source 'vocab+merges' lacks a file");
    return make_bpe_from_vocab_merges(*v, *m);
  }
  return invalid_argument("unknown tokenizer source kind '" + src.kind + "'");
}

}  // namespace sealsum::tok
