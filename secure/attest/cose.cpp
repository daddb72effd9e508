// COSE_Sign1 parsing/verification and the Azure UVM endorsement payload (see cose.h).
#include "secure/attest/cose.h"
#include "common/encoding.h"

#include <memory>

#include <nlohmann/json.hpp>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "secure/attest/azure_inputs.h"

namespace sealsum::secure::attest {
namespace {

constexpr uint64_t kCoseSign1Tag = 18;
constexpr int64_t kLabelAlg = 1;
constexpr int64_t kLabelX5chain = 33;

struct MdCtxFree {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};
struct EcdsaSigFree {
  void operator()(ECDSA_SIG* s) const { ECDSA_SIG_free(s); }
};

// Converts a raw r||s signature to DER (what OpenSSL verifies).
Result<std::vector<uint8_t>> raw_ecdsa_to_der(std::span<const uint8_t> raw, size_t half) {
  if (raw.size() != 2 * half) {
    return unauthenticated("COSE ECDSA signature is " + std::to_string(raw.size()) + " bytes, expected " +
                           std::to_string(2 * half));
  }
  std::unique_ptr<ECDSA_SIG, EcdsaSigFree> sig(ECDSA_SIG_new());
  BIGNUM* r = BN_bin2bn(raw.data(), int(half), nullptr);
  BIGNUM* s = BN_bin2bn(raw.data() + half, int(half), nullptr);
  if (!sig || !r || !s || !ECDSA_SIG_set0(sig.get(), r, s)) {
    BN_free(r);
    BN_free(s);
    return internal_error("out of memory building an ECDSA signature");
  }
  int n = i2d_ECDSA_SIG(sig.get(), nullptr);
  if (n <= 0) return internal_error("cannot encode an ECDSA signature");
  std::vector<uint8_t> der(static_cast<size_t>(n));
  unsigned char* p = der.data();
  i2d_ECDSA_SIG(sig.get(), &p);
  return der;
}

}  // namespace

Result<CoseSign1> parse_cose_sign1(std::span<const uint8_t> bytes) {
  SEALSUM_ASSIGN_OR_RETURN(CborValue top, cbor_decode(bytes));
  const CborValue* arr = &top;
  if (top.type == CborValue::Type::kTag) {
    if (top.num != kCoseSign1Tag) return data_loss("COSE: tag " + std::to_string(top.num) + " is not COSE_Sign1 (18)");
    arr = &top.items[0];
  }
  if (arr->type != CborValue::Type::kArray || arr->items.size() != 4) {
    return data_loss("COSE_Sign1 must be an array of 4 items");
  }
  const auto& it = arr->items;
  if (it[0].type != CborValue::Type::kBytes) return data_loss("COSE_Sign1 protected header is not a byte string");
  if (it[1].type != CborValue::Type::kMap) return data_loss("COSE_Sign1 unprotected header is not a map");
  if (it[2].type == CborValue::Type::kSimple && it[2].num == 22) {
    return unimplemented("COSE_Sign1 with a detached payload is not supported");
  }
  if (it[2].type != CborValue::Type::kBytes) return data_loss("COSE_Sign1 payload is not a byte string");
  if (it[3].type != CborValue::Type::kBytes) return data_loss("COSE_Sign1 signature is not a byte string");

  CoseSign1 msg;
  msg.protected_bytes = it[0].bytes;
  if (msg.protected_bytes.empty()) return data_loss("COSE_Sign1 protected header is empty (alg must be protected)");
  SEALSUM_ASSIGN_OR_RETURN(msg.protected_header, cbor_decode(msg.protected_bytes));
  if (msg.protected_header.type != CborValue::Type::kMap) return data_loss("COSE protected header is not a map");
  msg.unprotected_header = it[1];
  msg.payload = it[2].bytes;
  msg.signature = it[3].bytes;

  const CborValue* alg = msg.protected_header.find(kLabelAlg);
  if (!alg || !alg->as_int()) return unimplemented("COSE protected header has no integer alg (label 1)");
  msg.alg = *alg->as_int();
  if (const CborValue* x5 = msg.protected_header.find(kLabelX5chain)) {
    if (x5->type == CborValue::Type::kBytes) {
      msg.x5chain.push_back(x5->bytes);
    } else if (x5->type == CborValue::Type::kArray) {
      for (const auto& c : x5->items) {
        if (c.type != CborValue::Type::kBytes) return data_loss("COSE x5chain entry is not a byte string");
        msg.x5chain.push_back(c.bytes);
      }
    } else {
      return data_loss("COSE x5chain is neither a byte string nor an array");
    }
  }
  return msg;
}

std::vector<uint8_t> cose_sig_structure(const CoseSign1& msg) {
  std::vector<uint8_t> out;
  cbor_put_head(out, 4, 4);
  cbor_put_text(out, "Signature1");
  cbor_put_bytes(out, msg.protected_bytes);
  cbor_put_bytes(out, {});
  cbor_put_bytes(out, msg.payload);
  return out;
}

Status verify_cose_sign1(const CoseSign1& msg, const Certificate& signer) {
  const EVP_MD* md = nullptr;
  bool ecdsa = false;
  size_t half = 0;
  switch (msg.alg) {
    case kCoseAlgEs256: md = EVP_sha256(); ecdsa = true; half = 32; break;
    case kCoseAlgEs384: md = EVP_sha384(); ecdsa = true; half = 48; break;
    case kCoseAlgPs256: md = EVP_sha256(); break;
    case kCoseAlgPs384: md = EVP_sha384(); break;
    default: return unimplemented("COSE alg " + std::to_string(msg.alg) + " is not supported (ES256/ES384/PS256/PS384)");
  }
  EVP_PKEY* key = X509_get0_pubkey(signer.get());
  if (!key) return data_loss("COSE signer certificate has an unreadable public key");
  int key_type = EVP_PKEY_get_base_id(key);
  if (ecdsa ? key_type != EVP_PKEY_EC : (key_type != EVP_PKEY_RSA && key_type != EVP_PKEY_RSA_PSS)) {
    return unauthenticated("COSE alg " + std::to_string(msg.alg) + " does not match the signer's key type");
  }
  std::vector<uint8_t> sig = msg.signature;
  if (ecdsa) {
    SEALSUM_ASSIGN_OR_RETURN(sig, raw_ecdsa_to_der(msg.signature, half));
  }
  std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
  EVP_PKEY_CTX* pctx = nullptr;
  if (!ctx || EVP_DigestVerifyInit(ctx.get(), &pctx, md, nullptr, key) != 1) {
    return internal_error("cannot initialise COSE signature verification");
  }
  if (!ecdsa && (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
                 EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) != 1 ||
                 EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, md) != 1)) {
    return internal_error("cannot configure RSA-PSS for COSE verification");
  }
  std::vector<uint8_t> tbs = cose_sig_structure(msg);
  if (EVP_DigestVerify(ctx.get(), sig.data(), sig.size(), tbs.data(), tbs.size()) != 1) {
    return unauthenticated("COSE_Sign1 signature does not verify with the x5chain leaf key");
  }
  return Status::ok();
}

Result<UvmEndorsement> parse_uvm_endorsement(std::span<const uint8_t> bytes) {
  UvmEndorsement e;
  SEALSUM_ASSIGN_OR_RETURN(e.cose, parse_cose_sign1(bytes));
  const CborValue& h = e.cose.protected_header;
  if (const CborValue* v = h.find("iss"); v && v->type == CborValue::Type::kText) e.issuer = std::string(v->as_text());
  if (const CborValue* v = h.find("feed"); v && v->type == CborValue::Type::kText) e.feed = std::string(v->as_text());
  if (const CborValue* v = h.find("signingtime")) {
    const CborValue* t = v->type == CborValue::Type::kTag ? &v->items[0] : v;
    if (t->as_int()) e.signing_time = *t->as_int();
  }
  std::string_view text(reinterpret_cast<const char*>(e.cose.payload.data()), e.cose.payload.size());
  nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return data_loss("UVM endorsement payload is not a JSON object");
  auto m = j.find("x-ms-sevsnpvm-launchmeasurement");
  if (m == j.end() || !m->is_string()) {
    return data_loss("UVM endorsement payload has no x-ms-sevsnpvm-launchmeasurement string");
  }
  auto meas = encoding::hex_decode(m->get<std::string>());
  if (!meas.ok() || meas->size() != 48) {
    return data_loss("UVM endorsement launch measurement is not 96 hex digits");
  }
  std::copy(meas->begin(), meas->end(), e.launch_measurement.begin());
  if (auto s = j.find("x-ms-sevsnpvm-guestsvn"); s != j.end() && s->is_string()) e.guest_svn = s->get<std::string>();
  return e;
}

}  // namespace sealsum::secure::attest
