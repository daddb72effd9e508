// Output sealing (see output_seal.h for the format and the construction).
#include "secure/output_seal.h"

#include <openssl/evp.h>

#include <cstring>
#include <vector>

#include "secure/aead.h"
#include "secure/keys.h"
#include "common/encoding.h"
#include "common/json_access.h"
#include "secure/keyrelease/rsa.h"

namespace sealsum::secure {
namespace {

using json = nlohmann::json;
namespace kr = keyrelease;

constexpr size_t kX25519Size = 32;
constexpr char kInfoPrefix[] = "sealsum output seal v1 ";
constexpr char kAadLabel[] = "sealsum-output-v1";
constexpr size_t kMaxContext = 256;
constexpr size_t kMaxConsumer = 128;

struct PkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;
struct CtxFree {
  void operator()(EVP_PKEY_CTX* p) const { EVP_PKEY_CTX_free(p); }
};

// `padded`: the "padding" member is present, and bound here (removing or adding it fails the tag).
std::vector<uint8_t> aad_for(std::string_view alg, std::string_view context, bool padded) {
  std::vector<uint8_t> a(kAadLabel, kAadLabel + sizeof kAadLabel - 1);
  a.push_back(0);
  a.insert(a.end(), alg.begin(), alg.end());
  a.push_back(0);
  a.insert(a.end(), context.begin(), context.end());
  if (padded) {
    a.push_back(0);
    a.insert(a.end(), kPaddingBucket, kPaddingBucket + sizeof kPaddingBucket - 1);
  }
  return a;
}

// The plaintext padded to its bucket (see output_seal.h), in secret memory.
Result<SecretBuffer> pad_to_bucket(std::span<const uint8_t> plaintext) {
  size_t bucket = kMinOutputBucket;
  while (bucket < plaintext.size() + 1) bucket *= 2;
  SEALSUM_ASSIGN_OR_RETURN(SecretBuffer padded, SecretBuffer::allocate(bucket));
  std::fill(padded.data(), padded.data() + bucket, uint8_t{0});
  std::copy(plaintext.begin(), plaintext.end(), padded.data());
  padded.data()[plaintext.size()] = 0x80;
  return padded;
}

// j[name] when j is an object and the member is a string, else "" (the callers compare it with
// the one value they accept, so absent and wrong-typed both mean "not that").
std::string str_member(const json& j, const char* name) {
  auto s = json_access::string_member(j, name, {"JSON"});
  return s.ok() ? std::move(s).value() : std::string();
}

Result<std::vector<uint8_t>> b64_member(const json& j, const char* name, size_t min, size_t max) {
  SEALSUM_ASSIGN_OR_RETURN(std::string text, json_access::string_member(j, name, {"sealed output"}));
  auto d = encoding::base64_decode(text, name);
  if (!d.ok()) return invalid_argument(std::string("sealed output: \"") + name + "\" is not base64url");
  if (d->size() < min || d->size() > max) {
    return invalid_argument(std::string("sealed output: \"") + name + "\" has the wrong length");
  }
  return std::move(d).value();
}

Result<std::array<uint8_t, kX25519Size>> x25519_public_from_jwk(const json& jwk) {
  if (!jwk.is_object() || str_member(jwk, "kty") != "OKP" || str_member(jwk, "crv") != "X25519") {
    return invalid_argument("output key: expected {\"kty\":\"OKP\",\"crv\":\"X25519\",\"x\":...}");
  }
  SEALSUM_ASSIGN_OR_RETURN(auto x, b64_member(jwk, "x", kX25519Size, kX25519Size));
  std::array<uint8_t, kX25519Size> out{};
  std::copy(x.begin(), x.end(), out.begin());
  return out;
}

Result<Pkey> x25519_from_public(std::span<const uint8_t> pub) {
  Pkey k(EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, nullptr, pub.data(), pub.size()));
  if (!k) return invalid_argument("output key: not a valid X25519 public key");
  return k;
}

// X25519(priv, peer) into secret memory; refuses the all-zero result (a low-order peer point).
Result<SecretBuffer> x25519_derive(EVP_PKEY* priv, EVP_PKEY* peer) {
  std::unique_ptr<EVP_PKEY_CTX, CtxFree> ctx(EVP_PKEY_CTX_new(priv, nullptr));
  size_t len = kX25519Size;
  SEALSUM_ASSIGN_OR_RETURN(SecretBuffer shared, SecretBuffer::allocate(kX25519Size));
  if (!ctx || EVP_PKEY_derive_init(ctx.get()) != 1 || EVP_PKEY_derive_set_peer(ctx.get(), peer) != 1 ||
      EVP_PKEY_derive(ctx.get(), shared.data(), &len) != 1 || len != kX25519Size) {
    return unauthenticated("X25519 key agreement failed (invalid or low-order public key)");
  }
  uint8_t acc = 0;
  for (uint8_t b : shared.span()) acc |= b;
  if (acc == 0) return unauthenticated("X25519 key agreement produced the all-zero secret");
  return shared;
}

Result<SecretBuffer> x25519_message_key(const SecretBuffer& shared, std::span<const uint8_t> epk,
                                        std::span<const uint8_t> recipient) {
  std::vector<uint8_t> salt(epk.begin(), epk.end());
  salt.insert(salt.end(), recipient.begin(), recipient.end());
  std::string info = std::string(kInfoPrefix) + kOutputAlgX25519;
  return hkdf_sha256(shared.span(), salt, encoding::as_bytes(info), kAesKeySize);
}

Status gcm_seal(const SecretBuffer& key, std::string_view alg, std::string_view context,
                std::span<const uint8_t> plaintext, json& out) {
  SEALSUM_ASSIGN_OR_RETURN(SealedMessage m, seal_message(key.span(), aad_for(alg, context, true), plaintext));
  out["padding"] = kPaddingBucket;
  out["iv"] = encoding::base64url_encode(m.nonce);
  out["ciphertext"] = encoding::base64url_encode(m.ciphertext);
  out["tag"] = encoding::base64url_encode(m.tag);
  return Status::ok();
}

Result<SecretBuffer> gcm_open(const SecretBuffer& key, std::string_view alg, std::string_view context,
                              const json& sealed) {
  SEALSUM_ASSIGN_OR_RETURN(auto iv, b64_member(sealed, "iv", kGcmNonceSize, kGcmNonceSize));
  SEALSUM_ASSIGN_OR_RETURN(auto tag, b64_member(sealed, "tag", kGcmTagSize, kGcmTagSize));
  SEALSUM_ASSIGN_OR_RETURN(auto ct, b64_member(sealed, "ciphertext", 0, kMaxSealedOutputBytes));
  bool padded = false;
  if (auto p = sealed.find("padding"); p != sealed.end()) {
    if (!p->is_string() || p->get_ref<const std::string&>() != kPaddingBucket) {
      return invalid_argument("sealed output: unknown \"padding\"");
    }
    padded = true;
  }
  auto opened = open_message(key.span(), aad_for(alg, context, padded), iv, ct, tag);
  if (!opened.ok()) {
    return opened.status().with_context("opening the sealed output (wrong key or context, or modified)");
  }
  SecretBuffer pt = std::move(opened).value();
  if (padded) {
    size_t end = pt.size();
    while (end > 0 && pt.data()[end - 1] == 0) --end;
    if (end == 0 || pt.data()[end - 1] != 0x80) return data_loss("sealed output: malformed padding");
    pt.truncate(end - 1);
  }
  return pt;
}

}  // namespace

Result<OutputPolicy> parse_output_policy(const json& j) {
  if (!j.is_object()) return invalid_argument("output policy must be a JSON object");
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (it.key() != "mode" && it.key() != "consumer" && it.key() != "key") {
      return invalid_argument("output policy: unknown member \"" + it.key().substr(0, 64) + "\"");
    }
  }
  auto mode = j.find("mode");
  if (mode == j.end() || !mode->is_string()) return invalid_argument("output policy: \"mode\" must be a string");
  OutputPolicy p;
  if (*mode == "plaintext") {
    if (j.contains("consumer") || j.contains("key")) {
      return invalid_argument("output policy: \"plaintext\" takes no \"consumer\" or \"key\"");
    }
    return p;
  }
  if (*mode != "sealed") return invalid_argument("output policy: \"mode\" must be \"plaintext\" or \"sealed\"");
  auto consumer = j.find("consumer");
  if (consumer == j.end() || !consumer->is_string() || consumer->get_ref<const std::string&>().empty() ||
      consumer->get_ref<const std::string&>().size() > kMaxConsumer) {
    return invalid_argument("output policy: \"consumer\" must be a name of 1..128 characters");
  }
  auto key = j.find("key");
  if (key == j.end() || !key->is_object()) return invalid_argument("output policy: \"key\" must be a JWK object");
  const std::string kty = str_member(*key, "kty");
  if (kty == "OKP") {
    SEALSUM_ASSIGN_OR_RETURN(auto pub, x25519_public_from_jwk(*key));
    SEALSUM_ASSIGN_OR_RETURN(Pkey unused, x25519_from_public(pub));
    p.recipient_jwk = {{"kty", "OKP"}, {"crv", "X25519"}, {"x", encoding::base64url_encode(pub)}};
  } else if (kty == "RSA") {
    SEALSUM_ASSIGN_OR_RETURN(auto rsa, kr::RsaPublicKey::from_jwk(*key));
    p.recipient_jwk = rsa.to_jwk();
  } else {
    return invalid_argument("output policy: \"key\" must be an X25519 (OKP) or RSA JWK");
  }
  p.sealed = true;
  p.consumer = consumer->get<std::string>();
  return p;
}

Result<json> seal_output(const OutputPolicy& policy, std::span<const uint8_t> plaintext, std::string_view context) {
  if (!policy.sealed) return invalid_argument("seal_output: the policy does not seal the output");
  if (plaintext.size() >= kMaxSealedOutputBytes) return resource_exhausted("seal_output: output too large");
  if (context.size() > kMaxContext) return invalid_argument("seal_output: context longer than 256 bytes");
  SEALSUM_ASSIGN_OR_RETURN(SecretBuffer bucketed, pad_to_bucket(plaintext));
  plaintext = bucketed.span();
  json out = {{"consumer", policy.consumer}, {"context", std::string(context)}};
  if (str_member(policy.recipient_jwk, "kty") == "OKP") {
    SEALSUM_ASSIGN_OR_RETURN(auto pub, x25519_public_from_jwk(policy.recipient_jwk));
    SEALSUM_ASSIGN_OR_RETURN(Pkey peer, x25519_from_public(pub));
    Pkey eph(EVP_PKEY_Q_keygen(nullptr, nullptr, "X25519"));
    if (!eph) return internal_error("X25519 key generation failed");
    std::array<uint8_t, kX25519Size> epk{};
    size_t len = epk.size();
    if (EVP_PKEY_get_raw_public_key(eph.get(), epk.data(), &len) != 1 || len != epk.size()) {
      return internal_error("X25519 public key export failed");
    }
    SEALSUM_ASSIGN_OR_RETURN(SecretBuffer shared, x25519_derive(eph.get(), peer.get()));
    SEALSUM_ASSIGN_OR_RETURN(SecretBuffer key, x25519_message_key(shared, epk, pub));
    out["alg"] = kOutputAlgX25519;
    out["epk"] = encoding::base64url_encode(epk);
    SEALSUM_RETURN_IF_ERROR(gcm_seal(key, kOutputAlgX25519, context, plaintext, out));
    return out;
  }
  SEALSUM_ASSIGN_OR_RETURN(auto rsa, kr::RsaPublicKey::from_jwk(policy.recipient_jwk));
  SEALSUM_ASSIGN_OR_RETURN(SecretBuffer key, SecretBuffer::allocate(kAesKeySize));
  SEALSUM_RETURN_IF_ERROR(random_bytes(key.span()));
  SEALSUM_ASSIGN_OR_RETURN(auto wrapped, rsa.oaep_encrypt(key.span(), kr::OaepHash::kSha256));
  out["alg"] = kOutputAlgRsa;
  out["encrypted_key"] = encoding::base64url_encode(wrapped);
  SEALSUM_RETURN_IF_ERROR(gcm_seal(key, kOutputAlgRsa, context, plaintext, out));
  return out;
}

struct OutputKey::Impl {
  Pkey x25519;                             // set for X25519 keys
  std::optional<kr::RsaPrivateKey> rsa;    // set for RSA keys
};

OutputKey::OutputKey(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
OutputKey::OutputKey(OutputKey&&) noexcept = default;
OutputKey& OutputKey::operator=(OutputKey&&) noexcept = default;
OutputKey::~OutputKey() = default;

Result<OutputKey> OutputKey::generate_x25519() {
  auto impl = std::make_unique<Impl>();
  impl->x25519.reset(EVP_PKEY_Q_keygen(nullptr, nullptr, "X25519"));
  if (!impl->x25519) return internal_error("X25519 key generation failed");
  return OutputKey(std::move(impl));
}

Result<OutputKey> OutputKey::from_private_jwk(const json& jwk) {
  SEALSUM_ASSIGN_OR_RETURN(auto pub, x25519_public_from_jwk(jwk));
  SEALSUM_ASSIGN_OR_RETURN(auto d, b64_member(jwk, "d", kX25519Size, kX25519Size));
  auto impl = std::make_unique<Impl>();
  impl->x25519.reset(EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, nullptr, d.data(), d.size()));
  wipe(d.data(), d.size());
  if (!impl->x25519) return invalid_argument("output key: \"d\" is not a valid X25519 private key");
  OutputKey k(std::move(impl));
  if (str_member(k.public_jwk(), "x") != encoding::base64url_encode(pub)) {
    return invalid_argument("output key: \"x\" does not match \"d\"");
  }
  return k;
}

Result<OutputKey> OutputKey::from_rsa_pem(std::string_view pem) {
  SEALSUM_ASSIGN_OR_RETURN(auto rsa, kr::RsaPrivateKey::from_pem(pem));
  auto impl = std::make_unique<Impl>();
  impl->rsa.emplace(std::move(rsa));
  return OutputKey(std::move(impl));
}

json OutputKey::public_jwk() const {
  if (impl_->x25519) {
    std::array<uint8_t, kX25519Size> pub{};
    size_t len = pub.size();
    if (EVP_PKEY_get_raw_public_key(impl_->x25519.get(), pub.data(), &len) != 1) return json::object();
    return {{"kty", "OKP"}, {"crv", "X25519"}, {"x", encoding::base64url_encode(pub)}};
  }
  auto pub = impl_->rsa->public_key();
  return pub.ok() ? pub->to_jwk() : json::object();
}

Result<SecretBuffer> OutputKey::private_jwk_text() const {
  if (!impl_->x25519) return unimplemented("only X25519 output keys export as a JWK; RSA keys stay in PEM");
  std::array<uint8_t, kX25519Size> d{};
  size_t len = d.size();
  if (EVP_PKEY_get_raw_private_key(impl_->x25519.get(), d.data(), &len) != 1) {
    return internal_error("X25519 private key export failed");
  }
  std::string text = public_jwk().dump();  // {"crv":..,"kty":..,"x":..}: public, then "d" spliced in
  std::string d64 = encoding::base64url_encode(d);
  wipe(d.data(), d.size());
  static constexpr std::string_view kMember = ",\"d\":\"";
  auto out = SecretBuffer::allocate(text.size() + kMember.size() + d64.size() + 1, true);
  if (out.ok()) {
    uint8_t* p = out->data();
    auto put = [&p](std::string_view s) { std::memcpy(p, s.data(), s.size()); p += s.size(); };
    put(std::string_view(text).substr(0, text.size() - 1));
    put(kMember);
    put(d64);
    put("\"}");
  }
  wipe(d64.data(), d64.size());
  return out;
}

Result<SecretBuffer> OutputKey::open(const json& sealed, std::string_view expected_context) const {
  if (!sealed.is_object()) return invalid_argument("sealed output must be a JSON object");
  const std::string alg = str_member(sealed, "alg");
  auto context = json_access::string_member(sealed, "context", {"sealed output"});
  if (!context.ok() || *context != expected_context) {
    return unauthenticated("sealed output: context does not match the expected one");
  }
  if (alg == kOutputAlgX25519) {
    if (!impl_->x25519) return invalid_argument("sealed output is for an X25519 key; this key is RSA");
    SEALSUM_ASSIGN_OR_RETURN(auto epk, b64_member(sealed, "epk", kX25519Size, kX25519Size));
    SEALSUM_ASSIGN_OR_RETURN(Pkey peer, x25519_from_public(epk));
    SEALSUM_ASSIGN_OR_RETURN(SecretBuffer shared, x25519_derive(impl_->x25519.get(), peer.get()));
    SEALSUM_ASSIGN_OR_RETURN(auto mine, x25519_public_from_jwk(public_jwk()));
    SEALSUM_ASSIGN_OR_RETURN(SecretBuffer key, x25519_message_key(shared, epk, mine));
    return gcm_open(key, alg, expected_context, sealed);
  }
  if (alg == kOutputAlgRsa) {
    if (!impl_->rsa) return invalid_argument("sealed output is for an RSA key; this key is X25519");
    SEALSUM_ASSIGN_OR_RETURN(auto wrapped, b64_member(sealed, "encrypted_key", 256, 1024));
    SEALSUM_ASSIGN_OR_RETURN(SecretBuffer key, impl_->rsa->oaep_decrypt(wrapped, kr::OaepHash::kSha256));
    if (key.size() != kAesKeySize) return unauthenticated("sealed output: wrapped key has the wrong size");
    return gcm_open(key, alg, expected_context, sealed);
  }
  return invalid_argument("sealed output: unknown \"alg\"");
}

Result<OutputKey> load_output_key_file(const std::filesystem::path& path) {
  SEALSUM_ASSIGN_OR_RETURN(SecretBuffer bytes, read_secret_file(path, kMaxOutputKeyFileBytes, "output key file"));
  const std::string_view text(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  if (text.find("-----BEGIN") != std::string_view::npos) {
    auto k = OutputKey::from_rsa_pem(text);
    if (!k.ok()) return k.status().with_context("output key file " + path.string());
    return k;
  }
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    return invalid_argument("output key file " + path.string() + " is neither a private JWK nor a PEM private key");
  }
  auto k = OutputKey::from_private_jwk(j);
  if (auto d = j.find("d"); d != j.end() && d->is_string()) {
    std::string& s = d->get_ref<std::string&>();
    wipe(s.data(), s.size());
  }
  if (!k.ok()) return k.status().with_context("output key file " + path.string());
  return k;
}

Status write_output_key_file(const std::filesystem::path& path, const OutputKey& key) {
  SEALSUM_ASSIGN_OR_RETURN(SecretBuffer text, key.private_jwk_text());
  return write_secret_file(path, text.span(), "output key file");
}

}  // namespace sealsum::secure
