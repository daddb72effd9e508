// The encoder-decoder model API shared by T5 and BART, and the factory that builds one from a
// sealsum model file.
//
//   auto model = load_model(file);                  // validates config and every tensor shape
//   auto enc = model->encode(ids, pool);           // encoder last hidden state [L, d_model]
//   auto session = model->start_session(enc, pool); // a decoding::DecoderSession, rows() == 1
//   session->step(tokens, logits); session->reorder(beams); ...
//
// Ownership and thread safety: a Seq2SeqModel owns its packed weights and keeps the ModelFile
// alive (embeddings and small tensors are read in place from it); it is immutable after load, so
// any number of threads may encode and run sessions at once. A session belongs to one thread at a
// time; it shares the model and the EncoderOutput (read-only) and owns its caches and scratch.
// A session refers to its model: the model must outlive every session it started.
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
#include "engine/decoding/generation.h"
#include "engine/kernels/threadpool.h"
#include "weights/model_file.h"

namespace sealsum::models {

struct EncoderOutput {
  int64_t length = 0;   // L (input tokens)
  int64_t d_model = 0;
  std::vector<float> hidden;  // [L, d_model] row-major: the encoder's last hidden state
};

struct ModelInfo {
  std::string architecture;  // "t5" | "bart"
  int64_t d_model = 0;
  int64_t vocab_size = 0;        // logits per row
  int64_t max_input_tokens = 0;  // inputs longer than this are refused (truncate before encode)
  int64_t encoder_layers = 0, decoder_layers = 0;
};

class Seq2SeqModel {
 public:
  virtual ~Seq2SeqModel() = default;
  virtual const ModelInfo& info() const = 0;
  // Runs the encoder. Fails (kInvalidArgument) on an empty input, an id outside the vocabulary or
  // more than info().max_input_tokens ids.
  virtual Result<std::shared_ptr<const EncoderOutput>> encode(std::span<const int32_t> ids,
                                                             kernels::ThreadPool* pool) const = 0;
  // A decoder bound to `enc` (computes the cross-attention keys/values once, shared by all rows).
  // capacity_hint: expected decoder steps (the caches grow past it if needed).
  virtual Result<std::unique_ptr<decoding::DecoderSession>> start_session(std::shared_ptr<const EncoderOutput> enc,
                                                                         kernels::ThreadPool* pool,
                                                                         int64_t capacity_hint = 64) const = 0;
};

// Builds the model named by file->architecture() ("t5" or "bart"), checking the config (fields this
// code cannot run are refused naming the field) and every tensor's dtype and shape.
Result<std::unique_ptr<Seq2SeqModel>> load_model(std::shared_ptr<const weights::ModelFile> file);

// Per-architecture builders (t5.cpp, bart.cpp), used by load_model.
Result<std::unique_ptr<Seq2SeqModel>> load_t5(std::shared_ptr<const weights::ModelFile> file);
Result<std::unique_ptr<Seq2SeqModel>> load_bart(std::shared_ptr<const weights::ModelFile> file);

}  // namespace sealsum::models
