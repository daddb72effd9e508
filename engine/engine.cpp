#include "engine/engine.h"

#include <algorithm>
#include <chrono>
#include <optional>

#include "engine/decoding/generation_config.h"
#include "secure/secret_buffer.h"
#include "weights/tokenizer_blob.h"

namespace sealsum::engine {
namespace {

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

// The document prefix: config.task_specific_params.summarization.prefix ("summarize: " for T5), or
// none. Deliberately not the top-level config.prefix that a transformers pipeline would fall back
// to (distilbart-cnn's " "): the reference inputs (shared/golden) are tokenized without it.
std::string summarization_prefix(const nlohmann::json& config) {
  if (!config.is_object()) return "";
  auto tsp = config.find("task_specific_params");
  if (tsp == config.end() || !tsp->is_object()) return "";
  auto task = tsp->find("summarization");
  if (task == tsp->end() || !task->is_object()) return "";
  auto prefix = task->find("prefix");
  if (prefix == task->end() || !prefix->is_string()) return "";
  return prefix->get<std::string>();
}

// Counts step() calls, for the timings.
class CountingSession final : public decoding::DecoderSession {
 public:
  explicit CountingSession(decoding::DecoderSession& inner) : inner_(inner) {}
  int64_t vocab_size() const override { return inner_.vocab_size(); }
  int64_t rows() const override { return inner_.rows(); }
  Status step(std::span<const int32_t> tokens, float* logits) override {
    ++steps_;
    return inner_.step(tokens, logits);
  }
  Status reorder(std::span<const int32_t> src) override { return inner_.reorder(src); }
  int64_t steps() const { return steps_; }

 private:
  decoding::DecoderSession& inner_;
  int64_t steps_ = 0;
};

}  // namespace

Result<std::unique_ptr<Engine>> Engine::load(const std::string& path, const EngineOptions& options) {
  auto file = weights::ModelFile::load(path);
  if (!file.ok()) return file.status();
  return build(std::make_shared<const weights::ModelFile>(std::move(file).value()), options);
}

Result<std::unique_ptr<Engine>> Engine::from_model_file(weights::ModelFile file, const EngineOptions& options) {
  return build(std::make_shared<const weights::ModelFile>(std::move(file)), options);
}

Result<std::unique_ptr<Engine>> Engine::build(std::shared_ptr<const weights::ModelFile> file,
                                              const EngineOptions& options) {
  std::unique_ptr<Engine> e(new Engine());
  e->file_ = file;
  // Generation defaults first: a config we cannot honour fails before the (slower) weight packing.
  const nlohmann::json& gen = file->generation_config();
  const nlohmann::json gen_or_null = (gen.is_object() && gen.empty()) ? nlohmann::json() : gen;
  auto defaults = decoding::generation_defaults(file->config(), gen_or_null, "summarization");
  if (!defaults.ok()) return defaults.status().with_context("model generation settings");
  e->defaults_ = defaults->params;
  e->prefix_ = summarization_prefix(file->config());
  auto plain = decoding::generation_defaults(file->config(), gen_or_null, "");
  if (!plain.ok()) return plain.status().with_context("model generation settings");
  e->model_defaults_ = plain->params;

  SEALSUM_ASSIGN_OR_RETURN(e->model_, models::load_model(file));
  auto source = weights::tokenizer_source(*file);
  if (!source.ok()) return source.status().with_context("model tokenizer");
  auto tok = tok::load_tokenizer(*source);
  if (!tok.ok()) return tok.status().with_context("model tokenizer");
  e->tokenizer_ = std::move(tok).value();
  e->max_input_tokens_ = e->model_->info().max_input_tokens;  // the model's one input limit
  e->pool_ = std::make_unique<kernels::ThreadPool>(options.threads);
  if (options.batch_decoding) {
    e->batcher_ = std::make_unique<StepBatcher>(e->pool_.get(), e->compute_mu_);
    e->encoder_limit_ = options.max_encoders > 0 ? options.max_encoders
                                                 : std::max(1, kernels::available_cpus() - e->pool_->size());
  }
  return e;
}

std::vector<int32_t> Engine::prepare_input(std::string_view text, bool* truncated) const {
  const secure::SecretVector<int32_t> ids = prepare_secret_input(text, truncated);
  return std::vector<int32_t>(ids.begin(), ids.end());
}

// The prefixed text is built in secret memory (never a plain std::string); the tokenizer stands
// alone (no allocator parameter), so its result is copied into secret memory and wiped here.
secure::SecretVector<int32_t> Engine::prepare_secret_input(std::string_view text, bool* truncated) const {
  std::vector<int32_t> encoded;
  if (prefix_.empty()) {
    encoded = tokenizer_->encode(text);
  } else {
    secure::SecretString full;
    full.reserve(std::max<size_t>(16, prefix_.size() + text.size()));  // never the small-string buffer
    full.append(prefix_);
    full.append(text);
    encoded = tokenizer_->encode(secure::view(full));
  }
  const bool cut = static_cast<int64_t>(encoded.size()) > max_input_tokens_;
  secure::SecretVector<int32_t> ids;
  if (cut) {
    // Keep the first max−1 tokens and the final one (</s>), as tokenizer(truncation=True) does.
    ids.reserve(static_cast<size_t>(max_input_tokens_));
    ids.assign(encoded.begin(), encoded.begin() + (max_input_tokens_ - 1));
    ids.push_back(encoded.back());
  } else {
    ids.assign(encoded.begin(), encoded.end());
  }
  secure::wipe(encoded.data(), encoded.size() * sizeof(int32_t));
  if (truncated != nullptr) *truncated = cut;
  return ids;
}

// One of encoder_limit_ places to encode in (batch_decoding): waits for a free one; RAII.
class Engine::EncoderSlot {
 public:
  explicit EncoderSlot(const Engine& e) : e_(e) {
    std::unique_lock<std::mutex> lk(e_.encoder_mu_);
    e_.encoder_cv_.wait(lk, [&] { return e_.encoders_running_ < e_.encoder_limit_; });
    e_.encoders_peak_ = std::max(e_.encoders_peak_, ++e_.encoders_running_);
  }
  ~EncoderSlot() {
    {
      std::lock_guard<std::mutex> lk(e_.encoder_mu_);
      --e_.encoders_running_;
    }
    e_.encoder_cv_.notify_one();
  }
  EncoderSlot(const EncoderSlot&) = delete;
  EncoderSlot& operator=(const EncoderSlot&) = delete;

 private:
  const Engine& e_;
};

int Engine::encoders_peak() const {
  std::lock_guard<std::mutex> lk(encoder_mu_);
  return encoders_peak_;
}

Result<GenerateResult> Engine::generate(std::span<const int32_t> input_ids,
                                        const decoding::GenerationParams& params) const {
  SEALSUM_RETURN_IF_ERROR(decoding::validate_params(params, info().vocab_size));
  const auto t0 = Clock::now();
  GenerateResult r;
  // Without a batcher the whole encode + decode holds the pool. With one, the encoder (and the
  // cross-attention keys/values) run on the pool only when nobody is decoding and the pool is free
  // (so an encode never stalls the shared steps), else on this thread alone (the same bits: results
  // do not depend on the thread count); the steps go through the batcher. With a batcher, the
  // encode waits for one of max_encoders() places first (see EngineOptions::max_encoders).
  std::optional<EncoderSlot> slot;
  if (batcher_ != nullptr) slot.emplace(*this);
  std::unique_lock<std::mutex> lock(compute_mu_, std::defer_lock);
  if (batcher_ == nullptr) {
    lock.lock();
  } else if (pool_->size() > 1 && batcher_->attached() == 0) {
    (void)lock.try_lock();
  }
  kernels::ThreadPool* pool = lock.owns_lock() ? pool_.get() : nullptr;
  const auto t_enc = Clock::now();
  SEALSUM_ASSIGN_OR_RETURN(auto enc, model_->encode(input_ids, pool));
  r.timings.encode_ms = ms_since(t_enc);
  const auto t_dec = Clock::now();
  SEALSUM_ASSIGN_OR_RETURN(auto session,
                           model_->start_session(std::move(enc), pool, decoding::effective_max_length(params)));
  slot.reset();
  std::unique_ptr<models::DecoderSession> attached;
  if (batcher_ != nullptr) {
    if (lock.owns_lock()) lock.unlock();
    attached = batcher_->attach(*session);
  }
  CountingSession counting(attached != nullptr ? *attached : *session);
  auto searched = decoding::generate(counting, params);
  attached.reset();  // leaves the shared steps before anything else
  SEALSUM_ASSIGN_OR_RETURN(r.output, std::move(searched));
  r.timings.decode_ms = ms_since(t_dec);
  r.timings.decoder_steps = counting.steps();
  r.timings.input_tokens = static_cast<int64_t>(input_ids.size());
  if (!r.output.sequences.empty() && !r.output.sequences[0].empty()) {
    r.timings.generated_tokens = static_cast<int64_t>(r.output.sequences[0].size()) - 1;
  }
  r.timings.total_ms = ms_since(t0);
  return r;
}

Result<SummaryResult> Engine::summarize(std::string_view text, const decoding::GenerationParams& params) const {
  SEALSUM_ASSIGN_OR_RETURN(SecretSummary secret, summarize_secret(text, params));
  SummaryResult s;
  s.text.assign(secret.text.begin(), secret.text.end());
  s.ids.assign(secret.ids.begin(), secret.ids.end());
  s.score = secret.score;
  s.truncated = secret.truncated;
  s.timings = secret.timings;
  return s;
}

Result<SecretSummary> Engine::summarize_secret(std::string_view text, const decoding::GenerationParams& params) const {
  const auto t0 = Clock::now();
  SecretSummary s;
  const secure::SecretVector<int32_t> ids = prepare_secret_input(text, &s.truncated);
  const double tokenize_ms = ms_since(t0);
  SEALSUM_ASSIGN_OR_RETURN(GenerateResult g, generate(ids, params));
  // The search's sequences are ordinary vectors (decoding/ takes no allocator): wiped once copied.
  auto wipe_sequences = [&g] {
    for (auto& seq : g.output.sequences) secure::wipe(seq.data(), seq.size() * sizeof(int32_t));
  };
  if (g.output.sequences.empty()) return internal_error("summarize: the search returned no sequence");
  const auto t_detok = Clock::now();
  s.ids.assign(g.output.sequences[0].begin(), g.output.sequences[0].end());
  wipe_sequences();
  std::string decoded = tokenizer_->decode(s.ids);
  s.text.reserve(std::max<size_t>(16, decoded.size()));  // never the small-string buffer
  s.text.assign(decoded.begin(), decoded.end());
  secure::wipe(decoded.data(), decoded.size());
  if (!g.output.scores.empty()) s.score = g.output.scores[0];
  s.timings = g.timings;
  s.timings.tokenize_ms = tokenize_ms;
  s.timings.detokenize_ms = ms_since(t_detok);
  s.timings.total_ms = ms_since(t0);
  return s;
}

}  // namespace sealsum::engine
