// SHA-384 and AMD-layout ECDSA P-384 (see p384.h).
#include "secure/attest/p384.h"

#include <algorithm>
#include <cstring>
#include <fstream>
#include <memory>
#include <vector>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>

namespace sealsum::secure::attest {
namespace {

struct MdCtxFree {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};
struct SigFree {
  void operator()(ECDSA_SIG* s) const { ECDSA_SIG_free(s); }
};
using MdCtx = std::unique_ptr<EVP_MD_CTX, MdCtxFree>;

bool is_p384(EVP_PKEY* key) {
  if (!key || EVP_PKEY_get_base_id(key) != EVP_PKEY_EC) return false;
  char group[64] = {};
  size_t len = 0;
  if (!EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group, &len)) return false;
  return std::string_view(group, len) == "secp384r1" || std::string_view(group, len) == "P-384";
}

}  // namespace

Digest384 sha384(std::span<const uint8_t> data) {
  Digest384 out{};
  unsigned int n = 0;
  EVP_Digest(data.data(), data.size(), out.data(), &n, EVP_sha384(), nullptr);
  return out;
}

Result<Digest384> sha384_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return not_found("cannot open " + path + " to measure it");
  MdCtx ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha384(), nullptr) != 1) return internal_error("SHA-384 init failed");
  std::vector<char> buf(1 << 16);
  while (in) {
    in.read(buf.data(), std::streamsize(buf.size()));
    if (in.gcount() > 0) EVP_DigestUpdate(ctx.get(), buf.data(), size_t(in.gcount()));
  }
  if (in.bad()) return data_loss("read error while measuring " + path);
  Digest384 out{};
  unsigned int n = 0;
  EVP_DigestFinal_ex(ctx.get(), out.data(), &n);
  return out;
}

Status ecdsa_p384_verify_amd(EVP_PKEY* key, std::span<const uint8_t> msg, const std::array<uint8_t, 72>& r_le,
                             const std::array<uint8_t, 72>& s_le) {
  if (!is_p384(key)) return unauthenticated("signing key is not an ECDSA P-384 key");
  for (size_t i = 48; i < 72; ++i) {
    if (r_le[i] != 0 || s_le[i] != 0) return unauthenticated("signature R/S has non-zero bytes above 384 bits");
  }
  uint8_t r_be[48], s_be[48];
  std::reverse_copy(r_le.begin(), r_le.begin() + 48, r_be);
  std::reverse_copy(s_le.begin(), s_le.begin() + 48, s_be);
  std::unique_ptr<ECDSA_SIG, SigFree> sig(ECDSA_SIG_new());
  BIGNUM* r = BN_bin2bn(r_be, 48, nullptr);
  BIGNUM* s = BN_bin2bn(s_be, 48, nullptr);
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
  MdCtx ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha384(), nullptr, key) != 1) {
    return internal_error("cannot initialise ECDSA verification");
  }
  if (EVP_DigestVerify(ctx.get(), der.data(), der.size(), msg.data(), msg.size()) != 1) {
    return unauthenticated("ECDSA P-384 signature does not verify");
  }
  return Status::ok();
}

Status ecdsa_p384_sign_amd(EVP_PKEY* key, std::span<const uint8_t> msg, std::array<uint8_t, 72>& r_le,
                           std::array<uint8_t, 72>& s_le) {
  if (!is_p384(key)) return internal_error("simulated signing key is not P-384");
  MdCtx ctx(EVP_MD_CTX_new());
  size_t len = 0;
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha384(), nullptr, key) != 1 ||
      EVP_DigestSign(ctx.get(), nullptr, &len, msg.data(), msg.size()) != 1) {
    return internal_error("cannot initialise ECDSA signing");
  }
  std::vector<uint8_t> der(len);
  if (EVP_DigestSign(ctx.get(), der.data(), &len, msg.data(), msg.size()) != 1) {
    return internal_error("ECDSA signing failed");
  }
  const unsigned char* p = der.data();
  std::unique_ptr<ECDSA_SIG, SigFree> sig(d2i_ECDSA_SIG(nullptr, &p, long(len)));
  if (!sig) return internal_error("cannot decode the ECDSA signature");
  uint8_t r_be[48], s_be[48];
  if (BN_bn2binpad(ECDSA_SIG_get0_r(sig.get()), r_be, 48) != 48 ||
      BN_bn2binpad(ECDSA_SIG_get0_s(sig.get()), s_be, 48) != 48) {
    return internal_error("ECDSA signature component too large");
  }
  r_le.fill(0);
  s_le.fill(0);
  std::reverse_copy(r_be, r_be + 48, r_le.begin());
  std::reverse_copy(s_be, s_be + 48, s_le.begin());
  return Status::ok();
}

}  // namespace sealsum::secure::attest
