// The buffer pool behind kernels::aligned_floats for buffers of kPoolMinBytes and more: the
// per-request ones (encoder scratch, cross-attention keys and values, the decoder's KV cache).
//
// Why. Memory the kernel hands out fresh costs a page fault on first touch, and in a VM the host's
// own fault behind it: about 10 us per 4 KiB page on the development VM (1.7 ms per 2 MiB even as
// transparent huge pages), about 15 % of serve's CPU per document (perf, t5-small int8, 8
// clients) and 10-20 ms of a 140 ms t5-small request. Memory the process has already touched
// costs nothing. So a freed buffer is kept and carved again for a later one instead of going back
// to the kernel, and a warm process (serve after its first requests, bench after its first run)
// takes no page faults for its per-request buffers.
//
// How. Memory comes in regions mmap'ed at the size of the request that found no idle range, 2 MiB
// aligned, advised as transparent huge pages and kept out of core dumps (they hold activations of
// confidential documents). A request takes the smallest idle range that fits (best fit, page granular); the
// rest of that range stays idle. A returned range is wiped (zeroed: the next user gets zeroed
// memory, and no document-derived data lies around idle) and merged with the idle ranges beside it
// in its region. Regions are never unmapped while the process lives: the pool's footprint is its
// high-water mark, the most its buffers ever needed at once plus fragmentation (best fit over merged
// ranges; a repeated request of one shape reuses the same ranges). Encoder scratch freed before the
// decoder starts is carved into the decoder's buffers, which a fresh-per-buffer allocator could not.
//
// Under AddressSanitizer idle ranges are poisoned and every buffer is followed by a poisoned page,
// so a use after return or an overflow is still reported.
//
// Thread safety: every function may be called from any thread (one mutex; a few calls per request).
#pragma once

#include <cstddef>
#include <cstdint>

namespace sealsum::kernels::detail {

inline constexpr size_t kPoolMinBytes = size_t{256} << 10;  // smaller buffers: the C library's heap

// Zeroed, page-aligned storage for `bytes` (rounded up to whole pages). Throws std::bad_alloc when
// no memory can be mapped.
void* pool_take(size_t bytes);
// Returns storage from pool_take, with the same `bytes`. Wipes it (whole pages). Never fails short
// of the pool's own bookkeeping (a map node) finding no memory, which ends the process
// (std::terminate: a noexcept deleter cannot report it).
void pool_give(void* p, size_t bytes) noexcept;

struct PoolStats {
  size_t mapped_bytes = 0;  // all regions
  size_t idle_bytes = 0;    // in idle ranges
  uint64_t regions_mapped = 0;  // mmap calls so far
};
PoolStats pool_stats();

}  // namespace sealsum::kernels::detail
