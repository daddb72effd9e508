// SecretAllocator<T>: a standard allocator whose every block is secret memory, like SecretBuffer:
// its own page-aligned anonymous mapping, excluded from core dumps (MADV_DONTDUMP) and from a
// child's copy after fork (MADV_DONTFORK), locked in RAM (mlock) when the process may lock that
// much, and wiped (explicit_bzero over the whole mapping) before it is unmapped. SecretString and
// SecretVector<T> hold a sealed document's text, token ids and summary from decryption to output
// sealing (engine/engine.h's SecretSummary, server/serve.cpp).
//
// Why an allocator (and not more SecretBuffers): the engine builds these with ordinary string and
// vector operations (append, push_back, resize); the allocator gives them secret memory without
// rewriting those, and a growing container's old block is wiped when it is released. What it does
// not cover: a basic_string's small-string buffer (up to 15 chars) lives inside the string object
// itself; reserve() 16 or more before writing a secret into a SecretString kept on the stack.
// Temporaries made by code that takes no allocator (the tokenizer, nlohmann::json, cpp-httplib)
// are covered by the process-wide wipe-on-free instead (secure/wipe_on_free.h).
//
// Cost: one mmap + madvise + mlock per allocation and one munmap per release, page-granular: for a
// few large blocks per request, not for small objects in hot loops.
// Failure: allocate() throws std::bad_alloc when the mapping fails (as any allocator); a failed
// mlock is tolerated (the pages are still excluded from dumps and wiped).
// Thread safety: stateless; every instance compares equal and may free another's blocks.
#pragma once

#include <cstddef>
#include <new>
#include <string>
#include <string_view>
#include <vector>

namespace sealsum::secure {

// The untyped halves (secret_allocator.cpp). secret_map returns nullptr on failure; secret_unmap
// wipes and unmaps a block secret_map returned for the same `bytes` (nullptr: no-op).
void* secret_map(size_t bytes) noexcept;
void secret_unmap(void* p, size_t bytes) noexcept;

template <typename T>
class SecretAllocator {
 public:
  using value_type = T;
  using is_always_equal = std::true_type;
  using propagate_on_container_move_assignment = std::true_type;

  SecretAllocator() noexcept = default;
  template <typename U>
  SecretAllocator(const SecretAllocator<U>&) noexcept {}  // NOLINT: rebinding, as std::allocator

  T* allocate(size_t n) {
    if (n > static_cast<size_t>(-1) / sizeof(T)) throw std::bad_alloc();
    void* p = secret_map(n * sizeof(T));
    if (p == nullptr) throw std::bad_alloc();
    return static_cast<T*>(p);
  }
  void deallocate(T* p, size_t n) noexcept { secret_unmap(p, n * sizeof(T)); }

  template <typename U>
  bool operator==(const SecretAllocator<U>&) const noexcept {
    return true;
  }
};

using SecretString = std::basic_string<char, std::char_traits<char>, SecretAllocator<char>>;
template <typename T>
using SecretVector = std::vector<T, SecretAllocator<T>>;

inline std::string_view view(const SecretString& s) { return {s.data(), s.size()}; }

}  // namespace sealsum::secure
