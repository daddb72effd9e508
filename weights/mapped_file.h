// MappedFile: a regular file mapped read-only into memory, for plaintext model files (one copy of
// the weights, shared with the page cache and with other processes that map the same file).
//
// Contract:
//  - open() maps the whole file PROT_READ, MAP_PRIVATE (the process can never write the file),
//    page-aligned (so 64-byte tensor offsets give 64-byte-aligned pointers), pre-faulted
//    (MAP_POPULATE) and excluded from core dumps (MADV_DONTDUMP). The mapping and the file
//    descriptor live until the MappedFile is destroyed; hold it in a shared_ptr for as long as any
//    view into it (a ModelFile, the models built on it) is alive.
//  - Only regular files of 1 byte .. 1 TiB are mapped: anything else fails (kInvalidArgument,
//    kDataLoss for an empty file, kResourceExhausted for a size or an mmap failure) naming the path.
//  - unchanged() re-checks the file (device, inode, size, modification time) against what open()
//    saw: a loader calls it after verifying the bytes, so a file replaced or rewritten during the
//    load is refused instead of half-trusted.
//
// The trade-off (SIGBUS): a MAP_PRIVATE page that nobody wrote is the page cache's page. If the
// file is later truncated *in place*, access to the lost pages raises SIGBUS and the process dies;
// if it is rewritten in place, the process reads the new bytes although the checksum covered the
// old ones. Neither happens when a model file is replaced the ordinary way (a new file renamed over
// it, which is what ModelWriter::write and `sealsum convert` do): the mapping keeps the old inode
// alive. Copying the whole file into private memory would rule both out, at the price of a second
// copy of the weights in RSS and of no page sharing between processes; sealed models are that copy
// anyway (decrypted into secret memory), and ModelFile::load(path, {.map = false}) reads plain
// files that way when their storage may be changed in place (e.g. a shared, writable volume).
// Thread safety: immutable after open(); any thread may read the bytes.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "common/status.h"

namespace sealsum::weights {

class MappedFile {
 public:
  static Result<std::shared_ptr<const MappedFile>> open(const std::string& path, uint64_t max_size);

  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  ~MappedFile();

  std::span<const uint8_t> bytes() const { return {data_, size_}; }
  // ok, or kDataLoss naming the path when the file is no longer the one mapped at open() (another
  // inode at the path is fine: the mapping keeps its own). Safe to call from any thread.
  Status unchanged() const;

 private:
  MappedFile() = default;
  std::string path_;
  int fd_ = -1;
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
  dev_t dev_ = 0;
  ino_t ino_ = 0;
  int64_t mtime_ns_ = 0;
};

}  // namespace sealsum::weights
