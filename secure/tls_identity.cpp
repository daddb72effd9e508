// TLS identity: in-process key pair and self-signed certificate (see tls_identity.h).
#include "secure/tls_identity.h"

#include "secure/tls_internal.h"

#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <vector>

namespace sealsum::secure {

struct TlsIdentity::Impl {
  X509* cert = nullptr;
  EVP_PKEY* key = nullptr;
  ~Impl() {
    X509_free(cert);
    EVP_PKEY_free(key);
  }
};

TlsIdentity::TlsIdentity(TlsIdentity&&) noexcept = default;
TlsIdentity& TlsIdentity::operator=(TlsIdentity&&) noexcept = default;
TlsIdentity::~TlsIdentity() = default;
X509* TlsIdentityAccess::certificate(const TlsIdentity& id) { return id.impl_->cert; }
EVP_PKEY* TlsIdentityAccess::private_key(const TlsIdentity& id) { return id.impl_->key; }

Result<Digest256> certificate_spki_sha256(X509* cert) {
  if (cert == nullptr) return invalid_argument("no certificate");
  X509_PUBKEY* spki = X509_get_X509_PUBKEY(cert);
  unsigned char* der = nullptr;
  const int len = i2d_X509_PUBKEY(spki, &der);
  if (len <= 0 || der == nullptr) return internal_error("cannot encode the certificate's public key");
  Digest256 d = sha256({der, static_cast<size_t>(len)});
  OPENSSL_free(der);
  return d;
}

Result<TlsIdentity> TlsIdentity::create() {
  auto impl = std::make_unique<Impl>();
  impl->key = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
  if (impl->key == nullptr) return internal_error("TLS key generation (P-256) failed");
  impl->cert = X509_new();
  X509* c = impl->cert;
  if (c == nullptr || X509_set_version(c, 2) != 1) return internal_error("X509_new failed");

  unsigned char serial[16];
  if (RAND_bytes(serial, sizeof serial) != 1) return internal_error("CSPRNG not seeded");
  serial[0] &= 0x7F;  // positive
  BIGNUM* bn = BN_bin2bn(serial, sizeof serial, nullptr);
  bool ok = bn != nullptr && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(c)) != nullptr;
  BN_free(bn);
  ok = ok && X509_gmtime_adj(X509_getm_notBefore(c), -3600) != nullptr &&
       X509_gmtime_adj(X509_getm_notAfter(c), 30L * 24 * 3600) != nullptr && X509_set_pubkey(c, impl->key) == 1;
  X509_NAME* name = X509_get_subject_name(c);
  ok = ok && X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                        reinterpret_cast<const unsigned char*>("sealsum-serve"), -1, -1, 0) == 1 &&
       X509_set_issuer_name(c, name) == 1;
  if (!ok) return internal_error("building the TLS certificate failed");

  X509V3_CTX v3;
  X509V3_set_ctx_nodb(&v3);
  X509V3_set_ctx(&v3, c, c, nullptr, nullptr, 0);
  const std::pair<int, const char*> exts[] = {{NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1"},
                                              {NID_basic_constraints, "critical,CA:FALSE"},
                                              {NID_key_usage, "critical,digitalSignature"},
                                              {NID_ext_key_usage, "serverAuth"}};
  for (const auto& [nid, value] : exts) {
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &v3, nid, value);
    ok = ext != nullptr && X509_add_ext(c, ext, -1) == 1;
    X509_EXTENSION_free(ext);
    if (!ok) return internal_error("adding a TLS certificate extension failed");
  }
  if (X509_sign(c, impl->key, EVP_sha256()) <= 0) return internal_error("signing the TLS certificate failed");

  TlsIdentity id;
  SEALSUM_ASSIGN_OR_RETURN(id.spki_sha256_, certificate_spki_sha256(c));
  id.impl_ = std::move(impl);
  return id;
}

std::string TlsIdentity::certificate_pem() const {
  BIO* bio = BIO_new(BIO_s_mem());
  if (bio == nullptr) return {};
  std::string out;
  if (PEM_write_bio_X509(bio, impl_->cert) == 1) {
    char* data = nullptr;
    const long n = BIO_get_mem_data(bio, &data);
    if (n > 0) out.assign(data, static_cast<size_t>(n));
  }
  BIO_free(bio);
  return out;
}

}  // namespace sealsum::secure
