#include "weights/mapped_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace sealsum::weights {
namespace {

int64_t mtime_ns(const struct stat& st) { return int64_t(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec; }

}  // namespace

Result<std::shared_ptr<const MappedFile>> MappedFile::open(const std::string& path, uint64_t max_size) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return not_found("cannot open model file '" + path + "': " + std::strerror(errno));
  std::shared_ptr<MappedFile> m(new MappedFile());
  m->path_ = path;
  m->fd_ = fd;  // closed by the destructor from here on
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    return invalid_argument("model file '" + path + "' is not a regular file");
  }
  const uint64_t size = uint64_t(st.st_size);
  if (size == 0) return data_loss("model file '" + path + "': empty (0 bytes); convert the model again");
  if (size > max_size) {
    return resource_exhausted("model file '" + path + "' is larger than " + std::to_string(max_size >> 30) + " GiB");
  }
  void* p = ::mmap(nullptr, size_t(size), PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
  if (p == MAP_FAILED) {
    return resource_exhausted("cannot map model file '" + path + "' (" + std::to_string(size) +
                              " bytes): " + std::strerror(errno) + "; check the address-space limit (ulimit -v)");
  }
  m->data_ = static_cast<const uint8_t*>(p);
  m->size_ = size_t(size);
  // Best effort: the weights stay out of core dumps like the secret buffer's (ignored on failure:
  // file-backed private pages are outside the default core dump filter anyway).
  (void)::madvise(p, m->size_, MADV_DONTDUMP);
  m->dev_ = st.st_dev;
  m->ino_ = st.st_ino;
  m->mtime_ns_ = mtime_ns(st);
  return std::shared_ptr<const MappedFile>(std::move(m));
}

MappedFile::~MappedFile() {
  if (data_ != nullptr) ::munmap(const_cast<uint8_t*>(data_), size_);
  if (fd_ >= 0) ::close(fd_);
}

Status MappedFile::unchanged() const {
  struct stat st {};
  if (::fstat(fd_, &st) != 0) return data_loss("model file '" + path_ + "': cannot stat it: " + std::strerror(errno));
  if (st.st_dev != dev_ || st.st_ino != ino_ || uint64_t(st.st_size) != size_ || mtime_ns(st) != mtime_ns_) {
    return data_loss("model file '" + path_ +
                     "' changed while it was loaded; replace model files by renaming a new file over them, "
                     "then load again");
  }
  return Status::ok();
}

}  // namespace sealsum::weights
