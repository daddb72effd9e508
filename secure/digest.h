// SHA-256 (OpenSSL EVP), for file checksums, measurements and report-data bindings.
// Thread safety: Sha256 instances are not shared; the free function is reentrant.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>

#include "common/status.h"

namespace sealsum::secure {

using Digest256 = std::array<uint8_t, 32>;

Digest256 sha256(std::span<const uint8_t> data);

class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(Sha256&&) noexcept;
  Sha256& operator=(Sha256&&) noexcept;
  void update(std::span<const uint8_t> data);
  Digest256 finish();  // the object must not be updated afterwards

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

std::string to_hex(std::span<const uint8_t> bytes);

// SHA-256 of a file's bytes, streamed (1 MiB at a time). kNotFound / kUnavailable naming the file.
Result<Digest256> sha256_file(const std::filesystem::path& path);

}  // namespace sealsum::secure
