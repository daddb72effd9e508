// sealsum_kernels_bench: micro-benchmark (not a test) of linear() and gemm() on the T5-small and
// distilbart-cnn shapes, per ISA and thread count. Prints GFLOP/s (and GB/s of weight streaming for
// the decoder shapes, where memory bandwidth is the limit). Usage:
//   sealsum_kernels_bench [--quick] [--filter SUBSTRING] [--isa scalar|avx2|avx512] [--threads N]
// Each case runs for at least ~0.3 s (0.1 s with --quick) after a warm-up call; the best of three
// repetitions is reported. Two rates are printed: by wall-clock time, and by process CPU time
// divided by the thread count ("cpu"), which is less distorted when other processes share the
// cores (it still includes the pool's brief spin-waits).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <random>
#include <string>
#include <vector>

#include "engine/kernels/isa.h"
#include "engine/kernels/kernels.h"
#include "engine/kernels/kernels_internal.h"
#include "engine/kernels/threadpool.h"
#include "weights/panel_layout.h"

using namespace sealsum::kernels;

namespace {

struct LinearCase {
  const char* name;
  int64_t m, n, k;
};
struct GemmCase {
  const char* name;
  bool trans_b;
  int64_t m, n, k;
};

std::vector<float> random_floats(size_t n) {
  std::mt19937 rng(42);
  std::uniform_real_distribution<float> d(-1.0f, 1.0f);
  std::vector<float> v(n);
  for (auto& x : v) x = d(rng);
  return v;
}

struct Timing {
  double wall = 1e30;  // seconds per call
  double cpu = 1e30;   // process CPU seconds per call
};

double cpu_now() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

template <class F>
Timing time_calls(F&& f, double min_time) {
  using clock = std::chrono::steady_clock;
  f();  // warm-up
  Timing best;
  for (int rep = 0; rep < 3; ++rep) {
    int64_t calls = 0;
    const auto t0 = clock::now();
    const double c0 = cpu_now();
    double el = 0;
    do {
      f();
      ++calls;
      el = std::chrono::duration<double>(clock::now() - t0).count();
    } while (el < min_time / 3);
    best.wall = std::min(best.wall, el / static_cast<double>(calls));
    best.cpu = std::min(best.cpu, (cpu_now() - c0) / static_cast<double>(calls));
  }
  return best;
}

// One decoder step's linears of t5-small (6 layers: self q/k/v/o, cross q/o, ff in/out; lm_head),
// every matrix distinct (~37 MiB int8, ~74 MiB bf16, ~147 MiB f32), run in order for m = 1 (greedy) and m = 4
// (beam 4): the step cost and beam/greedy ratio the weights alone set, with the weights streaming
// from wherever they settle (L3 or DRAM), as in a real decode.
// Times step(m) for m = 1 and 4 and prints each with the bytes it streams per second and, for m = 4,
// its cost relative to m = 1.
template <class Step>
void time_rows(Isa isa, const char* what, const char* unit, double bytes, double min_time, Step&& step) {
  double one = 0;
  for (const int64_t m : {1, 4}) {
    const Timing t = time_calls([&] { step(m); }, min_time * 3);
    if (m == 1) one = t.wall;
    std::printf("%-6s t=1 %s m=%lld: %8.1f us per step, %5.1f GB/s(%s)", isa_name(isa), what,
                static_cast<long long>(m), t.wall * 1e6, bytes / t.wall * 1e-9, unit);
    if (m != 1) std::printf(" | x%.2f of m=1", t.wall / one);
    std::printf("\n");
    std::fflush(stdout);
  }
}

void decoder_step_cases(Isa isa, const std::string& filter, double min_time, ThreadPool* pool) {
  if (!filter.empty() && std::string("t5 decoder step").find(filter) == std::string::npos) return;
  struct Shape { int64_t n, k; };
  std::vector<Shape> shapes;
  for (int layer = 0; layer < 6; ++layer) {
    for (int i = 0; i < 6; ++i) shapes.push_back({512, 512});
    shapes.push_back({2048, 512});
    shapes.push_back({512, 2048});
  }
  shapes.push_back({32128, 512});
  enum class W { kF32, kI8, kBF16 };
  for (const W wt : {W::kF32, W::kI8, W::kBF16}) {
    const bool i8 = wt == W::kI8;
    std::vector<PackedMatrix> mats;
    std::vector<AlignedFloats> bf16_store;  // the viewed bf16 panels
    double bytes = 0;
    for (const Shape& s : shapes) {
      const auto w = random_floats(static_cast<size_t>(s.n * s.k));
      if (wt == W::kBF16) {
        const std::vector<uint16_t> p = sealsum::weights::to_bf16_panels(w, s.n, s.k);
        bf16_store.push_back(aligned_floats((p.size() + 1) / 2));
        std::memcpy(bf16_store.back().get(), p.data(), p.size() * sizeof(uint16_t));
        mats.push_back(view_panels_bf16(reinterpret_cast<const uint16_t*>(bf16_store.back().get()), s.n, s.k));
      } else if (i8) {
        std::vector<int8_t> codes(w.size());
        for (size_t i = 0; i < w.size(); ++i) codes[i] = static_cast<int8_t>(std::lround(w[i] * 127.0f));
        const std::vector<float> scales(static_cast<size_t>(s.n), 0.01f);
        mats.push_back(pack_matrix_i8(codes.data(), scales.data(), s.n, s.k));
      } else {
        mats.push_back(pack_matrix(w.data(), s.n, s.k));
      }
      bytes += static_cast<double>(s.n * s.k) * (i8 ? 1.0 : wt == W::kBF16 ? 2.0 : 4.0);
    }
    const auto x = random_floats(static_cast<size_t>(4 * 2048));
    std::vector<float> y(static_cast<size_t>(4 * 32128));
    const char* what = i8 ? "i8lin  t5 decoder step" : wt == W::kBF16 ? "bf16   t5 decoder step" : "linear t5 decoder step";
    time_rows(isa, what, "W", bytes, min_time, [&](int64_t m) {
      for (const PackedMatrix& w : mats) linear(x.data(), m, w, nullptr, y.data(), pool);
    });
  }
  // The step's cross-attention (48 heads, L = 512, dh = 64): q·kᵀ and P·V over 12 MiB of f32 keys
  // and values, each head's distinct. First with q·kᵀ as dot products over row-major keys (gemm
  // trans_b, as decoder self-attention still does), then as the engine does it (layers::CrossKv):
  // the keys packed as a weight matrix, the scores a linear layer.
  constexpr int64_t kHeads = 48, kL = 512, kDh = 64;
  const auto keys = random_floats(static_cast<size_t>(kHeads * kL * kDh));
  const auto values = random_floats(static_cast<size_t>(kHeads * kL * kDh));
  const auto q = random_floats(static_cast<size_t>(4 * kDh));
  std::vector<float> scores(static_cast<size_t>(4 * kL)), out(static_cast<size_t>(4 * kDh));
  time_rows(isa, "gemm   t5 cross-attention step", "K,V", 8.0 * kHeads * kL * kDh, min_time, [&](int64_t m) {
    for (int64_t h = 0; h < kHeads; ++h) {
      const int64_t at = h * kL * kDh;
      gemm(true, m, kL, kDh, 0.125f, q.data(), kDh, keys.data() + at, kDh, 0.0f, scores.data(), kL);
      gemm(false, m, kDh, kL, 1.0f, scores.data(), kL, values.data() + at, kDh, 0.0f, out.data(), kDh);
    }
  });
  std::vector<PackedMatrix> key_mats;
  for (int64_t h = 0; h < kHeads; ++h) key_mats.push_back(pack_matrix(keys.data() + h * kL * kDh, kL, kDh));
  time_rows(isa, "linear t5 cross-attention step, packed keys", "K,V", 8.0 * kHeads * kL * kDh, min_time, [&](int64_t m) {
    for (int64_t h = 0; h < kHeads; ++h) {
      const int64_t at = h * kL * kDh;
      linear(q.data(), m, key_mats[static_cast<size_t>(h)], nullptr, scores.data(), nullptr);
      gemm(false, m, kDh, kL, 1.0f, scores.data(), kL, values.data() + at, kDh, 0.0f, out.data(), kDh);
    }
  });
  // As int8 and bf16 models run it: keys and transposed values as bf16 panels (half the bytes),
  // both products linear layers.
  const int64_t key_elems = sealsum::weights::panel_floats(kL, kDh);
  const int64_t value_elems = sealsum::weights::panel_floats(kDh, kL);
  const AlignedFloats b16 = aligned_floats(static_cast<size_t>(kHeads * (key_elems + value_elems) / 2));
  auto* const b16_at = reinterpret_cast<uint16_t*>(b16.get());
  std::vector<PackedMatrix> b16_keys, b16_values;
  std::vector<float> vt(static_cast<size_t>(kDh * kL));
  for (int64_t h = 0; h < kHeads; ++h) {
    const int64_t at = h * kL * kDh;
    for (int64_t c = 0; c < kL; ++c) {
      for (int64_t j = 0; j < kDh; ++j) {
        vt[static_cast<size_t>(j * kL + c)] = values[static_cast<size_t>(at + c * kDh + j)];
      }
    }
    const auto kp = sealsum::weights::to_bf16_panels(std::span<const float>(keys.data() + at, kL * kDh), kL, kDh);
    const auto vp = sealsum::weights::to_bf16_panels(vt, kDh, kL);
    uint16_t* kdst = b16_at + h * key_elems;
    uint16_t* vdst = b16_at + kHeads * key_elems + h * value_elems;
    std::copy(kp.begin(), kp.end(), kdst);
    std::copy(vp.begin(), vp.end(), vdst);
    b16_keys.push_back(view_panels_bf16(kdst, kL, kDh));
    b16_values.push_back(view_panels_bf16(vdst, kDh, kL));
  }
  time_rows(isa, "linear t5 cross-attention step, bf16 K,V", "K,V", 4.0 * kHeads * kL * kDh, min_time, [&](int64_t m) {
    for (int64_t h = 0; h < kHeads; ++h) {
      linear(q.data(), m, b16_keys[static_cast<size_t>(h)], nullptr, scores.data(), nullptr);
      linear(scores.data(), m, b16_values[static_cast<size_t>(h)], nullptr, out.data(), nullptr);
    }
  });
}

}  // namespace

int main(int argc, char** argv) {
  double min_time = 0.3;
  std::string filter, only_isa;
  int only_threads = 0;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--quick") == 0) {
      min_time = 0.1;
    } else if (std::strcmp(argv[i], "--filter") == 0 && i + 1 < argc) {
      filter = argv[++i];
    } else if (std::strcmp(argv[i], "--isa") == 0 && i + 1 < argc) {
      only_isa = argv[++i];
    } else if (std::strcmp(argv[i], "--threads") == 0 && i + 1 < argc) {
      only_threads = std::atoi(argv[++i]);
    } else {
      std::fprintf(stderr, "usage: %s [--quick] [--filter SUBSTRING] [--isa NAME] [--threads N]\n", argv[0]);
      return 2;
    }
  }
  const LinearCase linear_cases[] = {
      {"t5 enc q/k/v/o    ", 512, 512, 512},      {"t5 enc ff in     ", 512, 2048, 512},
      {"t5 enc ff out    ", 512, 512, 2048},     {"bart enc q/k/v/o  ", 1024, 1024, 1024},
      {"bart enc ff in   ", 1024, 4096, 1024},   {"bart enc ff out  ", 1024, 1024, 4096},
      {"t5 dec q m=1     ", 1, 512, 512},        {"t5 dec ff in m=1 ", 1, 2048, 512},
      {"t5 dec ff in m=4 ", 4, 2048, 512},       {"t5 lm_head m=1   ", 1, 32128, 512},
      {"t5 lm_head m=4   ", 4, 32128, 512},      {"t5 dec ff in m=6 ", 6, 2048, 512},
      {"t5 dec ff in m=8 ", 8, 2048, 512},       {"t5 lm_head m=8   ", 8, 32128, 512},
      {"bart dec q m=1   ", 1, 1024, 1024},
      {"bart dec ff in m=1", 1, 4096, 1024},     {"bart dec ff in m=4", 4, 4096, 1024},
      {"bart lm_head m=1 ", 1, 50264, 1024},     {"bart lm_head m=4 ", 4, 50264, 1024},
  };
  const GemmCase gemm_cases[] = {
      {"attn QK^T L=512   ", true, 512, 512, 64},   {"attn PV L=512     ", false, 512, 64, 512},
      {"attn QK^T L=1024  ", true, 1024, 1024, 64}, {"attn PV L=1024    ", false, 1024, 64, 1024},
      {"dec QK^T m=1 L=512", true, 1, 512, 64},     {"dec PV m=1 L=512  ", false, 1, 64, 512},
      {"dec QK^T m=4 L=512", true, 4, 512, 64},     {"dec PV m=4 L=512  ", false, 4, 64, 512},
  };
  std::printf("best ISA: %s; available CPUs: %d\n", isa_name(best_isa()), available_cpus());
  for (Isa isa : {Isa::kScalar, Isa::kAvx2, Isa::kAvx512}) {
    if (!isa_supported(isa) || (!only_isa.empty() && only_isa != isa_name(isa))) continue;
    set_isa(isa);
    for (int threads : {1, 2}) {
      if (only_threads > 0 && threads != only_threads) continue;
      ThreadPool pool(threads);
      for (const auto& c : linear_cases) {
        const std::string label = std::string(c.name);
        if (!filter.empty() && label.find(filter) == std::string::npos) continue;
        const auto w = random_floats(static_cast<size_t>(c.n * c.k));
        const auto x = random_floats(static_cast<size_t>(c.m * c.k));
        const auto b = random_floats(static_cast<size_t>(c.n));
        std::vector<float> y(static_cast<size_t>(c.m * c.n));
        const PackedMatrix pm = pack_matrix(w.data(), c.n, c.k);
        const Timing t = time_calls([&] { linear(x.data(), c.m, pm, b.data(), y.data(), &pool); },
                                    isa == Isa::kScalar ? min_time / 3 : min_time);
        const double flops = 2.0 * static_cast<double>(c.m * c.n * c.k), bytes = 4.0 * static_cast<double>(c.n * c.k);
        const double cpu = t.cpu / threads;
        std::printf("%-6s t=%d linear %s m=%-4lld n=%-5lld k=%-4lld wall %6.1f GFLOP/s %5.1f GB/s(W) %8.1f us"
                    " | cpu %6.1f GFLOP/s %5.1f GB/s(W)\n",
                    isa_name(isa), threads, c.name, static_cast<long long>(c.m), static_cast<long long>(c.n),
                    static_cast<long long>(c.k), flops / t.wall * 1e-9, bytes / t.wall * 1e-9, t.wall * 1e6,
                    flops / cpu * 1e-9, bytes / cpu * 1e-9);
        std::fflush(stdout);
        // int8 weights: every shape (decoder: weight streaming, 1 byte each; encoder: the VNNI tiles)
        std::vector<int8_t> codes(static_cast<size_t>(c.n * c.k));
        for (size_t i = 0; i < codes.size(); ++i) codes[i] = static_cast<int8_t>(static_cast<int>(i * 2654435761u % 255u) - 127);
        const std::vector<float> scales(static_cast<size_t>(c.n), 0.01f);
        const PackedMatrix pq = pack_matrix_i8(codes.data(), scales.data(), c.n, c.k);
        const Timing tq = time_calls([&] { linear(x.data(), c.m, pq, b.data(), y.data(), &pool); },
                                     isa == Isa::kScalar ? min_time / 3 : min_time);
        std::printf("%-6s t=%d i8lin  %s m=%-4lld n=%-5lld k=%-4lld wall %6.1f GFLOP/s %5.1f GB/s(W) %8.1f us\n",
                    isa_name(isa), threads, c.name, static_cast<long long>(c.m), static_cast<long long>(c.n),
                    static_cast<long long>(c.k), flops / tq.wall * 1e-9, bytes / 4 / tq.wall * 1e-9, tq.wall * 1e6);
        std::fflush(stdout);
      }
      if (threads != 1) continue;  // gemm() is single-threaded (callers split over heads)
      decoder_step_cases(isa, filter, min_time, &pool);
      for (const auto& c : gemm_cases) {
        const std::string label = std::string(c.name);
        if (!filter.empty() && label.find(filter) == std::string::npos) continue;
        const auto a = random_floats(static_cast<size_t>(c.m * c.k));
        const auto b = random_floats(static_cast<size_t>(c.n * c.k));
        std::vector<float> out(static_cast<size_t>(c.m * c.n));
        const int64_t ldb = c.trans_b ? c.k : c.n;
        const Timing t = time_calls(
            [&] { gemm(c.trans_b, c.m, c.n, c.k, 1.0f, a.data(), c.k, b.data(), ldb, 0.0f, out.data(), c.n); },
            isa == Isa::kScalar ? min_time / 3 : min_time);
        const double flops = 2.0 * static_cast<double>(c.m * c.n * c.k);
        std::printf("%-6s t=1 gemm   %s m=%-4lld n=%-5lld k=%-4lld wall %6.1f GFLOP/s %8.1f us | cpu %6.1f GFLOP/s\n",
                    isa_name(isa), c.name, static_cast<long long>(c.m), static_cast<long long>(c.n),
                    static_cast<long long>(c.k), flops / t.wall * 1e-9, t.wall * 1e6, flops / t.cpu * 1e-9);
        std::fflush(stdout);
      }
    }
  }
  return 0;
}
