// Additive helpers around the ISA dispatch declared in kernels.h (tests, CLI diagnostics).
//
// Thread safety: all functions are safe to call concurrently except that set_isa() (kernels.h) must
// not race with running kernels.
#pragma once

#include <string_view>

#include "common/status.h"
#include "engine/kernels/kernels.h"

namespace sealsum::kernels {

// The best ISA this CPU and OS support.
Isa best_isa();
// Optional instruction-set extensions used by the quantized-weight kernels (CPUID, with the OS
// state of the ISA they extend): AVX512_VNNI (CPUID.7.0:ECX bit 11, needs AVX-512), AVX-VNNI
// (CPUID.7.1:EAX bit 4, needs AVX2), AVX512_BF16 (CPUID.7.1:EAX bit 5, needs AVX-512).
bool has_avx512_vnni();
bool has_avx_vnni();
bool has_avx512_bf16();
// "scalar" | "avx2" | "avx512" -> Isa. Unknown names are kInvalidArgument; names of ISAs this
// machine cannot run are kUnimplemented. The message names the choices, never silently falls back.
Result<Isa> parse_isa(std::string_view name);
// What active_isa() would choose now: parse_isa($SEALSUM_ISA) if set and non-empty, else best_isa().
// A caller (e.g. the CLI) may call it at startup to report a bad value as a Status instead of the
// fatal stop that active_isa() performs on first use.
Result<Isa> isa_from_env();

}  // namespace sealsum::kernels
