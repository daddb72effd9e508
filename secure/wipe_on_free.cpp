// Process-wide wipe-on-free (see wipe_on_free.h): replacements of the global operator new and
// delete (all forms the standard names: plain, sized, aligned, nothrow, array), and OpenSSL's
// allocator hooks.
#include "secure/wipe_on_free.h"

#include <malloc.h>
#include <openssl/crypto.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <new>

#include "secure/secret_buffer.h"

namespace sealsum::secure {
namespace {

std::atomic<bool> g_wipe{false};

void release(void* p) noexcept {
  if (p == nullptr) return;
  if (g_wipe.load(std::memory_order_relaxed)) wipe(p, malloc_usable_size(p));
  std::free(p);
}

void* allocate(size_t n) {
  if (n == 0) n = 1;
  for (;;) {
    if (void* p = std::malloc(n)) return p;
    std::new_handler h = std::get_new_handler();
    if (h == nullptr) throw std::bad_alloc();
    h();
  }
}

void* allocate_aligned(size_t n, std::align_val_t al) {
  size_t align = static_cast<size_t>(al);
  if (align < sizeof(void*)) align = sizeof(void*);
  if (n == 0) n = 1;
  for (;;) {
    void* p = nullptr;
    if (posix_memalign(&p, align, n) == 0) return p;
    std::new_handler h = std::get_new_handler();
    if (h == nullptr) throw std::bad_alloc();
    h();
  }
}

// OpenSSL's hooks (file and line are OpenSSL's debugging aids; unused).
void* ossl_malloc(size_t n, const char*, int) { return std::malloc(n); }
void ossl_free(void* p, const char*, int) { release(p); }
void* ossl_realloc(void* p, size_t n, const char*, int) {
  if (p == nullptr) return std::malloc(n);
  if (n == 0) {
    release(p);
    return nullptr;
  }
  const size_t have = malloc_usable_size(p);
  if (n <= have) return p;  // fits: no copy is left behind
  void* q = std::malloc(n);
  if (q == nullptr) return nullptr;  // as realloc: the old block stays valid
  std::memcpy(q, p, have);
  release(p);
  return q;
}

std::atomic<bool> g_openssl_hooked{false};

// Runs from the executable's .preinit_array: before any shared library's constructor, and so
// before cpp-httplib's (which initializes OpenSSL, after which CRYPTO_set_mem_functions refuses).
// The hooks stay inert (no wiping) until enable_wipe_on_free().
void install_openssl_hooks(int, char**, char**) {
  if (CRYPTO_set_mem_functions(ossl_malloc, ossl_realloc, ossl_free) == 1) {
    g_openssl_hooked.store(true, std::memory_order_relaxed);
  }
}
__attribute__((section(".preinit_array"), used)) void (*g_preinit)(int, char**, char**) = install_openssl_hooks;

}  // namespace

Status enable_wipe_on_free() {
  g_wipe.store(true, std::memory_order_relaxed);
  if (!g_openssl_hooked.load(std::memory_order_relaxed)) {
    return internal_error("OpenSSL's wipe-on-free allocator was not installed at start (OpenSSL had already "
                          "allocated); link secure/wipe_on_free.cpp into the executable");
  }
  return Status::ok();
}

bool wipe_on_free_enabled() { return g_wipe.load(std::memory_order_relaxed); }

}  // namespace sealsum::secure

// The global replacements ([new.delete]). Every delete form funnels into release(). Not in sanitizer
// builds: AddressSanitizer brings its own (checking) operator new and delete.
#if defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(memory_sanitizer)
#define SEALSUM_NO_NEW_REPLACEMENT 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define SEALSUM_NO_NEW_REPLACEMENT 1
#endif
#ifdef SEALSUM_NO_NEW_REPLACEMENT
bool sealsum::secure::wipe_on_free_covers_operator_delete() { return false; }
#else
bool sealsum::secure::wipe_on_free_covers_operator_delete() { return true; }
#endif
#ifndef SEALSUM_NO_NEW_REPLACEMENT
void* operator new(size_t n) { return sealsum::secure::allocate(n); }
void* operator new[](size_t n) { return sealsum::secure::allocate(n); }
void* operator new(size_t n, const std::nothrow_t&) noexcept {
  try {
    return sealsum::secure::allocate(n);
  } catch (...) {
    return nullptr;
  }
}
void* operator new[](size_t n, const std::nothrow_t& t) noexcept { return operator new(n, t); }
void* operator new(size_t n, std::align_val_t al) { return sealsum::secure::allocate_aligned(n, al); }
void* operator new[](size_t n, std::align_val_t al) { return sealsum::secure::allocate_aligned(n, al); }
void* operator new(size_t n, std::align_val_t al, const std::nothrow_t&) noexcept {
  try {
    return sealsum::secure::allocate_aligned(n, al);
  } catch (...) {
    return nullptr;
  }
}
void* operator new[](size_t n, std::align_val_t al, const std::nothrow_t& t) noexcept { return operator new(n, al, t); }

void operator delete(void* p) noexcept { sealsum::secure::release(p); }
void operator delete[](void* p) noexcept { sealsum::secure::release(p); }
void operator delete(void* p, size_t) noexcept { sealsum::secure::release(p); }
void operator delete[](void* p, size_t) noexcept { sealsum::secure::release(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { sealsum::secure::release(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { sealsum::secure::release(p); }
void operator delete(void* p, std::align_val_t) noexcept { sealsum::secure::release(p); }
void operator delete[](void* p, std::align_val_t) noexcept { sealsum::secure::release(p); }
void operator delete(void* p, size_t, std::align_val_t) noexcept { sealsum::secure::release(p); }
void operator delete[](void* p, size_t, std::align_val_t) noexcept { sealsum::secure::release(p); }
void operator delete(void* p, std::align_val_t, const std::nothrow_t&) noexcept { sealsum::secure::release(p); }
void operator delete[](void* p, std::align_val_t, const std::nothrow_t&) noexcept { sealsum::secure::release(p); }
#endif  // SEALSUM_NO_NEW_REPLACEMENT
