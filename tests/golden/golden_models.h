// The golden models as sealsum files, shared by golden_test.cpp and quant_golden_test.cpp: each
// model converted once by the real CLI ($SEALSUM_BIN, set by ctest) into $SEALSUM_GOLDEN_MODEL_DIR
// (default ./golden-models), and remade when the binary is newer. tiny-random-* come from their
// Hugging Face checkpoints; the synth-* models from their manifests (`convert --synthetic`).
// Failure: throws std::runtime_error naming the command. Thread safety: a unique temporary name,
// then rename, so concurrent runs (one per ISA) never see a partial file.
#pragma once

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <string>

#include "common/fixtures.h"

namespace sealsum::golden {

inline std::string quote(const std::filesystem::path& p) { return "'" + p.string() + "'"; }

// The arguments after `sealsum convert`, before -o.
inline std::string convert_args(const std::string& name) {
  if (name == "tiny-random-t5" || name == "tiny-random-bart") return quote(sealsum::fixture("models/" + name));
  const std::string tok = name == "synth-distilbart-cnn-6-6" ? "models/bart/tokenizer.json" : "models/t5/spiece.model";
  return "--synthetic " + quote(sealsum::fixture("golden/" + name + "/manifest.json")) + " --tokenizer " +
         quote(sealsum::fixture(tok));
}

// NAME.sealsum (f32) or NAME.DTYPE.sealsum (`convert --dtype DTYPE`).
inline std::filesystem::path converted_model(const std::string& name, const std::string& dtype = "f32") {
  namespace fs = std::filesystem;
  const char* bin = std::getenv("SEALSUM_BIN");
  if (bin == nullptr || *bin == '\0') {
    throw std::runtime_error("SEALSUM_BIN is not set: run through ctest, or export SEALSUM_BIN=<build>/tools/cli/sealsum");
  }
  const char* dir_env = std::getenv("SEALSUM_GOLDEN_MODEL_DIR");
  fs::path dir = (dir_env != nullptr && *dir_env != '\0') ? fs::path(dir_env) : fs::current_path() / "golden-models";
  fs::create_directories(dir);
  fs::path out = dir / (name + (dtype == "f32" ? "" : "." + dtype) + ".sealsum");
  std::error_code ec;
  if (fs::exists(out, ec) && fs::last_write_time(out, ec) >= fs::last_write_time(bin, ec)) return out;
  fs::path tmp = dir / (out.filename().string() + ".tmp." + std::to_string(::getpid()));
  const std::string cmd = quote(bin) + " convert " + convert_args(name) + (dtype == "f32" ? "" : " --dtype " + dtype) +
                          " -o " + quote(tmp) + " >/dev/null";
  if (std::system(cmd.c_str()) != 0) throw std::runtime_error("model conversion failed: " + cmd);
  fs::rename(tmp, out);
  return out;
}

}  // namespace sealsum::golden
