// generate(): parameter checks, then greedy search (num_beams == 1) or beam search.
//
// Greedy follows transformers 4.36 `greedy_search` for one row: raw logits -> logits processors
// (if any are active) -> torch.argmax (first maximum) -> append; stop after EOS or when the sequence
// reaches max_length. No log_softmax is taken: argmax is the same either way, and transformers
// passes raw logits to the processors.
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "engine/decoding/logits_process.h"
#include "engine/decoding/search.h"

namespace sealsum::decoding {

namespace {

constexpr int kMaxNumBeams = 256;
constexpr int kMaxLengthLimit = 1 << 20;

Status check_id(const char* field, int64_t id, int64_t vocab_size) {
  if (id < 0 || (vocab_size > 0 && id >= vocab_size)) {
    return invalid_argument(std::string(field) + " (" + std::to_string(id) + ") must be a token id in [0, " +
                            (vocab_size > 0 ? std::to_string(vocab_size) : std::string("vocab_size")) + ")");
  }
  return Status::ok();
}

}  // namespace

int effective_max_length(const GenerationParams& p) {
  if (p.max_new_tokens) return 1 + *p.max_new_tokens;
  return p.max_length;
}

Status validate_params(const GenerationParams& p, int64_t vocab_size) {
  if (p.num_beams < 1 || p.num_beams > kMaxNumBeams) {
    return invalid_argument("num_beams (" + std::to_string(p.num_beams) + ") must be in [1, " +
                            std::to_string(kMaxNumBeams) + "]; 1 is greedy search");
  }
  if (p.max_new_tokens && (*p.max_new_tokens < 1 || *p.max_new_tokens >= kMaxLengthLimit)) {
    return invalid_argument("max_new_tokens (" + std::to_string(*p.max_new_tokens) + ") must be in [1, " +
                            std::to_string(kMaxLengthLimit - 1) + ")");
  }
  if (!p.max_new_tokens && (p.max_length < 2 || p.max_length > kMaxLengthLimit)) {
    return invalid_argument("max_length (" + std::to_string(p.max_length) + ") must be in [2, " +
                            std::to_string(kMaxLengthLimit) +
                            "]: it counts the decoder start token, so 2 allows one generated token");
  }
  if (p.min_length < 0) {
    return invalid_argument("min_length (" + std::to_string(p.min_length) + ") must be >= 0");
  }
  if (p.no_repeat_ngram_size < 0) {
    return invalid_argument("no_repeat_ngram_size (" + std::to_string(p.no_repeat_ngram_size) + ") must be >= 0");
  }
  if (!(p.repetition_penalty > 0.0) || !std::isfinite(p.repetition_penalty)) {
    return invalid_argument("repetition_penalty must be a finite number > 0 (1.0 turns it off)");
  }
  if (!std::isfinite(p.length_penalty)) {
    return invalid_argument("length_penalty must be a finite number");
  }
  if (p.num_return_sequences < 1 || p.num_return_sequences > p.num_beams) {
    return invalid_argument("num_return_sequences (" + std::to_string(p.num_return_sequences) +
                            ") must be in [1, num_beams (" + std::to_string(p.num_beams) +
                            ")]; greedy search (num_beams 1) returns one sequence");
  }
  SEALSUM_RETURN_IF_ERROR(check_id("decoder_start_token_id", p.decoder_start_token_id, vocab_size));
  SEALSUM_RETURN_IF_ERROR(check_id("pad_token_id", p.pad_token_id, vocab_size));
  for (int32_t e : p.eos_token_ids) SEALSUM_RETURN_IF_ERROR(check_id("eos_token_id", e, vocab_size));
  if (p.forced_bos_token_id) {
    SEALSUM_RETURN_IF_ERROR(check_id("forced_bos_token_id", *p.forced_bos_token_id, vocab_size));
  }
  if (p.forced_eos_token_id) {
    SEALSUM_RETURN_IF_ERROR(check_id("forced_eos_token_id", *p.forced_eos_token_id, vocab_size));
  }
  if (p.num_beams > 1 && vocab_size > 0) {
    // transformers keeps max(2, 1 + #eos) * num_beams candidates per step; torch.topk needs that many.
    const int64_t keep = std::max<int64_t>(2, 1 + static_cast<int64_t>(p.eos_token_ids.size())) * p.num_beams;
    if (keep > p.num_beams * vocab_size) {
      return invalid_argument("num_beams (" + std::to_string(p.num_beams) + ") is too large for a vocabulary of " +
                              std::to_string(vocab_size) + " tokens");
    }
  }
  return Status::ok();
}

Result<GenerateOutput> generate(DecoderSession& session, const GenerationParams& params) {
  const int64_t vocab = session.vocab_size();
  if (vocab < 1) return invalid_argument("the decoder session reports vocab_size " + std::to_string(vocab));
  if (session.rows() != 1) {
    return invalid_argument("generate() needs a fresh decoder session with 1 row, got " +
                            std::to_string(session.rows()));
  }
  SEALSUM_RETURN_IF_ERROR(validate_params(params, vocab));
  if (params.num_beams == 1) return greedy_search(session, params);
  return beam_search(session, params);
}

Result<GenerateOutput> greedy_search(DecoderSession& session, const GenerationParams& params) {
  const int64_t vocab = session.vocab_size();
  const int max_length = effective_max_length(params);
  const LogitsProcessors processors(params);
  std::vector<float> logits(static_cast<size_t>(vocab));
  GenerateOutput out;
  std::vector<int32_t> seq{params.decoder_start_token_id};
  int32_t next = params.decoder_start_token_id;
  while (true) {
    SEALSUM_RETURN_IF_ERROR(session.step(std::span<const int32_t>(&next, 1), logits.data())
                                .with_context("decoder step " + std::to_string(seq.size())));
    if (!all_finite(logits.data(), vocab)) {
      return internal_error("the decoder produced a non-finite logit at step " + std::to_string(seq.size()) +
                            "; the model or its weights are broken");
    }
    processors.apply(seq, logits.data(), vocab);
    next = static_cast<int32_t>(argmax_row(logits.data(), vocab));
    seq.push_back(next);
    const bool eos = std::find(params.eos_token_ids.begin(), params.eos_token_ids.end(), next) !=
                     params.eos_token_ids.end();
    if (eos || static_cast<int64_t>(seq.size()) >= max_length) break;
  }
  out.sequences.push_back(std::move(seq));
  return out;
}

}  // namespace sealsum::decoding
