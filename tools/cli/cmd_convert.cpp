// `sealsum convert`: a Hugging Face model folder, or a synthetic-weight manifest, -> a sealsum
// model file. The work is done by tools/convert/ (which produces a weights::ModelWriter); this
// file only parses arguments and writes the result atomically. With --seal KEYFILE the serialized
// bytes are assembled in secret memory and sealed (content type model) straight to the output: no
// plaintext model is ever written to disk.
#include <chrono>
#include <cstring>
#include <iostream>
#include <optional>

#include "secure/keys.h"
#include "secure/sealed.h"
#include "secure/secret_buffer.h"
#include "tools/cli/command.h"
#include "tools/convert/hf_convert.h"
#include "tools/convert/linear_dtype.h"
#include "tools/convert/progress.h"
#include "tools/convert/synthetic.h"

namespace {

using sealsum::Result;
using sealsum::Status;

// Serializes into secret memory (wiped on return) and seals it to `out` (atomically, mode 0600).
Status seal_model(const sealsum::weights::ModelWriter& writer, const std::string& out,
                  const sealsum::secure::SealingKey& key) {
  SEALSUM_RETURN_IF_ERROR(writer.validate());
  const uint64_t size = writer.serialized_size();
  auto buf = sealsum::secure::SecretBuffer::allocate(static_cast<size_t>(size));
  if (!buf.ok()) return buf.status();
  size_t filled = 0;
  SEALSUM_RETURN_IF_ERROR(writer.stream([&](std::span<const uint8_t> piece) -> Status {
    if (piece.size() > buf->size() - filled) return sealsum::internal_error("model serialized past its stated size");
    std::memcpy(buf->data() + filled, piece.data(), piece.size());
    filled += piece.size();
    return Status::ok();
  }));
  if (filled != buf->size()) return sealsum::internal_error("model serialized short of its stated size");
  sealsum::secure::SealOptions options;
  options.content_type = sealsum::secure::ContentType::kModel;
  return sealsum::secure::seal_memory(buf->span(), out, key, options);
}

int run_convert(const std::vector<std::string>& argv) {
  sealsum::cli::Args args("convert", "HF_DIR -o MODEL | --synthetic MANIFEST --tokenizer TOKENIZER -o MODEL");
  args.positionals("HF_DIR",
                   "a Hugging Face model folder: config.json, generation_config.json (optional), the tokenizer "
                   "(spiece.model, tokenizer.json or vocab.json + merges.txt) and the weights (model.safetensors, "
                   "sharded model.safetensors.index.json, or pytorch_model.bin)",
                   0, 1)
      .option("output", "MODEL", "the model file to write (also -o); replaced atomically", true)
      .option("synthetic", "MANIFEST", "build synthetic weights from a shared/golden/synth-*/manifest.json instead")
      .option("tokenizer", "TOKENIZER", "with --synthetic: spiece.model, tokenizer.json, vocab.json or a folder")
      .option("dtype", "DTYPE",
              "linear weights as f32 (default), bf16 or int8 (per-output-channel; embeddings, norms, biases stay f32)")
      .option("seal", "KEYFILE",
              "seal the model with this key file (sealsum keygen; mode 0600) instead of writing it in plaintext");
  if (int rc = sealsum::cli::parse_or_exit(args, argv); rc >= 0) return rc;
  const bool synthetic = args.has("synthetic");
  if (synthetic == (args.rest().size() == 1) || (synthetic && !args.has("tokenizer")) ||
      (!synthetic && args.has("tokenizer"))) {
    std::cerr << "sealsum: give either HF_DIR, or --synthetic MANIFEST with --tokenizer TOKENIZER\n\n" << args.usage();
    return 2;
  }
  const std::string out = *args.get("output");
  auto dtype = sealsum::convert::parse_linear_dtype(args.get("dtype").value_or("f32"));
  if (!dtype.ok()) return sealsum::cli::fail("convert", dtype.status());
  // Load the key first: a bad key file should fail before minutes of conversion.
  std::optional<sealsum::secure::SealingKey> seal_key;
  if (auto keyfile = args.get("seal")) {
    auto key = sealsum::secure::load_key_file(*keyfile);
    if (!key.ok()) return sealsum::cli::fail("convert", key.status());
    seal_key.emplace(std::move(key).value());
  }
  const auto t0 = std::chrono::steady_clock::now();

  Result<sealsum::weights::ModelWriter> writer = Status(sealsum::Code::kInternal, "unset");
  {
    sealsum::convert::Progress bar("converting");
    auto progress = [&bar](size_t done, size_t total) { bar.update(done, total); };
    if (synthetic) {
      auto manifest = sealsum::convert::read_manifest(*args.get("synthetic"));
      if (!manifest.ok()) return sealsum::cli::fail("convert", manifest.status());
      auto tok = sealsum::tok::read_tokenizer_source(*args.get("tokenizer"));
      if (!tok.ok()) return sealsum::cli::fail("convert", tok.status());
      writer = sealsum::convert::build_synthetic(*manifest, *tok, progress, *dtype);
    } else {
      writer = sealsum::convert::convert_hf_dir(args.rest().front(), progress, *dtype);
    }
  }
  if (!writer.ok()) return sealsum::cli::fail("convert", writer.status());
  if (seal_key) {
    if (Status st = seal_model(*writer, out, *seal_key); !st.is_ok()) return sealsum::cli::fail("convert", st);
  } else if (Status st = writer->write(out); !st.is_ok()) {
    return sealsum::cli::fail("convert", st);
  }
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::cerr << "wrote " << out << " (" << writer->serialized_size() << " bytes"
            << (seal_key ? ", sealed with key id " + seal_key->kid() : std::string()) << ") in " << secs << " s\n";
  return 0;
}

}  // namespace

SEALSUM_COMMAND("convert", "convert a Hugging Face T5/BART folder or a synthetic manifest to a sealsum model file",
                run_convert);
