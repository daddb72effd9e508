// Sealed file format, version 1 — the specification auditors read.
//
// A sealed file is a header followed by the plaintext encrypted in fixed-size segments with
// AES-256-GCM under a key derived for that file alone: the online authenticated encryption
// "STREAM" of Hoang, Reyhanitabar, Rogaway and Vizár (CRYPTO 2015), laid out like Tink's
// AesGcmHkdfStreaming and age's payload. One format serves model weights and documents.
//
// Header (integers little-endian; H = 64 + L bytes, at most 128):
//   offset size field
//      0    8  magic "SEALSUM\0" (53 45 41 4c 53 55 4d 00)
//      8    2  format version = 1 (a reader refuses any other with kUnimplemented)
//     10    1  content type: 1 = model, 2 = document (anything else is refused)
//     11    1  reserved flags = 0 (anything else is refused)
//     12    4  segment size S: plaintext bytes per segment, 16 .. 16 MiB (default 65536)
//     16    8  plaintext size P
//     24   32  salt: random per file
//     56    7  nonce prefix: random per file
//     63    1  key id length L, 1..64
//     64    L  key id (A-Z a-z 0-9 . _ : -), naming the master key (secure/keys.h)
//
// Body: n = max(1, ceil(P / S)) segments, n <= 2^32. Segment i (from 0) carries S plaintext
// bytes, except the last, which carries P - (n-1)·S bytes (0 only when P = 0: an empty file still
// has one authenticated segment). On disk segment i is ciphertext_i || tag_i (16 bytes), so the
// file is exactly H + P + 16·n bytes long.
//
// Cryptography:
//   file_key = HKDF-SHA256(IKM = the 32-byte master key, salt = header salt,
//                          info = "sealsum sealed file v1 AES-256-GCM key", length 32)
//   nonce_i  = nonce prefix (7 bytes) || uint32 big-endian i || last_i
//              where last_i = 0x01 for segment n-1 and 0x00 for every other segment
//   ciphertext_i || tag_i = AES-256-GCM-Seal(file_key, nonce_i, AAD = all H header bytes, plaintext_i)
//
// Why each attack fails:
//   header tampering  every segment authenticates the whole header as AAD, so changing any field
//                     (type, key id, sizes) fails segment 0; changing the salt or prefix also
//                     changes the key or nonces.
//   reordering,       segment i only verifies at position i (the counter is in the nonce).
//   duplication
//   truncation        the size is pinned by the authenticated header and checked first; and a
//                     prefix cut at a segment boundary ends on a segment sealed with last = 0
//                     where the reader requires last = 1.
//   extension         the file must be exactly H + P + 16·n bytes; the reader never tries an index
//                     >= n, and segment n-1 was sealed as the last one.
//   splicing          each file has its own 256-bit random salt and therefore its own key, so a
//                     segment moved from another file sealed with the same master key fails.
//   nonce reuse       a (key, nonce) pair could repeat only if two files drew the same 256-bit salt;
//                     within a file the counter never repeats. GCM's limits per key (2^32 nonces
//                     of < 2^36 bytes) are respected by n <= 2^32 and S <= 16 MiB.
//
// Reader order (secure/sealed_io.cpp): parse the header (bounded, every field checked) -> version
// -> content type is the expected one -> key id equals the key's -> input size equals
// H + P + 16·n -> derive the file key -> verify segments 0..n-1 in order. No plaintext of a
// segment is exposed (returned or written to the final file) before that segment verifies, and any
// failure discards everything decrypted so far.
#include "secure/sealed.h"

#include <cstring>

#include "secure/aead.h"
#include "secure/sealed_stream.h"

namespace sealsum::secure {

namespace {

constexpr uint8_t kMagic[8] = {'S', 'E', 'A', 'L', 'S', 'U', 'M', 0};
constexpr char kKdfInfo[] = "sealsum sealed file v1 AES-256-GCM key";  // without its NUL

uint64_t get_le(const uint8_t* p, int bytes) {
  uint64_t v = 0;
  for (int i = bytes - 1; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

void put_le(uint8_t* p, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}

uint64_t count_segments(uint64_t plaintext_size, uint32_t segment_size) {
  const uint64_t n = plaintext_size / segment_size + (plaintext_size % segment_size != 0 ? 1 : 0);
  return n == 0 ? 1 : n;
}

// Range checks shared by the parser and the encoder (the version is checked by the caller).
Status check_fields(const SealedHeader& h) {
  if (h.content_type != ContentType::kModel && h.content_type != ContentType::kDocument) {
    return data_loss("unknown content type code " + std::to_string(static_cast<int>(h.content_type)) +
                     " (this build knows 1 = model, 2 = document)");
  }
  if (h.segment_size < kMinSegmentSize || h.segment_size > kMaxSegmentSize) {
    return data_loss("segment size " + std::to_string(h.segment_size) + " is outside " +
                     std::to_string(kMinSegmentSize) + ".." + std::to_string(kMaxSegmentSize));
  }
  if (count_segments(h.plaintext_size, h.segment_size) > kMaxSegments) {
    return data_loss("plaintext size " + std::to_string(h.plaintext_size) + " needs more than 2^32 segments");
  }
  Status kid = validate_kid(h.kid);
  if (!kid.is_ok()) return data_loss("bad key id in header: " + kid.message());
  return Status::ok();
}

}  // namespace

const char* content_type_name(ContentType t) {
  switch (t) {
    case ContentType::kModel: return "model";
    case ContentType::kDocument: return "document";
  }
  return "unknown";
}

Result<ContentType> content_type_from_name(std::string_view name) {
  if (name == "model") return ContentType::kModel;
  if (name == "document") return ContentType::kDocument;
  return invalid_argument("unknown content type '" + std::string(name.substr(0, 32)) + "' (use model or document)");
}

uint64_t SealedHeader::segment_count() const { return count_segments(plaintext_size, segment_size); }

size_t SealedHeader::segment_plaintext_size(uint64_t index) const {
  const uint64_t n = segment_count();
  if (index + 1 < n) return segment_size;
  return static_cast<size_t>(plaintext_size - (n - 1) * segment_size);
}

uint64_t SealedHeader::sealed_size() const {
  return (kSealedFixedHeaderSize + kid.size()) + plaintext_size + kSealedTagSize * segment_count();
}

Result<SealedHeader> parse_sealed_header(std::span<const uint8_t> b) {
  if (b.size() < sizeof kMagic || std::memcmp(b.data(), kMagic, sizeof kMagic) != 0) {
    return invalid_argument("not a sealsum sealed file (bad magic)");
  }
  if (b.size() < 10) return data_loss("sealed header truncated at " + std::to_string(b.size()) + " bytes");
  SealedHeader h;
  h.version = static_cast<uint16_t>(get_le(b.data() + 8, 2));
  if (h.version != kSealedVersion) {
    return unimplemented("sealed format version " + std::to_string(h.version) +
                         " is not supported (this build reads version 1); use a newer sealsum");
  }
  if (b.size() < kSealedFixedHeaderSize) {
    return data_loss("sealed header truncated at " + std::to_string(b.size()) + " bytes (needs 64)");
  }
  h.content_type = static_cast<ContentType>(b[10]);
  if (b[11] != 0) return data_loss("reserved flags byte is " + std::to_string(b[11]) + ", must be 0");
  h.segment_size = static_cast<uint32_t>(get_le(b.data() + 12, 4));
  h.plaintext_size = get_le(b.data() + 16, 8);
  std::memcpy(h.salt.data(), b.data() + 24, h.salt.size());
  std::memcpy(h.nonce_prefix.data(), b.data() + 56, h.nonce_prefix.size());
  const size_t kid_len = b[63];
  if (kid_len == 0 || kid_len > kMaxKidLength) {
    return data_loss("key id length " + std::to_string(kid_len) + " is outside 1..64");
  }
  if (b.size() < kSealedFixedHeaderSize + kid_len) {
    return data_loss("sealed header truncated inside the key id");
  }
  h.kid.assign(reinterpret_cast<const char*>(b.data() + kSealedFixedHeaderSize), kid_len);
  SEALSUM_RETURN_IF_ERROR(check_fields(h));
  h.header_size = kSealedFixedHeaderSize + kid_len;
  return h;
}

Result<std::vector<uint8_t>> encode_sealed_header(SealedHeader& h) {
  if (h.version != kSealedVersion) return invalid_argument("can only write sealed format version 1");
  Status st = check_fields(h);
  if (!st.is_ok()) return invalid_argument(st.message());
  std::vector<uint8_t> b(kSealedFixedHeaderSize + h.kid.size());
  std::memcpy(b.data(), kMagic, sizeof kMagic);
  put_le(b.data() + 8, h.version, 2);
  b[10] = static_cast<uint8_t>(h.content_type);
  b[11] = 0;
  put_le(b.data() + 12, h.segment_size, 4);
  put_le(b.data() + 16, h.plaintext_size, 8);
  std::memcpy(b.data() + 24, h.salt.data(), h.salt.size());
  std::memcpy(b.data() + 56, h.nonce_prefix.data(), h.nonce_prefix.size());
  b[63] = static_cast<uint8_t>(h.kid.size());
  std::memcpy(b.data() + kSealedFixedHeaderSize, h.kid.data(), h.kid.size());
  h.header_size = b.size();
  return b;
}

namespace {

Result<Aes256Gcm> file_aead(const SealingKey& key, const SealedHeader& h) {
  SEALSUM_ASSIGN_OR_RETURN(
      SecretBuffer file_key,
      hkdf_sha256(key.bytes(), h.salt, {reinterpret_cast<const uint8_t*>(kKdfInfo), sizeof kKdfInfo - 1}, 32));
  return Aes256Gcm::create(file_key.span());
}

std::array<uint8_t, kGcmNonceSize> segment_nonce(const SealedHeader& h, uint64_t index) {
  std::array<uint8_t, kGcmNonceSize> n{};
  std::memcpy(n.data(), h.nonce_prefix.data(), 7);
  n[7] = static_cast<uint8_t>(index >> 24);
  n[8] = static_cast<uint8_t>(index >> 16);
  n[9] = static_cast<uint8_t>(index >> 8);
  n[10] = static_cast<uint8_t>(index);
  n[11] = index + 1 == h.segment_count() ? 1 : 0;
  return n;
}

}  // namespace

Result<SegmentSealer> SegmentSealer::begin(const SealingKey& key, const SealOptions& options,
                                           uint64_t plaintext_size) {
  SealedHeader h;
  h.content_type = options.content_type;
  h.segment_size = options.segment_size;
  h.plaintext_size = plaintext_size;
  h.kid = key.kid();
  SEALSUM_RETURN_IF_ERROR(random_bytes(h.salt));
  SEALSUM_RETURN_IF_ERROR(random_bytes(h.nonce_prefix));
  SEALSUM_ASSIGN_OR_RETURN(std::vector<uint8_t> bytes, encode_sealed_header(h));
  SEALSUM_ASSIGN_OR_RETURN(Aes256Gcm aead, file_aead(key, h));
  return SegmentSealer(std::move(h), std::move(bytes), std::move(aead));
}

Status SegmentSealer::seal_next(std::span<const uint8_t> in, std::span<uint8_t> out) {
  if (done()) return internal_error("sealing past the last segment");
  if (in.size() != header_.segment_plaintext_size(next_) || out.size() != in.size() + kSealedTagSize) {
    return internal_error("segment " + std::to_string(next_) + " has the wrong size");
  }
  const auto nonce = segment_nonce(header_, next_);
  SEALSUM_RETURN_IF_ERROR(aead_.seal(nonce, header_bytes_, in, out.first(in.size()), out.subspan(in.size())));
  ++next_;
  return Status::ok();
}

Result<SegmentOpener> SegmentOpener::begin(const SealedHeader& header, std::span<const uint8_t> header_bytes,
                                           uint64_t source_size, const SealingKey& key,
                                           std::optional<ContentType> expected_type, std::string_view name) {
  const std::string label(name);
  if (header_bytes.size() != header.header_size) return internal_error("header bytes do not match the header");
  if (expected_type && *expected_type != header.content_type) {
    return invalid_argument(label + " holds a sealed " + content_type_name(header.content_type) + ", expected a " +
                            content_type_name(*expected_type));
  }
  if (header.kid != key.kid()) {
    return invalid_argument(label + " was sealed with key id '" + header.kid + "' but the key given has id '" +
                            key.kid() + "'; use the matching key");
  }
  if (source_size != header.sealed_size()) {
    return data_loss(label + " is " + std::to_string(source_size) + " bytes but its header describes " +
                     std::to_string(header.sealed_size()) + ": the file is truncated, extended, or its header is corrupt");
  }
  SEALSUM_ASSIGN_OR_RETURN(Aes256Gcm aead, file_aead(key, header));
  return SegmentOpener(header, std::vector<uint8_t>(header_bytes.begin(), header_bytes.end()), std::move(aead), label);
}

Status SegmentOpener::open_next(std::span<const uint8_t> in, std::span<uint8_t> out) {
  if (done()) return internal_error("opening past the last segment");
  if (out.size() != header_.segment_plaintext_size(next_) || in.size() != out.size() + kSealedTagSize) {
    return internal_error("segment " + std::to_string(next_) + " has the wrong size");
  }
  const auto nonce = segment_nonce(header_, next_);
  Status st = aead_.open(nonce, header_bytes_, in.first(out.size()), out, in.subspan(out.size()));
  if (st.code() == Code::kUnauthenticated) {
    return unauthenticated(name_ + ": segment " + std::to_string(next_) + " of " +
                           std::to_string(header_.segment_count()) +
                           " failed authentication (wrong key, or the file was modified)");
  }
  SEALSUM_RETURN_IF_ERROR(st);
  ++next_;
  return Status::ok();
}

}  // namespace sealsum::secure
