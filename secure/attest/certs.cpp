// X.509 loading, chain signatures, AMD extensions and pinned roots (see certs.h).
#include "secure/attest/certs.h"

#include <cstring>

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

namespace sealsum::secure::attest {
namespace {

constexpr std::string_view kPemBegin = "-----BEGIN CERTIFICATE-----";

// A 64-hex-digit SHA-256 (lower case) as bytes, at compile time: the array type takes exactly 64
// digits, and any other character throws, which in these constant initializers fails the build.
constexpr Digest256 digest_of(const char (&hex)[65]) {
  Digest256 d{};
  auto v = [](char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    throw "a pinned digest is not lower-case hex";
  };
  for (size_t i = 0; i < 32; ++i) d[i] = uint8_t(v(hex[2 * i]) << 4 | v(hex[2 * i + 1]));
  return d;
}
// AMD's roots: the one list (amd_roots.inc, shared with the web page's verifier; provenance there).
constexpr PinnedRoot kAmdRoots[] = {
#define SEALSUM_AMD_ROOT(product, spki_sha256_hex) {Product::k##product, "ARK-" #product, digest_of(spki_sha256_hex)},
#include "secure/attest/amd_roots.inc"
#undef SEALSUM_AMD_ROOT
};
constexpr Digest256 kMicrosoftSupplyChainRoot =
    digest_of("84ce862a73b73d63b1cdbde1d30559eaab4040f6a63638c83e8357fe2250e5d3");

std::string name_to_string(const X509_NAME* name) {
  BIO* bio = BIO_new(BIO_s_mem());
  if (!bio) return {};
  X509_NAME_print_ex(bio, name, 0, XN_FLAG_RFC2253);
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  std::string s(data, n > 0 ? size_t(n) : 0);
  BIO_free(bio);
  return s;
}

// The DER contents of the extension with `oid` (dotted), or nullptr.
const ASN1_OCTET_STRING* extension_data(const Certificate& cert, const char* oid) {
  ASN1_OBJECT* obj = OBJ_txt2obj(oid, /*no_name=*/1);
  if (!obj) return nullptr;
  int idx = X509_get_ext_by_OBJ(cert.get(), obj, -1);
  ASN1_OBJECT_free(obj);
  if (idx < 0) return nullptr;
  return X509_EXTENSION_get_data(X509_get_ext(cert.get(), idx));
}

// An AMD SPL extension: DER INTEGER in 0..255.
Result<std::optional<uint8_t>> spl_extension(const Certificate& cert, const char* oid, const char* name) {
  const ASN1_OCTET_STRING* data = extension_data(cert, oid);
  if (!data) return std::optional<uint8_t>();
  const unsigned char* p = ASN1_STRING_get0_data(data);
  long len = ASN1_STRING_length(data);
  ASN1_INTEGER* i = d2i_ASN1_INTEGER(nullptr, &p, len);
  if (!i) return data_loss(std::string("certificate extension ") + name + " is not a DER INTEGER");
  bool trailing = p != ASN1_STRING_get0_data(data) + len;
  int64_t v = -1;
  int ok = ASN1_INTEGER_get_int64(&v, i);
  ASN1_INTEGER_free(i);
  if (!ok || trailing || v < 0 || v > 255) {
    return data_loss(std::string("certificate extension ") + name + " is out of range (0..255) or has trailing bytes");
  }
  return std::optional<uint8_t>(uint8_t(v));
}

}  // namespace

Result<Certificate> Certificate::from_der(std::span<const uint8_t> der) {
  if (der.empty() || der.size() > kMaxCertBytes) {
    return data_loss("certificate is " + std::to_string(der.size()) + " bytes (expected 1.." +
                     std::to_string(kMaxCertBytes) + ")");
  }
  const unsigned char* p = der.data();
  X509* x = d2i_X509(nullptr, &p, long(der.size()));
  if (!x) return data_loss("certificate is not valid DER X.509");
  if (p != der.data() + der.size()) {
    X509_free(x);
    return data_loss("certificate DER has " + std::to_string(der.data() + der.size() - p) + " trailing bytes");
  }
  return Certificate(x);
}

Result<Certificate> Certificate::from_pem(std::string_view pem) {
  SEALSUM_ASSIGN_OR_RETURN(std::vector<Certificate> certs, parse_pem_chain(pem));
  if (certs.size() != 1) {
    return data_loss("expected exactly one PEM certificate, found " + std::to_string(certs.size()));
  }
  return std::move(certs.front());
}

Result<Certificate> Certificate::from_der_or_pem(std::span<const uint8_t> bytes) {
  std::string_view text(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  if (text.find(kPemBegin) != std::string_view::npos) return from_pem(text);
  return from_der(bytes);
}

Certificate::Certificate(Certificate&& o) noexcept : x_(o.x_) { o.x_ = nullptr; }
Certificate& Certificate::operator=(Certificate&& o) noexcept {
  if (this != &o) {
    X509_free(x_);
    x_ = o.x_;
    o.x_ = nullptr;
  }
  return *this;
}
Certificate::~Certificate() { X509_free(x_); }

std::string Certificate::subject() const { return name_to_string(X509_get_subject_name(x_)); }
std::string Certificate::issuer() const { return name_to_string(X509_get_issuer_name(x_)); }

std::string Certificate::common_name() const {
  const X509_NAME* name = X509_get_subject_name(x_);
  int idx = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
  if (idx < 0) return {};
  const ASN1_STRING* s = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, idx));
  if (!s) return {};
  return std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)), size_t(ASN1_STRING_length(s)));
}

std::vector<uint8_t> Certificate::der() const {
  int n = i2d_X509(x_, nullptr);
  if (n <= 0) return {};
  std::vector<uint8_t> out(static_cast<size_t>(n));
  unsigned char* p = out.data();
  i2d_X509(x_, &p);
  return out;
}

Digest256 Certificate::fingerprint_sha256() const { return sha256(der()); }

Digest256 Certificate::spki_sha256() const {
  int n = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x_), nullptr);
  if (n <= 0) return {};
  std::vector<uint8_t> spki(static_cast<size_t>(n));
  unsigned char* p = spki.data();
  i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x_), &p);
  return sha256(spki);
}

bool Certificate::self_issued() const {
  return X509_NAME_cmp(X509_get_subject_name(x_), X509_get_issuer_name(x_)) == 0;
}

bool Certificate::valid_at(std::time_t t) const {
  std::time_t tt = t;
  return X509_cmp_time(X509_get0_notBefore(x_), &tt) <= 0 && X509_cmp_time(X509_get0_notAfter(x_), &tt) >= 0;
}

bool Certificate::has_eku(std::string_view oid) const {
  auto* ekus = static_cast<EXTENDED_KEY_USAGE*>(X509_get_ext_d2i(x_, NID_ext_key_usage, nullptr, nullptr));
  if (!ekus) return false;
  bool found = false;
  for (int i = 0; i < sk_ASN1_OBJECT_num(ekus) && !found; ++i) {
    char buf[128];
    int n = OBJ_obj2txt(buf, sizeof buf, sk_ASN1_OBJECT_value(ekus, i), /*no_name=*/1);
    found = n > 0 && size_t(n) < sizeof buf && std::string_view(buf, size_t(n)) == oid;
  }
  EXTENDED_KEY_USAGE_free(ekus);
  return found;
}

Status Certificate::verify_signed_by(const Certificate& issuer_cert, SigRequirement req) const {
  int mdnid = 0, pknid = 0, secbits = 0;
  uint32_t flags = 0;
  if (!X509_get_signature_info(x_, &mdnid, &pknid, &secbits, &flags)) {
    return permission_denied("unrecognized signature algorithm on certificate " + subject());
  }
  if (req == SigRequirement::kRsaPssSha384) {
    if (pknid != EVP_PKEY_RSA_PSS || mdnid != NID_sha384) {
      return permission_denied("certificate " + subject() + " is not signed with RSA-PSS/SHA-384 (as AMD requires)");
    }
  } else {
    bool strong_md = mdnid == NID_sha256 || mdnid == NID_sha384 || mdnid == NID_sha512;
    bool known_pk = pknid == EVP_PKEY_RSA || pknid == EVP_PKEY_RSA_PSS || pknid == EVP_PKEY_EC;
    if (!strong_md || !known_pk) {
      return permission_denied("certificate " + subject() + " uses a weak or unsupported signature algorithm");
    }
  }
  EVP_PKEY* key = X509_get0_pubkey(issuer_cert.x_);
  if (!key) return data_loss("issuer certificate " + issuer_cert.subject() + " has an unreadable public key");
  if (X509_verify(x_, key) != 1) {
    return unauthenticated("signature of " + subject() + " does not verify with the key of " + issuer_cert.subject());
  }
  return Status::ok();
}

Result<std::vector<Certificate>> parse_pem_chain(std::string_view pem) {
  if (pem.size() > kMaxCertBytes * kMaxChainCerts) return resource_exhausted("certificate chain file is too large");
  std::vector<Certificate> out;
  size_t pos = 0;
  while ((pos = pem.find(kPemBegin, pos)) != std::string_view::npos) {
    if (out.size() == kMaxChainCerts) {
      return resource_exhausted("more than " + std::to_string(kMaxChainCerts) + " certificates in a chain");
    }
    BIO* bio = BIO_new_mem_buf(pem.data() + pos, int(pem.size() - pos));
    if (!bio) return resource_exhausted("out of memory reading a PEM certificate");
    X509* x = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
    BIO_free(bio);
    if (!x) return data_loss("PEM certificate #" + std::to_string(out.size() + 1) + " is malformed");
    out.push_back(Certificate(x));
    pos += kPemBegin.size();
  }
  if (out.empty()) return data_loss("no PEM certificate found (expected -----BEGIN CERTIFICATE-----)");
  return out;
}

Result<AmdCertExtensions> parse_amd_extensions(const Certificate& cert) {
  AmdCertExtensions e;
  if (const ASN1_OCTET_STRING* d = extension_data(cert, "1.3.6.1.4.1.3704.1.2")) {
    const unsigned char* p = ASN1_STRING_get0_data(d);
    ASN1_IA5STRING* s = d2i_ASN1_IA5STRING(nullptr, &p, ASN1_STRING_length(d));
    if (!s) return data_loss("certificate productName extension is not an IA5String");
    e.product_name = std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)), size_t(ASN1_STRING_length(s)));
    ASN1_IA5STRING_free(s);
  }
  SEALSUM_ASSIGN_OR_RETURN(e.bl_spl, spl_extension(cert, "1.3.6.1.4.1.3704.1.3.1", "blSPL"));
  SEALSUM_ASSIGN_OR_RETURN(e.tee_spl, spl_extension(cert, "1.3.6.1.4.1.3704.1.3.2", "teeSPL"));
  SEALSUM_ASSIGN_OR_RETURN(e.snp_spl, spl_extension(cert, "1.3.6.1.4.1.3704.1.3.3", "snpSPL"));
  SEALSUM_ASSIGN_OR_RETURN(e.ucode_spl, spl_extension(cert, "1.3.6.1.4.1.3704.1.3.8", "ucodeSPL"));
  SEALSUM_ASSIGN_OR_RETURN(e.fmc_spl, spl_extension(cert, "1.3.6.1.4.1.3704.1.3.9", "fmcSPL"));
  if (const ASN1_OCTET_STRING* d = extension_data(cert, "1.3.6.1.4.1.3704.1.4")) {
    const unsigned char* p = ASN1_STRING_get0_data(d);
    size_t n = size_t(ASN1_STRING_length(d));
    // hwID is the raw chip id (64 bytes; 8 on Turin). Accept a DER OCTET STRING wrapping too.
    if (n >= 2 && p[0] == 0x04 && size_t(p[1]) == n - 2 && (n - 2 == 64 || n - 2 == 8)) {
      p += 2;
      n -= 2;
    }
    if (n != 64 && n != 8) return data_loss("certificate hwID extension is " + std::to_string(n) + " bytes (expected 64 or 8)");
    e.hwid = std::vector<uint8_t>(p, p + n);
  }
  return e;
}

AmdIntermediateKind amd_intermediate_kind(const Certificate& cert) {
  std::string cn = cert.common_name();
  std::string_view v(cn);
  constexpr std::string_view kAsvk = "SEV-VLEK-", kAsk = "SEV-";
  if (v.size() > kAsvk.size() && v.substr(0, kAsvk.size()) == kAsvk) return AmdIntermediateKind::kAsvk;
  // "SEV-VCEK" and "SEV-VLEK" are the leaves' own CNs, not ASKs.
  if (v.size() > kAsk.size() && v.substr(0, kAsk.size()) == kAsk && v != "SEV-VLEK-" && v != "SEV-VCEK" &&
      v != "SEV-VLEK") {
    return AmdIntermediateKind::kAsk;
  }
  return AmdIntermediateKind::kNone;
}

const char* amd_intermediate_kind_name(AmdIntermediateKind k) {
  switch (k) {
    case AmdIntermediateKind::kAsk: return "ASK";
    case AmdIntermediateKind::kAsvk: return "ASVK";
    case AmdIntermediateKind::kNone: break;
  }
  return "not an ASK/ASVK";
}

std::span<const PinnedRoot> amd_pinned_roots() { return kAmdRoots; }

std::optional<Product> pinned_amd_product(const Certificate& ark) {
  Digest256 h = ark.spki_sha256();
  for (const PinnedRoot& r : kAmdRoots) {
    if (r.spki_sha256 == h) return r.product;
  }
  return std::nullopt;
}

const Digest256& microsoft_supply_chain_root_spki_sha256() { return kMicrosoftSupplyChainRoot; }

}  // namespace sealsum::secure::attest
