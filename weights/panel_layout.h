// The panel layout: how a float32 linear weight W[n, k] (PyTorch nn.Linear: out x in, row-major)
// is stored in a model file so that the compute kernels read it in place (no repacking at load).
//
// W is cut into panels of kPanelWidth = 32 output features. Panel p holds rows p*32 .. p*32+31 of
// W, stored k-major: panels[p*k*32 + kk*32 + jj] = W[p*32 + jj, kk], rows past n zero-filled. The
// stored size is panel_floats(n, k) = ceil(n / 32) * 32 * k floats, a multiple of 128 bytes, so a
// panel-stored tensor ends 64-byte aligned and the next tensor written after it starts right at its
// end. The same layout is engine/kernels' packed layout on AVX-512 and scalar (kernels_internal.h).
//
// Pure functions; thread-safe. Sizes must not overflow (callers check shapes first).
#pragma once

#include <cstdint>
#include <cstring>
#include <span>
#include <vector>

namespace sealsum::weights {

inline constexpr int64_t kPanelWidth = 32;

// Floats of the panel form of an [n, k] matrix (n rounded up to a multiple of 32, times k).
inline int64_t panel_floats(int64_t n, int64_t k) { return (n + kPanelWidth - 1) / kPanelWidth * kPanelWidth * k; }

// Row-major W [n, k] -> panel form (panel_floats(n, k) floats, padding zero). w.size() == n*k.
std::vector<float> to_panels(std::span<const float> w, int64_t n, int64_t k);

// Row j (0 <= j < n) of the panel-stored [n, k] matrix into out[0..k).
void panel_row(const float* panels, int64_t k, int64_t j, float* out);

// Panel form -> row-major W [n, k] (n*k floats).
std::vector<float> from_panels(const float* panels, int64_t n, int64_t k);


// ---- int8 panels (dtype i8, layout "panels"): symmetric per-output-channel quantization ----
//
// Row j of W gets scale s_j = max_k |W[j, k]| / 127 (0 for an all-zero row) and codes
// q[j, k] = clamp(round_half_even(W[j, k] / s_j), -127, 127) (never -128), so W ≈ q · s_j. The codes
// are stored in panels of 32 rows with k padded to a multiple of kI8KGroup = 4 and grouped in fours
// (the VNNI dot-product layout: one 32-bit lane = 4 consecutive k of one output):
//   bytes[p*kp*32 + (kk/4)*128 + jj*4 + kk%4] = q[p*32 + jj, kk],   kp = round_up(k, 4),
// padding (rows past n, k past k) zero. Size: i8_panel_bytes(n, k), a multiple of 128. The scales
// are a separate f32 [n] tensor named NAME + kScaleSuffix.
inline constexpr int64_t kI8KGroup = 4;
inline constexpr const char* kScaleSuffix = ".scale";
inline int64_t i8_padded_k(int64_t k) { return (k + kI8KGroup - 1) / kI8KGroup * kI8KGroup; }
inline int64_t i8_panel_bytes(int64_t n, int64_t k) {
  return (n + kPanelWidth - 1) / kPanelWidth * kPanelWidth * i8_padded_k(k);
}

struct I8Panels {
  std::vector<int8_t> codes;  // i8_panel_bytes(n, k)
  std::vector<float> scales;  // n
};
// Row-major W [n, k] (w.size() == n*k) -> int8 panels and per-row scales.
I8Panels quantize_i8_panels(std::span<const float> w, int64_t n, int64_t k);
// Row j of the int8-panel matrix, dequantized (q · scale[j]), into out[0..k).
void i8_panel_row(const int8_t* codes, const float* scales, int64_t k, int64_t j, float* out);

// ---- bf16 panels (dtype bf16, layout "panels"): the f32 panel layout with 2-byte elements ----
// bytes: uint16 elements[p*k*32 + kk*32 + jj] = bf16(W[p*32 + jj, kk]) (round to nearest even;
// NaN stays NaN). Size panel_floats(n, k) * 2 bytes.
// Inline: the engine also rounds each input's cross-attention keys and values with it.
inline uint16_t f32_to_bf16(float v) {
  uint32_t u = 0;
  std::memcpy(&u, &v, sizeof u);
  if ((u & 0x7F800000u) == 0x7F800000u && (u & 0x007FFFFFu) != 0) return static_cast<uint16_t>((u >> 16) | 0x0040u);
  u += 0x7FFFu + ((u >> 16) & 1u);  // round to nearest, ties to even
  return static_cast<uint16_t>(u >> 16);
}
inline float bf16_to_f32(uint16_t v) {
  const uint32_t u = static_cast<uint32_t>(v) << 16;
  float f = 0.0f;
  std::memcpy(&f, &u, sizeof f);
  return f;
}
std::vector<uint16_t> to_bf16_panels(std::span<const float> w, int64_t n, int64_t k);
void bf16_panel_row(const uint16_t* panels, int64_t k, int64_t j, float* out);

}  // namespace sealsum::weights
