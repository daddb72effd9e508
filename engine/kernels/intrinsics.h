// <immintrin.h> for the per-ISA kernel files (and only them: each is compiled with its own -m flags,
// see engine/CMakeLists.txt). GCC 12 reports its own _mm512_undefined_*() helpers (self-initialized
// on purpose) as uninitialized once inlined; the warning points into the header, so it is silenced
// for the header only, here, instead of in every kernel file.
#pragma once

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>
#pragma GCC diagnostic pop
#else
#include <immintrin.h>
#endif
