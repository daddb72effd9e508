// Linear: y = x · Wᵀ + b (PyTorch nn.Linear semantics and layout), W read in place from the model
// file when it is stored in the panel layout (format version 2), else packed once at load.
//
// Ownership: a Linear owns a copy of its bias, and its packed weights unless they are a view of
// panel-stored weights (Weight::panels), whose memory (the ModelFile) must outlive the Linear and
// stay unchanged. Row-major sources may be freed after construction. Immutable after construction,
// so one Linear may serve many threads.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "engine/kernels/kernels.h"

namespace sealsum::layers {

// A weight matrix W [out, in] as stored: row-major (PyTorch), or the 32-wide panel layout of
// weights/panel_layout.h (64-byte aligned, read in place): f32 (`data`, panels), or int8 codes with
// per-row scales (`q8`, `scales`; see Weight::i8), or bf16 (`b16`; Weight::bf16).
struct Weight {
  Weight() = default;
  Weight(const float* row_major) : data(row_major) {}  // NOLINT: implicit, row-major is the common case
  Weight(const float* d, bool panel_form) : data(d), panels(panel_form) {}
  // int8 panels (weights/panel_layout.h) and their f32 [out] scales, both in the model file.
  static Weight i8(const int8_t* codes, const float* row_scales) {
    Weight w;
    w.q8 = codes;
    w.scales = row_scales;
    w.panels = true;
    return w;
  }
  // bf16 panels (weights/panel_layout.h), in the model file.
  static Weight bf16(const uint16_t* panels) {
    Weight w;
    w.b16 = panels;
    w.panels = true;
    return w;
  }
  const float* data = nullptr;
  bool panels = false;
  const int8_t* q8 = nullptr;     // non-null: int8 panels (data is null)
  const uint16_t* b16 = nullptr;  // non-null: bf16 panels (data is null)
  const float* scales = nullptr;
  bool quantized() const { return q8 != nullptr || b16 != nullptr; }
  // Row j of W (in floats; int8: dequantized) into out[0..in).
  void row(int64_t j, int64_t in, float* out) const;
};

class Linear {
 public:
  Linear() = default;
  // W is [out, in]; bias (nullptr for none) is [out].
  Linear(Weight w, int64_t out, int64_t in, const float* bias);

  // Several linears over the same input fused into one: the output columns are the parts' outputs
  // side by side, in order (e.g. q|k|v). Each part is {W [out_i, in], bias or nullptr}. When every
  // part is panel-stored with out_i a multiple of 32 and the parts lie back to back in memory
  // (the converter writes them so), the fused matrix is a view of them; otherwise it is packed
  // from a concatenated copy (f32; int8 parts are dequantized). The same holds for int8 parts
  // (codes back to back; their scales are copied side by side) and bf16 parts.
  struct Part {
    Weight w;
    int64_t out;
    const float* bias;
  };
  static Linear fused(std::span<const Part> parts, int64_t in);

  int64_t out_features() const { return out_; }
  // True when the weights are read in place from panel-stored memory (no packed copy held).
  bool reads_in_place() const { return w_.is_view(); }
  // True when the weights come from int8 or bf16 tensors (a `sealsum convert --dtype int8|bf16`
  // model), also when fused parts had to be dequantized into one f32 matrix.
  bool quantized() const { return quantized_; }

  // y[m, out] = x[m, in] · Wᵀ (+ bias). x and y contiguous, must not alias.
  void forward(const float* x, int64_t m, float* y, kernels::ThreadPool* pool) const;

 private:
  kernels::PackedMatrix w_;
  std::vector<float> bias_;  // empty: no bias
  int64_t out_ = 0;
  bool quantized_ = false;
};

}  // namespace sealsum::layers
