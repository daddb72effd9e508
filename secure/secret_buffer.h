// SecretBuffer: the only home for keys, plaintext documents and decrypted weights.
//
// Contract:
//  - move-only; owns a page-aligned anonymous mapping (so tensors inside are SIMD-aligned);
//  - the pages are excluded from core dumps (MADV_DONTDUMP, always) and locked in RAM (mlock) when
//    the process may lock that much; lock failure is reported by locked() and is fatal only when
//    the caller asks for require_lock (keys do, multi-GB weights may run unlocked with a warning);
//  - the contents are wiped with explicit_bzero before unmapping, on destruction and on move-assign;
//  - never converted to std::string, never logged; compare with ct_equal (constant time).
// Thread safety: none; a SecretBuffer is owned by one thread at a time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "common/status.h"

namespace sealsum::secure {

class SecretBuffer {
 public:
  SecretBuffer() = default;
  // Allocates `size` zeroed bytes. Fails with kResourceExhausted if mapping fails, or if
  // require_lock and mlock fails (message says to raise RLIMIT_MEMLOCK).
  static Result<SecretBuffer> allocate(size_t size, bool require_lock = false);
  // Copies `bytes` into a new buffer (the source is not wiped; the caller owns it).
  static Result<SecretBuffer> copy_of(std::span<const uint8_t> bytes, bool require_lock = false);

  SecretBuffer(SecretBuffer&& o) noexcept;
  SecretBuffer& operator=(SecretBuffer&& o) noexcept;
  SecretBuffer(const SecretBuffer&) = delete;
  SecretBuffer& operator=(const SecretBuffer&) = delete;
  ~SecretBuffer();

  uint8_t* data() { return data_; }
  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  bool locked() const { return locked_; }
  std::span<uint8_t> span() { return {data_, size_}; }
  std::span<const uint8_t> span() const { return {data_, size_}; }
  // Shrinks the logical size (e.g. after a short read); wipes the cut-off tail. new_size <= size().
  void truncate(size_t new_size);

 private:
  void release();
  uint8_t* data_ = nullptr;
  size_t size_ = 0;
  size_t mapped_ = 0;
  bool locked_ = false;
};

// Constant-time equality of two byte strings (time depends only on the lengths).
bool ct_equal(std::span<const uint8_t> a, std::span<const uint8_t> b);
// Wipes memory in a way the compiler may not elide.
void wipe(void* p, size_t n);

}  // namespace sealsum::secure
