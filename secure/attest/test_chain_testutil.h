// Test helper: a complete, self-made AMD-shaped certificate chain and SEV-SNP reports signed under it,
// for tests that need what the fixtures lack (a VLEK report, an ASVK, mis-issued certificates).
//
//   test ARK  "ARK-Milan"       RSA-4096, self-signed, RSA-PSS/SHA-384 (salt 48, MGF1 SHA-384)
//   test ASK  "SEV-Milan"       RSA-4096, signed by the ARK      -> signs the VCEK
//   test ASVK "SEV-VLEK-Milan"  RSA-4096, signed by the ARK      -> signs the VLEK
//   VCEK / VLEK                 EC P-384, with AMD extensions productName "Milan-B0", blSPL 3,
//                               teeSPL 0, snpSPL 8, ucodeSPL 115 (and hwID = kTestChipId on the VCEK)
// Every name carries O="sealsum unit-test chain (NOT AMD)". The ARK is NOT an AMD root, so nothing
// verifies under it unless a test names it in VerifyOptions::test_only_extra_roots (options()).
//
// Ownership: TestChain owns its keys (EVP_PKEY, freed with it). test_chain() builds one chain per
// process on first use (RSA key generation takes seconds) and is not thread-safe; tests run serially.
// Failures throw std::runtime_error (test code only).
#pragma once

#include <array>
#include <cstring>
#include <ctime>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <openssl/asn1.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "secure/attest/certs.h"
#include "secure/attest/p384.h"
#include "secure/attest/report.h"
#include "secure/attest/verifier.h"

namespace sealsum::secure::attest::testchain {

inline constexpr std::time_t kTestTime = 1767225600;  // 2026-01-01, inside every test certificate
inline constexpr uint64_t kTestTcb = 3ull | 0ull << 8 | 8ull << 48 | 115ull << 56;  // Milan: bl 3 tee 0 snp 8 ucode 115

inline std::array<uint8_t, 64> test_chip_id() {
  std::array<uint8_t, 64> id{};
  for (size_t i = 0; i < id.size(); ++i) id[i] = uint8_t(0xC0 + i);
  return id;
}

struct KeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
using Key = std::unique_ptr<EVP_PKEY, KeyFree>;
struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
using X509Ptr = std::unique_ptr<X509, X509Free>;

inline void need(bool ok, const char* what) {
  if (!ok) throw std::runtime_error(std::string("test chain generator: ") + what + " failed");
}

inline Key rsa_key(unsigned bits = 4096) {
  Key k(EVP_RSA_gen(bits));
  need(k != nullptr, "RSA key generation");
  return k;
}
inline Key p384_key() {
  Key k(EVP_EC_gen("P-384"));
  need(k != nullptr, "P-384 key generation");
  return k;
}

inline void add_name(X509_NAME* n, const std::string& cn) {
  need(X509_NAME_add_entry_by_txt(n, "O", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("sealsum unit-test chain (NOT AMD)"),
                                  -1, -1, 0) == 1, "name O");
  need(X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0) == 1,
       "name CN");
}

// An extension with the DER `value` as its contents (AMD's are non-critical).
inline void add_ext(X509* x, const char* oid, const std::vector<uint8_t>& value) {
  ASN1_OBJECT* obj = OBJ_txt2obj(oid, 1);
  ASN1_OCTET_STRING* data = ASN1_OCTET_STRING_new();
  need(obj && data && ASN1_OCTET_STRING_set(data, value.data(), int(value.size())) == 1, "extension value");
  X509_EXTENSION* ext = X509_EXTENSION_create_by_OBJ(nullptr, obj, 0, data);
  need(ext && X509_add_ext(x, ext, -1) == 1, "extension");
  X509_EXTENSION_free(ext);
  ASN1_OCTET_STRING_free(data);
  ASN1_OBJECT_free(obj);
}
inline std::vector<uint8_t> der_int(uint8_t v) {
  return v < 0x80 ? std::vector<uint8_t>{0x02, 0x01, v} : std::vector<uint8_t>{0x02, 0x02, 0x00, v};
}

struct LeafExtensions {
  std::string product_name = "Milan-B0";
  uint8_t bl = 3, tee = 0, snp = 8, ucode = 115;
  std::optional<std::array<uint8_t, 64>> hwid;  // VCEK only
};

// A certificate for `subject_key` named `cn`, issued by (issuer_cn, issuer_key) and signed with
// RSA-PSS/SHA-384. `leaf` adds the AMD VCEK/VLEK extensions. Returns DER.
inline std::vector<uint8_t> make_cert(EVP_PKEY* subject_key, const std::string& cn, EVP_PKEY* issuer_key,
                                      const std::string& issuer_cn, long serial,
                                      const std::optional<LeafExtensions>& leaf = std::nullopt) {
  X509Ptr x(X509_new());
  need(x != nullptr, "X509_new");
  need(X509_set_version(x.get(), 2) == 1, "version");
  need(ASN1_INTEGER_set(X509_get_serialNumber(x.get()), serial) == 1, "serial");
  add_name(X509_get_subject_name(x.get()), cn);
  add_name(X509_get_issuer_name(x.get()), issuer_cn);
  need(ASN1_TIME_set(X509_getm_notBefore(x.get()), 1577836800) != nullptr, "notBefore");  // 2020-01-01
  need(ASN1_TIME_set(X509_getm_notAfter(x.get()), 2366841600) != nullptr, "notAfter");    // 2045-01-01
  need(X509_set_pubkey(x.get(), subject_key) == 1, "public key");
  if (leaf) {
    std::vector<uint8_t> name = {0x16, uint8_t(leaf->product_name.size())};
    name.insert(name.end(), leaf->product_name.begin(), leaf->product_name.end());
    add_ext(x.get(), "1.3.6.1.4.1.3704.1.2", name);
    add_ext(x.get(), "1.3.6.1.4.1.3704.1.3.1", der_int(leaf->bl));
    add_ext(x.get(), "1.3.6.1.4.1.3704.1.3.2", der_int(leaf->tee));
    add_ext(x.get(), "1.3.6.1.4.1.3704.1.3.3", der_int(leaf->snp));
    add_ext(x.get(), "1.3.6.1.4.1.3704.1.3.8", der_int(leaf->ucode));
    if (leaf->hwid) add_ext(x.get(), "1.3.6.1.4.1.3704.1.4", std::vector<uint8_t>(leaf->hwid->begin(), leaf->hwid->end()));
  }
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_PKEY_CTX* pctx = nullptr;
  need(ctx && EVP_DigestSignInit(ctx, &pctx, EVP_sha384(), nullptr, issuer_key) == 1, "sign init");
  need(EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1, "PSS padding");
  need(EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, 48) == 1, "PSS salt length");
  need(EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, EVP_sha384()) == 1, "MGF1 digest");
  int signed_len = X509_sign_ctx(x.get(), ctx);
  EVP_MD_CTX_free(ctx);
  need(signed_len > 0, "X509_sign_ctx");
  int n = i2d_X509(x.get(), nullptr);
  need(n > 0, "i2d_X509");
  std::vector<uint8_t> der(size_t(n), 0);
  unsigned char* p = der.data();
  i2d_X509(x.get(), &p);
  return der;
}

inline std::string pem(const std::vector<uint8_t>& der) {
  auto c = Certificate::from_der(der);
  need(c.ok(), "re-reading a generated certificate");
  BIO* bio = BIO_new(BIO_s_mem());
  need(bio && PEM_write_bio_X509(bio, c->get()) == 1, "PEM_write_bio_X509");
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  std::string out(data, size_t(len));
  BIO_free(bio);
  return out;
}

struct TestChain {
  Key ark_key, ask_key, asvk_key, vcek_key, vlek_key;
  std::string ark, ask, asvk;   // PEM
  std::vector<uint8_t> vcek, vlek;  // DER
  Digest256 ark_spki_sha256{};
};

inline const TestChain& test_chain() {
  static const TestChain chain = [] {
    TestChain c;
    c.ark_key = rsa_key();
    c.ask_key = rsa_key();
    c.asvk_key = rsa_key();
    c.vcek_key = p384_key();
    c.vlek_key = p384_key();
    c.ark = pem(make_cert(c.ark_key.get(), "ARK-Milan", c.ark_key.get(), "ARK-Milan", 1));
    c.ask = pem(make_cert(c.ask_key.get(), "SEV-Milan", c.ark_key.get(), "ARK-Milan", 2));
    c.asvk = pem(make_cert(c.asvk_key.get(), "SEV-VLEK-Milan", c.ark_key.get(), "ARK-Milan", 3));
    LeafExtensions vcek_ext;
    vcek_ext.hwid = test_chip_id();
    c.vcek = make_cert(c.vcek_key.get(), "SEV-VCEK", c.ask_key.get(), "SEV-Milan", 4, vcek_ext);
    c.vlek = make_cert(c.vlek_key.get(), "SEV-VLEK", c.asvk_key.get(), "SEV-VLEK-Milan", 5, LeafExtensions{});
    auto ark = Certificate::from_pem(c.ark);
    need(ark.ok(), "reading the test ARK");
    c.ark_spki_sha256 = ark->spki_sha256();
    return c;
  }();
  return chain;
}

// Options that trust the test ARK (as a Milan root) at kTestTime. The pinned AMD roots stay pinned.
inline VerifyOptions options(const TestChain& c = test_chain()) {
  VerifyOptions o;
  o.now = kTestTime;
  o.test_only_extra_roots.push_back({Product::kMilan, c.ark_spki_sha256});
  return o;
}

// A 1184-byte version-2 report with SIGNING_KEY = `kind`, REPORTED_TCB = kTestTcb, CHIP_ID =
// test_chip_id() (VCEK) and the given REPORT_DATA byte, signed with `key` (the leaf's P-384 key).
inline std::vector<uint8_t> make_report(EVP_PKEY* key, SigningKey kind, uint8_t report_data_byte = 0x5A) {
  std::vector<uint8_t> r(kSnpReportSize, 0);
  auto put32 = [&r](size_t off, uint32_t v) {
    for (int i = 0; i < 4; ++i) r[off + size_t(i)] = uint8_t(v >> (8 * i));
  };
  auto put64 = [&r](size_t off, uint64_t v) {
    for (int i = 0; i < 8; ++i) r[off + size_t(i)] = uint8_t(v >> (8 * i));
  };
  put32(0x00, 2);                                // VERSION
  put64(0x08, kPolicySmt | 1ull << 17);          // POLICY: SMT allowed, reserved bit 17 set, no debug
  put32(0x34, kSigAlgoEcdsaP384Sha384);          // SIGNATURE_ALGO
  put64(0x38, kTestTcb);                         // CURRENT_TCB
  put32(0x48, uint32_t(kind) << 2);              // SIGNING_KEY
  std::memset(r.data() + 0x50, report_data_byte, 64);
  std::memset(r.data() + 0x90, 0x11, 48);        // MEASUREMENT
  put64(0x180, kTestTcb);                        // REPORTED_TCB
  if (kind == SigningKey::kVcek) {
    auto id = test_chip_id();
    std::memcpy(r.data() + 0x1A0, id.data(), id.size());
  }
  put64(0x1E0, kTestTcb);                        // COMMITTED_TCB
  put64(0x1F0, kTestTcb);                        // LAUNCH_TCB
  std::array<uint8_t, 72> rs{}, ss{};
  need(ecdsa_p384_sign_amd(key, std::span<const uint8_t>(r.data(), kSnpSignedSize), rs, ss).is_ok(), "report signature");
  std::memcpy(r.data() + 0x2A0, rs.data(), rs.size());
  std::memcpy(r.data() + 0x2A0 + 72, ss.data(), ss.size());
  return r;
}

// Evidence of `kind` (VCEK: report signed by the test VCEK; VLEK: by the test VLEK) with `chain_pem`.
inline SnpEvidence evidence(CertKind kind, const std::string& chain_pem, const TestChain& c = test_chain()) {
  SnpEvidence e;
  bool vlek = kind == CertKind::kVlek;
  e.report = make_report(vlek ? c.vlek_key.get() : c.vcek_key.get(), vlek ? SigningKey::kVlek : SigningKey::kVcek);
  e.signing_cert = vlek ? c.vlek : c.vcek;
  e.cert_kind = kind;
  e.chain_pem = chain_pem;
  return e;
}

}  // namespace sealsum::secure::attest::testchain
