// ISA detection and dispatch.
//
// Detection needs two answers: does the CPU implement the instructions (CPUID), and has the OS
// enabled saving of the wider register state on context switches (OSXSAVE + XGETBV(XCR0))? A CPU
// with AVX-512 under a kernel or hypervisor that does not enable ZMM state must not run AVX-512
// code, so both are checked:
//   AVX2   : CPUID.1:ECX {FMA(12), OSXSAVE(27), AVX(28), F16C(29)}, CPUID.7.0:EBX AVX2(5),
//            XCR0 {SSE(1), YMM(2)}.
//   AVX512 : the AVX2 set plus CPUID.7.0:EBX {F(16), DQ(17), BW(30), VL(31)},
//            XCR0 {opmask(5), ZMM_Hi256(6), Hi16_ZMM(7)}.
//   Extensions (isa.h): AVX512_VNNI CPUID.7.0:ECX(11), AVX-VNNI CPUID.7.1:EAX(4), AVX512_BF16
//            CPUID.7.1:EAX(5), each only on top of the OS-enabled ISA it extends.
// The active ISA is chosen once on first use: SEALSUM_ISA if set (must name a supported ISA, else
// the process stops with a message naming the value and the choices), otherwise the best one.
#include <atomic>
#include <cpuid.h>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>

#include "engine/kernels/isa.h"

namespace sealsum::kernels {
namespace {

uint64_t read_xcr0() {
  uint32_t lo = 0, hi = 0;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  return (static_cast<uint64_t>(hi) << 32) | lo;
}

struct Features {
  bool avx2 = false;
  bool avx512 = false;
  bool avx512_vnni = false, avx_vnni = false, avx512_bf16 = false;
};

Features detect() {
  Features f;
  unsigned a = 0, b = 0, c = 0, d = 0;
  if (!__get_cpuid(1, &a, &b, &c, &d)) return f;
  const bool fma = c & (1u << 12), osxsave = c & (1u << 27), avx = c & (1u << 28), f16c = c & (1u << 29);
  if (!(osxsave && avx)) return f;
  const uint64_t xcr0 = read_xcr0();
  const bool ymm_state = (xcr0 & 0x6) == 0x6;
  const bool zmm_state = (xcr0 & 0xE6) == 0xE6;
  unsigned a7 = 0, b7 = 0, c7 = 0, d7 = 0;
  if (!__get_cpuid_count(7, 0, &a7, &b7, &c7, &d7)) return f;
  const bool avx2 = b7 & (1u << 5);
  f.avx2 = ymm_state && fma && f16c && avx2;
  const bool avx512 = (b7 & (1u << 16)) && (b7 & (1u << 17)) && (b7 & (1u << 30)) && (b7 & (1u << 31));
  f.avx512 = f.avx2 && zmm_state && avx512;
  f.avx512_vnni = f.avx512 && (c7 & (1u << 11));
  unsigned a71 = 0, b71 = 0, c71 = 0, d71 = 0;
  if (a7 >= 1 && __get_cpuid_count(7, 1, &a71, &b71, &c71, &d71)) {
    f.avx_vnni = f.avx2 && (a71 & (1u << 4));
    f.avx512_bf16 = f.avx512 && (a71 & (1u << 5));
  }
  return f;
}

const Features& features() {
  static const Features f = detect();
  return f;
}

std::atomic<int> g_active{-1};
std::once_flag g_once;

void init_from_env_or_die() {
  Result<Isa> r = isa_from_env();
  if (!r.ok()) {
    std::fprintf(stderr, "sealsum: fatal: %s\n", r.status().to_string().c_str());
    std::fflush(stderr);
    std::abort();
  }
  g_active.store(static_cast<int>(*r), std::memory_order_release);
}

}  // namespace

const char* isa_name(Isa isa) {
  switch (isa) {
    case Isa::kScalar: return "scalar";
    case Isa::kAvx2: return "avx2";
    case Isa::kAvx512: return "avx512";
  }
  return "unknown";
}

bool isa_supported(Isa isa) {
  switch (isa) {
    case Isa::kScalar: return true;
    case Isa::kAvx2: return features().avx2;
    case Isa::kAvx512: return features().avx512;
  }
  return false;
}

bool has_avx512_vnni() { return features().avx512_vnni; }
bool has_avx_vnni() { return features().avx_vnni; }
bool has_avx512_bf16() { return features().avx512_bf16; }

Isa best_isa() {
  if (isa_supported(Isa::kAvx512)) return Isa::kAvx512;
  if (isa_supported(Isa::kAvx2)) return Isa::kAvx2;
  return Isa::kScalar;
}

Result<Isa> parse_isa(std::string_view name) {
  for (Isa isa : {Isa::kScalar, Isa::kAvx2, Isa::kAvx512}) {
    if (name == isa_name(isa)) {
      if (!isa_supported(isa)) {
        return unimplemented(std::string("ISA '") + isa_name(isa) +
                             "' is not supported by this CPU/OS (best available: " + isa_name(best_isa()) +
                             "); unset SEALSUM_ISA or choose a supported one");
      }
      return isa;
    }
  }
  return invalid_argument("unknown ISA '" + std::string(name.substr(0, 32)) +
                          "'; valid values are scalar, avx2, avx512");
}

Result<Isa> isa_from_env() {
  const char* v = std::getenv("SEALSUM_ISA");
  if (v == nullptr || *v == '\0') return best_isa();
  Result<Isa> r = parse_isa(v);
  if (!r.ok()) return r.status().with_context("SEALSUM_ISA");
  return r;
}

Isa active_isa() {
  int v = g_active.load(std::memory_order_acquire);
  if (v >= 0) return static_cast<Isa>(v);
  std::call_once(g_once, init_from_env_or_die);
  return static_cast<Isa>(g_active.load(std::memory_order_acquire));
}

void set_isa(Isa isa) {
  if (!isa_supported(isa)) {
    std::fprintf(stderr, "sealsum: fatal: set_isa(%s): ISA not supported by this CPU/OS\n", isa_name(isa));
    std::abort();
  }
  std::call_once(g_once, [] {});  // a later active_isa() must not re-read the environment
  g_active.store(static_cast<int>(isa), std::memory_order_release);
}

}  // namespace sealsum::kernels
