// Compute kernels: the bottom layer of the engine. Everything above calls only these entry points.
//
// ISA dispatch: the best ISA the CPU *and* OS support (CPUID + XGETBV) is chosen once, on first
// use; the environment variable SEALSUM_ISA=scalar|avx2|avx512 overrides it (an unsupported or
// unknown value is a startup error, never a silent fallback). Each ISA lives in its own translation
// unit compiled with its own flags (kernels_avx2.cpp: -mavx2 -mfma; kernels_avx512.cpp:
// -mavx512f -mavx512bw -mavx512vl -mfma; the quantized-weight kernels: kernels_avx512_vnni.cpp,
// kernels_avx_vnni.cpp, kernels_avx2_i8.cpp (int8), kernels_avx512_bf16.cpp and
// kernels_avx2_bf16.cpp (bf16), see
// engine/CMakeLists.txt); no other file uses intrinsics. Every fast kernel has a scalar twin in
// kernels_scalar.cpp, and tests compare them on ragged shapes (int8: bit for bit).
//
// Thread safety: kernels are reentrant; PackedMatrix is immutable after packing. set_isa() is for
// tests and must not race with running kernels.
#pragma once

#include <cstdint>
#include <memory>

namespace sealsum::kernels {

class ThreadPool;

enum class Isa : int { kScalar = 0, kAvx2 = 1, kAvx512 = 2 };
const char* isa_name(Isa isa);
bool isa_supported(Isa isa);  // CPU and OS (XSAVE state) both support it
Isa active_isa();             // chosen once (see above)
void set_isa(Isa isa);        // tests: force an ISA (must be supported)

struct AlignedFree {
  size_t pooled_bytes = 0;  // > 0: the block came from the buffer pool with this size
  void operator()(float* p) const noexcept;
};
using AlignedFloats = std::unique_ptr<float[], AlignedFree>;
// 64-byte aligned, zero-initialized storage for `count` floats. Throws std::bad_alloc. From 256 KiB
// up it comes from the buffer pool (buffer_pool.h): page aligned, in 2 MiB-aligned regions advised
// as transparent huge pages and kept out of core dumps, and recycled when freed (wiped, then carved
// again for later buffers), so a warm process takes no page faults for its per-request buffers
// (each cost ~10 us per 4 KiB on the development VM, and page validation in a confidential VM).
AlignedFloats aligned_floats(size_t count);

// A weight matrix W[n, k] (PyTorch nn.Linear layout: out x in, row-major), repacked once at load
// (or viewed in place, see view_panels) in the panel layout of the ISA that was active then; linear() always runs that
// ISA's kernel for it (a later set_isa() affects matrices packed afterwards).
class PackedMatrix {
 public:
  PackedMatrix();
  PackedMatrix(PackedMatrix&&) noexcept;
  PackedMatrix& operator=(PackedMatrix&&) noexcept;
  ~PackedMatrix();
  int64_t rows() const;  // n (output features)
  int64_t cols() const;  // k (input features)
  Isa isa() const;
  bool is_view() const;  // reads caller memory in place (view_panels), owns no packed copy
  struct Impl;
  const Impl& impl() const { return *impl_; }

 private:
  friend PackedMatrix pack_matrix(const float* w, int64_t n, int64_t k, int64_t ldw);
  friend PackedMatrix view_panels(const float* panels, int64_t n, int64_t k);
  friend PackedMatrix view_panels_i8(const int8_t* codes, const float* scales, int64_t n, int64_t k);
  friend PackedMatrix pack_matrix_i8(const int8_t* codes, const float* scales, int64_t n, int64_t k);
  friend PackedMatrix view_panels_bf16(const uint16_t* panels, int64_t n, int64_t k);
  std::unique_ptr<Impl> impl_;
};

// Row j of W at w + j·ldw (ldw >= k): packs a matrix held inside a wider one, e.g. one attention
// head's keys among all heads' columns, without gathering it first.
PackedMatrix pack_matrix(const float* w, int64_t n, int64_t k, int64_t ldw);
inline PackedMatrix pack_matrix(const float* w, int64_t n, int64_t k) { return pack_matrix(w, n, k, k); }
// Floats of W[n, k] in the 32-wide panel layout (padding included): what pack_matrix_into writes.
size_t packed_floats(int64_t n, int64_t k);
// pack_matrix into caller storage: `dst` (64-byte aligned, packed_floats(n, k) floats, padding
// written as zeros) is filled and returned as a view (view_panels): dst must outlive the result.
// For many small matrices packed into one allocation (layers::CrossKv).
PackedMatrix pack_matrix_into(float* dst, const float* w, int64_t n, int64_t k, int64_t ldw);
// A matrix already in the 32-wide panel layout (weights/panel_layout.h: the model file's layout,
// which every ISA's kernel reads), `panels` 64-byte aligned: a view, no copy; `panels` must
// outlive it and stay unchanged. Equivalent to pack_matrix of the row-major matrix.
PackedMatrix view_panels(const float* panels, int64_t n, int64_t k);

// int8 weights (weights/panel_layout.h: symmetric per output row, codes in -127..127 (never -128:
// the AVX2 kernel moves signs onto the codes; callers check, see models/config_util.cpp) stored in
// 32-row panels with k in groups of 4, `codes` 64-byte aligned, W[j, kk] ≈ code · scales[j]): a view
// of the codes (no copy; they must outlive it and stay unchanged); the scales are copied, and the
// per-row code sums are computed here (n ints). linear() quantizes x per row on the fly
// (symmetric, scale max|x_i| / 127, round half to even) and computes the integer dot products
// exactly, so every ISA (scalar, AVX2, AVX2-VNNI, AVX-512 VNNI) gives bit-identical results.
PackedMatrix view_panels_i8(const int8_t* codes, const float* scales, int64_t n, int64_t k);
// Same from row-major codes [n, k] (tests): packs into owned storage.
PackedMatrix pack_matrix_i8(const int8_t* codes, const float* scales, int64_t n, int64_t k);

// bf16 weights in the 32-wide panel layout (2-byte elements, 64-byte aligned; weights/panel_layout.h):
// a view (the panels must outlive it and stay unchanged). linear() widens them to f32 in the kernel
// (AVX-512 and AVX2 give the same bits; the scalar twin is within the f32 tolerance of them) and keeps
// the f32 summation contract; activations stay f32.
PackedMatrix view_panels_bf16(const uint16_t* panels, int64_t n, int64_t k);

// y[m, n] = x[m, k] · Wᵀ (+ bias[n] if bias != nullptr). x and y are contiguous row-major.
// Work is split over `pool` when given (deterministic: the result does not depend on thread count).
void linear(const float* x, int64_t m, const PackedMatrix& w, const float* bias, float* y, ThreadPool* pool);

// General GEMM for attention: C = alpha · A · op(B) + beta · C, A [m, k] (row stride lda),
// op(B) = Bᵀ with B [n, k] when trans_b, else B [k, n] (row stride ldb), C [m, n] (row stride ldc).
// beta == 0 ignores C's previous contents (NaNs included).
void gemm(bool trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float* a, int64_t lda,
          const float* b, int64_t ldb, float beta, float* c, int64_t ldc);

}  // namespace sealsum::kernels
