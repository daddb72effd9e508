// `sealsum tokenize --model MODEL [--decode]`: the model's own tokenizer as a JSON-lines filter.
//
//   stdin  {"text": "..."}        one object per line   (with --decode: {"ids": [1, 2, 3]})
//   stdout {"ids": [...], "decoded": "..."}             one object per input line
// ids are what the engine feeds the encoder for that text *without* the task prefix (special
// tokens included: T5 appends </s>, BART wraps in <s> ... </s>); decoded is decode(ids) with special
// tokens skipped and the tokenizer's clean-up. Only the tokenizer is loaded (no weight packing).
// A malformed line fails the command (exit 1) naming the line number, never its content.
#include <iostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tokenizer/tokenizer.h"
#include "tools/cli/command.h"
#include "weights/model_file.h"
#include "weights/tokenizer_blob.h"

namespace {

using sealsum::Status;
using json = nlohmann::json;

int run_tokenize(const std::vector<std::string>& argv) {
  sealsum::cli::Args args("tokenize", "--model MODEL [--decode] < lines.jsonl");
  args.option("model", "MODEL", "sealsum model file whose tokenizer to use", true)
      .flag("decode", "read {\"ids\": [...]} lines instead of {\"text\": ...}");
  if (int rc = sealsum::cli::parse_or_exit(args, argv); rc >= 0) return rc;
  auto file = sealsum::weights::ModelFile::load(*args.get("model"));
  if (!file.ok()) return sealsum::cli::fail("tokenize", file.status());
  auto source = sealsum::weights::tokenizer_source(*file);
  if (!source.ok()) return sealsum::cli::fail("tokenize", source.status());
  auto tok = sealsum::tok::load_tokenizer(*source);
  if (!tok.ok()) return sealsum::cli::fail("tokenize", tok.status());
  const bool decode = args.has("decode");
  const int64_t vocab = static_cast<int64_t>((*tok)->vocab_size());

  std::string line;
  int64_t line_no = 0;
  while (std::getline(std::cin, line)) {
    ++line_no;
    if (line.empty()) continue;
    const std::string where = "stdin line " + std::to_string(line_no);
    json in = json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (in.is_discarded() || !in.is_object()) {
      return sealsum::cli::fail("tokenize", sealsum::invalid_argument(where + " is not a JSON object"));
    }
    std::vector<int32_t> ids;
    if (decode) {
      auto it = in.find("ids");
      if (it == in.end() || !it->is_array()) {
        return sealsum::cli::fail("tokenize", sealsum::invalid_argument(where + " has no \"ids\" array"));
      }
      for (const json& v : *it) {
        if (!v.is_number_integer() || v.get<int64_t>() < 0 || v.get<int64_t>() >= vocab) {
          return sealsum::cli::fail("tokenize", sealsum::invalid_argument(where + ": ids must be integers in 0.." +
                                                                          std::to_string(vocab - 1)));
        }
        ids.push_back(v.get<int32_t>());
      }
    } else {
      auto it = in.find("text");
      if (it == in.end() || !it->is_string()) {
        return sealsum::cli::fail("tokenize", sealsum::invalid_argument(where + " has no \"text\" string"));
      }
      ids = (*tok)->encode(it->get_ref<const std::string&>());
    }
    json out = {{"ids", ids}, {"decoded", (*tok)->decode(ids)}};
    std::cout << out.dump(-1, ' ', false, json::error_handler_t::replace) << '\n';
  }
  std::cout.flush();
  if (!std::cout) return sealsum::cli::fail("tokenize", sealsum::unavailable("cannot write to stdout"));
  return 0;
}

}  // namespace

SEALSUM_COMMAND("tokenize", "tokenize / detokenize JSON lines with a model's tokenizer", run_tokenize);
