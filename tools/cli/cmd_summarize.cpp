// `sealsum summarize --model MODEL [--input FILE|-] [generation flags] [--threads N] [--json]`
//
// Reads the document (a file, or stdin for `-` / no --input), summarizes it with the model's
// summarization defaults (config, generation config, task_specific_params.summarization, e.g. T5's
// "summarize: " prefix and beam settings) overridden by the flags given, and prints the summary.
// --json prints {"summary", "ids", "score", "truncated", "timings": {...}} instead.
// MODEL may be sealed: add --key KEYFILE or --kbs URL (tools/cli/model_loading.h).
// With --server URL instead of --model, the document is summarized by an attested `sealsum serve`
// (tools/cli/cmd_remote.cpp; `sealsum summarize --server x --help` lists its flags).
#include <iostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/engine.h"
#include "tools/cli/command.h"
#include "tools/cli/generation_flags.h"
#include "tools/cli/model_loading.h"
#include "tools/cli/remote.h"

namespace {

using sealsum::cli::usage_error;
using sealsum::Status;
using json = nlohmann::json;

constexpr size_t kMaxDocumentBytes = 16u << 20;  // far above 1024 tokens of text

int run_summarize(const std::vector<std::string>& argv) {
  for (const std::string& a : argv) {
    if (a == "--server" || a.rfind("--server=", 0) == 0) return sealsum::cli::run_remote_summarize(argv);
  }
  sealsum::cli::Args args("summarize",
                          "--model MODEL [--input FILE|-] [generation flags]\n"
                          "       sealsum summarize --server URL --measurement HEX [--host-data HEX] (--document ID | --input FILE) "
                          "[options]   (remote; see --server x --help)");
  sealsum::cli::add_model_flags(args);  // --model, and --key / --kbs for a sealed model
  args.option("input", "FILE", "document to summarize; - or absent: stdin")
      .option("threads", "N", "compute threads (default 0 = one per available CPU)")
      .flag("json", "print {summary, ids, score, truncated, timings} as JSON");
  sealsum::cli::add_generation_flags(args);
  if (int rc = sealsum::cli::parse_or_exit(args, argv); rc >= 0) return rc;
  auto threads = args.get_int("threads", 0, 256);
  if (!threads.ok()) return usage_error(args, threads.status().message());

  sealsum::engine::EngineOptions opts;
  opts.threads = static_cast<int>(threads->value_or(0));
  auto engine = sealsum::cli::load_engine_for_cli(args, opts);
  if (!engine.ok()) return sealsum::cli::fail("summarize", engine.status());
  sealsum::decoding::GenerationParams params = (*engine)->default_params();
  if (Status st = sealsum::cli::apply_generation_flags(args, params); !st.is_ok()) {
    return usage_error(args, st.message());
  }
  auto text = sealsum::cli::read_input(args.get_or("input", "-"), kMaxDocumentBytes);
  if (!text.ok()) return sealsum::cli::fail("summarize", text.status());
  auto s = (*engine)->summarize(*text, params);
  if (!s.ok()) return sealsum::cli::fail("summarize", s.status());
  if (args.has("json")) {
    const auto& t = s->timings;
    json out = {{"summary", s->text},
                {"ids", s->ids},
                {"score", s->score},
                {"truncated", s->truncated},
                {"timings",
                 {{"tokenize_ms", t.tokenize_ms},
                  {"encode_ms", t.encode_ms},
                  {"decode_ms", t.decode_ms},
                  {"detokenize_ms", t.detokenize_ms},
                  {"total_ms", t.total_ms},
                  {"input_tokens", t.input_tokens},
                  {"generated_tokens", t.generated_tokens},
                  {"decoder_steps", t.decoder_steps}}}};
    std::cout << out.dump(-1, ' ', false, json::error_handler_t::replace) << "\n";
  } else {
    std::cout << s->text << "\n";
  }
  std::cout.flush();
  if (!std::cout) return sealsum::cli::fail("summarize", sealsum::unavailable("cannot write to stdout"));
  return 0;
}

}  // namespace

SEALSUM_COMMAND("summarize", "summarize a document with a T5 or BART model", run_summarize);
