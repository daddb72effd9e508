// base64 / base64url / hex / percent-encoding (contract: encoding.h).
#include "common/encoding.h"

namespace sealsum::encoding {
namespace {

constexpr char kStd[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr char kUrl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
constexpr char kHexLower[] = "0123456789abcdef";
constexpr char kHexUpper[] = "0123456789ABCDEF";

std::string encode(std::span<const uint8_t> in, const char* alphabet, bool pad) {
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 3 <= in.size(); i += 3) {
    const uint32_t v = (uint32_t{in[i]} << 16) | (uint32_t{in[i + 1]} << 8) | in[i + 2];
    for (int k = 3; k >= 0; --k) out += alphabet[(v >> (6 * k)) & 63];
  }
  const size_t rest = in.size() - i;
  if (rest > 0) {
    const uint32_t v = (uint32_t{in[i]} << 16) | (rest == 2 ? uint32_t{in[i + 1]} << 8 : 0u);
    out += alphabet[(v >> 18) & 63];
    out += alphabet[(v >> 12) & 63];
    if (rest == 2) out += alphabet[(v >> 6) & 63];
    if (pad) out.append(3 - rest, '=');
  }
  return out;
}

int digit(char c, Alphabet a) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  const bool std_ok = a != Alphabet::kUrl, url_ok = a != Alphabet::kStandard;
  if ((c == '+' && std_ok) || (c == '-' && url_ok)) return 62;
  if ((c == '/' && std_ok) || (c == '_' && url_ok)) return 63;
  return -1;
}

bool skipped(char c, Whitespace w) {
  switch (w) {
    case Whitespace::kNone: return false;
    case Whitespace::kNewlines: return c == '\n' || c == '\r';
    case Whitespace::kAny: return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
  }
  return false;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Appends the decoding of `text` to `out` (a std::string or std::vector<uint8_t>).
template <typename Out>
Status decode_into(std::string_view text, const Base64Options& o, std::string_view what, Out& out) {
  const std::string w(what);
  if (text.size() > o.max_chars) {
    return resource_exhausted(w + " is " + std::to_string(text.size()) + " characters; the limit is " +
                              std::to_string(o.max_chars));
  }
  out.reserve(text.size() / 4 * 3 + 3);
  uint32_t acc = 0;
  int bits = 0;
  size_t symbols = 0, pad = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (skipped(c, o.whitespace)) continue;
    if (c == '=') {
      if (o.padding == Padding::kForbidden) {
        return data_loss(w + " is not valid base64: '=' padding is not allowed here (byte " + std::to_string(i) + ")");
      }
      ++pad;
      continue;
    }
    const int v = digit(c, o.alphabet);
    if (v < 0) return data_loss(w + " is not valid base64: invalid character at byte " + std::to_string(i));
    if (pad) return data_loss(w + " is not valid base64: '=' padding before the end (byte " + std::to_string(i) + ")");
    ++symbols;
    acc = (acc << 6) | uint32_t(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<typename Out::value_type>(uint8_t(acc >> bits)));
      acc &= (1u << bits) - 1;
    }
  }
  if (symbols % 4 == 1) return data_loss(w + " is not valid base64: impossible length");
  if (pad > 2 || (pad && (symbols + pad) % 4 != 0)) {
    return data_loss(w + " is not valid base64: the '=' padding does not fit the length");
  }
  if (o.padding == Padding::kRequired && (symbols + pad) % 4 != 0) {
    return data_loss(w + " is not valid base64: padded base64 must be a multiple of 4 characters long");
  }
  if (o.canonical && acc != 0) return data_loss(w + " is not valid base64: non-zero trailing bits (not canonical)");
  return Status::ok();
}

}  // namespace

std::string base64_encode(std::span<const uint8_t> bytes, bool pad) { return encode(bytes, kStd, pad); }
std::string base64url_encode(std::span<const uint8_t> bytes, bool pad) { return encode(bytes, kUrl, pad); }

Result<std::vector<uint8_t>> base64_decode(std::string_view text, std::string_view what, const Base64Options& options) {
  std::vector<uint8_t> out;
  SEALSUM_RETURN_IF_ERROR(decode_into(text, options, what, out));
  return out;
}

Result<std::string> base64_decode_text(std::string_view text, std::string_view what, const Base64Options& options) {
  std::string out;
  SEALSUM_RETURN_IF_ERROR(decode_into(text, options, what, out));
  return out;
}

std::string hex_encode(std::span<const uint8_t> bytes) {
  std::string out;
  out.reserve(bytes.size() * 2);
  for (uint8_t b : bytes) {
    out += kHexLower[b >> 4];
    out += kHexLower[b & 15];
  }
  return out;
}

Result<std::vector<uint8_t>> hex_decode(std::string_view hex, std::string_view what, size_t max_chars) {
  const std::string w(what);
  if (hex.size() > max_chars) {
    return resource_exhausted(w + " is " + std::to_string(hex.size()) + " characters; the limit is " +
                              std::to_string(max_chars));
  }
  if (hex.size() % 2 != 0) return data_loss(w + " has odd length " + std::to_string(hex.size()));
  std::vector<uint8_t> out(hex.size() / 2);
  for (size_t i = 0; i < out.size(); ++i) {
    const int hi = hex_value(hex[2 * i]), lo = hex_value(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return data_loss(w + " has an invalid hex digit at position " + std::to_string(2 * i));
    out[i] = uint8_t(hi << 4 | lo);
  }
  return out;
}

std::string percent_encode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (unsigned char c : s) {
    const bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                            c == '-' || c == '.' || c == '_' || c == '~';
    if (unreserved) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHexUpper[c >> 4];
      out += kHexUpper[c & 15];
    }
  }
  return out;
}

}  // namespace sealsum::encoding
