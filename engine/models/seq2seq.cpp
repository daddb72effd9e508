// load_model (dispatch on the model file's architecture) and the machinery every model shares
// (models/seq2seq_session.h): input checks and the decoder session base.
#include "engine/models/seq2seq.h"

#include <algorithm>
#include <string>

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

float* grow(std::vector<float>& v, int64_t n) {
  if (static_cast<int64_t>(v.size()) < n) v.resize(static_cast<size_t>(n));
  return v.data();
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
  cross_kv_[layer].resize(static_cast<size_t>(enc.length * 2 * shape_.width));
  proj.forward(enc.hidden.data(), enc.length, cross_kv_[layer].data(), pool_);
}

Status Seq2SeqSession::step(std::span<const int32_t> tokens, float* logits) {
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
  cache_.reserve_next();
  Step s;
  s.rows = R;
  s.t = cache_.length();
  const int64_t d = shape_.d_model, w = shape_.width;
  s.x = grow(x_, R * d);
  s.tmp = grow(tmp_, R * d);
  s.qkv = grow(qkv_, R * 3 * w);
  s.q = grow(q_, R * w);
  s.ctx = grow(ctx_, R * w);
  s.ff = grow(ff_scratch_, ff_->scratch_floats(R));
  s.scores = grow(scores_, std::max(s.t + 1, R * enc_length_));
  forward(tokens, s, logits);
  cache_.advance();
  return Status::ok();
}

}  // namespace sealsum::models
