// TLS identity of `sealsum serve`: a key pair generated inside the process at start and a
// self-signed certificate for it. The private key never leaves the process (it is not written to
// disk); clients trust the certificate not through a CA but because the attestation evidence's
// REPORT_DATA binds the SHA-256 of its SubjectPublicKeyInfo (server/serve_attest.h).
//
// Key: ECDSA P-256. Certificate: X.509 v3, subject/issuer CN=sealsum-serve, SAN DNS:localhost and
// IP:127.0.0.1, valid from one hour ago for 30 days, random 128-bit serial, signed with SHA-256.
// Ownership: TlsIdentity owns its X509 and EVP_PKEY (freed on destruction); move-only. The OpenSSL
// handles are reachable only inside secure/ (tls_internal.h: the TLS server context uses them);
// nothing outside secure/ sees an OpenSSL type.
// Thread safety: immutable after create(); const members may be called concurrently.
#pragma once

#include <memory>
#include <string>

#include "common/status.h"
#include "secure/digest.h"

namespace sealsum::secure {

class TlsIdentity {
 public:
  static Result<TlsIdentity> create();
  TlsIdentity(TlsIdentity&&) noexcept;
  TlsIdentity& operator=(TlsIdentity&&) noexcept;
  ~TlsIdentity();

  // SHA-256 of the certificate's SubjectPublicKeyInfo DER (what attestation binds and clients pin).
  const Digest256& spki_sha256() const { return spki_sha256_; }
  std::string certificate_pem() const;

 private:
  friend struct TlsIdentityAccess;  // tls_internal.h (secure/ only)
  struct Impl;
  TlsIdentity() = default;
  std::unique_ptr<Impl> impl_;
  Digest256 spki_sha256_{};
};

}  // namespace sealsum::secure
