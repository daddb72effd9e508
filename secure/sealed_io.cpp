// Sealed files: the streaming I/O around SegmentSealer / SegmentOpener (format: sealed.cpp).
//
// Two loops do all the work: seal_stream() pulls plaintext from a PlainSource and pushes
// ciphertext to a ByteSink; open_stream() pulls ciphertext from a CipherSource and decrypts each
// segment into space a PlainTarget lends it, committing the segment only once it has verified.
// Sources and targets for files move up to kIoBatch (1 MiB) per system call, in whole segments,
// so a file->file run holds about 2 MiB (two segments, if segments are larger) whatever the file
// size. Output files are written to a temporary file beside the destination (mode 0600, see
// sealed_fileio.h) and renamed into place after the last segment; on any failure the temporary
// file is removed and the destination is untouched.
#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include "secure/sealed.h"
#include "secure/sealed_fileio.h"
#include "secure/sealed_stream.h"

namespace sealsum::secure {

namespace {

using fileio::errno_text;
using fileio::OpenedInput;
using fileio::open_input;
using fileio::read_full;
using fileio::TempOutput;

constexpr size_t kIoBatch = 1 << 20;

// ---- sealing -------------------------------------------------------------------------------

class PlainSource {
 public:
  virtual ~PlainSource() = default;
  virtual Result<std::span<const uint8_t>> next(size_t n) = 0;  // exactly n bytes, n <= kIoBatch
  virtual Status finish() = 0;                                  // the source must be exhausted
};

class MemoryPlainSource final : public PlainSource {
 public:
  explicit MemoryPlainSource(std::span<const uint8_t> b) : b_(b) {}
  Result<std::span<const uint8_t>> next(size_t n) override {
    if (n > b_.size() - off_) return internal_error("memory source overrun");
    auto s = b_.subspan(off_, n);
    off_ += n;
    return s;
  }
  Status finish() override { return off_ == b_.size() ? Status::ok() : internal_error("memory source not drained"); }

 private:
  std::span<const uint8_t> b_;
  size_t off_ = 0;
};

class FilePlainSource final : public PlainSource {
 public:
  FilePlainSource(int fd, std::string name, SecretBuffer staging) : fd_(fd), name_(std::move(name)), buf_(std::move(staging)) {}
  Result<std::span<const uint8_t>> next(size_t n) override {
    if (n > buf_.size()) return internal_error("plain staging buffer too small");
    SEALSUM_ASSIGN_OR_RETURN(size_t got, read_full(fd_, buf_.span().first(n), name_));
    if (got != n) return data_loss(name_ + " shrank while it was being sealed");
    return std::span<const uint8_t>(buf_.data(), n);
  }
  Status finish() override {
    uint8_t extra = 0;
    SEALSUM_ASSIGN_OR_RETURN(size_t got, read_full(fd_, {&extra, 1}, name_));
    return got == 0 ? Status::ok() : data_loss(name_ + " grew while it was being sealed");
  }

 private:
  int fd_;
  std::string name_;
  SecretBuffer buf_;
};

class ByteSink {
 public:
  virtual ~ByteSink() = default;
  virtual Status write(std::span<const uint8_t> bytes) = 0;
};

class TempSink final : public ByteSink {
 public:
  explicit TempSink(TempOutput& t) : t_(t) {}
  Status write(std::span<const uint8_t> bytes) override { return t_.write(bytes); }

 private:
  TempOutput& t_;
};

class VectorSink final : public ByteSink {
 public:
  explicit VectorSink(std::vector<uint8_t>& v) : v_(v) {}
  Status write(std::span<const uint8_t> bytes) override {
    v_.insert(v_.end(), bytes.begin(), bytes.end());
    return Status::ok();
  }

 private:
  std::vector<uint8_t>& v_;
};

size_t batch_segments(uint32_t segment_size) { return std::max<size_t>(1, kIoBatch / segment_size); }
// Bytes of plaintext (or, with tags, ciphertext) one batch of whole segments occupies.
size_t batch_plain_bytes(uint32_t segment_size) { return batch_segments(segment_size) * segment_size; }
size_t batch_cipher_bytes(uint32_t segment_size) {
  return batch_segments(segment_size) * (segment_size + kSealedTagSize);
}

Status seal_stream(PlainSource& src, uint64_t size, ByteSink& sink, const SealingKey& key, const SealOptions& options) {
  SEALSUM_ASSIGN_OR_RETURN(SegmentSealer sealer, SegmentSealer::begin(key, options, size));
  const SealedHeader& h = sealer.header();
  SEALSUM_RETURN_IF_ERROR(sink.write(sealer.header_bytes()));
  const size_t batch = batch_segments(h.segment_size);
  std::vector<uint8_t> out(batch * (h.segment_size + kSealedTagSize));
  const uint64_t n = h.segment_count();
  for (uint64_t i = 0; i < n;) {
    const uint64_t k = std::min<uint64_t>(batch, n - i);
    size_t plain_bytes = 0;
    for (uint64_t j = 0; j < k; ++j) plain_bytes += h.segment_plaintext_size(i + j);
    SEALSUM_ASSIGN_OR_RETURN(std::span<const uint8_t> plain, src.next(plain_bytes));
    size_t in_off = 0, out_off = 0;
    for (uint64_t j = 0; j < k; ++j, ++i) {
      const size_t len = h.segment_plaintext_size(i);
      SEALSUM_RETURN_IF_ERROR(
          sealer.seal_next(plain.subspan(in_off, len), std::span<uint8_t>(out).subspan(out_off, len + kSealedTagSize)));
      in_off += len;
      out_off += len + kSealedTagSize;
    }
    SEALSUM_RETURN_IF_ERROR(sink.write(std::span<const uint8_t>(out).first(out_off)));
  }
  return src.finish();
}

// ---- opening -------------------------------------------------------------------------------

class CipherSource {
 public:
  virtual ~CipherSource() = default;
  virtual Result<std::span<const uint8_t>> next(size_t n) = 0;  // exactly n bytes
  virtual Status finish() = 0;
};

class MemoryCipherSource final : public CipherSource {
 public:
  MemoryCipherSource(std::span<const uint8_t> b, size_t off) : b_(b), off_(off) {}
  Result<std::span<const uint8_t>> next(size_t n) override {
    if (n > b_.size() - off_) return internal_error("sealed bytes overrun after the size check");
    auto s = b_.subspan(off_, n);
    off_ += n;
    return s;
  }
  Status finish() override { return Status::ok(); }

 private:
  std::span<const uint8_t> b_;
  size_t off_;
};

// Reads ciphertext from a file; when `digest` is set, every byte handed out is also hashed into it.
class FileCipherSource final : public CipherSource {
 public:
  FileCipherSource(int fd, std::string name, size_t capacity, Sha256* digest = nullptr)
      : fd_(fd), name_(std::move(name)), buf_(capacity), digest_(digest) {}
  Result<std::span<const uint8_t>> next(size_t n) override {
    if (n > buf_.size()) return internal_error("cipher staging buffer too small");
    SEALSUM_ASSIGN_OR_RETURN(size_t got, read_full(fd_, std::span<uint8_t>(buf_).first(n), name_));
    if (got != n) return data_loss(name_ + " was truncated while it was being read");
    if (digest_ != nullptr) digest_->update({buf_.data(), n});
    return std::span<const uint8_t>(buf_.data(), n);
  }
  Status finish() override {
    uint8_t extra = 0;
    SEALSUM_ASSIGN_OR_RETURN(size_t got, read_full(fd_, {&extra, 1}, name_));
    return got == 0 ? Status::ok() : data_loss(name_ + " grew while it was being read");
  }

 private:
  int fd_;
  std::string name_;
  std::vector<uint8_t> buf_;
  Sha256* digest_;
};

class PlainTarget {
 public:
  virtual ~PlainTarget() = default;
  virtual Result<std::span<uint8_t>> reserve(size_t n) = 0;  // where to decrypt the next segment
  virtual Status commit(size_t n) = 0;                       // that segment verified
};

class BufferTarget final : public PlainTarget {
 public:
  explicit BufferTarget(SecretBuffer& b) : b_(b) {}
  Result<std::span<uint8_t>> reserve(size_t n) override {
    if (n > b_.size() - off_) return internal_error("plaintext buffer overrun");
    return b_.span().subspan(off_, n);
  }
  Status commit(size_t n) override {
    off_ += n;
    return Status::ok();
  }

 private:
  SecretBuffer& b_;
  size_t off_ = 0;
};

class FileTarget final : public PlainTarget {
 public:
  FileTarget(TempOutput& t, SecretBuffer staging) : t_(t), buf_(std::move(staging)) {}
  Result<std::span<uint8_t>> reserve(size_t n) override {
    if (n > buf_.size()) return internal_error("plain staging buffer too small");
    if (n > buf_.size() - fill_) SEALSUM_RETURN_IF_ERROR(flush());
    return buf_.span().subspan(fill_, n);
  }
  Status commit(size_t n) override {
    fill_ += n;
    return Status::ok();
  }
  Status flush() {
    Status st = t_.write(buf_.span().first(fill_));
    wipe(buf_.data(), fill_);
    fill_ = 0;
    return st;
  }

 private:
  TempOutput& t_;
  SecretBuffer buf_;
  size_t fill_ = 0;
};

Status open_stream(CipherSource& src, SegmentOpener& opener, PlainTarget& target) {
  const SealedHeader& h = opener.header();
  const size_t batch = batch_segments(h.segment_size);
  const uint64_t n = h.segment_count();
  for (uint64_t i = 0; i < n;) {
    const uint64_t k = std::min<uint64_t>(batch, n - i);
    size_t cipher_bytes = 0;
    for (uint64_t j = 0; j < k; ++j) cipher_bytes += h.segment_plaintext_size(i + j) + kSealedTagSize;
    SEALSUM_ASSIGN_OR_RETURN(std::span<const uint8_t> cipher, src.next(cipher_bytes));
    size_t off = 0;
    for (uint64_t j = 0; j < k; ++j, ++i) {
      const size_t len = h.segment_plaintext_size(i);
      SEALSUM_ASSIGN_OR_RETURN(std::span<uint8_t> out, target.reserve(len));
      SEALSUM_RETURN_IF_ERROR(opener.open_next(cipher.subspan(off, len + kSealedTagSize), out));
      SEALSUM_RETURN_IF_ERROR(target.commit(len));
      off += len + kSealedTagSize;
    }
  }
  return src.finish();
}

// Reads and parses the header at the start of `in`, leaving the file offset just after it.
Result<SealedHeader> read_header(OpenedInput& in, const std::string& name, std::vector<uint8_t>& header_bytes) {
  header_bytes.assign(kSealedMaxHeaderSize, 0);
  SEALSUM_ASSIGN_OR_RETURN(size_t got, read_full(in.fd.get(), header_bytes, name));
  header_bytes.resize(got);
  auto h = parse_sealed_header(header_bytes);
  if (!h.ok()) return h.status().with_context(name);
  header_bytes.resize(h->header_size);
  if (::lseek(in.fd.get(), static_cast<off_t>(h->header_size), SEEK_SET) < 0) {
    return data_loss("seeking in " + name + ": " + errno_text());
  }
  return h;
}

Result<SecretBuffer> plaintext_buffer(uint64_t size, const std::string& name) {
  if (size > SIZE_MAX / 2) return resource_exhausted(name + " is too large to open in memory");
  return SecretBuffer::allocate(static_cast<size_t>(size));
}

}  // namespace

Result<SealedHeader> read_sealed_header(const std::filesystem::path& path) {
  SEALSUM_ASSIGN_OR_RETURN(OpenedInput in, open_input(path));
  std::vector<uint8_t> bytes;
  return read_header(in, path.string(), bytes);
}

Status seal_file(const std::filesystem::path& input, const std::filesystem::path& output, const SealingKey& key,
                 const SealOptions& options) {
  SEALSUM_ASSIGN_OR_RETURN(OpenedInput in, open_input(input));
  SEALSUM_ASSIGN_OR_RETURN(TempOutput out, TempOutput::create(output, &in));
  if (options.segment_size < kMinSegmentSize || options.segment_size > kMaxSegmentSize) {
    return invalid_argument("segment size " + std::to_string(options.segment_size) + " is outside " +
                            std::to_string(kMinSegmentSize) + ".." + std::to_string(kMaxSegmentSize));
  }
  SEALSUM_ASSIGN_OR_RETURN(SecretBuffer staging, SecretBuffer::allocate(batch_plain_bytes(options.segment_size)));
  FilePlainSource src(in.fd.get(), input.string(), std::move(staging));
  TempSink sink(out);
  SEALSUM_RETURN_IF_ERROR(seal_stream(src, in.size, sink, key, options).with_context("sealing " + input.string()));
  return out.commit();
}

Status seal_memory(std::span<const uint8_t> plaintext, const std::filesystem::path& output, const SealingKey& key,
                   const SealOptions& options) {
  SEALSUM_ASSIGN_OR_RETURN(TempOutput out, TempOutput::create(output, nullptr));
  MemoryPlainSource src(plaintext);
  TempSink sink(out);
  SEALSUM_RETURN_IF_ERROR(seal_stream(src, plaintext.size(), sink, key, options).with_context("sealing to " + output.string()));
  return out.commit();
}

Result<std::vector<uint8_t>> seal_to_bytes(std::span<const uint8_t> plaintext, const SealingKey& key,
                                           const SealOptions& options) {
  std::vector<uint8_t> sealed;
  if (options.segment_size >= kMinSegmentSize && options.segment_size <= kMaxSegmentSize) {
    // Reserve the exact sealed size up front (no regrowth copies); begin() re-validates everything.
    const uint64_t segments = std::max<uint64_t>(1, (plaintext.size() + options.segment_size - 1) / options.segment_size);
    sealed.reserve(kSealedMaxHeaderSize + plaintext.size() + kSealedTagSize * segments);
  }
  MemoryPlainSource src(plaintext);
  VectorSink sink(sealed);
  SEALSUM_RETURN_IF_ERROR(seal_stream(src, plaintext.size(), sink, key, options));
  return sealed;
}

Result<SecretBuffer> open_sealed_file(const std::filesystem::path& input, const SealingKey& key,
                                      std::optional<ContentType> expected_type, Digest256* sealed_sha256) {
  const std::string name = input.string();
  SEALSUM_ASSIGN_OR_RETURN(OpenedInput in, open_input(input));
  std::vector<uint8_t> header_bytes;
  SEALSUM_ASSIGN_OR_RETURN(SealedHeader h, read_header(in, name, header_bytes));
  SEALSUM_ASSIGN_OR_RETURN(SegmentOpener opener,
                           SegmentOpener::begin(h, header_bytes, in.size, key, expected_type, name));
  SEALSUM_ASSIGN_OR_RETURN(SecretBuffer plain, plaintext_buffer(h.plaintext_size, name));
  Sha256 digest;
  digest.update(header_bytes);
  FileCipherSource src(in.fd.get(), name, batch_cipher_bytes(h.segment_size), sealed_sha256 ? &digest : nullptr);
  BufferTarget target(plain);
  SEALSUM_RETURN_IF_ERROR(open_stream(src, opener, target));  // on failure `plain` is wiped by its destructor
  if (sealed_sha256 != nullptr) *sealed_sha256 = digest.finish();
  return plain;
}

Result<SecretBuffer> open_sealed_bytes(std::span<const uint8_t> sealed, const SealingKey& key,
                                       std::optional<ContentType> expected_type, std::string_view name) {
  const std::string label(name);
  auto h = parse_sealed_header(sealed);
  if (!h.ok()) return h.status().with_context(label);
  SEALSUM_ASSIGN_OR_RETURN(SegmentOpener opener, SegmentOpener::begin(*h, sealed.first(h->header_size), sealed.size(),
                                                                      key, expected_type, label));
  SEALSUM_ASSIGN_OR_RETURN(SecretBuffer plain, plaintext_buffer(h->plaintext_size, label));
  MemoryCipherSource src(sealed, h->header_size);
  BufferTarget target(plain);
  SEALSUM_RETURN_IF_ERROR(open_stream(src, opener, target));
  return plain;
}

Status unseal_file(const std::filesystem::path& input, const std::filesystem::path& output, const SealingKey& key,
                   std::optional<ContentType> expected_type) {
  const std::string name = input.string();
  SEALSUM_ASSIGN_OR_RETURN(OpenedInput in, open_input(input));
  std::vector<uint8_t> header_bytes;
  SEALSUM_ASSIGN_OR_RETURN(SealedHeader h, read_header(in, name, header_bytes));
  SEALSUM_ASSIGN_OR_RETURN(SegmentOpener opener,
                           SegmentOpener::begin(h, header_bytes, in.size, key, expected_type, name));
  SEALSUM_ASSIGN_OR_RETURN(TempOutput out, TempOutput::create(output, &in));
  SEALSUM_ASSIGN_OR_RETURN(SecretBuffer staging, SecretBuffer::allocate(batch_plain_bytes(h.segment_size)));
  FileCipherSource src(in.fd.get(), name, batch_cipher_bytes(h.segment_size));
  FileTarget target(out, std::move(staging));
  SEALSUM_RETURN_IF_ERROR(open_stream(src, opener, target));  // `out` deletes the temporary file on failure
  SEALSUM_RETURN_IF_ERROR(target.flush());
  return out.commit();
}

}  // namespace sealsum::secure
