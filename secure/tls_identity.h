// TLS identity of `sealsum serve`: a key pair generated inside the process at start and a
// self-signed certificate for it. The private key never leaves the process (it is not written to
// disk); clients trust the certificate not through a CA but because the attestation evidence's
// REPORT_DATA binds the SHA-256 of its SubjectPublicKeyInfo (server/serve_attest.h).
//
// Key: ECDSA P-256. Certificate: X.509 v3, subject/issuer CN=sealsum-serve, SAN DNS:localhost and
// IP:127.0.0.1, valid from one hour ago for 30 days, random 128-bit serial, signed with SHA-256.
// Ownership: TlsIdentity owns its X509 and EVP_PKEY (freed on destruction); move-only. Callers that
// hand the raw pointers to OpenSSL (e.g. httplib::SSLServer) must let OpenSSL take its own
// references (SSL_CTX_use_certificate does).
// Thread safety: immutable after create(); const members may be called concurrently.
#pragma once

#include <memory>
#include <string>

#include "common/status.h"
#include "secure/digest.h"

typedef struct x509_st X509;          // NOLINT: OpenSSL's opaque types
typedef struct evp_pkey_st EVP_PKEY;  // NOLINT

namespace sealsum::secure {

class TlsIdentity {
 public:
  static Result<TlsIdentity> create();
  TlsIdentity(TlsIdentity&&) noexcept;
  TlsIdentity& operator=(TlsIdentity&&) noexcept;
  ~TlsIdentity();

  X509* certificate() const;
  EVP_PKEY* private_key() const;
  // SHA-256 of the certificate's SubjectPublicKeyInfo DER (what attestation binds and clients pin).
  const Digest256& spki_sha256() const { return spki_sha256_; }
  std::string certificate_pem() const;

 private:
  struct Impl;
  TlsIdentity() = default;
  std::unique_ptr<Impl> impl_;
  Digest256 spki_sha256_{};
};

// SHA-256 of the SubjectPublicKeyInfo of `cert` (for a client pinning the server it talks to).
Result<Digest256> certificate_spki_sha256(X509* cert);

}  // namespace sealsum::secure
