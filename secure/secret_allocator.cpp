// Secret memory for SecretAllocator (see secret_allocator.h).
#include "secure/secret_allocator.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>

#include "secure/secret_buffer.h"

namespace sealsum::secure {
namespace {

size_t mapped_size(size_t bytes) {
  static const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  if (bytes > SIZE_MAX - page) return 0;
  if (bytes == 0) bytes = 1;  // allocate(0) still returns a unique block
  return (bytes + page - 1) / page * page;
}

}  // namespace

void* secret_map(size_t bytes) noexcept {
  const size_t mapped = mapped_size(bytes);
  if (mapped == 0) return nullptr;
  void* p = mmap(nullptr, mapped, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) return nullptr;
  madvise(p, mapped, MADV_DONTDUMP);
  madvise(p, mapped, MADV_DONTFORK);
  mlock(p, mapped);  // best effort (see the header); munlock is implied by munmap
  return p;
}

void secret_unmap(void* p, size_t bytes) noexcept {
  const size_t mapped = mapped_size(bytes);
  if (p == nullptr || mapped == 0) return;
  wipe(p, mapped);
  munmap(p, mapped);
}

}  // namespace sealsum::secure
