// Generation flags shared by the `summarize` and `generate` commands.
//
//   --num-beams N               1 = greedy search
//   --max-length N              total length including the decoder start token
//   --max-new-tokens N          generated tokens; wins over --max-length (transformers' rule)
//   --min-length N              EOS is banned while the sequence is shorter
//   --length-penalty F          beam score = sum logprobs / generated_len ** F
//   --no-repeat-ngram-size N    0 = off
//   --early-stopping            beam search stops once num_beams hypotheses are finished
//   --early-stopping-mode M     true | false | never (transformers' early_stopping values)
//   --forced-bos-token-id N|none, --forced-eos-token-id N|none   (`none` turns a default off)
//   --decoder-start-token-id N
//
// Usage: add_generation_flags(args) before args.parse(); after parsing, apply_generation_flags
// overwrites only the fields whose flags were given, so callers start from the model's defaults
// (decoding::generation_defaults). Errors are kInvalidArgument naming the flag (a usage error,
// exit code 2). Ranges are checked per flag; the combination is checked by decoding::generate().
#pragma once

#include <nlohmann/json.hpp>

#include "common/status.h"
#include "engine/decoding/generation.h"
#include "tools/cli/command.h"

namespace sealsum::cli {

void add_generation_flags(Args& args);
Status apply_generation_flags(const Args& args, decoding::GenerationParams& params);

// The given generation flags as members of a `sealsum serve` POST /v1/summarize body
// (server/serve_api.h names): num_beams, max_length, max_new_tokens, min_length, length_penalty,
// no_repeat_ngram_size, early_stopping. The token-id flags are not part of the server API:
// kInvalidArgument naming the flag. The server range-checks the values again.
Result<nlohmann::json> generation_request_members(const Args& args);

}  // namespace sealsum::cli
