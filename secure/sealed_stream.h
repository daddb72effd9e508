// Internal to secure/: the per-segment cryptography of the sealed format (secure/sealed.cpp),
// separated from the I/O plumbing (secure/sealed_io.cpp) so each can be read on its own.
//
// SegmentSealer and SegmentOpener enforce the segment order themselves: each call handles the next
// segment index, and the last-segment flag is derived from the header, never chosen by a caller.
// Thread safety: one thread per instance.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "secure/aead.h"
#include "secure/keys.h"
#include "secure/sealed.h"

namespace sealsum::secure {

class SegmentSealer {
 public:
  // Draws a fresh salt and nonce prefix, builds and encodes the header, derives the file key.
  static Result<SegmentSealer> begin(const SealingKey& key, const SealOptions& options, uint64_t plaintext_size);

  const SealedHeader& header() const { return header_; }
  std::span<const uint8_t> header_bytes() const { return header_bytes_; }
  // Seals the next segment: in.size() == header().segment_plaintext_size(next index) and
  // out.size() == in.size() + 16 (ciphertext then tag). kInternal on misuse.
  Status seal_next(std::span<const uint8_t> in, std::span<uint8_t> out);
  bool done() const { return next_ == header_.segment_count(); }

 private:
  SegmentSealer(SealedHeader h, std::vector<uint8_t> hb, Aes256Gcm a)
      : header_(std::move(h)), header_bytes_(std::move(hb)), aead_(std::move(a)) {}
  SealedHeader header_;
  std::vector<uint8_t> header_bytes_;
  Aes256Gcm aead_;
  uint64_t next_ = 0;
};

class SegmentOpener {
 public:
  // Checks, in order and before any decryption: expected content type, key id, and that
  // `source_size` (the sealed input's byte count) equals header.sealed_size(). Then derives the
  // file key. `name` (a file name or label) appears in every error message.
  static Result<SegmentOpener> begin(const SealedHeader& header, std::span<const uint8_t> header_bytes,
                                     uint64_t source_size, const SealingKey& key,
                                     std::optional<ContentType> expected_type, std::string_view name);

  const SealedHeader& header() const { return header_; }
  // Opens the next segment: in = ciphertext || tag, out.size() == in.size() - 16. On failure `out`
  // is wiped and the status (kUnauthenticated) names the input and the segment index.
  Status open_next(std::span<const uint8_t> in, std::span<uint8_t> out);
  bool done() const { return next_ == header_.segment_count(); }

 private:
  SegmentOpener(SealedHeader h, std::vector<uint8_t> hb, Aes256Gcm a, std::string name)
      : header_(std::move(h)), header_bytes_(std::move(hb)), aead_(std::move(a)), name_(std::move(name)) {}
  SealedHeader header_;
  std::vector<uint8_t> header_bytes_;
  Aes256Gcm aead_;
  std::string name_;
  uint64_t next_ = 0;
};

}  // namespace sealsum::secure
