// Bounded zip reader for torch checkpoints (see zip_reader.h).
//
// Layout reminder (PKWARE APPNOTE 6.3): [local header + name + extra + data (+ descriptor)]...
// then the central directory (one 46-byte header + name + extra + comment per entry), then, for
// zip64, a zip64 end record and its 20-byte locator, then the 22-byte end record (+ comment).
// We trust nothing: the end record is searched in the last 64 KiB + 22 bytes, the zip64 locator is
// used when present, every offset and length is checked against the buffer before it is read, and
// the central directory's sizes/CRC (not the local header's, which torch zeroes because it sets
// the data-descriptor flag) describe each entry.
#include "tools/convert/zip_reader.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <map>

namespace sealsum::convert {
namespace {

// Slicing-by-8 CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320).
struct CrcTables {
  std::array<std::array<uint32_t, 256>, 8> t{};
  CrcTables() {
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      t[0][i] = c;
    }
    for (uint32_t i = 0; i < 256; ++i) {
      for (int s = 1; s < 8; ++s) t[s][i] = (t[s - 1][i] >> 8) ^ t[0][t[s - 1][i] & 0xff];
    }
  }
};

uint16_t le16(const uint8_t* p) { return uint16_t(p[0] | p[1] << 8); }
uint32_t le32(const uint8_t* p) { return uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24; }
uint64_t le64(const uint8_t* p) { return uint64_t(le32(p)) | uint64_t(le32(p + 4)) << 32; }

constexpr uint32_t kLocalSig = 0x04034b50, kCentralSig = 0x02014b50, kEndSig = 0x06054b50;
constexpr uint32_t kZip64EndSig = 0x06064b50, kZip64LocatorSig = 0x07064b50;
constexpr size_t kEndSize = 22, kLocatorSize = 20, kZip64EndSize = 56, kCentralSize = 46, kLocalSize = 30;

}  // namespace

uint32_t crc32(std::span<const uint8_t> bytes, uint32_t crc) {
  static const CrcTables tables;
  const auto& t = tables.t;
  crc = ~crc;
  const uint8_t* p = bytes.data();
  size_t n = bytes.size();
  while (n >= 8) {
    const uint32_t a = le32(p) ^ crc, b = le32(p + 4);
    crc = t[7][a & 0xff] ^ t[6][(a >> 8) & 0xff] ^ t[5][(a >> 16) & 0xff] ^ t[4][a >> 24] ^ t[3][b & 0xff] ^
          t[2][(b >> 8) & 0xff] ^ t[1][(b >> 16) & 0xff] ^ t[0][b >> 24];
    p += 8;
    n -= 8;
  }
  while (n--) crc = t[0][(crc ^ *p++) & 0xff] ^ (crc >> 8);
  return ~crc;
}

const ZipEntry* ZipArchive::find(const std::string& name) const {
  for (const auto& e : entries_) {
    if (e.name == name) return &e;
  }
  return nullptr;
}

Result<ZipArchive> ZipArchive::open(std::span<const uint8_t> bytes, const std::string& what) {
  auto corrupt = [&](const std::string& why) { return data_loss("zip archive '" + what + "': " + why); };
  const uint8_t* p = bytes.data();
  const uint64_t size = bytes.size();
  if (size < kEndSize) return corrupt("too short to be a zip archive (truncated?)");

  // 1. The end-of-central-directory record: the last signature whose comment reaches the end.
  uint64_t end = UINT64_MAX;
  const uint64_t lowest = size > kEndSize + 0xffff ? size - kEndSize - 0xffff : 0;
  for (uint64_t pos = size - kEndSize + 1; pos-- > lowest;) {
    if (le32(p + pos) == kEndSig && pos + kEndSize + le16(p + pos + 20) == size) {
      end = pos;
      break;
    }
  }
  if (end == UINT64_MAX) return corrupt("no end-of-central-directory record (truncated or not a zip)");
  if (le16(p + end + 4) != 0 || le16(p + end + 6) != 0) return unimplemented("zip archive '" + what + "' spans several disks");
  uint64_t count = le16(p + end + 10), cd_size = le32(p + end + 12), cd_offset = le32(p + end + 16);
  uint64_t cd_limit = end;  // the central directory must end before this offset

  // 2. Zip64: a locator just before the end record points at the zip64 end record.
  if (end >= kLocatorSize && le32(p + end - kLocatorSize) == kZip64LocatorSig) {
    const uint8_t* loc = p + end - kLocatorSize;
    const uint64_t z = le64(loc + 8);
    if (le32(loc + 4) != 0 || le32(loc + 16) > 1) return unimplemented("zip archive '" + what + "' spans several disks");
    if (z > end - kLocatorSize || end - kLocatorSize - z < kZip64EndSize || le32(p + z) != kZip64EndSig) {
      return corrupt("bad zip64 end-of-central-directory record");
    }
    if (le32(p + z + 16) != 0 || le32(p + z + 20) != 0) return unimplemented("zip archive '" + what + "' spans several disks");
    count = le64(p + z + 32);
    cd_size = le64(p + z + 40);
    cd_offset = le64(p + z + 48);
    cd_limit = z;
  } else if (count == 0xffff || cd_size == 0xffffffffu || cd_offset == 0xffffffffu) {
    return corrupt("zip64 values without a zip64 end record");
  }
  if (cd_offset > cd_limit || cd_size > cd_limit - cd_offset) return corrupt("central directory out of bounds");
  if (count > kMaxEntries || count > cd_size / kCentralSize) return corrupt("implausible entry count " + std::to_string(count));

  // 3. Central directory entries.
  ZipArchive za;
  za.bytes_ = bytes;
  std::map<std::string, size_t> seen;
  struct Span { uint64_t begin, end; };
  std::vector<Span> spans;
  uint64_t pos = cd_offset;
  const uint64_t cd_end = cd_offset + cd_size;
  for (uint64_t i = 0; i < count; ++i) {
    const std::string at = "central directory entry #" + std::to_string(i);
    if (cd_end - pos < kCentralSize || le32(p + pos) != kCentralSig) return corrupt(at + " is malformed");
    const uint8_t* c = p + pos;
    const uint16_t flags = le16(c + 8), method = le16(c + 10);
    const uint32_t crc = le32(c + 16);
    uint64_t csize = le32(c + 20), usize = le32(c + 24), local = le32(c + 42);
    const uint16_t name_len = le16(c + 28), extra_len = le16(c + 30), comment_len = le16(c + 32);
    const uint16_t disk = le16(c + 34);
    if (cd_end - pos - kCentralSize < uint64_t(name_len) + extra_len + comment_len) return corrupt(at + " overruns the directory");
    if (name_len == 0 || name_len > kMaxNameLength) return corrupt(at + " has an invalid name length");
    ZipEntry e;
    e.name.assign(reinterpret_cast<const char*>(c + kCentralSize), name_len);
    const std::string en = "entry '" + e.name + "'";
    // Zip64 extra field: the 8-byte values replace the 0xffffffff placeholders, in this order.
    const uint8_t* x = c + kCentralSize + name_len;
    for (uint32_t k = 0; k + 4 <= extra_len;) {
      const uint16_t id = le16(x + k), len = le16(x + k + 2);
      if (k + 4 + len > extra_len) return corrupt(en + " has a malformed extra field");
      if (id == 0x0001) {
        const uint8_t* v = x + k + 4;
        uint32_t used = 0;
        for (uint64_t* field : {&usize, &csize, &local}) {
          if (*field != 0xffffffffu) continue;
          if (used + 8 > len) return corrupt(en + " has a short zip64 extra field");
          *field = le64(v + used);
          used += 8;
        }
      }
      k += 4u + len;
    }
    if (flags & 0x0001) return unimplemented("zip " + en + " in '" + what + "' is encrypted");
    if (method != 0) {
      return unimplemented("zip " + en + " in '" + what + "' is compressed (method " + std::to_string(method) +
                           "); torch.save writes stored entries");
    }
    if (disk != 0 && disk != 0xffff) return unimplemented("zip archive '" + what + "' spans several disks");
    if (csize != usize) return corrupt(en + ": stored sizes differ");
    if (seen.count(e.name)) return corrupt("duplicate " + en);

    // The local header must agree on the name; the data follows its name and extra field.
    if (local > cd_offset || cd_offset - local < kLocalSize || le32(p + local) != kLocalSig) {
      return corrupt(en + ": bad local header offset");
    }
    const uint8_t* l = p + local;
    const uint64_t lname = le16(l + 26), lextra = le16(l + 28);
    if (le16(l + 8) != method) return corrupt(en + ": local header disagrees on the method");
    if (cd_offset - local - kLocalSize < lname + lextra || lname != name_len ||
        std::memcmp(l + kLocalSize, e.name.data(), name_len) != 0) {
      return corrupt(en + ": local header does not match the central directory");
    }
    e.data_offset = local + kLocalSize + lname + lextra;
    if (usize > cd_offset - e.data_offset) return corrupt(en + ": data runs past the central directory (truncated?)");
    e.size = usize;
    e.crc32 = crc;
    if (crc32(bytes.subspan(size_t(e.data_offset), size_t(e.size))) != crc) return corrupt(en + ": CRC-32 mismatch");
    spans.push_back({local, e.data_offset + e.size});
    seen[e.name] = za.entries_.size();
    za.entries_.push_back(std::move(e));
    pos += kCentralSize + name_len + extra_len + comment_len;
  }
  std::sort(spans.begin(), spans.end(), [](const Span& a, const Span& b) { return a.begin < b.begin; });
  for (size_t i = 1; i < spans.size(); ++i) {
    if (spans[i].begin < spans[i - 1].end) return corrupt("entries overlap");
  }
  return za;
}

}  // namespace sealsum::convert
