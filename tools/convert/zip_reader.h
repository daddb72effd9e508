// A bounded reader for the zip archives torch.save writes (pytorch_model.bin since torch 1.6).
//
// Scope: STORED (uncompressed) entries only, as torch writes them; zip64 end-of-central-directory
// records and zip64 extra fields are honoured; data descriptors are allowed (sizes and CRC come
// from the central directory). Everything is checked against the buffer before use: the end
// record, the central directory, each local header (its name must match), entry bounds, no
// overlapping entries, no duplicate names, and every entry's CRC-32. Failures are kDataLoss (or
// kUnimplemented for valid zips we do not read: compression, encryption, multi-disk) and name the
// archive. The archive borrows the bytes: they must outlive it. Thread-safe after open().
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "common/status.h"

namespace sealsum::convert {

uint32_t crc32(std::span<const uint8_t> bytes, uint32_t crc = 0);

struct ZipEntry {
  std::string name;
  uint64_t data_offset = 0;  // of the entry's bytes within the archive
  uint64_t size = 0;
  uint32_t crc32 = 0;
};

class ZipArchive {
 public:
  static constexpr size_t kMaxEntries = 1u << 20;
  static constexpr size_t kMaxNameLength = 4096;

  // Parses and verifies the archive (including every entry's CRC-32).
  static Result<ZipArchive> open(std::span<const uint8_t> bytes, const std::string& what);

  const std::vector<ZipEntry>& entries() const { return entries_; }
  const ZipEntry* find(const std::string& name) const;
  std::span<const uint8_t> data(const ZipEntry& e) const { return bytes_.subspan(size_t(e.data_offset), size_t(e.size)); }

 private:
  std::span<const uint8_t> bytes_;
  std::vector<ZipEntry> entries_;  // central-directory order
};

}  // namespace sealsum::convert
