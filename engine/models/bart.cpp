// BART (e.g. distilbart-cnn, bart-large-cnn), matching Hugging Face transformers 4.36
// modeling_bart.py (BartForConditionalGeneration) in float32.
//
// The architecture, as computed here (post-LN: the norm comes *after* each residual add):
//   encoder: h = shared[ids] · embed_scale + pos[2 + i]      (learned positions, offset 2)
//            h = LN_embedding(h)
//            per layer: h = LN_attn(h + O(Attn(h)))
//                       h = LN_final(h + fc2(act(fc1(h))))
//   decoder: x = shared[token] · embed_scale + pos[2 + t]     (t: this step's position)
//            x = LN_embedding(x)
//            per layer: x = LN_self(x + O(Attn_causal(x)))
//                       x = LN_cross(x + O(Attn(x, enc)))
//                       x = LN_final(x + fc2(act(fc1(x))))
//            logits = x · sharedᵀ + final_logits_bias        (lm_head tied to shared)
// embed_scale = sqrt(d_model) if config.scale_embedding else 1. Attention: q = q_proj(x) ·
// head_dim^-0.5 (after the bias, as HF does), every projection has a bias, no position bias.
// LayerNorm eps 1e-5 (nn.LayerNorm's default; BART does not configure it). Activation: config
// activation_function ("gelu" = exact erf GELU for BART checkpoints).
//
// Refused (with the config field named): model_type other than "bart" (mBART, Pegasus, ... differ
// in normalisation), normalize_before (pre-LN), add_final_layer_norm, normalize_embedding false,
// static_position_embeddings, add_bias_logits, activations we do not implement.
//
// Caches, scratch and the checks of every step: Seq2SeqSession (models/seq2seq_session.h); the
// decoder also stops at max_position_embeddings. Thread safety: see models/seq2seq.h.
#include <cmath>

#include "engine/layers/attention.h"
#include "engine/layers/feed_forward.h"
#include "engine/layers/linear.h"
#include "engine/layers/norm.h"
#include "engine/models/config_util.h"
#include "engine/models/seq2seq.h"
#include "engine/models/seq2seq_session.h"
#include "engine/ops/ops.h"

namespace sealsum::models {
namespace {

using json = nlohmann::json;
using kernels::ThreadPool;

constexpr int64_t kPositionOffset = 2;  // BartLearnedPositionalEmbedding.offset
constexpr float kLayerNormEps = 1e-5f;

struct BartConfig {
  int64_t vocab = 0, d_model = 0, max_positions = 0;
  int64_t enc_layers = 0, dec_layers = 0, enc_heads = 0, dec_heads = 0, enc_ffn = 0, dec_ffn = 0;
  float embed_scale = 1.0f;
  layers::Activation act = layers::Activation::kGelu;
};

Status refuse_if(const json& c, const std::string& field, bool refused_value, const std::string& why) {
  auto v = config_bool(c, field, !refused_value);
  if (!v.ok()) return v.status();
  if (*v == refused_value) {
    return unimplemented("model config: '" + field + "' = " + (refused_value ? "true" : "false") + " is not supported: " +
                         why);
  }
  return Status::ok();
}

Result<BartConfig> parse_config(const json& c) {
  BartConfig k;
  constexpr int64_t kBig = 1 << 20;
  SEALSUM_ASSIGN_OR_RETURN(std::string model_type, config_string(c, "model_type", std::string("bart")));
  if (model_type != "bart") {
    return unimplemented("model config: 'model_type' = '" + model_type +
                         "' is not supported by the BART implementation (only 'bart')");
  }
  SEALSUM_RETURN_IF_ERROR(refuse_if(c, "normalize_before", true, "this engine implements post-LN BART only"));
  SEALSUM_RETURN_IF_ERROR(refuse_if(c, "add_final_layer_norm", true, "this engine implements BART without final layer norms"));
  SEALSUM_RETURN_IF_ERROR(refuse_if(c, "normalize_embedding", false, "BART needs layernorm_embedding"));
  SEALSUM_RETURN_IF_ERROR(refuse_if(c, "static_position_embeddings", true, "only learned positions are implemented"));
  SEALSUM_RETURN_IF_ERROR(refuse_if(c, "add_bias_logits", true, "only final_logits_bias is implemented"));
  SEALSUM_ASSIGN_OR_RETURN(k.vocab, config_int(c, "vocab_size", std::nullopt, 1, 1 << 24));
  SEALSUM_ASSIGN_OR_RETURN(k.d_model, config_int(c, "d_model", std::nullopt, 1, kBig));
  SEALSUM_ASSIGN_OR_RETURN(k.max_positions, config_int(c, "max_position_embeddings", std::nullopt, 1, kBig));
  SEALSUM_ASSIGN_OR_RETURN(k.enc_layers, config_int(c, "encoder_layers", std::nullopt, 1, 1024));
  SEALSUM_ASSIGN_OR_RETURN(k.dec_layers, config_int(c, "decoder_layers", std::nullopt, 1, 1024));
  SEALSUM_ASSIGN_OR_RETURN(k.enc_heads, config_int(c, "encoder_attention_heads", std::nullopt, 1, 4096));
  SEALSUM_ASSIGN_OR_RETURN(k.dec_heads, config_int(c, "decoder_attention_heads", std::nullopt, 1, 4096));
  SEALSUM_ASSIGN_OR_RETURN(k.enc_ffn, config_int(c, "encoder_ffn_dim", std::nullopt, 1, kBig));
  SEALSUM_ASSIGN_OR_RETURN(k.dec_ffn, config_int(c, "decoder_ffn_dim", std::nullopt, 1, kBig));
  if (k.d_model % k.enc_heads != 0 || k.d_model % k.dec_heads != 0) {
    return invalid_argument("model config: 'd_model' must be divisible by encoder_attention_heads and "
                            "decoder_attention_heads");
  }
  SEALSUM_ASSIGN_OR_RETURN(bool scale, config_bool(c, "scale_embedding", false));
  k.embed_scale = scale ? static_cast<float>(std::sqrt(static_cast<double>(k.d_model))) : 1.0f;
  SEALSUM_ASSIGN_OR_RETURN(std::string act, config_string(c, "activation_function", std::string("gelu")));
  auto a = layers::activation_from_name(act);
  if (!a.ok()) return a.status().with_context("model config: field 'activation_function'");
  k.act = *a;
  return k;
}

struct EncoderLayer {
  layers::Linear qkv, o;  // q part of qkv already includes its bias; scaled after the projection
  layers::LayerNorm ln_attn, ln_final;
  layers::FeedForward ff;
};

struct DecoderLayer {
  layers::Linear qkv, o, cross_q, cross_kv, cross_o;
  layers::LayerNorm ln_self, ln_cross, ln_final;
  layers::FeedForward ff;
};

class BartModel;

class BartSession final : public Seq2SeqSession {
 public:
  BartSession(const BartModel& model, const EncoderOutput& enc, ThreadPool* pool, int64_t capacity);

 private:
  void forward(std::span<const int32_t> tokens, const Step& s, float* logits) override;

  const BartModel& m_;
};

class BartModel final : public Seq2SeqModel {
 public:
  static Result<std::unique_ptr<Seq2SeqModel>> load(std::shared_ptr<const weights::ModelFile> file);

  const ModelInfo& info() const override { return info_; }
  Result<std::shared_ptr<const EncoderOutput>> encode(std::span<const int32_t> ids, ThreadPool* pool) const override;
  Result<std::unique_ptr<DecoderSession>> start_session(std::shared_ptr<const EncoderOutput> enc, ThreadPool* pool,
                                                       int64_t capacity_hint) const override;

 private:
  friend class BartSession;
  Status build();
  // out[d] = shared[id] · embed_scale + positions[position + 2]
  void embed_one(int32_t id, const float* positions, int64_t position, float* out) const {
    const int64_t d = cfg_.d_model;
    shared_.row(id, d, out);
    if (cfg_.embed_scale != 1.0f) ops::scale(out, cfg_.embed_scale, d);
    ops::add(out, positions + (position + kPositionOffset) * d, d);
  }
  static void scale_q(float* qkv, int64_t rows, int64_t ld, int64_t width, float s) {
    for (int64_t r = 0; r < rows; ++r) ops::scale(qkv + r * ld, s, width);
  }

  std::shared_ptr<const weights::ModelFile> file_;
  BartConfig cfg_;
  ModelInfo info_;
  layers::Weight shared_;                              // [vocab, d], in file_ (panels or row-major)
  const float* enc_pos_ = nullptr, *dec_pos_ = nullptr;  // [max_positions + 2, d], in file_
  layers::LayerNorm enc_ln_embed_, dec_ln_embed_;
  std::vector<EncoderLayer> enc_;
  std::vector<DecoderLayer> dec_;
  layers::Linear lm_head_;  // with final_logits_bias as its bias
};

Result<std::unique_ptr<Seq2SeqModel>> BartModel::load(std::shared_ptr<const weights::ModelFile> file) {
  auto model = std::make_unique<BartModel>();
  model->file_ = std::move(file);
  SEALSUM_ASSIGN_OR_RETURN(model->cfg_, parse_config(model->file_->config()));
  SEALSUM_RETURN_IF_ERROR(model->build());
  return std::unique_ptr<Seq2SeqModel>(std::move(model));
}

Status BartModel::build() {
  const weights::ModelFile& f = *file_;
  const BartConfig& c = cfg_;
  const int64_t d = c.d_model;
  auto get = [&](const std::string& name, std::vector<int64_t> shape) { return tensor_f32(f, name, shape); };
  auto weight = [&](const std::string& name, std::vector<int64_t> shape) { return linear_weight(f, name, shape); };
  auto norm = [&](const std::string& p) -> Result<layers::LayerNorm> {
    SEALSUM_ASSIGN_OR_RETURN(const float* w, get(p + ".weight", {d}));
    SEALSUM_ASSIGN_OR_RETURN(const float* b, get(p + ".bias", {d}));
    return layers::LayerNorm(w, b, d, kLayerNormEps);
  };
  struct Proj {
    layers::Weight w;
    const float* b;
  };
  auto proj = [&](const std::string& p) -> Result<Proj> {
    SEALSUM_ASSIGN_OR_RETURN(layers::Weight w, weight(p + ".weight", {d, d}));
    SEALSUM_ASSIGN_OR_RETURN(const float* b, get(p + ".bias", {d}));
    return Proj{w, b};
  };
  auto ffn = [&](const std::string& p, int64_t dff) -> Result<layers::FeedForward> {
    SEALSUM_ASSIGN_OR_RETURN(layers::Weight w1, weight(p + "fc1.weight", {dff, d}));
    SEALSUM_ASSIGN_OR_RETURN(const float* b1, get(p + "fc1.bias", {dff}));
    SEALSUM_ASSIGN_OR_RETURN(layers::Weight w2, weight(p + "fc2.weight", {d, dff}));
    SEALSUM_ASSIGN_OR_RETURN(const float* b2, get(p + "fc2.bias", {d}));
    return layers::FeedForward::plain(c.act, w1, b1, w2, b2, d, dff);
  };
  auto qkv = [&](const std::string& p) -> Result<layers::Linear> {
    SEALSUM_ASSIGN_OR_RETURN(Proj q, proj(p + "q_proj"));
    SEALSUM_ASSIGN_OR_RETURN(Proj k, proj(p + "k_proj"));
    SEALSUM_ASSIGN_OR_RETURN(Proj v, proj(p + "v_proj"));
    const layers::Linear::Part parts[] = {{q.w, d, q.b}, {k.w, d, k.b}, {v.w, d, v.b}};
    return layers::Linear::fused(parts, d);
  };
  auto out = [&](const std::string& p) -> Result<layers::Linear> {
    SEALSUM_ASSIGN_OR_RETURN(Proj o, proj(p + "out_proj"));
    return layers::Linear(o.w, d, d, o.b);
  };

  SEALSUM_ASSIGN_OR_RETURN(shared_, weight("model.shared.weight", {c.vocab, d}));
  SEALSUM_ASSIGN_OR_RETURN(enc_pos_, get("model.encoder.embed_positions.weight", {c.max_positions + kPositionOffset, d}));
  SEALSUM_ASSIGN_OR_RETURN(dec_pos_, get("model.decoder.embed_positions.weight", {c.max_positions + kPositionOffset, d}));
  SEALSUM_ASSIGN_OR_RETURN(enc_ln_embed_, norm("model.encoder.layernorm_embedding"));
  SEALSUM_ASSIGN_OR_RETURN(dec_ln_embed_, norm("model.decoder.layernorm_embedding"));
  for (int64_t i = 0; i < c.enc_layers; ++i) {
    const std::string p = "model.encoder.layers." + std::to_string(i) + ".";
    EncoderLayer l;
    SEALSUM_ASSIGN_OR_RETURN(l.qkv, qkv(p + "self_attn."));
    SEALSUM_ASSIGN_OR_RETURN(l.o, out(p + "self_attn."));
    SEALSUM_ASSIGN_OR_RETURN(l.ln_attn, norm(p + "self_attn_layer_norm"));
    SEALSUM_ASSIGN_OR_RETURN(l.ff, ffn(p, c.enc_ffn));
    SEALSUM_ASSIGN_OR_RETURN(l.ln_final, norm(p + "final_layer_norm"));
    enc_.push_back(std::move(l));
  }
  for (int64_t i = 0; i < c.dec_layers; ++i) {
    const std::string p = "model.decoder.layers." + std::to_string(i) + ".";
    DecoderLayer l;
    SEALSUM_ASSIGN_OR_RETURN(l.qkv, qkv(p + "self_attn."));
    SEALSUM_ASSIGN_OR_RETURN(l.o, out(p + "self_attn."));
    SEALSUM_ASSIGN_OR_RETURN(l.ln_self, norm(p + "self_attn_layer_norm"));
    SEALSUM_ASSIGN_OR_RETURN(Proj q, proj(p + "encoder_attn.q_proj"));
    SEALSUM_ASSIGN_OR_RETURN(Proj k, proj(p + "encoder_attn.k_proj"));
    SEALSUM_ASSIGN_OR_RETURN(Proj v, proj(p + "encoder_attn.v_proj"));
    l.cross_q = layers::Linear(q.w, d, d, q.b);
    const layers::Linear::Part kv[] = {{k.w, d, k.b}, {v.w, d, v.b}};
    l.cross_kv = layers::Linear::fused(kv, d);
    SEALSUM_ASSIGN_OR_RETURN(l.cross_o, out(p + "encoder_attn."));
    SEALSUM_ASSIGN_OR_RETURN(l.ln_cross, norm(p + "encoder_attn_layer_norm"));
    SEALSUM_ASSIGN_OR_RETURN(l.ff, ffn(p, c.dec_ffn));
    SEALSUM_ASSIGN_OR_RETURN(l.ln_final, norm(p + "final_layer_norm"));
    dec_.push_back(std::move(l));
  }
  SEALSUM_ASSIGN_OR_RETURN(layers::Weight head, weight("lm_head.weight", {c.vocab, d}));
  SEALSUM_ASSIGN_OR_RETURN(const float* flb, get("final_logits_bias", {1, c.vocab}));
  lm_head_ = layers::Linear(head, c.vocab, d, flb);

  info_.architecture = "bart";
  info_.d_model = d;
  info_.vocab_size = c.vocab;
  info_.max_input_tokens = c.max_positions;
  info_.encoder_layers = c.enc_layers;
  info_.decoder_layers = c.dec_layers;
  return Status::ok();
}

Result<std::shared_ptr<const EncoderOutput>> BartModel::encode(std::span<const int32_t> ids, ThreadPool* pool) const {
  SEALSUM_RETURN_IF_ERROR(check_encoder_input(ids, info_));
  const int64_t L = static_cast<int64_t>(ids.size());
  const BartConfig& c = cfg_;
  const int64_t d = c.d_model, H = c.enc_heads, dh = d / H;
  const float scaling = static_cast<float>(std::pow(static_cast<double>(dh), -0.5));

  auto out = std::make_shared<EncoderOutput>();
  out->length = L;
  out->d_model = d;
  out->hidden.resize(static_cast<size_t>(L * d));
  float* h = out->hidden.data();
  for (int64_t i = 0; i < L; ++i) embed_one(ids[static_cast<size_t>(i)], enc_pos_, i, h + i * d);
  enc_ln_embed_.forward(h, L, h);

  const ScratchArena scratch({L * d, L * 3 * d, L * d, enc_.empty() ? 0 : enc_[0].ff.scratch_floats(L)});
  float *tmp = scratch[0], *qkv = scratch[1], *ctx = scratch[2], *ff = scratch[3];
  for (const EncoderLayer& l : enc_) {
    l.qkv.forward(h, L, qkv, pool);
    scale_q(qkv, L, 3 * d, d, scaling);
    layers::self_attention(qkv, 3 * d, qkv + d, 3 * d, qkv + 2 * d, 3 * d, L, H, dh, 1.0f, nullptr, ctx, d, pool);
    l.o.forward(ctx, L, tmp, pool);
    ops::add(h, tmp, L * d);
    l.ln_attn.forward(h, L, h);
    l.ff.forward(h, L, tmp, ff, pool);
    ops::add(h, tmp, L * d);
    l.ln_final.forward(h, L, h);
  }
  return std::shared_ptr<const EncoderOutput>(std::move(out));
}

Result<std::unique_ptr<DecoderSession>> BartModel::start_session(std::shared_ptr<const EncoderOutput> enc,
                                                                ThreadPool* pool, int64_t capacity_hint) const {
  SEALSUM_RETURN_IF_ERROR(check_encoder_output(enc.get(), cfg_.d_model));
  return std::unique_ptr<DecoderSession>(std::make_unique<BartSession>(*this, *enc, pool, capacity_hint));
}

BartSession::BartSession(const BartModel& model, const EncoderOutput& enc, ThreadPool* pool, int64_t capacity)
    : Seq2SeqSession({.vocab = model.cfg_.vocab,
                      .d_model = model.cfg_.d_model,
                      .width = model.cfg_.d_model,
                      .heads = model.cfg_.dec_heads,
                      .max_positions = model.cfg_.max_positions,
                      .model = &model},
                     model.dec_, enc, pool, capacity),
      m_(model) {}

// One decoder position for every row of every segment (BartDecoder.forward with past_key_values, then lm_head).
void BartSession::forward(std::span<const int32_t> tokens, const Step& s, float* logits) {
  const BartConfig& c = m_.cfg_;
  const int64_t R = s.rows;
  const int64_t d = c.d_model, H = c.dec_heads, dh = d / H;
  const float scaling = static_cast<float>(std::pow(static_cast<double>(dh), -0.5));
  float* x = s.x;

  // Every row of a segment is at its position t (one token per step: HF's past_key_values_length).
  for (const Segment& g : s.segments) {
    for (int64_t r = g.row0; r < g.row0 + g.rows; ++r) {
      m_.embed_one(tokens[static_cast<size_t>(r)], m_.dec_pos_, g.t, x + r * d);
    }
  }
  m_.dec_ln_embed_.forward(x, R, x);

  for (size_t l = 0; l < m_.dec_.size(); ++l) {
    const DecoderLayer& blk = m_.dec_[l];
    blk.qkv.forward(x, R, s.qkv, s.pool);
    BartModel::scale_q(s.qkv, R, 3 * d, d, scaling);
    self_attention(s, s.qkv, static_cast<int64_t>(l), H, dh, {}, s.ctx);
    blk.o.forward(s.ctx, R, s.tmp, s.pool);
    ops::add(x, s.tmp, R * d);
    blk.ln_self.forward(x, R, x);

    blk.cross_q.forward(x, R, s.q, s.pool);
    BartModel::scale_q(s.q, R, d, d, scaling);
    cross_attention(s, s.q, static_cast<int64_t>(l), H, dh, s.ctx);
    blk.cross_o.forward(s.ctx, R, s.tmp, s.pool);
    ops::add(x, s.tmp, R * d);
    blk.ln_cross.forward(x, R, x);

    blk.ff.forward(x, R, s.tmp, s.ff, s.pool);
    ops::add(x, s.tmp, R * d);
    blk.ln_final.forward(x, R, x);
  }
  m_.lm_head_.forward(x, R, logits, s.pool);
}

}  // namespace

Result<std::unique_ptr<Seq2SeqModel>> load_bart(std::shared_ptr<const weights::ModelFile> file) {
  return BartModel::load(std::move(file));
}

}  // namespace sealsum::models
