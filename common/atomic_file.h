// The one write-then-rename helper: a file appears at its final path complete or not at all.
//
// AtomicFile::create() makes a temporary file beside the destination (same directory, so the rename
// cannot cross filesystems; name "." + final name + ".tmp-XXXXXX", mode 0600, O_CLOEXEC). write()
// appends; commit() fsyncs the file, closes it, renames it onto the destination (or, with
// Overwrite::kNo, links it there only if the name is free) and fsyncs the directory so the new name
// survives a crash. Until commit() succeeds the destination is untouched; on any failure, and when
// the object is destroyed uncommitted, the temporary file is removed.
//
// Failures are kUnavailable naming the path and the failing step (with strerror), never the bytes.
// Ownership: the object owns the descriptor and the temporary name; movable, not copyable.
// Thread safety: one object per thread; distinct objects (even for one destination) are independent.
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>

#include "common/status.h"

namespace sealsum {

enum class Overwrite { kYes, kNo };

class AtomicFile {
 public:
  static Result<AtomicFile> create(const std::filesystem::path& final_path);

  AtomicFile(AtomicFile&& o) noexcept;
  AtomicFile& operator=(AtomicFile&&) = delete;
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;
  ~AtomicFile();  // removes the temporary file unless committed

  // Appends all of `bytes` (retrying short writes and EINTR).
  Status write(std::span<const uint8_t> bytes);
  // Publishes the file. Returns true when it was written, false when Overwrite::kNo found the
  // destination already there (the existing file is left as it was, the temporary one removed).
  // After commit() (either result or a failure) the object is spent.
  Result<bool> commit(Overwrite overwrite = Overwrite::kYes);

  const std::string& temp_path() const { return tmp_; }
  const std::filesystem::path& final_path() const { return final_; }

 private:
  AtomicFile() = default;
  Status fail(const std::string& step, int err);
  int fd_ = -1;
  std::string tmp_;
  std::filesystem::path final_;
};

// One-shot forms: the whole of `bytes` written atomically to `path`.
Status write_file_atomic(const std::filesystem::path& path, std::span<const uint8_t> bytes);
inline Status write_file_atomic(const std::filesystem::path& path, std::string_view text) {
  return write_file_atomic(path, {reinterpret_cast<const uint8_t*>(text.data()), text.size()});
}
// Never replaces an existing file: false when `path` already existed.
Result<bool> write_file_atomic_if_absent(const std::filesystem::path& path, std::span<const uint8_t> bytes);

}  // namespace sealsum
