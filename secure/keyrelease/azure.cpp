// Azure MAA + Key Vault Secure Key Release client (see azure.h).
#include "secure/keyrelease/azure.h"

#include <algorithm>
#include <cctype>

#include <nlohmann/json.hpp>

#include "secure/aead.h"
#include "common/encoding.h"
#include "common/json_access.h"
#include "secure/keyrelease/protocol.h"

namespace sealsum::secure::keyrelease {
namespace {

using nlohmann::json;

std::string pem_certificate(std::span<const uint8_t> cert) {
  std::string_view s(reinterpret_cast<const char*>(cert.data()), cert.size());
  if (s.find("-----BEGIN CERTIFICATE-----") != std::string_view::npos) {
    std::string out(s);
    while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
    return out + "\n";
  }
  std::string b64 = encoding::base64_encode(cert);
  std::string out = "-----BEGIN CERTIFICATE-----\n";
  for (size_t i = 0; i < b64.size(); i += 64) out += b64.substr(i, 64) + "\n";
  return out + "-----END CERTIFICATE-----\n";
}

Result<OaepHash> hash_for_enc(std::string_view enc) {
  if (enc == "CKM_RSA_AES_KEY_WRAP") return OaepHash::kSha1;
  if (enc == "RSA_AES_KEY_WRAP_256") return OaepHash::kSha256;
  if (enc == "RSA_AES_KEY_WRAP_384") return OaepHash::kSha384;
  return unimplemented("unsupported key release wrapping \"" + std::string(enc.substr(0, 64)) + "\"");
}

// The released key's kid (".../keys/NAME/VERSION") names `key_id` (NAME or NAME/VERSION).
bool kid_names(std::string_view kid, std::string_view key_id) {
  size_t at = kid.rfind("/keys/");
  if (at == std::string_view::npos) return false;
  std::string_view rest = kid.substr(at + 6);
  size_t slash = key_id.find('/');
  std::string_view name = key_id.substr(0, slash);
  if (!rest.starts_with(name) || (rest.size() > name.size() && rest[name.size()] != '/')) return false;
  if (slash == std::string_view::npos) return true;
  std::string_view want = key_id.substr(slash + 1), got = rest.substr(std::min(rest.size(), name.size() + 1));
  return want.size() == got.size() && std::equal(want.begin(), want.end(), got.begin(), [](char a, char b) {
           return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
         });
}

Status check_endpoint(const std::string& url, const char* what) {
  const bool https = url.starts_with("https://");
  const bool loopback = url.starts_with("http://127.0.0.1") || url.starts_with("http://localhost");
  const size_t host = url.find("://") == std::string::npos ? 0 : url.find("://") + 3;
  const std::string rest = url.substr(host);
  if ((!https && !loopback) || rest.empty() || rest.find_first_of("/?#@ ") != std::string::npos) {
    return invalid_argument(std::string(what) + " must be https://HOST[:PORT] with no path, query or credentials "
                            "(http:// only for 127.0.0.1 or localhost)");
  }
  return Status::ok();
}

// Status for a non-200 answer of an Azure service, with Azure's {"error":{"code","message"}}
// (bounded, printable ASCII only) when it sent one.
Status azure_refusal(const std::string& service, int http_status, const std::string& body) {
  Status base = refusal_status(service, http_status, body);
  if (body.size() > 64 * 1024) return base;
  json j = json::parse(body, nullptr, false);
  if (!j.is_object() || !j.contains("error") || !j["error"].is_object()) return base;
  std::string detail;
  for (const char* k : {"code", "message"}) {
    auto it = j["error"].find(k);
    if (it == j["error"].end() || !it->is_string()) continue;
    std::string v = it->get<std::string>().substr(0, 240);
    for (char& ch : v) {
      if (ch < 0x20 || ch > 0x7e) ch = '?';
    }
    detail += (detail.empty() ? "" : ": ") + v;
  }
  return detail.empty() ? base : Status(base.code(), base.message() + " (" + detail + ")");
}

}  // namespace

Status check_azure_endpoints(const AzureSkrConfig& c) {
  SEALSUM_RETURN_IF_ERROR(check_endpoint(c.maa_endpoint, "the Azure Attestation endpoint (--maa-endpoint)"));
  return check_endpoint(c.key_vault_url, "the Key Vault endpoint (--akv-endpoint)");
}

Result<JwsTrust> release_trust_from_pem(std::string_view pem) {
  if (pem.size() > 64 * 1024) return invalid_argument("the release signer PEM file is larger than 64 KiB");
  JwsTrust trust;
  size_t at = 0, blocks = 0;
  while ((at = pem.find("-----BEGIN ", at)) != std::string_view::npos) {
    const size_t label_end = pem.find("-----", at + 11);
    if (label_end == std::string_view::npos) return invalid_argument("the release signer PEM file has a broken header");
    const std::string label(pem.substr(at + 11, label_end - at - 11));
    const std::string end_marker = "-----END " + label + "-----";
    const size_t end = pem.find(end_marker, label_end);
    if (end == std::string_view::npos) return invalid_argument("the release signer PEM block " + label.substr(0, 32) + " is not terminated");
    if (++blocks > 16) return invalid_argument("the release signer PEM file has more than 16 blocks");
    std::string block(pem.substr(at, end + end_marker.size() - at));
    block += "\n";
    if (label == "PUBLIC KEY") {
      auto key = RsaPublicKey::from_pem(block);
      if (!key.ok()) return invalid_argument("a release signer public key is not an RSA key: " + key.status().message());
      trust.pinned_public_keys_pem.push_back(std::move(block));
    } else if (label == "CERTIFICATE") {
      trust.trusted_roots_pem.push_back(std::move(block));
    } else {
      return invalid_argument("the release signer PEM file may hold PUBLIC KEY and CERTIFICATE blocks only, not " +
                              label.substr(0, 32));
    }
    at = end + end_marker.size();
  }
  if (trust.empty()) return invalid_argument("the release signer PEM file holds no PUBLIC KEY or CERTIFICATE block");
  return trust;
}

Result<std::string> build_maa_request(const attest::SnpEvidence& evidence, std::string_view runtime_data,
                                      uint64_t nonce) {
  if (evidence.signing_cert.empty() || evidence.chain_pem.empty()) {
    return invalid_argument("MAA needs the VCEK certificate and its ASK/ARK chain");
  }
  std::string chain = evidence.chain_pem;
  size_t first = chain.find_first_not_of("\r\n");
  chain = first == std::string::npos ? "" : chain.substr(first);
  std::string vcek_chain = pem_certificate(evidence.signing_cert) + chain;

  nlohmann::ordered_json inner;
  inner["SnpReport"] = encoding::base64url_encode(evidence.report, true);
  inner["VcekCertChain"] = encoding::base64url_encode(encoding::as_bytes(vcek_chain), true);
  if (evidence.uvm_endorsement) {
    nlohmann::ordered_json endorsements;
    endorsements["Uvm"] = nlohmann::ordered_json::array({encoding::base64url_encode(*evidence.uvm_endorsement, true)});
    inner["Endorsements"] = encoding::base64url_encode(encoding::as_bytes(endorsements.dump()), true);
  }
  nlohmann::ordered_json body;
  body["report"] = encoding::base64url_encode(encoding::as_bytes(inner.dump()), true);
  body["runtimeData"] = {{"data", encoding::base64url_encode(encoding::as_bytes(runtime_data), true)}, {"dataType", "JSON"}};
  body["initTimeData"] = {{"data", ""}, {"dataType", ""}};
  body["nonce"] = nonce;
  return body.dump();
}

std::string maa_attest_url(const AzureSkrConfig& c) {
  return c.maa_endpoint + "/attest/SevSnpVm?api-version=" + c.maa_api_version;
}

Result<std::string> akv_release_url(const AzureSkrConfig& c, std::string_view key_id) {
  size_t slash = key_id.find('/');
  std::string_view name = key_id.substr(0, slash);
  std::string_view version = slash == std::string_view::npos ? std::string_view() : key_id.substr(slash + 1);
  auto ok_chars = [](std::string_view s, bool hex) {
    for (char ch : s) {
      bool ok = (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f') ||
                (!hex && ((ch >= 'A' && ch <= 'Z') || (ch >= 'g' && ch <= 'z') || ch == '-')) ||
                (hex && ch >= 'A' && ch <= 'F');
      if (!ok) return false;
    }
    return true;
  };
  if (name.empty() || name.size() > 127 || !ok_chars(name, false) ||
      (slash != std::string_view::npos && (version.size() != 32 || !ok_chars(version, true)))) {
    return invalid_argument("Key Vault key id must be NAME or NAME/VERSION (NAME: 1..127 of [A-Za-z0-9-], VERSION: "
                            "32 hex digits)");
  }
  return c.key_vault_url + "/keys/" + std::string(key_id) + "/release?api-version=" + c.akv_api_version;
}

Result<SecretBuffer> unwrap_akv_release(std::string_view body, const JwsTrust& trust, const RsaPrivateKey& key,
                                        std::string_view key_id) {
  if (body.size() > kMaxJwsBytes) return data_loss("Key Vault release answer is too large");
  using json_access::Where;
  json outer = json::parse(body, nullptr, false);
  SEALSUM_ASSIGN_OR_RETURN(std::string value,
                           json_access::string_member(outer, "value", Where{"Key Vault release answer", Code::kDataLoss}, kMaxJwsBytes));
  SEALSUM_ASSIGN_OR_RETURN(std::string payload_text, verify_jws(value, trust));
  json payload = json::parse(payload_text, nullptr, false);
  SEALSUM_ASSIGN_OR_RETURN(const json* response,
                           json_access::object_member(payload, "response", Where{"release JWS payload", Code::kDataLoss}));
  SEALSUM_ASSIGN_OR_RETURN(const json* key_outer,
                           json_access::object_member(*response, "key", Where{"release payload response", Code::kDataLoss}));
  SEALSUM_ASSIGN_OR_RETURN(const json* key_inner,
                           json_access::object_member(*key_outer, "key", Where{"release payload response.key", Code::kDataLoss}));
  const Where released{"released key", Code::kDataLoss};
  if (!key_id.empty()) {
    auto kid = json_access::string_member(*key_inner, "kid", released, 1024);
    if (!kid.ok() || !kid_names(*kid, key_id)) {
      return unauthenticated("the Key Vault release answer is for another key than \"" + std::string(key_id) + "\"");
    }
  }
  SEALSUM_ASSIGN_OR_RETURN(std::string kty, json_access::string_member(*key_inner, "kty", released, 64));
  if (kty != "oct" && kty != "oct-HSM") {
    return unimplemented("the released key is not a symmetric (oct) key; sealsum needs a 256-bit sealing key");
  }
  SEALSUM_ASSIGN_OR_RETURN(std::string key_hsm, json_access::string_member(*key_inner, "key_hsm", released, kMaxJwsBytes));
  SEALSUM_ASSIGN_OR_RETURN(std::string hsm_text, encoding::base64_decode_text(key_hsm, "key_hsm"));
  json hsm = json::parse(hsm_text, nullptr, false);
  SEALSUM_ASSIGN_OR_RETURN(std::string ct, json_access::string_member(hsm, "ciphertext", Where{"key_hsm", Code::kDataLoss}, kMaxJwsBytes));

  std::string enc;
  const json* req = json_access::find(payload, "request");
  const json* header = json_access::find(hsm, "header");
  if (const json* e = req ? json_access::find(*req, "enc") : nullptr; e != nullptr && e->is_string()) {
    enc = e->get<std::string>();
  } else if (const json* h = header ? json_access::find(*header, "enc") : nullptr; h != nullptr && h->is_string()) {
    enc = h->get<std::string>();
  } else {
    return data_loss("release payload names no wrapping algorithm (\"enc\")");
  }
  SEALSUM_ASSIGN_OR_RETURN(OaepHash hash, hash_for_enc(enc));
  SEALSUM_ASSIGN_OR_RETURN(std::vector<uint8_t> ciphertext, encoding::base64_decode(ct, "key_hsm ciphertext"));
  auto unwrapped = rsa_aes_key_unwrap(key, ciphertext, hash);
  if (!unwrapped.ok()) return unwrapped.status().with_context("the released key does not unwrap with this process's key");
  return unwrapped;
}

Result<ReleasedKey> AzureSkrClient::release(const std::string& key_id) {
  SEALSUM_RETURN_IF_ERROR(check_azure_endpoints(config_));
  if (!config_.access_token) return invalid_argument("Azure key release needs an access token source for the vault");
  SEALSUM_ASSIGN_OR_RETURN(std::string release_url, akv_release_url(config_, key_id));
  SEALSUM_ASSIGN_OR_RETURN(RsaPrivateKey ephemeral, RsaPrivateKey::generate(config_.ephemeral_bits));
  SEALSUM_ASSIGN_OR_RETURN(RsaPublicKey pub, ephemeral.public_key());
  std::string runtime_data = make_runtime_data(pub, "");
  SEALSUM_ASSIGN_OR_RETURN(attest::SnpEvidence ev,
                           evidence_.collect(attest::report_data_for_runtime_data(encoding::as_bytes(runtime_data))));
  // Hardware evidence always carries its VCEK; only the simulated TEE (development builds) has none.
  if (ev.signing_cert.empty()) {
    return invalid_argument("the simulated TEE has no VCEK certificate chain; Azure Attestation needs real SEV-SNP "
                            "evidence (with --dev, give --host-amd-cert or --vcek/--cert-chain to attach one, or use "
                            "the sealsum key broker for local runs)");
  }
  uint64_t nonce = 0;
  SEALSUM_RETURN_IF_ERROR(random_bytes({reinterpret_cast<uint8_t*>(&nonce), sizeof nonce}));
  SEALSUM_ASSIGN_OR_RETURN(std::string maa_body, build_maa_request(ev, runtime_data, nonce));
  HttpRequest maa_request;
  maa_request.url = maa_attest_url(config_);
  maa_request.body = maa_body;
  maa_request.max_response_bytes = kMaxJwsBytes + 1024;
  SEALSUM_ASSIGN_OR_RETURN(HttpResponse maa, transport_.send(maa_request));
  if (maa.status != 200) return azure_refusal("Azure Attestation " + config_.maa_endpoint, maa.status, maa.body);
  json mj = json::parse(maa.body, nullptr, false);
  auto maa_token = json_access::string_member(mj, "token", {"Azure Attestation answer", Code::kDataLoss}, kMaxJwsBytes);
  if (!maa_token.ok()) {
    return data_loss("Azure Attestation " + config_.maa_endpoint + " answered without a \"token\"");
  }
  const std::string release_body = json{{"target", *maa_token}}.dump();

  SEALSUM_ASSIGN_OR_RETURN(SecretBuffer token, config_.access_token->token());
  static constexpr std::string_view kBearer = "Bearer ";
  SEALSUM_ASSIGN_OR_RETURN(SecretBuffer authorization, SecretBuffer::allocate(kBearer.size() + token.size()));
  std::copy(kBearer.begin(), kBearer.end(), authorization.data());
  std::copy(token.data(), token.data() + token.size(), authorization.data() + kBearer.size());
  HttpRequest release;
  release.url = release_url;
  release.body = release_body;
  release.secret_headers.emplace_back("Authorization", authorization.span());
  release.max_response_bytes = kMaxJwsBytes + 1024;
  SEALSUM_ASSIGN_OR_RETURN(HttpResponse rel, transport_.send(release));
  if (rel.status != 200) return azure_refusal("Key Vault " + config_.key_vault_url, rel.status, rel.body);
  auto key = unwrap_akv_release(rel.body, config_.release_trust, ephemeral, key_id);
  if (!key.ok()) return key.status().with_context("Key Vault " + config_.key_vault_url + " release of \"" + key_id + "\"");
  if (key->size() != 32) return data_loss("Key Vault released a key of " + std::to_string(key->size()) + " bytes, not 32");
  return ReleasedKey{std::move(key).value(), {}};
}

}  // namespace sealsum::secure::keyrelease
