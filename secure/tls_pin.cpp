// Client-side TLS key pinning (see tls_pin.h).
#include "secure/tls_pin.h"

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "secure/tls_internal.h"

namespace sealsum::secure {

struct TlsKeyPinCallback {
  // OpenSSL verify callback: only the leaf's key matters; its hash is recorded and, when pinned,
  // must equal the pin. The pin is reached through the SSL_CTX's app data (set by attach()).
  static int verify(int /*preverify_ok*/, X509_STORE_CTX* store) {
    if (X509_STORE_CTX_get_error_depth(store) != 0) return 1;
    auto* ssl = static_cast<SSL*>(X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx()));
    auto* pin = ssl ? static_cast<TlsKeyPin*>(SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl))) : nullptr;
    if (pin == nullptr) return 0;
    auto d = certificate_spki_sha256(X509_STORE_CTX_get_current_cert(store));
    if (!d.ok()) return 0;
    pin->observed_ = *d;
    return pin->pin_ ? (*d == *pin->pin_ ? 1 : 0) : 1;
  }
};

void TlsKeyPin::attach(ssl_ctx_st* ctx) {
  SSL_CTX_set_app_data(ctx, this);
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, TlsKeyPinCallback::verify);
}

}  // namespace sealsum::secure
