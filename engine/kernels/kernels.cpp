// Public kernel entry points: packing, work splitting and dispatch to the per-ISA translation units.
// See kernels_internal.h for the packed layout and the summation-order contract.
#include "engine/kernels/kernels.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <limits>
#include <vector>
#include <cstdlib>
#include <new>

#include "engine/kernels/buffer_pool.h"
#include "engine/kernels/isa.h"
#include "engine/kernels/kernels_internal.h"
#include "engine/kernels/threadpool.h"

namespace sealsum::kernels {

void AlignedFree::operator()(float* p) const noexcept {
  if (pooled_bytes > 0) {
    detail::pool_give(p, pooled_bytes);
  } else {
    std::free(p);
  }
}

AlignedFloats aligned_floats(size_t count) {
  if (count > SIZE_MAX / sizeof(float) - 64) throw std::bad_alloc();
  const size_t bytes = count * sizeof(float);
  if (bytes >= detail::kPoolMinBytes) {
    return AlignedFloats(static_cast<float*>(detail::pool_take(bytes)), AlignedFree{bytes});  // zeroed
  }
  const size_t rounded = (bytes + 63) / 64 * 64;
  void* p = std::aligned_alloc(64, rounded == 0 ? 64 : rounded);
  if (p == nullptr) throw std::bad_alloc();
  std::fill_n(static_cast<float*>(p), rounded / sizeof(float), 0.0f);
  return AlignedFloats(static_cast<float*>(p));
}

namespace detail {

int64_t panel_width(Isa isa) {
  switch (isa) {
    case Isa::kAvx512: return 32;
    case Isa::kAvx2: return 32;    // read as 16-wide blocks (kernels_avx2.cpp)
    case Isa::kScalar: return 32;  // the file layout: every ISA reads the model file in place
  }
  return 32;
}

namespace {

LinearPanelsFn linear_fn(Isa isa) {
  switch (isa) {
    case Isa::kAvx512: return linear_panels_avx512;
    case Isa::kAvx2: return linear_panels_avx2;
    case Isa::kScalar: return linear_panels_scalar;
  }
  return linear_panels_scalar;
}

GemmFn gemm_fn(Isa isa) {
  switch (isa) {
    case Isa::kAvx512: return gemm_avx512;
    case Isa::kAvx2: return gemm_avx2;
    case Isa::kScalar: return gemm_scalar;
  }
  return gemm_scalar;
}

}  // namespace

LinearPanelsFn linear_bf16_fn(Isa isa) {
  switch (isa) {
    case Isa::kAvx512: return linear_bf16_avx512;
    case Isa::kAvx2: return linear_bf16_avx2;
    case Isa::kScalar: return linear_bf16_scalar;
  }
  return linear_bf16_scalar;
}

LinearI8Fn linear_i8_fn(Isa isa) {
  switch (isa) {
    case Isa::kAvx512:
      if (has_avx512_vnni()) return linear_i8_avx512vnni;
      return has_avx_vnni() ? linear_i8_avx_vnni : linear_i8_avx2;  // AVX-512 implies AVX2
    case Isa::kAvx2: return has_avx_vnni() ? linear_i8_avx_vnni : linear_i8_avx2;
    case Isa::kScalar: return linear_i8_scalar;
  }
  return linear_i8_scalar;
}

void quantize_rows(const float* x, int64_t m, int64_t k, int64_t kp, uint8_t* xu, float* xs) {
  constexpr float kRound = 12582912.0f;  // 1.5 * 2^23: (v + kRound) - kRound rounds |v| < 2^22 half to even
  constexpr int64_t kBlock = 16;         // fixed-size inner loops, which the compiler vectorizes
  const auto code = [](float v, float inv) {
    const float r = (v * inv + kRound) - kRound;
    return static_cast<uint8_t>(std::clamp(static_cast<int32_t>(r), -127, 127) + 128);
  };
  for (int64_t i = 0; i < m; ++i) {
    const float* xi = x + i * k;
    uint8_t* qi = xu + i * kp;
    // max |x| and whether every value is finite (|v| <= FLT_MAX is false for inf and NaN).
    std::array<float, kBlock> lane_max{};
    uint32_t bad = 0;
    int64_t kk = 0;
    for (; kk + kBlock <= k; kk += kBlock) {
      for (int64_t l = 0; l < kBlock; ++l) {
        const float a = std::fabs(xi[kk + l]);
        bad |= static_cast<uint32_t>(!(a <= std::numeric_limits<float>::max()));
        lane_max[static_cast<size_t>(l)] = lane_max[static_cast<size_t>(l)] < a ? a : lane_max[static_cast<size_t>(l)];
      }
    }
    float amax = 0.0f;
    for (float a : lane_max) amax = std::max(amax, a);
    for (; kk < k; ++kk) {
      const float a = std::fabs(xi[kk]);
      bad |= static_cast<uint32_t>(!(a <= std::numeric_limits<float>::max()));
      amax = std::max(amax, a);
    }
    const bool finite = bad == 0;
    if (!finite || amax == 0.0f) {
      xs[i] = finite ? 0.0f : std::numeric_limits<float>::quiet_NaN();
      std::fill_n(qi, kp, uint8_t{128});
      continue;
    }
    const float inv = 127.0f / amax;
    xs[i] = amax / 127.0f;
    kk = 0;
    for (; kk + kBlock <= k; kk += kBlock) {
      for (int64_t l = 0; l < kBlock; ++l) qi[kk + l] = code(xi[kk + l], inv);
    }
    for (; kk < k; ++kk) qi[kk] = code(xi[kk], inv);
    std::fill(qi + k, qi + kp, uint8_t{128});
  }
}

namespace {

[[noreturn]] void contract_violation(const char* what) {
  std::fprintf(stderr, "sealsum: fatal: kernels: %s\n", what);
  std::fflush(stderr);
  std::abort();
}

}  // namespace
}  // namespace detail

PackedMatrix::PackedMatrix() : impl_(std::make_unique<Impl>()) {}
PackedMatrix::PackedMatrix(PackedMatrix&&) noexcept = default;
PackedMatrix& PackedMatrix::operator=(PackedMatrix&&) noexcept = default;
PackedMatrix::~PackedMatrix() = default;
int64_t PackedMatrix::rows() const { return impl_ ? impl_->n : 0; }
int64_t PackedMatrix::cols() const { return impl_ ? impl_->k : 0; }
Isa PackedMatrix::isa() const { return impl_ ? impl_->isa : Isa::kScalar; }
bool PackedMatrix::is_view() const {
  return impl_ && (impl_->data != nullptr || impl_->q8 != nullptr || impl_->bf16 != nullptr) && !impl_->owned;
}

namespace {

constexpr int64_t kFileNr = 32;  // the file's panel width (weights/panel_layout.h), every ISA's too

// Rows of W (row j at w + j·ldw) into nr-wide panels at dst; the last panel's padding columns are
// written as zeros, so dst's previous contents do not matter.
void pack_panels(float* dst, const float* w, int64_t n, int64_t k, int64_t ldw, int64_t nr) {
  for (int64_t p = 0; p * nr < n; ++p) {
    float* panel = dst + p * k * nr;
    const int64_t cols = std::min(nr, n - p * nr);
    for (int64_t jj = 0; jj < cols; ++jj) {
      const float* src = w + (p * nr + jj) * ldw;  // row j of W, read sequentially
      for (int64_t kk = 0; kk < k; ++kk) panel[kk * nr + jj] = src[kk];
    }
    for (int64_t kk = 0; cols < nr && kk < k; ++kk) std::fill(panel + kk * nr + cols, panel + (kk + 1) * nr, 0.0f);
  }
}

}  // namespace

PackedMatrix pack_matrix(const float* w, int64_t n, int64_t k, int64_t ldw) {
  if (n < 0 || k < 0 || ldw < k || (n * k > 0 && w == nullptr)) {
    detail::contract_violation("pack_matrix: bad shape or null weights");
  }
  PackedMatrix pm;
  PackedMatrix::Impl& im = *pm.impl_;
  im.isa = active_isa();
  im.n = n;
  im.k = k;
  im.nr = detail::panel_width(im.isa);
  im.panels = (n + im.nr - 1) / im.nr;
  im.owned = aligned_floats(static_cast<size_t>(im.panels * k * im.nr));
  im.data = im.owned.get();
  pack_panels(im.owned.get(), w, n, k, ldw, im.nr);
  return pm;
}

size_t packed_floats(int64_t n, int64_t k) {
  if (n < 0 || k < 0) detail::contract_violation("packed_floats: negative shape");
  return static_cast<size_t>((n + kFileNr - 1) / kFileNr * kFileNr * k);
}

PackedMatrix pack_matrix_into(float* dst, const float* w, int64_t n, int64_t k, int64_t ldw) {
  if (n < 0 || k < 0 || ldw < k || (n * k > 0 && (w == nullptr || dst == nullptr))) {
    detail::contract_violation("pack_matrix_into: bad shape or null");
  }
  pack_panels(dst, w, n, k, ldw, kFileNr);
  return view_panels(dst, n, k);
}

PackedMatrix view_panels(const float* panels, int64_t n, int64_t k) {
  if (n < 0 || k < 0 || (n * k > 0 && panels == nullptr)) detail::contract_violation("view_panels: bad shape or null");
  if (reinterpret_cast<uintptr_t>(panels) % 64 != 0) detail::contract_violation("view_panels: not 64-byte aligned");
  if (detail::panel_width(active_isa()) != kFileNr) detail::contract_violation("view_panels: ISA panel width is not 32");
  PackedMatrix pm;
  PackedMatrix::Impl& im = *pm.impl_;
  im.isa = active_isa();
  im.n = n;
  im.k = k;
  im.nr = kFileNr;
  im.panels = (n + kFileNr - 1) / kFileNr;
  im.data = panels;
  return pm;
}

namespace {

// Common set-up of the int8 matrices: shape, padded scales, per-row code sums.
void init_i8(PackedMatrix::Impl& im, const int8_t* codes, const float* scales, int64_t n, int64_t k) {
  im.isa = active_isa();
  im.wtype = PackedMatrix::Impl::WType::kI8;
  im.n = n;
  im.k = k;
  im.nr = 32;
  im.kp = (k + 3) / 4 * 4;
  im.panels = (n + 31) / 32;
  im.q8 = codes;
  const size_t padded = static_cast<size_t>(im.panels * 32);
  im.scales.assign(padded, 0.0f);
  if (n > 0) std::copy(scales, scales + n, im.scales.begin());
  im.colsum.assign(padded, 0);
  for (int64_t p = 0; p < im.panels; ++p) {
    const int8_t* panel = codes + p * im.kp * 32;
    for (int64_t g = 0; g < im.kp; g += 4) {
      for (int64_t b = 0; b < 128; ++b) im.colsum[static_cast<size_t>(p * 32 + b / 4)] += panel[g * 32 + b];
    }
  }
}

}  // namespace

PackedMatrix view_panels_i8(const int8_t* codes, const float* scales, int64_t n, int64_t k) {
  if (n < 0 || k < 0 || (n * k > 0 && (codes == nullptr || scales == nullptr))) {
    detail::contract_violation("view_panels_i8: bad shape or null");
  }
  if (reinterpret_cast<uintptr_t>(codes) % 64 != 0) detail::contract_violation("view_panels_i8: not 64-byte aligned");
  PackedMatrix pm;
  init_i8(*pm.impl_, codes, scales, n, k);
  return pm;
}

PackedMatrix pack_matrix_i8(const int8_t* codes, const float* scales, int64_t n, int64_t k) {
  if (n < 0 || k < 0 || (n * k > 0 && (codes == nullptr || scales == nullptr))) {
    detail::contract_violation("pack_matrix_i8: bad shape or null");
  }
  PackedMatrix pm;
  PackedMatrix::Impl& im = *pm.impl_;
  const int64_t kp = (k + 3) / 4 * 4, panels = (n + 31) / 32;
  im.owned = aligned_floats(static_cast<size_t>(panels * 32 * kp / 4));  // zero-filled: padding
  int8_t* dst = reinterpret_cast<int8_t*>(im.owned.get());
  for (int64_t j = 0; j < n; ++j) {
    for (int64_t kk = 0; kk < k; ++kk) dst[(j / 32) * kp * 32 + (kk / 4) * 128 + (j % 32) * 4 + kk % 4] = codes[j * k + kk];
  }
  init_i8(im, dst, scales, n, k);
  return pm;
}

PackedMatrix view_panels_bf16(const uint16_t* panels, int64_t n, int64_t k) {
  if (n < 0 || k < 0 || (n * k > 0 && panels == nullptr)) detail::contract_violation("view_panels_bf16: bad shape or null");
  if (reinterpret_cast<uintptr_t>(panels) % 64 != 0) detail::contract_violation("view_panels_bf16: not 64-byte aligned");
  PackedMatrix pm;
  PackedMatrix::Impl& im = *pm.impl_;
  im.isa = active_isa();
  im.wtype = PackedMatrix::Impl::WType::kBF16;
  im.n = n;
  im.k = k;
  im.nr = 32;
  im.panels = (n + 31) / 32;
  im.bf16 = panels;
  return pm;
}

void linear(const float* x, int64_t m, const PackedMatrix& w, const float* bias, float* y, ThreadPool* pool) {
  const PackedMatrix::Impl& im = w.impl();
  if (m < 0) detail::contract_violation("linear: negative m");
  if (m == 0 || im.n == 0) return;
  if (im.wtype == PackedMatrix::Impl::WType::kI8) {
    // The caller's thread owns these while the pool's workers read them (parallel_for waits).
    thread_local std::vector<uint8_t> xu;
    thread_local std::vector<float> xs;
    xu.resize(static_cast<size_t>(m * im.kp));
    xs.resize(static_cast<size_t>(m));
    const detail::LinearI8Fn fn = detail::linear_i8_fn(im.isa);
    (fn == detail::linear_i8_avx512vnni ? detail::quantize_rows_avx512 : detail::quantize_rows)(x, m, im.k, im.kp,
                                                                                              xu.data(), xs.data());
    const uint8_t* xq = xu.data();
    const float* xsc = xs.data();
    if (pool == nullptr || pool->size() <= 1) {
      fn(xq, xsc, m, im, 0, im.panels, bias, y, im.n);
      return;
    }
    const int64_t per_panel = std::max<int64_t>(1, m * std::max<int64_t>(im.kp, 1) * 32);
    const int64_t grain = std::max<int64_t>(1, (int64_t{1} << 19) / per_panel);
    pool->parallel_for(im.panels, grain, [&](int64_t pb, int64_t pe) { fn(xq, xsc, m, im, pb, pe, bias, y, im.n); });
    return;
  }
  const detail::LinearPanelsFn fn = im.wtype == PackedMatrix::Impl::WType::kBF16 ? detail::linear_bf16_fn(im.isa)
                                                                                 : detail::linear_fn(im.isa);
  const int64_t n = im.n, k = im.k, ldx = k;
  if (pool == nullptr || pool->size() <= 1) {
    fn(x, ldx, m, im, 0, im.panels, bias, y, n);
    return;
  }
  // Grain: at least ~256k multiply-adds per chunk so that waking a thread pays off.
  const int64_t per_panel = std::max<int64_t>(1, m * std::max<int64_t>(k, 1) * im.nr);
  const int64_t grain = std::max<int64_t>(1, (int64_t{1} << 18) / per_panel);
  pool->parallel_for(im.panels, grain, [&](int64_t pb, int64_t pe) { fn(x, ldx, m, im, pb, pe, bias, y, n); });
}

void gemm(bool trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float* a, int64_t lda,
          const float* b, int64_t ldb, float beta, float* c, int64_t ldc) {
  if (m < 0 || n < 0 || k < 0) detail::contract_violation("gemm: negative dimension");
  if (m == 0 || n == 0) return;
  detail::gemm_fn(active_isa())(trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

}  // namespace sealsum::kernels
