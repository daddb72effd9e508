// Position-wise feed-forward blocks of T5 and BART.
//
//   plain:  y = wo(act(wi(x)))                       (T5 v1.0 "relu", BART fc1/fc2 with "gelu")
//   gated:  y = wo(act(wi_0(x)) * wi_1(x))           (T5 v1.1 / flan "gated-gelu": act = gelu_new)
// The gated form's two input projections are fused into one packed matrix [2·d_ff, d_model] so the
// input is read once; act and the product are applied column-half by column-half.
//
// Ownership: as Linear (owns packed copies, or views panel-stored weights); immutable after construction (thread-safe to share). The
// caller provides scratch (see scratch_floats()).
#pragma once

#include <cstdint>
#include <string>

#include "common/status.h"
#include "engine/layers/linear.h"

namespace sealsum::layers {

enum class Activation { kRelu, kGelu, kGeluNew };
// Hugging Face ACT2FN names: "relu", "gelu", "gelu_new" (also "gelu_pytorch_tanh", the same formula).
Result<Activation> activation_from_name(const std::string& name);

class FeedForward {
 public:
  FeedForward() = default;
  // Plain: wi [d_ff, d], wo [d, d_ff]; biases may be nullptr.
  static FeedForward plain(Activation act, Weight wi, const float* wi_bias, Weight wo, const float* wo_bias,
                           int64_t d, int64_t d_ff);
  // Gated (no biases): wi_0, wi_1 [d_ff, d], wo [d, d_ff].
  static FeedForward gated(Activation act, Weight wi_0, Weight wi_1, Weight wo, int64_t d, int64_t d_ff);

  // Floats of scratch forward() needs for m rows.
  int64_t scratch_floats(int64_t m) const { return m * in_.out_features(); }
  // y[m, d] = FFN(x[m, d]); scratch holds scratch_floats(m). x and y must not alias.
  void forward(const float* x, int64_t m, float* y, float* scratch, kernels::ThreadPool* pool) const;

 private:
  Activation act_ = Activation::kRelu;
  bool gated_ = false;
  int64_t d_ff_ = 0;
  Linear in_, out_;
};

}  // namespace sealsum::layers
