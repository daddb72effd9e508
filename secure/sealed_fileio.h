// Internal to secure/: POSIX file plumbing for the sealed-file paths (secure/sealed_io.cpp):
// an owning descriptor, full reads, checked input opening, and TempOutput, the write-to-temporary-
// then-rename discipline that keeps a partial or unverified output from ever appearing under the
// destination's name.
// Thread safety: one thread per object. Failure: every function returns a Status naming the file.
#pragma once

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <span>
#include <string>
#include <utility>

#include "common/atomic_file.h"
#include "common/status.h"

namespace sealsum::secure::fileio {

inline std::string errno_text() { return std::strerror(errno); }

// An owning file descriptor, closed on destruction.
class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  Fd(Fd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  Fd& operator=(Fd&& o) noexcept { std::swap(fd_, o.fd_); return *this; }
  ~Fd() { if (fd_ >= 0) ::close(fd_); }
  int get() const { return fd_; }
  int release() { return std::exchange(fd_, -1); }

 private:
  int fd_;
};

// Reads until `out` is full or EOF; returns the byte count.
inline Result<size_t> read_full(int fd, std::span<uint8_t> out, const std::string& name) {
  size_t got = 0;
  while (got < out.size()) {
    const ssize_t n = ::read(fd, out.data() + got, out.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return data_loss("reading " + name + ": " + errno_text());
    if (n == 0) break;
    got += static_cast<size_t>(n);
  }
  return got;
}

// A regular file opened for reading, with the size and identity (device, inode) fstat saw.
struct OpenedInput {
  Fd fd;
  uint64_t size = 0;
  dev_t dev = 0;
  ino_t ino = 0;
};

// kNotFound when absent, kInvalidArgument when unreadable or not a regular file.
inline Result<OpenedInput> open_input(const std::filesystem::path& path) {
  const std::string name = path.string();
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) {
    if (errno == ENOENT) return not_found(name + " does not exist");
    return invalid_argument("cannot open " + name + ": " + errno_text());
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return invalid_argument("cannot stat " + name + ": " + errno_text());
  if (!S_ISREG(st.st_mode)) return invalid_argument(name + " is not a regular file");
  OpenedInput in;
  in.fd = std::move(fd);
  in.size = static_cast<uint64_t>(st.st_size);
  in.dev = st.st_dev;
  in.ino = st.st_ino;
  return in;
}

// A temporary file beside `final_path`, renamed onto it by commit(), removed otherwise
// (common/atomic_file.h). The codes are this module's: kInvalidArgument when the output cannot be
// created or published, kResourceExhausted when writing fails.
class TempOutput {
 public:
  static Result<TempOutput> create(const std::filesystem::path& final_path, const OpenedInput* input) {
    struct stat st {};
    if (input != nullptr && ::stat(final_path.c_str(), &st) == 0 && st.st_dev == input->dev &&
        st.st_ino == input->ino) {
      return invalid_argument("output " + final_path.string() + " is the input file; choose another output");
    }
    auto f = AtomicFile::create(final_path);
    if (!f.ok()) return invalid_argument(f.status().message());
    return TempOutput(std::move(f).value());
  }

  Status write(std::span<const uint8_t> bytes) {
    Status st = file_.write(bytes);
    return st.is_ok() ? st : resource_exhausted(st.message());
  }

  Status commit() {
    auto r = file_.commit(Overwrite::kYes);
    return r.ok() ? Status::ok() : invalid_argument(r.status().message());
  }

 private:
  explicit TempOutput(AtomicFile f) : file_(std::move(f)) {}
  AtomicFile file_;
};

}  // namespace sealsum::secure::fileio
