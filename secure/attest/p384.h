// Internal helpers shared by the SEV-SNP verifier and the simulated TEE: SHA-384 and ECDSA P-384
// with the AMD signature layout (R and S as 72-byte little-endian fields, of which P-384 uses the low
// 48 bytes; the upper 24 must be zero).
//
// Ownership: functions never take ownership of the EVP_PKEY passed in. Thread safety: reentrant.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>

#include "common/status.h"

typedef struct evp_pkey_st EVP_PKEY;

namespace sealsum::secure::attest {

using Digest384 = std::array<uint8_t, 48>;

Digest384 sha384(std::span<const uint8_t> data);
// SHA-384 of a whole file, streamed; kNotFound / kDataLoss naming the path.
Result<Digest384> sha384_file(const std::string& path);

// Verifies an ECDSA P-384/SHA-384 signature given in AMD layout over `msg` with `key` (which must be
// an EC P-384 key). kUnauthenticated when it does not verify or the fields are malformed.
Status ecdsa_p384_verify_amd(EVP_PKEY* key, std::span<const uint8_t> msg, const std::array<uint8_t, 72>& r_le,
                             const std::array<uint8_t, 72>& s_le);
// Signs `msg` with the P-384 private `key`, producing the AMD layout.
Status ecdsa_p384_sign_amd(EVP_PKEY* key, std::span<const uint8_t> msg, std::array<uint8_t, 72>& r_le,
                           std::array<uint8_t, 72>& s_le);

}  // namespace sealsum::secure::attest
