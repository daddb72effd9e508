// Beam search with transformers 4.36 semantics (GenerationMixin.beam_search + BeamSearchScorer),
// for one input.
//
// State: B = num_beams running beams, each a token sequence (starting with the decoder start
// token) and a float32 cumulative score; initially beam 0 scores 0 and the others -1e9, so the
// first step effectively expands beam 0 only while keeping transformers' exact candidate list.
// Each step:
//   1. the session yields raw logits for every row; scores = log_softmax(logits) in float32;
//   2. the logits processors act on each row's scores (given that row's sequence);
//   3. cand = scores + beam_score[row] (float32), flattened to B * V;
//   4. K = max(2, 1 + #eos) * B best candidates by torch.topk (see topk.h for the tie order);
//   5. walking the candidates best first: an EOS candidate ranked < B becomes a finished
//      hypothesis (its sequence without the EOS, scored sum / generated_len ** length_penalty,
//      generated_len counting the EOS but not the start token); an EOS candidate ranked >= B is
//      dropped; any other candidate becomes the next running beam until B are chosen;
//   6. done when the finished set says no running beam can enter it (BeamHypotheses::is_done with
//      the best candidate score and cur_len = length after this step), or the sequences reach
//      max_length.
// Finalize: unless done, every running beam joins the finished set (scored with its length); the
// num_return_sequences best are returned, an EOS appended where it fits under max_length, and rows
// padded with pad_token_id to a common length if their lengths differ — exactly transformers'
// output tensor. The first step runs the session on its single row and shares that row's scores
// with all B beams (transformers runs B identical rows); then session.reorder fans the row out.
#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "engine/decoding/beam_hypotheses.h"
#include "engine/decoding/logits_process.h"
#include "engine/decoding/search.h"
#include "engine/decoding/topk.h"
#include "engine/ops/ops.h"

namespace sealsum::decoding {

Result<GenerateOutput> beam_search(DecoderSession& session, const GenerationParams& params) {
  const int64_t vocab = session.vocab_size();
  const int beams = params.num_beams;
  const size_t nb = static_cast<size_t>(beams);
  const int max_length = effective_max_length(params);
  const auto& eos = params.eos_token_ids;
  const int64_t keep = std::max<int64_t>(2, 1 + static_cast<int64_t>(eos.size())) * beams;
  const LogitsProcessors processors(params);
  BeamHypotheses finished(beams, params.length_penalty, params.early_stopping, max_length);
  const auto is_eos = [&](int64_t t) { return std::find(eos.begin(), eos.end(), t) != eos.end(); };

  std::vector<float> beam_scores(nb, -1e9f);
  beam_scores[0] = 0.0f;
  std::vector<std::vector<int32_t>> seqs(nb, std::vector<int32_t>{params.decoder_start_token_id});
  std::vector<int32_t> inputs{params.decoder_start_token_id};  // one per session row
  std::vector<float> logits, scores(nb * static_cast<size_t>(vocab));
  std::vector<std::pair<float, int64_t>> queue;
  std::vector<TopkEntry> top;
  std::vector<float> next_scores(nb);
  std::vector<int32_t> next_tokens(nb), next_src(nb);
  bool fanned_out = false;  // the session holds 1 row until the first reorder
  bool done = false;

  while (true) {
    const size_t rows = fanned_out ? nb : 1;
    const size_t cur = seqs[0].size();
    logits.resize(rows * static_cast<size_t>(vocab));
    SEALSUM_RETURN_IF_ERROR(
        session.step(inputs, logits.data()).with_context("decoder step " + std::to_string(cur)));
    for (size_t r = 0; r < rows; ++r) {
      const float* in = logits.data() + r * static_cast<size_t>(vocab);
      float* row = scores.data() + r * static_cast<size_t>(vocab);
      if (!all_finite(in, vocab)) {
        return internal_error("the decoder produced a non-finite logit at step " + std::to_string(cur) +
                              "; the model or its weights are broken");
      }
      log_softmax_row(in, row, vocab);
      processors.apply(seqs[r], row, vocab);
    }
    if (!fanned_out) {  // all beams hold the same sequence: same processed scores
      for (size_t b = 1; b < nb; ++b) std::copy_n(scores.data(), vocab, scores.data() + b * static_cast<size_t>(vocab));
    }
    // ops::add_scalar: element by element (the plain loop's bits), vectorized by ops.cpp's flags; the
    // loop written here ran one float at a time (~40 us of a t5 beam-4 step over 4 x 32,128 scores).
    for (size_t b = 0; b < nb; ++b) ops::add_scalar(scores.data() + b * static_cast<size_t>(vocab), beam_scores[b], vocab);
    topk_torch(scores.data(), static_cast<int64_t>(nb) * vocab, keep, queue, top);

    // BeamSearchScorer.process (cur_len counts the token being chosen).
    const int64_t cur_len = static_cast<int64_t>(cur) + 1;
    size_t filled = 0;
    for (size_t rank = 0; rank < top.size() && filled < nb; ++rank) {
      const int64_t token = top[rank].index % vocab;
      const size_t src = static_cast<size_t>(top[rank].index / vocab);
      if (is_eos(token)) {
        if (rank >= nb) continue;
        finished.add(seqs[src], static_cast<double>(top[rank].value), cur_len - 1);
      } else {
        next_scores[filled] = top[rank].value;
        next_tokens[filled] = static_cast<int32_t>(token);
        next_src[filled] = static_cast<int32_t>(src);
        ++filled;
      }
    }
    if (filled < nb) return internal_error("beam search found fewer non-EOS candidates than beams");
    done = finished.is_done(static_cast<double>(top[0].value), cur_len);

    std::vector<std::vector<int32_t>> next_seqs(nb);
    for (size_t i = 0; i < nb; ++i) {
      next_seqs[i].reserve(cur + 1);
      next_seqs[i] = seqs[static_cast<size_t>(next_src[i])];
      next_seqs[i].push_back(next_tokens[i]);
    }
    seqs.swap(next_seqs);
    beam_scores = next_scores;
    if (done || static_cast<int64_t>(seqs[0].size()) >= max_length) break;

    if (fanned_out) {
      SEALSUM_RETURN_IF_ERROR(session.reorder(next_src).with_context("reordering beams"));
    } else {
      SEALSUM_RETURN_IF_ERROR(session.reorder(std::vector<int32_t>(nb, 0)).with_context("fanning out beams"));
      fanned_out = true;
    }
    inputs = next_tokens;
  }

  // BeamSearchScorer.finalize.
  if (!done) {
    for (size_t b = 0; b < nb; ++b) {
      const int64_t generated_len = static_cast<int64_t>(seqs[b].size()) - 1;
      finished.add(seqs[b], static_cast<double>(beam_scores[b]), generated_len);
    }
  }
  std::vector<Hypothesis> best = finished.best(params.num_return_sequences);
  size_t longest = 0, shortest = SIZE_MAX;
  for (const auto& h : best) {
    longest = std::max(longest, h.tokens.size());
    shortest = std::min(shortest, h.tokens.size());
  }
  const size_t width = std::min(longest + 1, static_cast<size_t>(max_length));
  GenerateOutput out;
  for (auto& h : best) {
    std::vector<int32_t> seq = std::move(h.tokens);
    if (seq.size() < width && !eos.empty()) seq.push_back(eos[0]);  // transformers: only the first EOS id
    if (shortest != longest) seq.resize(width, params.pad_token_id);
    out.sequences.push_back(std::move(seq));
    out.scores.push_back(static_cast<double>(static_cast<float>(h.score)));  // a float32 tensor in transformers
  }
  return out;
}

}  // namespace sealsum::decoding
