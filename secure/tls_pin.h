// Client-side pinning of a TLS server's key, for clients that trust a server because attestation
// bound its key (server/client.h), not because a CA signed its certificate.
//
// TlsKeyPin::attach(ctx) installs a verify callback on a client's OpenSSL context (the SSL_CTX of an
// httplib::SSLClient, passed as the opaque `ssl_ctx_st*`; no OpenSSL header is needed to call it).
// On every handshake the callback records the SHA-256 of the leaf certificate's SubjectPublicKeyInfo
// (observed()); once pin() was called, a handshake whose leaf key hashes to anything else fails.
// CA chains and names are not checked: the attested key is the trust anchor.
// Ownership: the pin must outlive every handshake on `ctx` (the context keeps a raw pointer to it);
// not copyable or movable. Thread safety: one connection at a time (handshakes write observed()).
#pragma once

#include <optional>

#include "secure/digest.h"

struct ssl_ctx_st;  // OpenSSL's SSL_CTX, opaque here

namespace sealsum::secure {

class TlsKeyPin {
 public:
  TlsKeyPin() = default;
  TlsKeyPin(const TlsKeyPin&) = delete;
  TlsKeyPin& operator=(const TlsKeyPin&) = delete;

  // Makes `ctx` verify peers through this pin (SSL_VERIFY_PEER with the pin's callback).
  void attach(ssl_ctx_st* ctx);
  // From now on every handshake must present a key hashing to `spki_sha256`.
  void pin(const Digest256& spki_sha256) { pin_ = spki_sha256; }
  // The leaf key seen in the last handshake (nullopt before the first).
  const std::optional<Digest256>& observed() const { return observed_; }

 private:
  friend struct TlsKeyPinCallback;
  std::optional<Digest256> pin_;
  std::optional<Digest256> observed_;
};

}  // namespace sealsum::secure
