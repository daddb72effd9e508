// What every encoder-decoder model here shares below its own math (internal to engine/models):
// the decoder session's row cache, its cross-attention keys/values, its step scratch and the
// checks on every encode, start_session and step. A model file (t5.cpp, bart.cpp) keeps its
// config, its weights and its block loops, and derives its session from Seq2SeqSession, writing
// only the decoder's forward pass for one position (HF's T5Stack / BartDecoder forward with
// past_key_values).
//
// Ownership and thread safety: a session refers to its model's decoder blocks and feed-forward
// (the model must outlive it) and owns its cache, cross-attention keys/values and scratch; it
// belongs to one thread at a time (models/seq2seq.h).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "common/status.h"
#include "engine/kernels/threadpool.h"
#include "engine/layers/feed_forward.h"
#include "engine/layers/kv_cache.h"
#include "engine/layers/linear.h"
#include "engine/models/seq2seq.h"

namespace sealsum::models {

// encode()'s checks of its input: at least one id, at most info.max_input_tokens ids (the message
// gives the limit and says to truncate), every id in [0, info.vocab_size). kInvalidArgument.
Status check_encoder_input(std::span<const int32_t> ids, const ModelInfo& info);
// start_session()'s check of the encoder output: present, non-empty, of width d_model and
// consistent (kInvalidArgument: it does not come from this model).
Status check_encoder_output(const EncoderOutput* enc, int64_t d_model);

// Grow-only scratch: v holds at least n floats; resizing to a size already reached allocates nothing.
float* grow(std::vector<float>& v, int64_t n);

// The shape of a model's decoder, as a session needs it.
struct DecoderShape {
  int64_t vocab = 0;          // logits per row
  int64_t d_model = 0;        // hidden width
  int64_t width = 0;          // attention width, heads · head_dim (of q, of k, of v)
  int64_t max_positions = 0;  // decoder positions the model has (BART's learned table); 0: no limit
};

class Seq2SeqSession : public DecoderSession {
 public:
  int64_t vocab_size() const final { return shape_.vocab; }
  int64_t rows() const final { return cache_.rows(); }
  // Checks tokens.size() == rows(), every token in the vocabulary and the position limit (all
  // kInvalidArgument, the session unchanged), makes room for position t = cache().length(), runs
  // forward() and ends the step.
  Status step(std::span<const int32_t> tokens, float* logits) final;
  Status reorder(std::span<const int32_t> src) final { return cache_.reorder(src); }

 protected:
  // One step's scratch for R rows at position t, owned by the session (valid during forward()).
  struct Step {
    int64_t rows = 0;  // R
    int64_t t = 0;     // the position this step writes; self-attention reads keys 0..t
    float* x;          // [R, d_model] the hidden state
    float* tmp;        // [R, d_model] a sub-layer's output, before the residual add
    float* qkv;        // [R, 3·width] self-attention q | k | v
    float* q;          // [R, width] cross-attention query
    float* ctx;        // [R, width] attention output (heads side by side)
    float* ff;         // the feed-forward's scratch for R rows
    float* scores;     // max(t + 1, R · encoder_length()) floats for the attention layers
  };

  // Binds the session to `enc`: computes every decoder block's cross-attention keys | values
  // ([L_enc, 2·width], with blocks[l].cross_kv) once; blocks[0].ff sizes the feed-forward scratch.
  // capacity: expected decoder steps (the cache grows past it).
  template <typename Block>
  Seq2SeqSession(const DecoderShape& shape, const std::vector<Block>& blocks, const EncoderOutput& enc,
                 kernels::ThreadPool* pool, int64_t capacity)
      : Seq2SeqSession(shape, static_cast<int64_t>(blocks.size()), blocks.front().ff, enc.length, pool, capacity) {
    for (size_t l = 0; l < blocks.size(); ++l) set_cross_kv(l, blocks[l].cross_kv, enc);
  }

  // The model's decoder at position s.t: embeds tokens (one per row), runs every block (whose
  // self-attention writes its key and value at s.t into cache()) and writes logits[R, vocab].
  virtual void forward(std::span<const int32_t> tokens, const Step& s, float* logits) = 0;

  layers::KvCache& cache() { return cache_; }
  const float* cross_kv(size_t layer) const { return cross_kv_[layer].data(); }
  int64_t encoder_length() const { return enc_length_; }
  kernels::ThreadPool* pool() const { return pool_; }

 private:
  Seq2SeqSession(const DecoderShape& shape, int64_t layers, const layers::FeedForward& ff, int64_t enc_length,
                 kernels::ThreadPool* pool, int64_t capacity);
  void set_cross_kv(size_t layer, const layers::Linear& proj, const EncoderOutput& enc);

  DecoderShape shape_;
  const layers::FeedForward* ff_;  // the model's; every block's has the same scratch size
  kernels::ThreadPool* pool_;
  int64_t enc_length_;
  layers::KvCache cache_;
  std::vector<std::vector<float>> cross_kv_;  // per layer [L_enc, 2·width]: k | v
  std::vector<float> x_, tmp_, qkv_, q_, ctx_, ff_scratch_, scores_;
};

}  // namespace sealsum::models
