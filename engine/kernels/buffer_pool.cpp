// The buffer pool (see buffer_pool.h for why and the contract).
//
// State, under one mutex: the regions (start -> length), and the idle ranges twice over, by
// address (to merge a returned range with its neighbours) and by size (best fit). Every range lies
// inside one region; ranges of different regions are never merged, even when the regions happen to
// be adjacent, so a range never spans two mappings.
#include "engine/kernels/buffer_pool.h"

#include <sys/mman.h>

#include <cstring>
#include <map>
#include <mutex>
#include <new>

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SEALSUM_POOL_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define SEALSUM_POOL_ASAN 1
#endif
#ifdef SEALSUM_POOL_ASAN
#include <sanitizer/asan_interface.h>
#define POOL_POISON(p, n) ASAN_POISON_MEMORY_REGION((p), (n))
#define POOL_UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
constexpr size_t kRedzone = 4096;  // a poisoned page after every buffer: overflows are reported
#else
constexpr size_t kRedzone = 0;
#define POOL_POISON(p, n) ((void)(p), (void)(n))
#define POOL_UNPOISON(p, n) ((void)(p), (void)(n))
#endif

namespace sealsum::kernels::detail {
namespace {

constexpr size_t kPage = 4096;
constexpr size_t kRegionAlign = size_t{2} << 20;

size_t round_up(size_t n, size_t to) { return (n + to - 1) / to * to; }

class Pool {
 public:
  void* take(size_t bytes) {
    if (bytes > (SIZE_MAX >> 2)) throw std::bad_alloc();
    const size_t r = span(bytes);
    std::lock_guard<std::mutex> lock(mu_);
    auto fit = by_size_.lower_bound(r);
    uintptr_t at;
    if (fit != by_size_.end()) {
      at = fit->second;
      const Idle idle = by_addr_.at(at);
      by_size_.erase(fit);
      by_addr_.erase(at);
      if (idle.size > r) insert(at + r, idle.size - r, idle.region);
    } else {
      // Exactly the request: a rounded-up tail would only add resident memory (the region still
      // starts 2 MiB aligned, so all its whole 2 MiB spans can be huge pages).
      at = map_region(r);
      regions_.emplace(at, r);
    }
    void* p = reinterpret_cast<void*>(at);
    POOL_UNPOISON(p, bytes);  // the buffer only: its page's tail (and the redzone) stay poisoned
    return p;
  }

  void give(void* p, size_t bytes) noexcept {
    const size_t r = span(bytes);
    POOL_UNPOISON(p, r - kRedzone);
    std::memset(p, 0, r - kRedzone);  // the wipe (whole pages), and the zeroed memory the next taker is promised
    POOL_POISON(p, r);
    const uintptr_t at = reinterpret_cast<uintptr_t>(p);
    std::lock_guard<std::mutex> lock(mu_);
    const uintptr_t region = std::prev(regions_.upper_bound(at))->first;
    uintptr_t start = at;
    size_t size = r;
    auto next = by_addr_.find(at + r);
    if (next != by_addr_.end() && next->second.region == region) {
      size += next->second.size;
      erase(next);
    }
    auto prev = by_addr_.lower_bound(at);
    if (prev != by_addr_.begin()) {
      --prev;
      if (prev->first + prev->second.size == at && prev->second.region == region) {
        start = prev->first;
        size += prev->second.size;
        erase(prev);
      }
    }
    insert(start, size, region);
  }

  PoolStats stats() {  // derived on demand (tests): nothing on the take/give path keeps counts
    std::lock_guard<std::mutex> lock(mu_);
    PoolStats s;
    for (const auto& [at, len] : regions_) s.mapped_bytes += len;
    for (const auto& [at, idle] : by_addr_) s.idle_bytes += idle.size;
    s.regions_mapped = regions_.size();  // regions are never unmapped
    return s;
  }

 private:
  struct Idle {
    size_t size;
    uintptr_t region;  // the start of the region holding it
  };

  // The pages a buffer of `bytes` occupies (under AddressSanitizer with a redzone page after it).
  static size_t span(size_t bytes) { return round_up(bytes == 0 ? 1 : bytes, kPage) + kRedzone; }

  static uintptr_t map_region(size_t len) {
    // Over-map by one alignment unit and cut the ends, so the region starts 2 MiB aligned (whole
    // huge pages).
    void* raw = mmap(nullptr, len + kRegionAlign, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (raw == MAP_FAILED) throw std::bad_alloc();
    const uintptr_t base = reinterpret_cast<uintptr_t>(raw);
    const uintptr_t at = round_up(base, kRegionAlign);
    if (at > base) munmap(raw, at - base);
    if (at + len < base + len + kRegionAlign) {
      munmap(reinterpret_cast<void*>(at + len), base + len + kRegionAlign - (at + len));
    }
    void* p = reinterpret_cast<void*>(at);
    (void)madvise(p, len, MADV_HUGEPAGE);  // hints: refused or not, the region is fine
    (void)madvise(p, len, MADV_DONTDUMP);
    POOL_POISON(p, len);
    return at;
  }

  void insert(uintptr_t at, size_t size, uintptr_t region) {
    by_addr_.emplace(at, Idle{size, region});
    by_size_.emplace(size, at);
  }

  void erase(std::map<uintptr_t, Idle>::iterator it) {
    auto [lo, hi] = by_size_.equal_range(it->second.size);
    for (auto s = lo; s != hi; ++s) {
      if (s->second == it->first) {
        by_size_.erase(s);
        break;
      }
    }
    by_addr_.erase(it);
  }

  std::mutex mu_;
  std::map<uintptr_t, size_t> regions_;
  std::map<uintptr_t, Idle> by_addr_;
  std::multimap<size_t, uintptr_t> by_size_;
};

// Never destroyed: buffers may be returned during static destruction (a model held by a static).
Pool& pool() {
  static Pool* const p = new Pool();
  return *p;
}

}  // namespace

void* pool_take(size_t bytes) { return pool().take(bytes); }
void pool_give(void* p, size_t bytes) noexcept { pool().give(p, bytes); }
PoolStats pool_stats() { return pool().stats(); }

}  // namespace sealsum::kernels::detail
