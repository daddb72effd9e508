#include "engine/layers/feed_forward.h"

#include <cstring>

#include "engine/ops/ops.h"

namespace sealsum::layers {

Result<Activation> activation_from_name(const std::string& name) {
  if (name == "relu") return Activation::kRelu;
  if (name == "gelu") return Activation::kGelu;
  if (name == "gelu_new" || name == "gelu_pytorch_tanh") return Activation::kGeluNew;
  return unimplemented("activation function '" + name +
                       "' is not supported (supported: relu, gelu, gelu_new, gelu_pytorch_tanh)");
}

FeedForward FeedForward::plain(Activation act, Weight wi, const float* wi_bias, Weight wo, const float* wo_bias,
                               int64_t d, int64_t d_ff) {
  FeedForward f;
  f.act_ = act;
  f.d_ff_ = d_ff;
  f.in_ = Linear(wi, d_ff, d, wi_bias);
  f.out_ = Linear(wo, d, d_ff, wo_bias);
  return f;
}

FeedForward FeedForward::gated(Activation act, Weight wi_0, Weight wi_1, Weight wo, int64_t d, int64_t d_ff) {
  FeedForward f;
  f.act_ = act;
  f.gated_ = true;
  f.d_ff_ = d_ff;
  const Linear::Part parts[] = {{wi_0, d_ff, nullptr}, {wi_1, d_ff, nullptr}};
  f.in_ = Linear::fused(parts, d);
  f.out_ = Linear(wo, d, d_ff, nullptr);
  return f;
}

namespace {

void activate(Activation act, float* x, int64_t n) {
  switch (act) {
    case Activation::kRelu: ops::relu(x, n); break;
    case Activation::kGelu: ops::gelu(x, n); break;
    case Activation::kGeluNew: ops::gelu_new(x, n); break;
  }
}

}  // namespace

void FeedForward::forward(const float* x, int64_t m, float* y, float* scratch, kernels::ThreadPool* pool) const {
  in_.forward(x, m, scratch, pool);
  if (!gated_) {
    activate(act_, scratch, m * d_ff_);
    out_.forward(scratch, m, y, pool);
    return;
  }
  // Row i of scratch is [gate | up]; compact act(gate) * up into the first d_ff floats of the
  // buffer, row after row (row i's product lands at i * d_ff <= the row's own start: no overlap
  // with data still to be read).
  for (int64_t i = 0; i < m; ++i) {
    float* gate = scratch + i * 2 * d_ff_;
    const float* up = gate + d_ff_;
    activate(act_, gate, d_ff_);
    float* dst = scratch + i * d_ff_;
    ops::mul(gate, up, d_ff_);
    if (dst != gate) std::memmove(dst, gate, static_cast<size_t>(d_ff_) * sizeof(float));
  }
  out_.forward(scratch, m, y, pool);
}

}  // namespace sealsum::layers
