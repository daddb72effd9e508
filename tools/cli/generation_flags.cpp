#include "tools/cli/generation_flags.h"

#include <cmath>
#include <limits>
#include <string>

namespace sealsum::cli {

namespace {

constexpr long long kMaxLength = 1 << 20;
constexpr long long kMaxToken = std::numeric_limits<int32_t>::max();

// "N" or "none" for an optional token id.
Status apply_optional_token(const Args& args, const char* name, std::optional<int32_t>& out) {
  const auto v = args.get(name);
  if (!v) return Status::ok();
  if (*v == "none") {
    out.reset();
    return Status::ok();
  }
  SEALSUM_ASSIGN_OR_RETURN(auto x, args.get_int(name, 0, kMaxToken));
  out = static_cast<int32_t>(*x);
  return Status::ok();
}

Status apply_int(const Args& args, const char* name, long long min, long long max, int& out) {
  SEALSUM_ASSIGN_OR_RETURN(auto x, args.get_int(name, min, max));
  if (x) out = static_cast<int>(*x);
  return Status::ok();
}

}  // namespace

void add_generation_flags(Args& args) {
  args.option("num-beams", "N", "beam width; 1 is greedy search")
      .option("max-length", "N", "maximum sequence length, counting the decoder start token")
      .option("max-new-tokens", "N", "maximum generated tokens (overrides --max-length)")
      .option("min-length", "N", "minimum sequence length before EOS is allowed, counting the start token")
      .option("length-penalty", "F", "beam score = sum of log-probs / generated_length ** F")
      .option("no-repeat-ngram-size", "N", "forbid repeating any n-gram of this size (0 = off)")
      .flag("early-stopping", "stop beam search once num_beams hypotheses are finished")
      .option("early-stopping-mode", "MODE", "true | false | never (transformers' early_stopping)")
      .option("forced-bos-token-id", "N|none", "token forced as the first generated token; none = off")
      .option("forced-eos-token-id", "N|none", "token forced when max length is reached; none = off")
      .option("decoder-start-token-id", "N", "token the decoder starts from");
}

Status apply_generation_flags(const Args& args, decoding::GenerationParams& p) {
  SEALSUM_RETURN_IF_ERROR(apply_int(args, "num-beams", 1, 256, p.num_beams));
  SEALSUM_RETURN_IF_ERROR(apply_int(args, "max-length", 2, kMaxLength, p.max_length));
  SEALSUM_RETURN_IF_ERROR(apply_int(args, "min-length", 0, kMaxLength, p.min_length));
  SEALSUM_RETURN_IF_ERROR(apply_int(args, "no-repeat-ngram-size", 0, kMaxLength, p.no_repeat_ngram_size));
  if (args.has("max-new-tokens")) {
    SEALSUM_ASSIGN_OR_RETURN(auto x, args.get_int("max-new-tokens", 1, kMaxLength - 1));
    p.max_new_tokens = static_cast<int>(*x);
  } else if (args.has("max-length")) {
    p.max_new_tokens.reset();  // an explicit --max-length beats a max_new_tokens from the model config
  }
  SEALSUM_ASSIGN_OR_RETURN(auto lp, args.get_double("length-penalty"));
  if (lp) {
    if (!std::isfinite(*lp)) return invalid_argument("--length-penalty expects a finite number");
    p.length_penalty = *lp;
  }
  if (auto mode = args.get("early-stopping-mode")) {
    if (args.has("early-stopping")) {
      return invalid_argument("give either --early-stopping or --early-stopping-mode, not both");
    }
    if (*mode == "true") {
      p.early_stopping = decoding::EarlyStopping::kTrue;
    } else if (*mode == "false") {
      p.early_stopping = decoding::EarlyStopping::kFalse;
    } else if (*mode == "never") {
      p.early_stopping = decoding::EarlyStopping::kNever;
    } else {
      return invalid_argument("--early-stopping-mode expects true, false or never, got '" + *mode + "'");
    }
  } else if (args.has("early-stopping")) {
    p.early_stopping = decoding::EarlyStopping::kTrue;
  }
  SEALSUM_RETURN_IF_ERROR(apply_optional_token(args, "forced-bos-token-id", p.forced_bos_token_id));
  SEALSUM_RETURN_IF_ERROR(apply_optional_token(args, "forced-eos-token-id", p.forced_eos_token_id));
  if (args.has("decoder-start-token-id")) {
    SEALSUM_ASSIGN_OR_RETURN(auto x, args.get_int("decoder-start-token-id", 0, kMaxToken));
    p.decoder_start_token_id = static_cast<int32_t>(*x);
  }
  return Status::ok();
}

Result<nlohmann::json> generation_request_members(const Args& args) {
  for (const char* local_only : {"forced-bos-token-id", "forced-eos-token-id", "decoder-start-token-id"}) {
    if (args.has(local_only)) {
      return invalid_argument(std::string("--") + local_only + " is not accepted by the server API (local runs only)");
    }
  }
  // Parse through the local rules first, so a remote request fails on the same flag a local one would.
  decoding::GenerationParams p;
  SEALSUM_RETURN_IF_ERROR(apply_generation_flags(args, p));
  nlohmann::json out = nlohmann::json::object();
  if (args.has("num-beams")) out["num_beams"] = p.num_beams;
  if (args.has("max-length")) out["max_length"] = p.max_length;
  if (args.has("max-new-tokens")) out["max_new_tokens"] = *p.max_new_tokens;
  if (args.has("min-length")) out["min_length"] = p.min_length;
  if (args.has("length-penalty")) out["length_penalty"] = p.length_penalty;
  if (args.has("no-repeat-ngram-size")) out["no_repeat_ngram_size"] = p.no_repeat_ngram_size;
  if (args.has("early-stopping") || args.has("early-stopping-mode")) {
    switch (p.early_stopping) {
      case decoding::EarlyStopping::kTrue: out["early_stopping"] = true; break;
      case decoding::EarlyStopping::kFalse: out["early_stopping"] = false; break;
      case decoding::EarlyStopping::kNever: out["early_stopping"] = "never"; break;
    }
  }
  return out;
}

}  // namespace sealsum::cli
