// T5 (v1.0, e.g. t5-small) and T5 v1.1 / FLAN-T5, matching Hugging Face transformers 4.36
// modeling_t5.py (T5ForConditionalGeneration) in float32.
//
// The architecture, as computed here:
//   encoder: h = shared[ids]                        (no embedding scaling, no absolute positions)
//            per block: h += O(Attn(RMS(h)))         (self-attention + relative position bias)
//                       h += FFN(RMS(h))
//            h = RMS_final(h)
//   decoder: x = shared[token]                      (one position per step, cached)
//            per block: x += O(Attn_causal(RMS(x)))  (self-attention over the cache + causal bias)
//                       x += O(Attn(RMS(x), enc))    (cross-attention, no position bias)
//                       x += FFN(RMS(x))
//            x = RMS_final(x); if tie_word_embeddings: x *= d_model^-0.5
//            logits = lm_head(x)                     (lm_head = shared when tied)
// T5 attention has no 1/sqrt(d_kv) factor (its initialisation folds it into q). RMS is
// T5LayerNorm: x / sqrt(mean(x²) + eps) · w, no mean subtraction, no bias.
//
// Relative position bias: score (i, j) gets table[bucket(j − i)][head], with the table of block 0
// reused by every block (HF passes block 0's position_bias down the stack). The encoder's buckets
// are bidirectional (half of them for j > i); the decoder's are causal (only j <= i, positive
// offsets clamp to 0). Offsets below num_buckets/4 (bidirectional; /2 causal) get a bucket each;
// larger ones share logarithmically wider buckets up to max_distance. The logarithm is evaluated
// in float32 exactly as torch does it, because the bucket boundary depends on float rounding.
// Cross-attention has no position bias (HF adds a zero bias there).
//
// FFN: feed_forward_proj "relu" (v1.0: wo(relu(wi x))) or "gated-gelu" (v1.1: wo(gelu_new(wi_0 x)
// · wi_1 x)); HF's general "gated-ACT" / "ACT" forms are accepted for the activations we have.
//
// Caches, scratch and the checks of every step: Seq2SeqSession (models/seq2seq_session.h).
// Thread safety: see models/seq2seq.h.
#include <cmath>

#include "engine/layers/attention.h"
#include "engine/layers/feed_forward.h"
#include "engine/layers/linear.h"
#include "engine/layers/norm.h"
#include "engine/models/config_util.h"
#include "engine/models/seq2seq.h"
#include "engine/models/seq2seq_session.h"
#include "engine/models/t5.h"
#include "engine/ops/ops.h"

namespace sealsum::models {

int64_t t5_relative_bucket(int64_t offset, bool bidirectional, int64_t num_buckets, int64_t max_distance) {
  int64_t bucket = 0;
  int64_t n = num_buckets;
  int64_t rel = offset;
  if (bidirectional) {
    n /= 2;
    if (rel > 0) bucket += n;
    rel = rel < 0 ? -rel : rel;
  } else {
    rel = rel < 0 ? -rel : 0;
  }
  const int64_t max_exact = n / 2;
  if (rel < max_exact) return bucket + rel;
  // torch: log(rel.float() / max_exact) / math.log(max_distance / max_exact) * (n − max_exact),
  // each a float32 op (the Python scalars are rounded to float first), truncated toward zero.
  const float ratio = static_cast<float>(rel) / static_cast<float>(max_exact);
  const float denom = static_cast<float>(std::log(static_cast<double>(max_distance) / static_cast<double>(max_exact)));
  const float scaled = std::log(ratio) / denom * static_cast<float>(n - max_exact);
  int64_t large = max_exact + static_cast<int64_t>(scaled);
  if (large > n - 1) large = n - 1;
  return bucket + large;
}

namespace {

using json = nlohmann::json;
using kernels::ThreadPool;

// The input limit (ModelInfo::max_input_tokens: encode() refuses more, the engine facade truncates
// documents to it). T5's relative positions set no hard limit (offsets past max_distance share the
// last bucket), but T5, T5 v1.1 and FLAN-T5 were trained on 512-token inputs, their tokenizers
// truncate there (model_max_length), and the reference outputs (shared/golden) go up to it; past it
// summaries are untested and the encoder's attention cost grows quadratically.
constexpr int64_t kT5MaxInputTokens = 512;

struct T5Config {
  int64_t vocab = 0, d_model = 0, d_kv = 0, heads = 0, d_ff = 0, enc_layers = 0, dec_layers = 0;
  int64_t buckets = 32, max_distance = 128;
  float eps = 1e-6f;
  bool gated = false, tied = true;
  layers::Activation act = layers::Activation::kRelu;
  int64_t inner() const { return heads * d_kv; }
};

Result<T5Config> parse_config(const json& c) {
  T5Config k;
  constexpr int64_t kBig = 1 << 20;
  SEALSUM_ASSIGN_OR_RETURN(k.vocab, config_int(c, "vocab_size", std::nullopt, 1, 1 << 24));
  SEALSUM_ASSIGN_OR_RETURN(k.d_model, config_int(c, "d_model", std::nullopt, 1, kBig));
  SEALSUM_ASSIGN_OR_RETURN(k.d_kv, config_int(c, "d_kv", std::nullopt, 1, kBig));
  SEALSUM_ASSIGN_OR_RETURN(k.heads, config_int(c, "num_heads", std::nullopt, 1, 4096));
  SEALSUM_ASSIGN_OR_RETURN(k.d_ff, config_int(c, "d_ff", std::nullopt, 1, kBig));
  SEALSUM_ASSIGN_OR_RETURN(k.enc_layers, config_int(c, "num_layers", std::nullopt, 1, 1024));
  SEALSUM_ASSIGN_OR_RETURN(k.dec_layers, config_int(c, "num_decoder_layers", k.enc_layers, 1, 1024));
  SEALSUM_ASSIGN_OR_RETURN(k.buckets, config_int(c, "relative_attention_num_buckets", 32, 2, 4096));
  SEALSUM_ASSIGN_OR_RETURN(k.max_distance, config_int(c, "relative_attention_max_distance", 128, 1, 1 << 30));
  SEALSUM_ASSIGN_OR_RETURN(double eps, config_number(c, "layer_norm_epsilon", 1e-6));
  if (!(eps >= 0)) return invalid_argument("model config: field 'layer_norm_epsilon' must not be negative");
  k.eps = static_cast<float>(eps);
  SEALSUM_ASSIGN_OR_RETURN(k.tied, config_bool(c, "tie_word_embeddings", true));
  // feed_forward_proj as T5Config parses it: "ACT" or "gated-ACT"; "gated-gelu" means gelu_new.
  SEALSUM_ASSIGN_OR_RETURN(std::string proj, config_string(c, "feed_forward_proj", std::string("relu")));
  std::string act = proj;
  if (proj.rfind("gated-", 0) == 0) {
    k.gated = true;
    act = proj.substr(6);
    if (act == "gelu") act = "gelu_new";
  }
  if (act.empty() || act.find('-') != std::string::npos) {
    return invalid_argument("model config: field 'feed_forward_proj' = '" + proj +
                            "' is not of the form 'ACT' or 'gated-ACT'");
  }
  auto a = layers::activation_from_name(act);
  if (!a.ok()) return a.status().with_context("model config: field 'feed_forward_proj'");
  k.act = *a;
  if (k.max_distance <= k.buckets / 2) {
    // The log-spaced buckets span max_exact..max_distance, max_exact being num_buckets/2 (causal).
    return invalid_argument("model config: 'relative_attention_max_distance' must exceed "
                            "relative_attention_num_buckets / 2");
  }
  return k;
}

struct EncoderBlock {
  layers::RmsNorm ln_attn, ln_ff;
  layers::Linear qkv, o;
  layers::FeedForward ff;
};

struct DecoderBlock {
  layers::RmsNorm ln_self, ln_cross, ln_ff;
  layers::Linear qkv, o;              // self-attention
  layers::Linear cross_q, cross_kv, cross_o;
  layers::FeedForward ff;
};

class T5Model;

class T5Session final : public Seq2SeqSession {
 public:
  T5Session(const T5Model& model, const EncoderOutput& enc, ThreadPool* pool, int64_t capacity);

 private:
  void forward(std::span<const int32_t> tokens, const Step& s, float* logits) override;

  const T5Model& m_;
  GrowBuffer n_, bias_;  // normed hidden state [R, d_model]; causal biases, per segment [heads, t+1]
  std::vector<const float*> biases_;  // per segment, into bias_
};

class T5Model final : public Seq2SeqModel {
 public:
  static Result<std::unique_ptr<Seq2SeqModel>> load(std::shared_ptr<const weights::ModelFile> file);

  const ModelInfo& info() const override { return info_; }
  Result<std::shared_ptr<const EncoderOutput>> encode(std::span<const int32_t> ids, ThreadPool* pool) const override;
  Result<std::unique_ptr<DecoderSession>> start_session(std::shared_ptr<const EncoderOutput> enc, ThreadPool* pool,
                                                       int64_t capacity_hint) const override;

 private:
  friend class T5Session;
  Status build();
  void embed(std::span<const int32_t> ids, float* out) const {
    for (size_t i = 0; i < ids.size(); ++i) {
      shared_.row(ids[i], cfg_.d_model, out + static_cast<int64_t>(i) * cfg_.d_model);
    }
  }

  std::shared_ptr<const weights::ModelFile> file_;
  T5Config cfg_;
  ModelInfo info_;
  layers::Weight shared_;                   // [vocab, d_model], in file_ (panels or row-major)
  std::vector<float> enc_rel_, dec_rel_;    // [buckets, heads]
  std::vector<EncoderBlock> enc_;
  std::vector<DecoderBlock> dec_;
  layers::RmsNorm enc_final_, dec_final_;
  layers::Linear lm_head_;
};

Result<std::unique_ptr<Seq2SeqModel>> T5Model::load(std::shared_ptr<const weights::ModelFile> file) {
  auto model = std::make_unique<T5Model>();
  model->file_ = std::move(file);
  SEALSUM_ASSIGN_OR_RETURN(model->cfg_, parse_config(model->file_->config()));
  SEALSUM_RETURN_IF_ERROR(model->build());
  return std::unique_ptr<Seq2SeqModel>(std::move(model));
}

Status T5Model::build() {
  const weights::ModelFile& f = *file_;
  const T5Config& c = cfg_;
  const int64_t d = c.d_model, inner = c.inner();
  auto get = [&](const std::string& name, std::vector<int64_t> shape) { return tensor_f32(f, name, shape); };
  auto weight = [&](const std::string& name, std::vector<int64_t> shape) { return linear_weight(f, name, shape); };

  SEALSUM_ASSIGN_OR_RETURN(shared_, weight("shared.weight", {c.vocab, d}));
  SEALSUM_ASSIGN_OR_RETURN(const float* er, get("encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight",
                                                {c.buckets, c.heads}));
  enc_rel_.assign(er, er + c.buckets * c.heads);
  SEALSUM_ASSIGN_OR_RETURN(const float* dr, get("decoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight",
                                                {c.buckets, c.heads}));
  dec_rel_.assign(dr, dr + c.buckets * c.heads);

  auto ffn = [&](const std::string& p) -> Result<layers::FeedForward> {
    SEALSUM_ASSIGN_OR_RETURN(layers::Weight wo, weight(p + "wo.weight", {d, c.d_ff}));
    if (c.gated) {
      SEALSUM_ASSIGN_OR_RETURN(layers::Weight wi0, weight(p + "wi_0.weight", {c.d_ff, d}));
      SEALSUM_ASSIGN_OR_RETURN(layers::Weight wi1, weight(p + "wi_1.weight", {c.d_ff, d}));
      return layers::FeedForward::gated(c.act, wi0, wi1, wo, d, c.d_ff);
    }
    SEALSUM_ASSIGN_OR_RETURN(layers::Weight wi, weight(p + "wi.weight", {c.d_ff, d}));
    return layers::FeedForward::plain(c.act, wi, nullptr, wo, nullptr, d, c.d_ff);
  };
  auto norm = [&](const std::string& name) -> Result<layers::RmsNorm> {
    SEALSUM_ASSIGN_OR_RETURN(const float* w, get(name, {d}));
    return layers::RmsNorm(w, d, c.eps);
  };
  // q|k|v fused into one [3·inner, d] matrix: the normed input is read once.
  auto qkv = [&](const std::string& p) -> Result<layers::Linear> {
    SEALSUM_ASSIGN_OR_RETURN(layers::Weight q, weight(p + "q.weight", {inner, d}));
    SEALSUM_ASSIGN_OR_RETURN(layers::Weight k, weight(p + "k.weight", {inner, d}));
    SEALSUM_ASSIGN_OR_RETURN(layers::Weight v, weight(p + "v.weight", {inner, d}));
    const layers::Linear::Part parts[] = {{q, inner, nullptr}, {k, inner, nullptr}, {v, inner, nullptr}};
    return layers::Linear::fused(parts, d);
  };
  auto out_proj = [&](const std::string& p) -> Result<layers::Linear> {
    SEALSUM_ASSIGN_OR_RETURN(layers::Weight o, weight(p + "o.weight", {d, inner}));
    return layers::Linear(o, d, inner, nullptr);
  };

  for (int64_t i = 0; i < c.enc_layers; ++i) {
    const std::string b = "encoder.block." + std::to_string(i) + ".";
    EncoderBlock blk;
    SEALSUM_ASSIGN_OR_RETURN(blk.ln_attn, norm(b + "layer.0.layer_norm.weight"));
    SEALSUM_ASSIGN_OR_RETURN(blk.qkv, qkv(b + "layer.0.SelfAttention."));
    SEALSUM_ASSIGN_OR_RETURN(blk.o, out_proj(b + "layer.0.SelfAttention."));
    SEALSUM_ASSIGN_OR_RETURN(blk.ln_ff, norm(b + "layer.1.layer_norm.weight"));
    SEALSUM_ASSIGN_OR_RETURN(blk.ff, ffn(b + "layer.1.DenseReluDense."));
    enc_.push_back(std::move(blk));
  }
  for (int64_t i = 0; i < c.dec_layers; ++i) {
    const std::string b = "decoder.block." + std::to_string(i) + ".";
    DecoderBlock blk;
    SEALSUM_ASSIGN_OR_RETURN(blk.ln_self, norm(b + "layer.0.layer_norm.weight"));
    SEALSUM_ASSIGN_OR_RETURN(blk.qkv, qkv(b + "layer.0.SelfAttention."));
    SEALSUM_ASSIGN_OR_RETURN(blk.o, out_proj(b + "layer.0.SelfAttention."));
    SEALSUM_ASSIGN_OR_RETURN(blk.ln_cross, norm(b + "layer.1.layer_norm.weight"));
    const std::string x = b + "layer.1.EncDecAttention.";
    SEALSUM_ASSIGN_OR_RETURN(layers::Weight cq, weight(x + "q.weight", {inner, d}));
    SEALSUM_ASSIGN_OR_RETURN(layers::Weight ck, weight(x + "k.weight", {inner, d}));
    SEALSUM_ASSIGN_OR_RETURN(layers::Weight cv, weight(x + "v.weight", {inner, d}));
    blk.cross_q = layers::Linear(cq, inner, d, nullptr);
    const layers::Linear::Part kv[] = {{ck, inner, nullptr}, {cv, inner, nullptr}};
    blk.cross_kv = layers::Linear::fused(kv, d);
    SEALSUM_ASSIGN_OR_RETURN(blk.cross_o, out_proj(x));
    SEALSUM_ASSIGN_OR_RETURN(blk.ln_ff, norm(b + "layer.2.layer_norm.weight"));
    SEALSUM_ASSIGN_OR_RETURN(blk.ff, ffn(b + "layer.2.DenseReluDense."));
    dec_.push_back(std::move(blk));
  }
  SEALSUM_ASSIGN_OR_RETURN(enc_final_, norm("encoder.final_layer_norm.weight"));
  SEALSUM_ASSIGN_OR_RETURN(dec_final_, norm("decoder.final_layer_norm.weight"));
  // Tied: the model file aliases lm_head.weight to shared.weight (and must, or the file is wrong).
  SEALSUM_ASSIGN_OR_RETURN(layers::Weight head, weight("lm_head.weight", {c.vocab, d}));
  lm_head_ = layers::Linear(head, c.vocab, d, nullptr);

  info_.architecture = "t5";
  info_.d_model = d;
  info_.vocab_size = c.vocab;
  info_.max_input_tokens = kT5MaxInputTokens;
  info_.encoder_layers = c.enc_layers;
  info_.decoder_layers = c.dec_layers;
  return Status::ok();
}

Result<std::shared_ptr<const EncoderOutput>> T5Model::encode(std::span<const int32_t> ids, ThreadPool* pool) const {
  SEALSUM_RETURN_IF_ERROR(check_encoder_input(ids, info_));
  const int64_t L = static_cast<int64_t>(ids.size());
  const T5Config& c = cfg_;
  const int64_t d = c.d_model, inner = c.inner(), H = c.heads;

  auto out = std::make_shared<EncoderOutput>();
  out->length = L;
  out->d_model = d;
  out->hidden.resize(static_cast<size_t>(L * d));
  float* h = out->hidden.data();
  embed(ids, h);

  // Relative position bias by offset: rel[head][L−1 + (j − i)].
  const int64_t span = 2 * L - 1;
  std::vector<float> rel(static_cast<size_t>(H * span));
  for (int64_t off = -(L - 1); off <= L - 1; ++off) {
    const int64_t b = t5_relative_bucket(off, /*bidirectional=*/true, c.buckets, c.max_distance);
    for (int64_t hd = 0; hd < H; ++hd) rel[static_cast<size_t>(hd * span + off + L - 1)] = enc_rel_[b * H + hd];
  }

  const ScratchArena scratch({L * d, L * d, L * 3 * inner, L * inner, enc_.empty() ? 0 : enc_[0].ff.scratch_floats(L)});
  float *n = scratch[0], *tmp = scratch[1], *qkv = scratch[2], *ctx = scratch[3], *ff = scratch[4];
  for (const EncoderBlock& blk : enc_) {
    blk.ln_attn.forward(h, L, n);
    blk.qkv.forward(n, L, qkv, pool);
    layers::self_attention(qkv, 3 * inner, qkv + inner, 3 * inner, qkv + 2 * inner, 3 * inner, L, H, c.d_kv, 1.0f,
                           rel.data(), ctx, inner, pool);
    blk.o.forward(ctx, L, tmp, pool);
    ops::add(h, tmp, L * d);
    blk.ln_ff.forward(h, L, n);
    blk.ff.forward(n, L, tmp, ff, pool);
    ops::add(h, tmp, L * d);
  }
  enc_final_.forward(h, L, h);
  return std::shared_ptr<const EncoderOutput>(std::move(out));
}

Result<std::unique_ptr<DecoderSession>> T5Model::start_session(std::shared_ptr<const EncoderOutput> enc,
                                                              ThreadPool* pool, int64_t capacity_hint) const {
  SEALSUM_RETURN_IF_ERROR(check_encoder_output(enc.get(), cfg_.d_model));
  return std::unique_ptr<DecoderSession>(std::make_unique<T5Session>(*this, *enc, pool, capacity_hint));
}

T5Session::T5Session(const T5Model& model, const EncoderOutput& enc, ThreadPool* pool, int64_t capacity)
    : Seq2SeqSession({.vocab = model.cfg_.vocab, .d_model = model.cfg_.d_model, .width = model.cfg_.inner(),
                      .heads = model.cfg_.heads, .model = &model},
                     model.dec_, enc, pool, capacity),
      m_(model) {}

// One decoder position for every row of every segment (T5Stack.forward with past_key_values, then
// the lm head).
void T5Session::forward(std::span<const int32_t> tokens, const Step& s, float* logits) {
  const T5Config& c = m_.cfg_;
  const int64_t R = s.rows;
  const int64_t d = c.d_model, H = c.heads, dk = c.d_kv;
  float* x = s.x;
  float* n = grow(n_, R * d);
  // Causal relative bias of each segment's query position t against keys 0..t, per head: [H][t+1].
  int64_t bias_floats = 0;
  for (const Segment& g : s.segments) bias_floats += H * (g.t + 1);
  float* bias = grow(bias_, bias_floats);
  biases_.clear();
  for (const Segment& g : s.segments) {
    const int64_t t = g.t, n_keys = t + 1;
    for (int64_t j = 0; j < n_keys; ++j) {
      const int64_t b = t5_relative_bucket(j - t, /*bidirectional=*/false, c.buckets, c.max_distance);
      for (int64_t hd = 0; hd < H; ++hd) bias[hd * n_keys + j] = m_.dec_rel_[b * H + hd];
    }
    biases_.push_back(bias);
    bias += H * n_keys;
  }

  m_.embed(tokens, x);
  for (size_t l = 0; l < m_.dec_.size(); ++l) {
    const DecoderBlock& blk = m_.dec_[l];
    const int64_t layer = static_cast<int64_t>(l);
    // Self-attention over each row's cache (positions 0..t, t written now).
    blk.ln_self.forward(x, R, n);
    blk.qkv.forward(n, R, s.qkv, s.pool);
    self_attention(s, s.qkv, layer, H, dk, biases_, s.ctx);
    blk.o.forward(s.ctx, R, s.tmp, s.pool);
    ops::add(x, s.tmp, R * d);
    // Cross-attention: each session's rows against its shared encoder keys/values.
    blk.ln_cross.forward(x, R, n);
    blk.cross_q.forward(n, R, s.q, s.pool);
    cross_attention(s, s.q, layer, H, dk, s.ctx);
    blk.cross_o.forward(s.ctx, R, s.tmp, s.pool);
    ops::add(x, s.tmp, R * d);
    // Feed-forward.
    blk.ln_ff.forward(x, R, n);
    blk.ff.forward(n, R, s.tmp, s.ff, s.pool);
    ops::add(x, s.tmp, R * d);
  }

  m_.dec_final_.forward(x, R, n);
  if (c.tied) {
    // sequence_output * (model_dim ** -0.5): a float32 tensor times a Python float.
    ops::scale(n, static_cast<float>(std::pow(static_cast<double>(d), -0.5)), R * d);
  }
  m_.lm_head_.forward(n, R, logits, s.pool);
}

}  // namespace

Result<std::unique_ptr<Seq2SeqModel>> load_t5(std::shared_ptr<const weights::ModelFile> file) {
  return T5Model::load(std::move(file));
}

}  // namespace sealsum::models
