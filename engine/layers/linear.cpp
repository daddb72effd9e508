#include "engine/layers/linear.h"

#include <cstring>

#include "weights/panel_layout.h"

namespace sealsum::layers {

void Weight::row(int64_t j, int64_t in, float* out) const {
  if (q8 != nullptr) {
    weights::i8_panel_row(q8, scales, in, j, out);
  } else if (b16 != nullptr) {
    weights::bf16_panel_row(b16, in, j, out);
  } else if (panels) {
    weights::panel_row(data, in, j, out);
  } else {
    std::memcpy(out, data + j * in, static_cast<size_t>(in) * sizeof(float));
  }
}

namespace {

kernels::PackedMatrix matrix_of(const Weight& w, int64_t out, int64_t in) {
  if (w.q8 != nullptr) return kernels::view_panels_i8(w.q8, w.scales, out, in);
  if (w.b16 != nullptr) return kernels::view_panels_bf16(w.b16, out, in);
  return w.panels ? kernels::view_panels(w.data, out, in) : kernels::pack_matrix(w.data, out, in);
}

}  // namespace

Linear::Linear(Weight w, int64_t out, int64_t in, const float* bias)
    : w_(matrix_of(w, out, in)), out_(out), quantized_(w.quantized()) {
  if (bias != nullptr) bias_.assign(bias, bias + out);
}

Linear Linear::fused(std::span<const Part> parts, int64_t in) {
  int64_t total = 0;
  bool any_bias = false, any_quantized = false, contiguous = true, contiguous_i8 = true, contiguous_b16 = true;
  const float* next = parts.empty() ? nullptr : parts[0].w.data;
  const int8_t* next_q8 = parts.empty() ? nullptr : parts[0].w.q8;
  const uint16_t* next_b16 = parts.empty() ? nullptr : parts[0].w.b16;
  for (const Part& p : parts) {
    total += p.out;
    any_bias = any_bias || p.bias != nullptr;
    any_quantized = any_quantized || p.w.quantized();
    const bool whole = p.out % weights::kPanelWidth == 0;
    contiguous = contiguous && p.w.data != nullptr && p.w.panels && whole && p.w.data == next;
    contiguous_b16 = contiguous_b16 && p.w.b16 != nullptr && whole && p.w.b16 == next_b16;
    contiguous_i8 = contiguous_i8 && p.w.q8 != nullptr && whole && p.w.q8 == next_q8;
    if (p.w.data != nullptr) next = p.w.data + p.out * in;
    if (p.w.q8 != nullptr) next_q8 = p.w.q8 + weights::i8_panel_bytes(p.out, in);
    if (p.w.b16 != nullptr) next_b16 = p.w.b16 + p.out * in;
  }
  std::vector<float> b(any_bias ? static_cast<size_t>(total) : 0, 0.0f);
  int64_t row = 0;
  for (const Part& p : parts) {
    if (p.bias != nullptr) std::memcpy(b.data() + row, p.bias, static_cast<size_t>(p.out) * sizeof(float));
    row += p.out;
  }
  if (contiguous && !parts.empty()) return Linear(Weight(parts[0].w.data, true), total, in, any_bias ? b.data() : nullptr);
  if (contiguous_b16 && !parts.empty()) return Linear(Weight::bf16(parts[0].w.b16), total, in, any_bias ? b.data() : nullptr);
  if (contiguous_i8 && !parts.empty()) {
    std::vector<float> scales;  // copied by view_panels_i8; only needed while constructing
    for (const Part& p : parts) scales.insert(scales.end(), p.w.scales, p.w.scales + p.out);
    return Linear(Weight::i8(parts[0].w.q8, scales.data()), total, in, any_bias ? b.data() : nullptr);
  }
  // The concatenated row-major matrix exists only while packing.
  std::vector<float> w(static_cast<size_t>(total * in));
  row = 0;
  for (const Part& p : parts) {
    for (int64_t j = 0; j < p.out; ++j) p.w.row(j, in, w.data() + (row + j) * in);
    row += p.out;
  }
  Linear joined(w.data(), total, in, any_bias ? b.data() : nullptr);
  joined.quantized_ = any_quantized;  // dequantized parts still make a quantized model's linear
  return joined;
}

void Linear::forward(const float* x, int64_t m, float* y, kernels::ThreadPool* pool) const {
  if (m <= 0) return;
  kernels::linear(x, m, w_, bias_.empty() ? nullptr : bias_.data(), y, pool);
}

}  // namespace sealsum::layers
