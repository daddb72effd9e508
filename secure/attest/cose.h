// COSE_Sign1 (RFC 9052) and the Azure UVM endorsement carried in one.
//
// An Azure Container Instances / confidential-container UVM endorsement
// (body.uvm_reference_info.bin, or base64 in an MAA request's "Endorsements"."Uvm") is a tagged
// COSE_Sign1 (tag 18) = [protected: bstr(map), unprotected: map, payload: bstr, signature: bstr].
// The protected header carries alg (label 1: -35 ES384, -38 PS384, also -7 ES256, -37 PS256),
// x5chain (label 33: leaf first, DER), x5t (34), and string labels "iss" (a did:x509 issuer),
// "feed" (e.g. "ContainerPlat-AMD-UVM") and "signingtime" (tag 1 epoch seconds). The payload is
// JSON with "x-ms-sevsnpvm-launchmeasurement" (hex of the 48-byte SEV-SNP MEASUREMENT) and
// "x-ms-sevsnpvm-guestsvn".
//
// The signature is over Sig_structure = ["Signature1", protected, h'', payload] (CBOR), with
// ECDSA (raw r||s) or RSASSA-PSS (salt length = hash length, RFC 8230).
//
// Contract: parse functions are bounded (see cbor.h) and copy what they keep. Thread safety:
// reentrant.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/status.h"
#include "secure/attest/cbor.h"
#include "secure/attest/certs.h"

namespace sealsum::secure::attest {

inline constexpr int64_t kCoseAlgEs256 = -7;
inline constexpr int64_t kCoseAlgEs384 = -35;
inline constexpr int64_t kCoseAlgPs256 = -37;
inline constexpr int64_t kCoseAlgPs384 = -38;

struct CoseSign1 {
  std::vector<uint8_t> protected_bytes;  // the serialized protected header (signed as-is)
  CborValue protected_header;            // decoded map
  CborValue unprotected_header;          // map
  std::vector<uint8_t> payload;
  std::vector<uint8_t> signature;
  int64_t alg = 0;                             // protected label 1
  std::vector<std::vector<uint8_t>> x5chain;   // protected label 33 (one bstr or an array), leaf first
};

// Parses a COSE_Sign1, tagged (18) or untagged. kDataLoss on malformed input, kUnimplemented for a
// detached payload or a missing alg.
Result<CoseSign1> parse_cose_sign1(std::span<const uint8_t> bytes);
// The CBOR Sig_structure the signature covers.
std::vector<uint8_t> cose_sig_structure(const CoseSign1& msg);
// Verifies the signature with `signer`'s public key per msg.alg (ES256/ES384/PS256/PS384).
Status verify_cose_sign1(const CoseSign1& msg, const Certificate& signer);

struct UvmEndorsement {
  CoseSign1 cose;
  std::string issuer;                      // "iss"
  std::string feed;                        // "feed"
  std::optional<int64_t> signing_time;     // "signingtime" (epoch seconds)
  std::array<uint8_t, 48> launch_measurement{};
  std::string guest_svn;                   // "x-ms-sevsnpvm-guestsvn" as text
};
// Parses the COSE_Sign1 and its JSON payload (does not verify anything).
Result<UvmEndorsement> parse_uvm_endorsement(std::span<const uint8_t> bytes);

}  // namespace sealsum::secure::attest
