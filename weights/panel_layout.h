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

}  // namespace sealsum::weights
