// load_model (dispatch on the model file's architecture) and the machinery every model shares
// (models/seq2seq_session.h): input checks and the decoder session base.
#include "engine/models/seq2seq.h"

#include <algorithm>
#include <string>

#include "engine/layers/attention.h"
#include "engine/models/config_util.h"
#include "engine/models/seq2seq_session.h"
#include "weights/model_file.h"

namespace sealsum::models {

Result<std::unique_ptr<Seq2SeqModel>> load_model(std::shared_ptr<const weights::ModelFile> file) {
  if (file == nullptr) return invalid_argument("load_model: no model file");
  const std::string& arch = file->architecture();
  if (arch == "t5") return load_t5(std::move(file));
  if (arch == "bart") return load_bart(std::move(file));
  return unimplemented("model architecture '" + arch + "' is not supported (supported: t5, bart)");
}

Status check_encoder_input(std::span<const int32_t> ids, const ModelInfo& info) {
  const int64_t n = static_cast<int64_t>(ids.size());
  if (n == 0) return invalid_argument("encode: the input has no tokens");
  if (n > info.max_input_tokens) {
    const std::string limit = std::to_string(info.max_input_tokens);
    return invalid_argument("encode: " + std::to_string(n) + " input tokens exceed the " + info.architecture +
                            " model's limit of " + limit + "; truncate the input to at most " + limit + " tokens");
  }
  return check_token_ids(ids, info.vocab_size, "input");
}

Status check_encoder_output(const EncoderOutput* enc, int64_t d_model) {
  if (enc == nullptr || enc->length <= 0 || enc->d_model != d_model ||
      static_cast<int64_t>(enc->hidden.size()) != enc->length * enc->d_model) {
    return invalid_argument("start_session: the encoder output does not come from this model");
  }
  return Status::ok();
}

ScratchArena::ScratchArena(std::initializer_list<int64_t> sizes) {
  const auto rounded = [](int64_t n) { return static_cast<size_t>((std::max<int64_t>(n, 0) + 15) / 16 * 16); };
  size_t total = 0;
  for (int64_t n : sizes) total += rounded(n);
  store_ = kernels::aligned_floats(total);
  size_t at = 0;
  for (int64_t n : sizes) {
    parts_.push_back(store_.get() + at);
    at += rounded(n);
  }
}

float* grow(GrowBuffer& v, int64_t n) {
  const int64_t want = std::max<int64_t>(n, 1);  // size 0 (nothing yet) is always below it
  if (v.size < want) {
    v.data = kernels::aligned_floats(static_cast<size_t>(want));
    v.size = want;
  }
  return v.data.get();
}

Seq2SeqSession::Seq2SeqSession(const DecoderShape& shape, int64_t layers, const layers::FeedForward& ff,
                               int64_t enc_length, kernels::ThreadPool* pool, int64_t capacity)
    : shape_(shape),
      ff_(&ff),
      pool_(pool),
      enc_length_(enc_length),
      cache_(layers, shape.width, capacity),
      cross_kv_(static_cast<size_t>(layers)) {}

void Seq2SeqSession::set_cross_kv(size_t layer, const layers::Linear& proj, const EncoderOutput& enc) {
  // Projected row-major, then regrouped head by head (layers::make_cross_kv) for streaming reads;
  // bf16 for a quantized model (its precision class; f32 models keep the reference's bits).
  const kernels::AlignedFloats rows = kernels::aligned_floats(static_cast<size_t>(enc.length * 2 * shape_.width));
  proj.forward(enc.hidden.data(), enc.length, rows.get(), pool_);
  const auto precision = proj.quantized() ? layers::CrossKvPrecision::kBF16 : layers::CrossKvPrecision::kF32;
  cross_kv_[layer] =
      layers::make_cross_kv(rows.get(), enc.length, shape_.heads, shape_.width / shape_.heads, precision);
}

Status Seq2SeqSession::check_step(std::span<const int32_t> tokens) const {
  const int64_t R = rows();
  if (static_cast<int64_t>(tokens.size()) != R) {
    return invalid_argument("step: got " + std::to_string(tokens.size()) + " tokens for " + std::to_string(R) +
                            " rows");
  }
  SEALSUM_RETURN_IF_ERROR(check_token_ids(tokens, shape_.vocab, "decoder"));
  if (shape_.max_positions > 0 && cache_.length() >= shape_.max_positions) {
    return invalid_argument("step: the decoder reached max_position_embeddings = " +
                            std::to_string(shape_.max_positions) + " positions; lower max_length");
  }
  return Status::ok();
}

Status Seq2SeqSession::step(std::span<const int32_t> tokens, float* logits) {
  Seq2SeqSession* self = this;
  return step_many(std::span<Seq2SeqSession* const>(&self, 1), std::span<const std::span<const int32_t>>(&tokens, 1),
                   std::span<float* const>(&logits, 1), pool_);
}

Status Seq2SeqSession::step_many(std::span<Seq2SeqSession* const> sessions,
                                 std::span<const std::span<const int32_t>> tokens, std::span<float* const> logits,
                                 kernels::ThreadPool* pool) {
  const size_t n = sessions.size();
  if (n == 0 || tokens.size() != n || logits.size() != n) {
    return invalid_argument("step_sessions: give one token list and one logits buffer per session (and a session)");
  }
  Seq2SeqSession& lead = *sessions[0];
  for (size_t i = 0; i < n; ++i) {
    const Seq2SeqSession* s = sessions[i];
    // Built only on failure: this loop runs every decoder step.
    auto which = [i] { return "session " + std::to_string(i) + ": "; };
    if (s == nullptr || s->shape_.model != lead.shape_.model) {
      return invalid_argument(which() + "not a decoder session of the same model as session 0");
    }
    for (size_t j = 0; j < i; ++j) {
      if (sessions[j] == s) return invalid_argument(which() + "the same session is given twice");
    }
    Status st = s->check_step(tokens[i]);
    if (!st.is_ok()) return st.with_context(which());
  }
  // Segments back to back; the tokens of a multi-session step gathered into one list.
  lead.segments_.clear();
  int64_t R = 0, scores = 0;
  const int64_t dh = lead.shape_.width / lead.shape_.heads;
  for (size_t i = 0; i < n; ++i) {
    Seq2SeqSession* s = sessions[i];
    s->cache_.reserve_next();
    const int64_t r = s->rows(), t = s->cache_.length();
    lead.segments_.push_back(Segment{s, R, r, t});
    scores = std::max(scores, std::max(t + 1, r * (s->enc_length_ + dh)));
    R += r;
  }
  std::span<const int32_t> all = tokens[0];
  if (n > 1) {
    lead.tokens_.clear();
    for (const auto& tk : tokens) lead.tokens_.insert(lead.tokens_.end(), tk.begin(), tk.end());
    all = lead.tokens_;
  }
  Step st;
  st.rows = R;
  st.segments = lead.segments_;
  st.pool = pool;
  const int64_t d = lead.shape_.d_model, w = lead.shape_.width, V = lead.shape_.vocab;
  st.x = grow(lead.x_, R * d);
  st.tmp = grow(lead.tmp_, R * d);
  st.qkv = grow(lead.qkv_, R * 3 * w);
  st.q = grow(lead.q_, R * w);
  st.ctx = grow(lead.ctx_, R * w);
  st.ff = grow(lead.ff_scratch_, lead.ff_->scratch_floats(R));
  st.scores = grow(lead.scores_, scores);
  float* out = n == 1 ? logits[0] : grow(lead.logits_, R * V);
  lead.forward(all, st, out);
  for (size_t i = 0; i < n; ++i) {
    const Segment& g = lead.segments_[i];
    if (n > 1) std::copy_n(out + g.row0 * V, g.rows * V, logits[i]);
    sessions[i]->cache_.advance();
  }
  return Status::ok();
}

void Seq2SeqSession::self_attention(const Step& s, const float* qkv, int64_t layer, int64_t heads, int64_t dh,
                                    std::span<const float* const> biases, float* ctx) {
  const int64_t width = heads * dh;
  for (size_t i = 0; i < s.segments.size(); ++i) {
    const Segment& g = s.segments[i];
    layers::decoder_self_attention(qkv + g.row0 * 3 * width, g.rows, g.session->cache_, layer, g.t, heads, dh,
                                   biases.empty() ? nullptr : biases[i], s.scores, ctx + g.row0 * width);
  }
}

void Seq2SeqSession::cross_attention(const Step& s, const float* q, int64_t layer, int64_t heads, int64_t dh,
                                     float* ctx) {
  const int64_t width = heads * dh;
  for (const Segment& g : s.segments) {
    layers::cross_attention(q + g.row0 * width, g.rows, g.session->cross_kv_[static_cast<size_t>(layer)], heads, dh,
                            s.scores, ctx + g.row0 * width);
  }
}

Status step_sessions(std::span<DecoderSession* const> sessions, std::span<const std::span<const int32_t>> tokens,
                     std::span<float* const> logits, kernels::ThreadPool* pool) {
  std::vector<Seq2SeqSession*> own(sessions.size());
  for (size_t i = 0; i < sessions.size(); ++i) {
    own[i] = dynamic_cast<Seq2SeqSession*>(sessions[i]);
    if (own[i] == nullptr) {
      return invalid_argument("step_sessions: session " + std::to_string(i) + " is not a model's decoder session");
    }
  }
  return Seq2SeqSession::step_many(own, tokens, logits, pool);
}

}  // namespace sealsum::models
