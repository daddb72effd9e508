// The encoder-decoder model API shared by T5 and BART, and the factory that builds one from a
// sealsum model file.
//
//   auto model = load_model(file);                  // validates config and every tensor shape
//   auto enc = model->encode(ids, pool);           // encoder last hidden state [L, d_model]
//   auto session = model->start_session(enc, pool); // a DecoderSession, rows() == 1
//   session->step(tokens, logits); session->reorder(beams); ...
//
// DecoderSession is the seam to engine/decoding (the layer above), which runs its searches through
// it: models own the math, decoding owns the search.
//
// Ownership and thread safety: a Seq2SeqModel owns its packed weights and keeps the ModelFile
// alive (embeddings and small tensors are read in place from it); it is immutable after load, so
// any number of threads may encode and run sessions at once. A session belongs to one thread at a
// time; it reads the EncoderOutput once (to compute the cross-attention keys and values) and owns
// its caches and scratch. A session refers to its model: the model must outlive every session it
// started.
// The pool passed to encode/start_session is used for the call (and by the session for all its
// steps): ThreadPool allows one caller at a time, so concurrent callers need distinct pools (or
// nullptr: single-threaded).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "common/status.h"
#include "engine/kernels/threadpool.h"

namespace sealsum::weights {
class ModelFile;  // weights/model_file.h
}  // namespace sealsum::weights

namespace sealsum::models {

struct EncoderOutput {
  int64_t length = 0;   // L (input tokens)
  int64_t d_model = 0;
  std::vector<float> hidden;  // [L, d_model] row-major: the encoder's last hidden state
};

struct ModelInfo {
  std::string architecture;  // "t5" | "bart"
  int64_t d_model = 0;
  int64_t vocab_size = 0;  // logits per row
  // The one input limit: encode() refuses longer inputs, and the engine facade truncates documents
  // to it. T5: kT5MaxInputTokens (t5.cpp, 512); BART: max_position_embeddings (its learned
  // position table ends there).
  int64_t max_input_tokens = 0;
  int64_t encoder_layers = 0, decoder_layers = 0;
};

// A model's decoder bound to one encoded input: a self-attention cache per row (a row = one
// hypothesis) and the cross-attention keys/values, computed once and shared by all rows.
// Errors are kInvalidArgument naming what was wrong; a failed call leaves the session unchanged.
class DecoderSession {
 public:
  virtual ~DecoderSession() = default;
  virtual int64_t vocab_size() const = 0;  // logits per row (config vocab_size, may exceed tokenizer's)
  virtual int64_t rows() const = 0;
  // Feeds tokens[r] as the next decoder input of row r (tokens.size() == rows()) and writes the raw
  // next-token logits (float32, before any logits processor) to logits[rows() * vocab_size()].
  virtual Status step(std::span<const int32_t> tokens, float* logits) = 0;
  // Re-forms the rows: new row i continues old row src[i]; rows() becomes src.size(). Beam search
  // uses it to follow surviving beams (and to fan one row out to num_beams).
  virtual Status reorder(std::span<const int32_t> src) = 0;
};

class Seq2SeqModel {
 public:
  virtual ~Seq2SeqModel() = default;
  virtual const ModelInfo& info() const = 0;
  // Runs the encoder. Fails (kInvalidArgument) on an empty input, an id outside the vocabulary or
  // more than info().max_input_tokens ids (the message says to truncate).
  virtual Result<std::shared_ptr<const EncoderOutput>> encode(std::span<const int32_t> ids,
                                                             kernels::ThreadPool* pool) const = 0;
  // A decoder bound to `enc` (computes the cross-attention keys/values once, shared by all rows).
  // capacity_hint: expected decoder steps (the caches grow past it if needed).
  // Fails (kInvalidArgument) when `enc` is null or not of this model's width.
  virtual Result<std::unique_ptr<DecoderSession>> start_session(std::shared_ptr<const EncoderOutput> enc,
                                                               kernels::ThreadPool* pool,
                                                               int64_t capacity_hint = 64) const = 0;
};

// One decoder step of several sessions at once: session i is fed tokens[i] (one per row) and gets
// its raw logits in logits[i] (rows() · vocab_size() floats), exactly the bits its own step() would
// give, while every weight matrix is read once for all rows of all sessions (serving several
// requests, each with its own encoder output, input length and position). The sessions must be
// distinct and started by one model; the step runs on the calling thread with `pool` (one caller
// at a time, as for encode). Fails (kInvalidArgument, naming the session's index, no session
// changed) on a mismatch or on what step() refuses.
Status step_sessions(std::span<DecoderSession* const> sessions, std::span<const std::span<const int32_t>> tokens,
                     std::span<float* const> logits, kernels::ThreadPool* pool);

// Builds the model named by file->architecture() ("t5" or "bart"), checking the config (fields this
// code cannot run are refused naming the field) and every tensor's dtype and shape.
Result<std::unique_ptr<Seq2SeqModel>> load_model(std::shared_ptr<const weights::ModelFile> file);

// Per-architecture builders (t5.cpp, bart.cpp), used by load_model.
Result<std::unique_ptr<Seq2SeqModel>> load_t5(std::shared_ptr<const weights::ModelFile> file);
Result<std::unique_ptr<Seq2SeqModel>> load_bart(std::shared_ptr<const weights::ModelFile> file);

}  // namespace sealsum::models
