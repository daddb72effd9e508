// `sealsum generate --model MODEL --input-ids 1,2,3 [generation flags] [--threads N] [--json]`
//
// Runs the model on encoder input ids exactly as given (no prefix, no truncation) with the model's
// own generation defaults (config.json / generation_config.json, no task_specific_params: what
// transformers' model.generate(input_ids) does) overridden by the flags given (`none` switches a
// default off; --num-beams 1 is greedy). --json prints {"sequences": [[...]], "scores": [...]}
// (scores: beam search sequences_scores, empty for greedy); otherwise one sequence per line.
#include <cerrno>
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/engine.h"
#include "tools/cli/command.h"
#include "tools/cli/generation_flags.h"

namespace {

using sealsum::cli::usage_error;
using sealsum::Status;
using json = nlohmann::json;

constexpr size_t kMaxInputIds = 1 << 16;

// "1,2,3" -> ids; each a decimal integer in [0, 2^31).
sealsum::Result<std::vector<int32_t>> parse_ids(const std::string& s) {
  std::vector<int32_t> ids;
  size_t pos = 0;
  while (pos <= s.size()) {
    const size_t comma = std::min(s.find(',', pos), s.size());
    const std::string item = s.substr(pos, comma - pos);
    errno = 0;
    char* end = nullptr;
    const long long v = std::strtoll(item.c_str(), &end, 10);
    if (item.empty() || *end != '\0' || errno != 0 || v < 0 || v > INT32_MAX) {
      return sealsum::invalid_argument("--input-ids expects comma-separated non-negative integers (e.g. 1,2,3); item " +
                                       std::to_string(ids.size()) + " is not one");
    }
    if (ids.size() >= kMaxInputIds) return sealsum::invalid_argument("--input-ids: more than 65536 ids");
    ids.push_back(static_cast<int32_t>(v));
    pos = comma + 1;
  }
  return ids;
}

int run_generate(const std::vector<std::string>& argv) {
  sealsum::cli::Args args("generate", "--model MODEL --input-ids 1,2,3 [generation flags] [--json]");
  args.option("model", "MODEL", "sealsum model file", true)
      .option("input-ids", "IDS", "encoder input ids, comma-separated (used as given)", true)
      .option("threads", "N", "compute threads (default 0 = one per available CPU)")
      .flag("json", "print {\"sequences\": [[...]], \"scores\": [...]}");
  sealsum::cli::add_generation_flags(args);
  if (int rc = sealsum::cli::parse_or_exit(args, argv); rc >= 0) return rc;
  auto threads = args.get_int("threads", 0, 256);
  if (!threads.ok()) return usage_error(args, threads.status().message());
  auto ids = parse_ids(*args.get("input-ids"));
  if (!ids.ok()) return usage_error(args, ids.status().message());

  sealsum::engine::EngineOptions opts;
  opts.threads = static_cast<int>(threads->value_or(0));
  auto engine = sealsum::engine::Engine::load(*args.get("model"), opts);
  if (!engine.ok()) return sealsum::cli::fail("generate", engine.status());
  sealsum::decoding::GenerationParams params = (*engine)->model_params();
  if (Status st = sealsum::cli::apply_generation_flags(args, params); !st.is_ok()) {
    return usage_error(args, st.message());
  }
  auto r = (*engine)->generate(*ids, params);
  if (!r.ok()) return sealsum::cli::fail("generate", r.status());
  if (args.has("json")) {
    json out = {{"sequences", r->output.sequences}, {"scores", r->output.scores}};
    std::cout << out.dump() << "\n";
  } else {
    for (const auto& seq : r->output.sequences) {
      for (size_t i = 0; i < seq.size(); ++i) std::cout << (i ? " " : "") << seq[i];
      std::cout << "\n";
    }
  }
  std::cout.flush();
  if (!std::cout) return sealsum::cli::fail("generate", sealsum::unavailable("cannot write to stdout"));
  return 0;
}

}  // namespace

SEALSUM_COMMAND("generate", "run a model on input ids and print the generated ids", run_generate);
