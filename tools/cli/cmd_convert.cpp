// `sealsum convert`: a Hugging Face model folder, or a synthetic-weight manifest, -> a sealsum
// model file. The work is done by tools/convert/ (which produces a weights::ModelWriter); this
// file only parses arguments and writes the result atomically.
#include <chrono>
#include <iostream>

#include "tools/cli/command.h"
#include "tools/convert/hf_convert.h"
#include "tools/convert/progress.h"
#include "tools/convert/synthetic.h"

namespace {

using sealsum::Result;
using sealsum::Status;

int run_convert(const std::vector<std::string>& argv_in) {
  // `-o MODEL` is accepted as a synonym of `--output MODEL`.
  std::vector<std::string> argv;
  for (const auto& a : argv_in) argv.push_back(a == "-o" ? "--output" : a);
  sealsum::cli::Args args("convert", "HF_DIR -o MODEL | --synthetic MANIFEST --tokenizer TOKENIZER -o MODEL");
  args.positionals("HF_DIR",
                   "a Hugging Face model folder: config.json, generation_config.json (optional), the tokenizer "
                   "(spiece.model, tokenizer.json or vocab.json + merges.txt) and the weights (model.safetensors, "
                   "sharded model.safetensors.index.json, or pytorch_model.bin)",
                   0, 1)
      .option("output", "MODEL", "the model file to write (also -o); replaced atomically", true)
      .option("synthetic", "MANIFEST", "build synthetic weights from a shared/golden/synth-*/manifest.json instead")
      .option("tokenizer", "TOKENIZER", "with --synthetic: spiece.model, tokenizer.json, vocab.json or a folder");
  if (int rc = sealsum::cli::parse_or_exit(args, argv); rc >= 0) return rc;
  const bool synthetic = args.has("synthetic");
  if (synthetic == (args.rest().size() == 1) || (synthetic && !args.has("tokenizer")) ||
      (!synthetic && args.has("tokenizer"))) {
    std::cerr << "sealsum: give either HF_DIR, or --synthetic MANIFEST with --tokenizer TOKENIZER\n\n" << args.usage();
    return 2;
  }
  const std::string out = *args.get("output");
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
      writer = sealsum::convert::build_synthetic(*manifest, *tok, progress);
    } else {
      writer = sealsum::convert::convert_hf_dir(args.rest().front(), progress);
    }
  }
  if (!writer.ok()) return sealsum::cli::fail("convert", writer.status());
  if (Status st = writer->write(out); !st.is_ok()) return sealsum::cli::fail("convert", st);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::cerr << "wrote " << out << " (" << writer->serialized_size() << " bytes) in " << secs << " s\n";
  return 0;
}

}  // namespace

SEALSUM_COMMAND("convert", "convert a Hugging Face T5/BART folder or a synthetic manifest to a sealsum model file",
                run_convert);
