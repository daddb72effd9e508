// Key files and key ids (format and rules: keys.h).
//
// The key-file parser is a strict, bounded scanner for one flat JSON object whose values are
// plain strings; it works on the file's bytes in secret memory and keeps only spans into them, so
// the key never passes through std::string or a general JSON library's heap strings. base64url
// is decoded and encoded with branch-free arithmetic (no table lookups indexed by secret bytes).
#include "secure/keys.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <optional>

#include "secure/aead.h"
#include "secure/digest.h"

namespace sealsum::secure {

namespace {

constexpr size_t kB64KeyChars = 43;  // ceil(32 * 8 / 6), no padding

// Branch-free base64url digit decode: the value 0..63, or -1 for a byte outside the alphabet.
int b64_digit(uint8_t byte) {
  const int c = byte;
  int r = -1;
  r += (((64 - c) & (c - 91)) >> 8) & (c - 64);   // 'A'..'Z' -> 0..25
  r += (((96 - c) & (c - 123)) >> 8) & (c - 70);  // 'a'..'z' -> 26..51
  r += (((47 - c) & (c - 58)) >> 8) & (c + 5);    // '0'..'9' -> 52..61
  r += (((44 - c) & (c - 46)) >> 8) & 63;         // '-'      -> 62
  r += (((94 - c) & (c - 96)) >> 8) & 64;         // '_'      -> 63
  return r;
}

// Branch-free base64url digit encode of 0..63.
uint8_t b64_char(unsigned v) {
  const int d = static_cast<int>(v);
  int r = d + 65;
  r += ((25 - d) >> 8) & 6;
  r -= ((51 - d) >> 8) & 75;
  r -= ((61 - d) >> 8) & 13;
  r += ((62 - d) >> 8) & 49;
  return static_cast<uint8_t>(r);
}

// Decodes exactly 43 canonical base64url characters into 32 bytes.
Status decode_key(std::span<const uint8_t> text, std::span<uint8_t> out) {
  if (text.size() != kB64KeyChars) {
    return invalid_argument("member \"k\" must be 43 base64url characters (a 256-bit key), got " +
                            std::to_string(text.size()));
  }
  uint32_t acc = 0;
  int bits = 0, bad = 0;
  size_t o = 0;
  for (uint8_t ch : text) {
    const int d = b64_digit(ch);
    bad |= d;  // negative iff some digit was invalid
    acc = (acc << 6) | static_cast<uint32_t>(d & 63);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = static_cast<uint8_t>(acc >> bits);
    }
  }
  const uint32_t leftover = acc & ((1u << bits) - 1);  // 2 bits that must be zero (canonical form)
  wipe(&acc, sizeof acc);
  if (bad < 0 || leftover != 0 || o != kSealingKeySize) {
    wipe(out.data(), out.size());
    return invalid_argument("member \"k\" is not canonical unpadded base64url");
  }
  return Status::ok();
}

struct Scanner {
  std::span<const uint8_t> b;
  size_t i = 0;

  void skip_ws() {
    while (i < b.size() && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r')) ++i;
  }
  Status expect(char c) {
    skip_ws();
    if (i >= b.size() || b[i] != static_cast<uint8_t>(c)) {
      return invalid_argument(std::string("expected '") + c + "' at byte " + std::to_string(i));
    }
    ++i;
    return Status::ok();
  }
  // A JSON string without escapes; returns a view of its contents.
  Result<std::span<const uint8_t>> string() {
    SEALSUM_RETURN_IF_ERROR(expect('"'));
    const size_t start = i;
    while (i < b.size() && b[i] != '"') {
      if (b[i] == '\\') return invalid_argument("string escapes are not allowed (byte " + std::to_string(i) + ")");
      if (b[i] < 0x20 || b[i] > 0x7e) return invalid_argument("non-printable byte at " + std::to_string(i));
      ++i;
    }
    if (i >= b.size()) return invalid_argument("unterminated string");
    return b.subspan(start, i++ - start);
  }
};

bool equals(std::span<const uint8_t> s, std::string_view lit) {
  return s.size() == lit.size() && std::memcmp(s.data(), lit.data(), s.size()) == 0;
}

std::string as_text(std::span<const uint8_t> s) { return {reinterpret_cast<const char*>(s.data()), s.size()}; }

}  // namespace

Status validate_kid(std::string_view kid) {
  if (kid.empty() || kid.size() > kMaxKidLength) {
    return invalid_argument("a key id must be 1.." + std::to_string(kMaxKidLength) + " characters, got " +
                            std::to_string(kid.size()));
  }
  for (char c : kid) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
                    c == '_' || c == ':' || c == '-';
    if (!ok) return invalid_argument("a key id may contain only A-Z a-z 0-9 . _ : -");
  }
  return Status::ok();
}

std::string derive_kid(std::span<const uint8_t> key) {
  static constexpr char kLabel[] = "sealsum key id v1";  // hashed with its terminating NUL
  Sha256 h;
  h.update({reinterpret_cast<const uint8_t*>(kLabel), sizeof kLabel});
  h.update(key);
  const Digest256 d = h.finish();
  return "sha256:" + to_hex(std::span<const uint8_t>(d.data(), 8));
}

Result<SealingKey> SealingKey::from_bytes(std::span<const uint8_t> key, std::string kid) {
  if (key.size() != kSealingKeySize) return invalid_argument("a sealing key must be 32 bytes");
  if (kid.empty()) kid = derive_kid(key);
  SEALSUM_RETURN_IF_ERROR(validate_kid(kid));
  SEALSUM_ASSIGN_OR_RETURN(SecretBuffer buf, SecretBuffer::copy_of(key, /*require_lock=*/true));
  return SealingKey(std::move(buf), std::move(kid));
}

Result<SealingKey> SealingKey::generate(std::string kid) {
  SEALSUM_ASSIGN_OR_RETURN(SecretBuffer buf, SecretBuffer::allocate(kSealingKeySize, /*require_lock=*/true));
  SEALSUM_RETURN_IF_ERROR(random_bytes(buf.span()));
  return from_bytes(buf.span(), std::move(kid));
}

Result<SealingKey> parse_key_file(std::span<const uint8_t> bytes) {
  if (bytes.size() > kMaxKeyFileSize) return invalid_argument("key file larger than 4096 bytes");
  Scanner s{bytes};
  std::optional<std::span<const uint8_t>> kty, alg, kid, k;
  SEALSUM_RETURN_IF_ERROR(s.expect('{'));
  s.skip_ws();
  bool first = true;
  while (!(s.i < bytes.size() && bytes[s.i] == '}')) {
    if (!first) SEALSUM_RETURN_IF_ERROR(s.expect(','));
    first = false;
    SEALSUM_ASSIGN_OR_RETURN(auto name, s.string());
    SEALSUM_RETURN_IF_ERROR(s.expect(':'));
    SEALSUM_ASSIGN_OR_RETURN(auto value, s.string());
    std::optional<std::span<const uint8_t>>* slot = equals(name, "kty")   ? &kty
                                                    : equals(name, "alg") ? &alg
                                                    : equals(name, "kid") ? &kid
                                                    : equals(name, "k")   ? &k
                                                                          : nullptr;
    if (slot == nullptr) {
      return invalid_argument("unknown member \"" + as_text(name.first(std::min<size_t>(name.size(), 32))) +
                              "\" (allowed: kty, alg, kid, k)");
    }
    if (slot->has_value()) return invalid_argument("duplicate member \"" + as_text(name) + "\"");
    *slot = value;
    s.skip_ws();
  }
  ++s.i;  // the closing brace
  s.skip_ws();
  if (s.i != bytes.size()) return invalid_argument("unexpected bytes after the key object at byte " + std::to_string(s.i));
  if (kty && !equals(*kty, "oct")) return invalid_argument("member \"kty\" must be \"oct\"");
  if (alg && !equals(*alg, "A256GCM")) return invalid_argument("member \"alg\" must be \"A256GCM\"");
  if (!kid) return invalid_argument("missing member \"kid\"");
  if (!k) return invalid_argument("missing member \"k\"");
  std::string kid_text = as_text(*kid);
  SEALSUM_RETURN_IF_ERROR(validate_kid(kid_text));
  SEALSUM_ASSIGN_OR_RETURN(SecretBuffer raw, SecretBuffer::allocate(kSealingKeySize, /*require_lock=*/true));
  SEALSUM_RETURN_IF_ERROR(decode_key(*k, raw.span()));
  return SealingKey::from_bytes(raw.span(), std::move(kid_text));
}

Result<SecretBuffer> read_secret_file(const std::filesystem::path& path, size_t max_bytes, std::string_view what) {
  const std::string name = std::string(what) + " " + path.string();
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return not_found(name + " does not exist");
    return invalid_argument("cannot open " + name + ": " + std::strerror(errno));
  }
  struct FdCloser { int fd; ~FdCloser() { ::close(fd); } } closer{fd};
  struct stat st {};
  if (::fstat(fd, &st) != 0) return invalid_argument("cannot stat " + name + ": " + std::strerror(errno));
  if (!S_ISREG(st.st_mode)) return invalid_argument(name + " is not a regular file");
  if ((st.st_mode & 077) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    return permission_denied(name + " has mode " + mode + " and is accessible to group or others; run: chmod 600 " +
                             path.string());
  }
  const std::string too_large = name + " is larger than " + std::to_string(max_bytes) + " bytes";
  if (st.st_size > static_cast<off_t>(max_bytes)) return invalid_argument(too_large);
  SEALSUM_ASSIGN_OR_RETURN(SecretBuffer buf, SecretBuffer::allocate(max_bytes + 1, /*require_lock=*/true));
  size_t got = 0;
  while (got < buf.size()) {
    const ssize_t n = ::read(fd, buf.data() + got, buf.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return invalid_argument("cannot read " + name + ": " + std::strerror(errno));
    if (n == 0) break;
    got += static_cast<size_t>(n);
  }
  if (got > max_bytes) return invalid_argument(too_large);
  buf.truncate(got);
  return buf;
}

Status write_secret_file(const std::filesystem::path& path, std::span<const uint8_t> bytes, std::string_view what) {
  const std::string name = std::string(what) + " " + path.string();
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    if (errno == EEXIST) {
      return invalid_argument(path.string() + " already exists; refusing to overwrite it (" + std::string(what) + ")");
    }
    return invalid_argument("cannot create " + name + ": " + std::strerror(errno));
  }
  auto fail = [&](const std::string& message) {
    ::close(fd);
    ::unlink(path.c_str());
    return invalid_argument(message);
  };
  if (::fchmod(fd, 0600) != 0) return fail("cannot set mode 0600 on " + name + ": " + std::strerror(errno));
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return fail("cannot write " + name + ": " + std::strerror(errno));
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) return fail("cannot sync " + name + ": " + std::strerror(errno));
  if (::close(fd) != 0) {
    ::unlink(path.c_str());
    return invalid_argument("cannot close " + name + ": " + std::strerror(errno));
  }
  return Status::ok();
}

Result<SealingKey> load_key_file(const std::filesystem::path& path) {
  SEALSUM_ASSIGN_OR_RETURN(SecretBuffer buf, read_secret_file(path, kMaxKeyFileSize, "key file"));
  auto key = parse_key_file(buf.span());
  if (!key.ok()) return key.status().with_context("key file " + path.string());
  return key;
}

Status write_key_file(const std::filesystem::path& path, const SealingKey& key) {
  static constexpr std::string_view kHead = "{\"kty\":\"oct\",\"alg\":\"A256GCM\",\"kid\":\"";
  static constexpr std::string_view kMid = "\",\"k\":\"";
  static constexpr std::string_view kTail = "\"}\n";
  const std::string& kid = key.kid();
  const size_t total = kHead.size() + kid.size() + kMid.size() + kB64KeyChars + kTail.size();
  SEALSUM_ASSIGN_OR_RETURN(SecretBuffer text, SecretBuffer::allocate(total, /*require_lock=*/true));
  uint8_t* p = text.data();
  auto put = [&p](std::string_view s) { std::memcpy(p, s.data(), s.size()); p += s.size(); };
  put(kHead);
  put(kid);
  put(kMid);
  uint32_t acc = 0;
  int bits = 0;
  for (uint8_t byte : key.bytes()) {
    acc = (acc << 8) | byte;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      *p++ = b64_char((acc >> bits) & 63);
    }
  }
  *p++ = b64_char((acc << (6 - bits)) & 63);  // 256 = 42*6 + 4: the last digit holds 4 bits
  wipe(&acc, sizeof acc);
  put(kTail);
  return write_secret_file(path, text.span(), "key file");
}

}  // namespace sealsum::secure
