// Sealed files: one authenticated-encryption format (v1) for model weights and documents.
//
// The format (byte layout, construction and why it resists truncation, reordering, extension and
// splicing) is specified at the top of secure/sealed.cpp. This header is the API:
//
//  - seal_file / seal_memory / seal_to_bytes: plaintext -> sealed, streaming one segment at a time;
//    files are written to a temporary file beside the output and renamed into place only when
//    complete (mode 0600).
//  - open_sealed_file / open_sealed_bytes: sealed -> SecretBuffer. Every segment is verified before
//    the buffer is returned; on any failure the buffer is wiped and only a Status comes back.
//  - unseal_file: sealed -> plaintext file for the data owner; verified segments go to a temporary
//    file that is renamed only after the last segment verifies (deleted otherwise); never
//    overwrites the input.
//
// Checks before any decryption: the header parses (bounded), the content type is the expected one,
// the header's key id equals the key's, and the input's size is exactly what the header describes.
// Error codes: kInvalidArgument (not a sealed file, wrong content type / key id, bad arguments),
// kUnimplemented (a future format version), kDataLoss (corrupt header, truncated or extended
// file), kUnauthenticated (a segment failed authentication: wrong key or modified bytes; the
// message names the file and the segment index), kNotFound, kResourceExhausted.
// Memory: the file->file paths hold about 2 MiB regardless of file size; the ->SecretBuffer paths
// hold the output plus that.
// Thread safety: all functions are reentrant; a SealingKey may be shared between threads.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "secure/digest.h"
#include "secure/keys.h"
#include "secure/secret_buffer.h"

namespace sealsum::secure {

enum class ContentType : uint8_t { kModel = 1, kDocument = 2 };
const char* content_type_name(ContentType t);  // "model", "document"
Result<ContentType> content_type_from_name(std::string_view name);

inline constexpr uint16_t kSealedVersion = 1;
inline constexpr size_t kSealedFixedHeaderSize = 64;
inline constexpr size_t kSealedMaxHeaderSize = kSealedFixedHeaderSize + kMaxKidLength;
inline constexpr size_t kSealedTagSize = 16;
inline constexpr uint32_t kDefaultSegmentSize = 64 * 1024;
inline constexpr uint32_t kMinSegmentSize = 16;
inline constexpr uint32_t kMaxSegmentSize = 16u << 20;
inline constexpr uint64_t kMaxSegments = uint64_t{1} << 32;  // the nonce's segment counter is 32 bits

struct SealedHeader {
  uint16_t version = kSealedVersion;
  ContentType content_type = ContentType::kDocument;
  uint32_t segment_size = kDefaultSegmentSize;
  uint64_t plaintext_size = 0;
  std::array<uint8_t, 32> salt{};
  std::array<uint8_t, 7> nonce_prefix{};
  std::string kid;
  size_t header_size = 0;  // encoded length (64 + kid length); set by parse/encode

  // Always >= 1: an empty plaintext still has one (empty, final) authenticated segment.
  uint64_t segment_count() const;
  // Plaintext bytes in segment `index` (< segment_count()).
  size_t segment_plaintext_size(uint64_t index) const;
  // header_size + plaintext_size + 16 * segment_count(): the exact size of the sealed file.
  uint64_t sealed_size() const;
};

// Parses a header from the start of `bytes` (extra bytes after it are ignored). Every field is
// range-checked; see the error codes above. Never reads past bytes.size().
Result<SealedHeader> parse_sealed_header(std::span<const uint8_t> bytes);
// Encodes a header whose fields are valid (kInvalidArgument otherwise); sets header_size.
Result<std::vector<uint8_t>> encode_sealed_header(SealedHeader& header);
// Reads and parses the header of a sealed file without a key (to route to the right key, or to
// show what a file holds). Does not authenticate anything.
Result<SealedHeader> read_sealed_header(const std::filesystem::path& path);

struct SealOptions {
  ContentType content_type = ContentType::kDocument;
  uint32_t segment_size = kDefaultSegmentSize;  // kMinSegmentSize..kMaxSegmentSize
};

Status seal_file(const std::filesystem::path& input, const std::filesystem::path& output, const SealingKey& key,
                 const SealOptions& options);
// Seals bytes held in memory (e.g. converted model weights) straight to `output`; the plaintext is
// never written to disk.
Status seal_memory(std::span<const uint8_t> plaintext, const std::filesystem::path& output, const SealingKey& key,
                   const SealOptions& options);
// Seals into memory (e.g. a client sealing a document before upload).
Result<std::vector<uint8_t>> seal_to_bytes(std::span<const uint8_t> plaintext, const SealingKey& key,
                                           const SealOptions& options);

// expected_type: std::nullopt accepts any content type (the owner's unseal tool).
// sealed_sha256 (optional): set, on success only, to the SHA-256 of the sealed bytes exactly as they
// were read and authenticated (header, segments, tags), i.e. `sha256sum` of the file as opened, with
// no window for the file to change between hashing and decrypting.
Result<SecretBuffer> open_sealed_file(const std::filesystem::path& input, const SealingKey& key,
                                      std::optional<ContentType> expected_type, Digest256* sealed_sha256 = nullptr);
// `name` labels the bytes in error messages (e.g. "upload 3"); it must not be secret.
Result<SecretBuffer> open_sealed_bytes(std::span<const uint8_t> sealed, const SealingKey& key,
                                       std::optional<ContentType> expected_type, std::string_view name);
Status unseal_file(const std::filesystem::path& input, const std::filesystem::path& output, const SealingKey& key,
                   std::optional<ContentType> expected_type);

}  // namespace sealsum::secure
