// secure/-internal: the OpenSSL handles behind a TlsIdentity, and the SPKI hash of a certificate.
// Only secure/*.cpp include this (the TLS server context, the client key pin, tests); every other
// module uses the opaque APIs of tls_identity.h, tls_server.h and tls_pin.h.
// Ownership: the returned pointers stay owned by the TlsIdentity; callers that hand them to OpenSSL
// must let it take its own references (SSL_CTX_use_certificate does).
#pragma once

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "common/status.h"
#include "secure/digest.h"
#include "secure/tls_identity.h"

namespace sealsum::secure {

struct TlsIdentityAccess {
  static X509* certificate(const TlsIdentity& id);
  static EVP_PKEY* private_key(const TlsIdentity& id);
};

// SHA-256 of the SubjectPublicKeyInfo DER of `cert` (what attestation binds and clients pin).
Result<Digest256> certificate_spki_sha256(X509* cert);

}  // namespace sealsum::secure
