// Write-then-rename (contract: atomic_file.h).
#include "common/atomic_file.h"

#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <utility>

namespace sealsum {
namespace {

std::filesystem::path dir_of(const std::filesystem::path& p) {
  return p.has_parent_path() ? p.parent_path() : std::filesystem::path(".");
}

}  // namespace

Result<AtomicFile> AtomicFile::create(const std::filesystem::path& final_path) {
  if (final_path.filename().empty()) return invalid_argument("cannot write \"" + final_path.string() + "\": not a file name");
  AtomicFile f;
  f.final_ = final_path;
  std::string tmpl = (dir_of(final_path) / ("." + final_path.filename().string() + ".tmp-XXXXXX")).string();
  const int fd = ::mkostemp(tmpl.data(), O_CLOEXEC);  // mode 0600
  if (fd < 0) {
    return unavailable("cannot create a temporary file in " + dir_of(final_path).string() + ": " + std::strerror(errno) +
                       " (does the directory exist and is it writable?)");
  }
  f.fd_ = fd;
  f.tmp_ = std::move(tmpl);
  return f;
}

AtomicFile::AtomicFile(AtomicFile&& o) noexcept
    : fd_(std::exchange(o.fd_, -1)), tmp_(std::exchange(o.tmp_, std::string())), final_(std::move(o.final_)) {}

AtomicFile::~AtomicFile() {
  if (fd_ >= 0) ::close(fd_);
  if (!tmp_.empty()) ::unlink(tmp_.c_str());
}

Status AtomicFile::fail(const std::string& step, int err) {
  if (fd_ >= 0) ::close(std::exchange(fd_, -1));
  if (!tmp_.empty()) ::unlink(tmp_.c_str());
  tmp_.clear();
  return unavailable("cannot write " + final_.string() + ": " + step + " failed: " + std::strerror(err));
}

Status AtomicFile::write(std::span<const uint8_t> bytes) {
  if (fd_ < 0) return internal_error("write to " + final_.string() + " after commit or failure");
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd_, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return fail("write", n < 0 ? errno : EIO);
    done += static_cast<size_t>(n);
  }
  return Status::ok();
}

Result<bool> AtomicFile::commit(Overwrite overwrite) {
  if (fd_ < 0) return internal_error("commit of " + final_.string() + " after commit or failure");
  if (::fsync(fd_) != 0) return fail("fsync", errno);
  if (::close(std::exchange(fd_, -1)) != 0) return fail("close", errno);
  bool written = true;
  if (overwrite == Overwrite::kYes) {
    if (::rename(tmp_.c_str(), final_.c_str()) != 0) return fail("rename", errno);
  } else if (::renameat2(AT_FDCWD, tmp_.c_str(), AT_FDCWD, final_.c_str(), RENAME_NOREPLACE) != 0) {
    if (errno == EEXIST) {
      written = false;
    } else if (errno != EINVAL && errno != ENOSYS) {
      return fail("rename", errno);
    } else if (::link(tmp_.c_str(), final_.c_str()) != 0) {  // no RENAME_NOREPLACE on this filesystem
      if (errno != EEXIST) return fail("link", errno);
      written = false;
    }
    ::unlink(tmp_.c_str());  // a no-op after renameat2; the spare name after link or EEXIST
  }
  tmp_.clear();
  // Make the new name durable (a rerun after a crash must find it).
  const std::filesystem::path dir = dir_of(final_);
  const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) return unavailable("cannot open " + dir.string() + " to sync it: " + std::strerror(errno));
  const int rc = ::fsync(dfd);
  const int err = errno;
  ::close(dfd);
  if (rc != 0) return unavailable("cannot sync " + dir.string() + ": " + std::strerror(err));
  return written;
}

Status write_file_atomic(const std::filesystem::path& path, std::span<const uint8_t> bytes) {
  SEALSUM_ASSIGN_OR_RETURN(AtomicFile f, AtomicFile::create(path));
  SEALSUM_RETURN_IF_ERROR(f.write(bytes));
  return f.commit(Overwrite::kYes).status();
}

Result<bool> write_file_atomic_if_absent(const std::filesystem::path& path, std::span<const uint8_t> bytes) {
  SEALSUM_ASSIGN_OR_RETURN(AtomicFile f, AtomicFile::create(path));
  SEALSUM_RETURN_IF_ERROR(f.write(bytes));
  return f.commit(Overwrite::kNo);
}

}  // namespace sealsum
