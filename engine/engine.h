// Engine: the facade the CLI and the HTTP server use. One loaded model (weights, tokenizer,
// generation defaults) and the compute threads that run it.
//
//   auto e = Engine::load("model.sealsum", {.threads = 1});
//   auto s = (*e)->summarize(text, (*e)->default_params());   // text + ids + timings
//
// Thread safety: every const member may be called from many threads at once. The model weights
// and the tokenizer are immutable and shared read-only; each call makes its own encoder output and
// decoder session (caches, scratch). Without batch_decoding the compute thread pool runs one request
// at a time (a mutex serialises the encode + decode part of concurrent calls; tokenization runs
// outside it). With batch_decoding, concurrent calls encode in parallel (at most max_encoders()
// at once; on the pool when it is free, else on their own thread) and their decoder steps run together (StepBatcher), one batch at
// a time on the pool.
//
// Secrets: the model file's bytes stay in their SecretBuffer (a sealed model) or their read-only
// mapping (a plain file, weights/mapped_file.h) for the engine's lifetime; the weights are read
// from there in place (a format-2 file's linear weights are stored in the kernels' panel
// layout, so no second copy is made at load except for a format-1 file); document text and ids
// never appear in errors or logs. The *_secret calls keep what the engine itself holds of the
// document (the prefixed text, the input ids, the best sequence and its decoded text) in secret
// memory (secure/secret_allocator.h: locked, out of core dumps, wiped when released), and wipe the
// tokenizer's and the search's own buffers of ids and text before releasing them; what the
// tokenizer and the search allocate inside (normalized text, beams) is wiped when released under
// the process-wide wipe-on-free (secure/wipe_on_free.h), which the sealsum binary enables for the
// commands that run the engine. The plain calls are the same path, copied out to ordinary memory.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "engine/decoding/generation.h"
#include "engine/kernels/threadpool.h"
#include "engine/models/seq2seq.h"
#include "engine/step_batcher.h"
#include "secure/secret_allocator.h"
#include "tokenizer/tokenizer.h"
#include "weights/model_file.h"

namespace sealsum::engine {

struct EngineOptions {
  int threads = 0;  // compute threads; <= 0: one per available CPU
  // Concurrent generate() calls share decoder steps (engine/step_batcher.h): each request's encoder
  // runs on its own thread while the others decode, and its decoder rows join the next shared step.
  // Results are bit-identical either way. false: one request at a time in the compute section.
  bool batch_decoding = false;
  // With batch_decoding: at most this many encoders run at once (the others wait their turn);
  // <= 0: the CPUs the pool leaves free (available CPUs - threads), at least 1. Encoders kept off
  // the decode pool's cores stop a burst of requests from encoding all at once and then decoding
  // all at once on the pool while the other cores idle (lockstep): admitted in turn, requests join
  // the shared steps one after another and finish one after another, so encoding overlaps decoding.
  int max_encoders = 0;
};

struct Timings {
  double tokenize_ms = 0;  // text -> ids (summarize only)
  double encode_ms = 0;    // encoder forward
  double decode_ms = 0;    // the whole search (all decoder steps)
  double detokenize_ms = 0;
  double total_ms = 0;
  int64_t input_tokens = 0;      // after truncation
  int64_t generated_tokens = 0;  // of the returned sequence, decoder start excluded
  int64_t decoder_steps = 0;     // step() calls of the search
};

struct GenerateResult {
  decoding::GenerateOutput output;
  Timings timings;
};

struct SummaryResult {
  std::string text;            // decoded best sequence (special tokens skipped)
  std::vector<int32_t> ids;    // best sequence, starting with the decoder start token
  double score = 0;            // sequences_scores (beam search); 0 for greedy
  bool truncated = false;      // the input was cut to max_input_tokens()
  Timings timings;
};

// SummaryResult in secret memory (see "Secrets" above): for sealed documents, from decryption to
// output sealing.
struct SecretSummary {
  secure::SecretString text;
  secure::SecretVector<int32_t> ids;
  double score = 0;
  bool truncated = false;
  Timings timings;
};

class Engine {
 public:
  // Maps read-only (weights::ModelFile::load) and verifies a plaintext model file.
  static Result<std::unique_ptr<Engine>> load(const std::string& path, const EngineOptions& options);
  // Adopts a model already in memory (e.g. decrypted from a sealed file).
  static Result<std::unique_ptr<Engine>> from_model_file(weights::ModelFile file, const EngineOptions& options);

  // Another engine on this engine's loaded model (the same weights, no copy; its own tokenizer,
  // thread pool and compute mutex), e.g. one per concurrent worker with a share of the threads.
  Result<std::unique_ptr<Engine>> sibling(const EngineOptions& options) const { return build(file_, options); }

  const models::ModelInfo& info() const { return model_->info(); }
  // The model itself (thread-safe, read-only), e.g. for tests that inspect encoder outputs.
  const models::Seq2SeqModel& model() const { return *model_; }
  const tok::Tokenizer& tokenizer() const { return *tokenizer_; }
  const weights::ModelFile& model_file() const { return *file_; }
  int threads() const { return pool_->size(); }
  // The decode scheduler when options.batch_decoding (its counters), else nullptr.
  const StepBatcher* batcher() const { return batcher_.get(); }
  // With batch_decoding: the encoder limit (EngineOptions::max_encoders, resolved) and the most
  // encoders seen running at once so far (both 0 without batch_decoding).
  int max_encoders() const { return encoder_limit_; }
  int encoders_peak() const;
  // Summarization defaults: the model's generation config, then task_specific_params.summarization
  // (what a transformers summarization pipeline uses).
  const decoding::GenerationParams& default_params() const { return defaults_; }
  // The model's own generation defaults, no task applied (what model.generate(ids) uses).
  const decoding::GenerationParams& model_params() const { return model_defaults_; }
  // Text put before the document: config.task_specific_params.summarization.prefix ("summarize: "
  // for T5), else nothing (BART; the top-level config.prefix is not used, see engine.cpp).
  const std::string& task_prefix() const { return prefix_; }
  // Inputs are truncated to this many tokens, keeping the final token (</s>): 512 for T5,
  // max_position_embeddings (1024) for BART.
  int64_t max_input_tokens() const { return max_input_tokens_; }

  // prefix + text -> ids, truncated. `truncated` (optional) tells whether ids were cut.
  std::vector<int32_t> prepare_input(std::string_view text, bool* truncated = nullptr) const;
  secure::SecretVector<int32_t> prepare_secret_input(std::string_view text, bool* truncated = nullptr) const;

  // Summarizes `text` with `params` (start from default_params()).
  Result<SummaryResult> summarize(std::string_view text, const decoding::GenerationParams& params) const;
  // The same, keeping the prefixed text, ids and summary in secret memory (sealed documents).
  Result<SecretSummary> summarize_secret(std::string_view text, const decoding::GenerationParams& params) const;
  // Runs the model on ids as given (no prefix, no truncation beyond the model's own limit).
  Result<GenerateResult> generate(std::span<const int32_t> input_ids, const decoding::GenerationParams& params) const;

 private:
  Engine() = default;
  static Result<std::unique_ptr<Engine>> build(std::shared_ptr<const weights::ModelFile> file,
                                               const EngineOptions& options);

  std::shared_ptr<const weights::ModelFile> file_;
  std::unique_ptr<models::Seq2SeqModel> model_;
  std::unique_ptr<tok::Tokenizer> tokenizer_;
  std::unique_ptr<kernels::ThreadPool> pool_;
  mutable std::mutex compute_mu_;  // guards pool_ (one caller at a time)
  std::unique_ptr<StepBatcher> batcher_;  // options.batch_decoding only
  // Encoder admission (batch_decoding only): encoders_running_ <= encoder_limit_, under encoder_mu_.
  class EncoderSlot;
  int encoder_limit_ = 0;
  mutable std::mutex encoder_mu_;
  mutable std::condition_variable encoder_cv_;
  mutable int encoders_running_ = 0, encoders_peak_ = 0;
  decoding::GenerationParams defaults_, model_defaults_;
  std::string prefix_;
  int64_t max_input_tokens_ = 0;  // set from the model at load
};

}  // namespace sealsum::engine
