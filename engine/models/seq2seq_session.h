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
#include <initializer_list>
#include <span>
#include <vector>

#include "common/status.h"
#include "engine/kernels/kernels.h"
#include "engine/kernels/threadpool.h"
#include "engine/layers/attention.h"
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

// Grow-only step scratch (kernels::aligned_floats: from 256 KiB, such as a batch's logits, it is
// recycled by the buffer pool, so a new session does not fault in fresh pages). grow() returns at
// least n floats; a size already reached allocates nothing; contents are not kept across a growth.
struct GrowBuffer {
  kernels::AlignedFloats data;
  int64_t size = 0;
};
float* grow(GrowBuffer& v, int64_t n);

// An encoder's scratch buffers (zeroed, `sizes` floats each, 64-byte aligned) carved from one
// kernels::aligned_floats allocation: the buffer pool's memory, so a warm process encodes its
// 10-40 MiB of activations (512-1024 tokens) into pages it already touched, with no page faults
// (~10 us per 4 KiB on the development VM). Move-only; the pointers live as long as the arena.
class ScratchArena {
 public:
  explicit ScratchArena(std::initializer_list<int64_t> sizes);
  float* operator[](size_t i) const { return parts_[i]; }

 private:
  kernels::AlignedFloats store_;
  std::vector<float*> parts_;
};

// The shape of a model's decoder, as a session needs it.
struct DecoderShape {
  int64_t vocab = 0;          // logits per row
  int64_t d_model = 0;        // hidden width
  int64_t width = 0;          // attention width, heads · head_dim (of q, of k, of v)
  int64_t heads = 1;          // decoder attention heads (cross-attention keys/values are stored by head)
  int64_t max_positions = 0;  // decoder positions the model has (BART's learned table); 0: no limit
  const void* model = nullptr;  // the model the session belongs to: only sessions of one model step together
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

  // One decoder step of several sessions of one model at once (models::step_sessions): the same
  // checks as step() for every session (any failure: kInvalidArgument naming the session's index,
  // every session unchanged), then one forward() over all their rows, run on sessions[0]'s scratch
  // with `pool`. Row r of session i gets the bits a solo step() gives it: the linear kernels compute
  // each output row on its own, and attention runs per session against its own caches.
  static Status step_many(std::span<Seq2SeqSession* const> sessions, std::span<const std::span<const int32_t>> tokens,
                          std::span<float* const> logits, kernels::ThreadPool* pool);

 protected:
  // The rows of one session inside a step: rows [row0, row0 + rows) of the step's buffers.
  struct Segment {
    Seq2SeqSession* session;
    int64_t row0 = 0, rows = 0;
    int64_t t = 0;  // the position this step writes for these rows; self-attention reads keys 0..t
  };
  // One step's scratch for R rows (of one or several sessions), owned by the session that runs it
  // (valid during forward()).
  struct Step {
    int64_t rows = 0;  // R, all segments together
    std::span<const Segment> segments;  // back to back, covering rows 0..R
    kernels::ThreadPool* pool = nullptr;  // for the linear layers
    float* x;          // [R, d_model] the hidden state
    float* tmp;        // [R, d_model] a sub-layer's output, before the residual add
    float* qkv;        // [R, 3·width] self-attention q | k | v
    float* q;          // [R, width] cross-attention query
    float* ctx;        // [R, width] attention output (heads side by side)
    float* ff;         // the feed-forward's scratch for R rows
    float* scores;     // max(t + 1, R · (encoder_length() + head_dim)) floats for the attention layers
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

  // The model's decoder for every segment at its position: embeds tokens (one per row), runs every
  // block (whose self-attention writes each row's key and value at its segment's t into that
  // session's cache) and writes logits[R, vocab]. Called on sessions of this model only.
  virtual void forward(std::span<const int32_t> tokens, const Step& s, float* logits) = 0;

  // Decoder self-attention of every segment against its own session's cache (layer, position t);
  // biases[i]: segment i's [heads][t+1] additive bias or nullptr. qkv [R, 3·width], ctx [R, width].
  static void self_attention(const Step& s, const float* qkv, int64_t layer, int64_t heads, int64_t dh,
                             std::span<const float* const> biases, float* ctx);
  // Cross-attention of every segment's queries q [R, width] against its own session's encoder keys
  // and values (layer); ctx [R, width].
  static void cross_attention(const Step& s, const float* q, int64_t layer, int64_t heads, int64_t dh, float* ctx);

 private:
  Seq2SeqSession(const DecoderShape& shape, int64_t layers, const layers::FeedForward& ff, int64_t enc_length,
                 kernels::ThreadPool* pool, int64_t capacity);
  void set_cross_kv(size_t layer, const layers::Linear& proj, const EncoderOutput& enc);

  // step()'s / step_many()'s checks of one session's input (kInvalidArgument, nothing changed).
  Status check_step(std::span<const int32_t> tokens) const;

  DecoderShape shape_;
  const layers::FeedForward* ff_;  // the model's; every block's has the same scratch size
  kernels::ThreadPool* pool_;
  int64_t enc_length_;
  layers::KvCache cache_;
  std::vector<layers::CrossKv> cross_kv_;  // per layer: the encoder's keys and values
  GrowBuffer x_, tmp_, qkv_, q_, ctx_, ff_scratch_, scores_, logits_;
  std::vector<int32_t> tokens_;
  std::vector<Segment> segments_;
};

}  // namespace sealsum::models
