// X.509 certificates for attestation: loading (DER/PEM), chain signature checks, AMD's VCEK/VLEK
// extensions and the pinned AMD root keys (ARK) of Milan, Genoa and Turin.
//
// Trust model: the ASK/ARK certificates are *loaded* from the caller's chain file, never embedded;
// trust comes from the SHA-256 of the ARK's SubjectPublicKeyInfo (DER), compiled in below and
// computed from AMD's published ARKs (virtee/sev src/certs/snp/builtin). A chain whose root key is
// not pinned is refused by the verifier.
//
// AMD extensions in a VCEK/VLEK (VCEK spec 57230, table "VCEK Certificate Extensions"):
//   1.3.6.1.4.1.3704.1.2       productName (IA5String, e.g. "Milan-B0")
//   1.3.6.1.4.1.3704.1.3.1 blSPL, .2 teeSPL, .3 snpSPL, .8 ucodeSPL, .9 fmcSPL (INTEGER)
//   1.3.6.1.4.1.3704.1.4       hwID (64 raw bytes = the report's CHIP_ID; 8 bytes on Turin; VCEK only)
//
// AMD intermediates are told apart by subject CN (AMD KDS naming): the ASK, which signs VCEKs, is
// "SEV-<Product>"; the ASVK, which signs VLEKs, is "SEV-VLEK-<Product>"; the ARK is "ARK-<Product>".
// Names are only labels: the verifier decides by signatures and pinned keys (see verifier.h).
//
// Ownership: Certificate owns its X509 (freed on destruction); move-only. Thread safety: const
// methods may be called concurrently; OpenSSL's X509 is not mutated after load.
#pragma once

#include <array>
#include <cstdint>
#include <ctime>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "secure/attest/report.h"
#include "secure/digest.h"

typedef struct x509_st X509;  // OpenSSL's type, so this header does not pull in OpenSSL

namespace sealsum::secure::attest {

inline constexpr size_t kMaxCertBytes = 64 * 1024;   // one certificate (DER or PEM)
inline constexpr size_t kMaxChainCerts = 8;

// What signature a certificate must carry to be accepted by verify_signed_by().
enum class SigRequirement {
  kRsaPssSha384,  // AMD: ARK self-signature, ASK and VCEK/VLEK (RSASSA-PSS, SHA-384)
  kAnyStrong,     // Microsoft x5chain: RSA (PKCS#1 v1.5 or PSS) or ECDSA with SHA-256/384/512
};

class Certificate;
Result<std::vector<Certificate>> parse_pem_chain(std::string_view pem);

class Certificate {
 public:
  // Exactly one DER certificate (trailing bytes are refused).
  static Result<Certificate> from_der(std::span<const uint8_t> der);
  // Exactly one PEM "CERTIFICATE" block.
  static Result<Certificate> from_pem(std::string_view pem);
  // PEM if the bytes contain "-----BEGIN CERTIFICATE-----", else DER.
  static Result<Certificate> from_der_or_pem(std::span<const uint8_t> bytes);

  Certificate(Certificate&&) noexcept;
  Certificate& operator=(Certificate&&) noexcept;
  ~Certificate();

  std::string subject() const;  // one-line RFC 2253 form
  std::string issuer() const;
  std::string common_name() const;  // the subject's first CN; empty when it has none
  std::vector<uint8_t> der() const;
  Digest256 fingerprint_sha256() const;  // SHA-256 of the DER certificate
  Digest256 spki_sha256() const;         // SHA-256 of the SubjectPublicKeyInfo DER
  bool self_issued() const;              // subject == issuer
  bool valid_at(std::time_t t) const;    // notBefore <= t <= notAfter
  bool has_eku(std::string_view oid) const;
  // Verifies this certificate's signature with `issuer`'s public key and that the algorithm
  // meets `req`. kUnauthenticated on a bad signature, kPermissionDenied on a weak/wrong algorithm.
  Status verify_signed_by(const Certificate& issuer, SigRequirement req) const;
  X509* get() const { return x_; }

 private:
  friend Result<std::vector<Certificate>> parse_pem_chain(std::string_view pem);
  explicit Certificate(X509* x) : x_(x) {}
  X509* x_ = nullptr;
};

// Every PEM "CERTIFICATE" block in `pem`, in order (at most kMaxChainCerts; at least one).
Result<std::vector<Certificate>> parse_pem_chain(std::string_view pem);

struct AmdCertExtensions {
  std::optional<std::string> product_name;
  std::optional<uint8_t> bl_spl, tee_spl, snp_spl, ucode_spl, fmc_spl;
  std::optional<std::vector<uint8_t>> hwid;
};
// Reads the AMD extensions (absent ones stay empty); kDataLoss when one is malformed.
Result<AmdCertExtensions> parse_amd_extensions(const Certificate& cert);

// What an AMD intermediate's subject CN says it is: "SEV-VLEK-<X>" kAsvk, "SEV-<X>" kAsk (X not
// empty, not the leaf names "VCEK"/"VLEK"), anything else kNone. A label only; it proves nothing without the chain's signatures.
enum class AmdIntermediateKind { kNone, kAsk, kAsvk };
AmdIntermediateKind amd_intermediate_kind(const Certificate& cert);
const char* amd_intermediate_kind_name(AmdIntermediateKind k);  // "ASK", "ASVK", "not an ASK/ASVK"

struct PinnedRoot {
  Product product;
  const char* name;
  Digest256 spki_sha256;
};
// The pinned AMD root keys (Milan, Genoa, Turin).
std::span<const PinnedRoot> amd_pinned_roots();
// The product whose pinned ARK key `ark` carries; nullopt when the key is not pinned.
std::optional<Product> pinned_amd_product(const Certificate& ark);

// Microsoft Supply Chain RSA Root CA 2022 (root of the x5chain in Azure UVM endorsements): SHA-256
// of its SubjectPublicKeyInfo. Provenance: the same key appears in two independent captures (ACI
// 2023, Azure clean room 2025); it is not taken from a Microsoft publication.
const Digest256& microsoft_supply_chain_root_spki_sha256();

}  // namespace sealsum::secure::attest
