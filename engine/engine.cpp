#include "engine/engine.h"

#include <algorithm>
#include <chrono>

#include "engine/decoding/generation_config.h"
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
  return e;
}

std::vector<int32_t> Engine::prepare_input(std::string_view text, bool* truncated) const {
  std::vector<int32_t> ids;
  if (prefix_.empty()) {
    ids = tokenizer_->encode(text);
  } else {
    std::string full = prefix_;
    full.append(text);
    ids = tokenizer_->encode(full);
  }
  const bool cut = static_cast<int64_t>(ids.size()) > max_input_tokens_;
  if (cut) {
    // Keep the first max−1 tokens and the final one (</s>), as tokenizer(truncation=True) does.
    const int32_t last = ids.back();
    ids.resize(static_cast<size_t>(max_input_tokens_ - 1));
    ids.push_back(last);
  }
  if (truncated != nullptr) *truncated = cut;
  return ids;
}

Result<GenerateResult> Engine::generate(std::span<const int32_t> input_ids,
                                        const decoding::GenerationParams& params) const {
  SEALSUM_RETURN_IF_ERROR(decoding::validate_params(params, info().vocab_size));
  const auto t0 = Clock::now();
  GenerateResult r;
  std::lock_guard<std::mutex> lock(compute_mu_);
  const auto t_enc = Clock::now();
  SEALSUM_ASSIGN_OR_RETURN(auto enc, model_->encode(input_ids, pool_.get()));
  r.timings.encode_ms = ms_since(t_enc);
  const auto t_dec = Clock::now();
  SEALSUM_ASSIGN_OR_RETURN(auto session,
                           model_->start_session(std::move(enc), pool_.get(), decoding::effective_max_length(params)));
  CountingSession counting(*session);
  SEALSUM_ASSIGN_OR_RETURN(r.output, decoding::generate(counting, params));
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
  const auto t0 = Clock::now();
  SummaryResult s;
  const std::vector<int32_t> ids = prepare_input(text, &s.truncated);
  const double tokenize_ms = ms_since(t0);
  SEALSUM_ASSIGN_OR_RETURN(GenerateResult g, generate(ids, params));
  if (g.output.sequences.empty()) return internal_error("summarize: the search returned no sequence");
  const auto t_detok = Clock::now();
  s.ids = std::move(g.output.sequences[0]);
  s.text = tokenizer_->decode(s.ids);
  if (!g.output.scores.empty()) s.score = g.output.scores[0];
  s.timings = g.timings;
  s.timings.tokenize_ms = tokenize_ms;
  s.timings.detokenize_ms = ms_since(t_detok);
  s.timings.total_ms = ms_since(t0);
  return s;
}

}  // namespace sealsum::engine
