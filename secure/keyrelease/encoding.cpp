// base64 / base64url encoders; decoding delegates to the bounded attest::base64_decode.
#include "secure/keyrelease/encoding.h"

#include "secure/attest/azure_inputs.h"

namespace sealsum::secure::keyrelease {
namespace {

std::string encode(std::span<const uint8_t> in, const char* alphabet, bool pad) {
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 3 <= in.size(); i += 3) {
    uint32_t v = (uint32_t{in[i]} << 16) | (uint32_t{in[i + 1]} << 8) | in[i + 2];
    out += alphabet[(v >> 18) & 63];
    out += alphabet[(v >> 12) & 63];
    out += alphabet[(v >> 6) & 63];
    out += alphabet[v & 63];
  }
  size_t rest = in.size() - i;
  if (rest == 1) {
    uint32_t v = uint32_t{in[i]} << 16;
    out += alphabet[(v >> 18) & 63];
    out += alphabet[(v >> 12) & 63];
    if (pad) out += "==";
  } else if (rest == 2) {
    uint32_t v = (uint32_t{in[i]} << 16) | (uint32_t{in[i + 1]} << 8);
    out += alphabet[(v >> 18) & 63];
    out += alphabet[(v >> 12) & 63];
    out += alphabet[(v >> 6) & 63];
    if (pad) out += '=';
  }
  return out;
}

}  // namespace

std::string base64url_encode(std::span<const uint8_t> bytes, bool pad) {
  return encode(bytes, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", pad);
}

std::string base64_encode(std::span<const uint8_t> bytes) {
  return encode(bytes, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/", true);
}

Result<std::vector<uint8_t>> base64_any_decode(std::string_view text, std::string_view what) {
  if (text.size() > kMaxEncodedBytes) {
    return resource_exhausted(std::string(what) + " is " + std::to_string(text.size()) + " characters; limit " +
                              std::to_string(kMaxEncodedBytes));
  }
  auto r = attest::base64_decode(text);
  if (!r.ok()) return data_loss(std::string(what) + " is not valid base64: " + r.status().message());
  return r;
}

Result<std::string> base64_any_decode_text(std::string_view text, std::string_view what) {
  SEALSUM_ASSIGN_OR_RETURN(std::vector<uint8_t> b, base64_any_decode(text, what));
  return std::string(b.begin(), b.end());
}

}  // namespace sealsum::secure::keyrelease
