#include "secure/secret_buffer.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cstring>
#include <utility>

namespace sealsum::secure {

void wipe(void* p, size_t n) {
  if (p != nullptr && n != 0) explicit_bzero(p, n);
}

bool ct_equal(std::span<const uint8_t> a, std::span<const uint8_t> b) {
  if (a.size() != b.size()) return false;
  volatile uint8_t acc = 0;
  for (size_t i = 0; i < a.size(); ++i) acc = acc | static_cast<uint8_t>(a[i] ^ b[i]);
  return acc == 0;
}

Result<SecretBuffer> SecretBuffer::allocate(size_t size, bool require_lock) {
  SecretBuffer b;
  if (size == 0) return b;
  const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  if (size > SIZE_MAX - page) return resource_exhausted("secret buffer size overflows");
  const size_t mapped = (size + page - 1) / page * page;
  void* p = mmap(nullptr, mapped, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) {
    return resource_exhausted("cannot map " + std::to_string(size) + " bytes of secret memory");
  }
  b.data_ = static_cast<uint8_t*>(p);
  b.size_ = size;
  b.mapped_ = mapped;
  // Keep secrets out of core dumps, and out of a child's copy after fork.
  madvise(p, mapped, MADV_DONTDUMP);
  madvise(p, mapped, MADV_DONTFORK);
  b.locked_ = mlock(p, mapped) == 0;
  if (require_lock && !b.locked_) {
    return resource_exhausted("cannot lock " + std::to_string(mapped) +
                              " bytes of secret memory in RAM: raise RLIMIT_MEMLOCK (ulimit -l)");
  }
  return b;
}

Result<SecretBuffer> SecretBuffer::copy_of(std::span<const uint8_t> bytes, bool require_lock) {
  auto r = allocate(bytes.size(), require_lock);
  if (!r.ok()) return r;
  if (!bytes.empty()) std::memcpy(r->data(), bytes.data(), bytes.size());
  return r;
}

SecretBuffer::SecretBuffer(SecretBuffer&& o) noexcept
    : data_(std::exchange(o.data_, nullptr)),
      size_(std::exchange(o.size_, 0)),
      mapped_(std::exchange(o.mapped_, 0)),
      locked_(std::exchange(o.locked_, false)) {}

SecretBuffer& SecretBuffer::operator=(SecretBuffer&& o) noexcept {
  if (this != &o) {
    release();
    data_ = std::exchange(o.data_, nullptr);
    size_ = std::exchange(o.size_, 0);
    mapped_ = std::exchange(o.mapped_, 0);
    locked_ = std::exchange(o.locked_, false);
  }
  return *this;
}

SecretBuffer::~SecretBuffer() { release(); }

void SecretBuffer::truncate(size_t new_size) {
  if (new_size >= size_) return;
  wipe(data_ + new_size, size_ - new_size);
  size_ = new_size;
}

void SecretBuffer::release() {
  if (data_ == nullptr) return;
  wipe(data_, mapped_);
  if (locked_) munlock(data_, mapped_);
  munmap(data_, mapped_);
  data_ = nullptr;
  size_ = mapped_ = 0;
  locked_ = false;
}

}  // namespace sealsum::secure
