// Attest-then-pin client of `sealsum serve` (see client.h).
#include "server/client.h"

#include <httplib.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <memory>

#include "secure/aead.h"
#include "secure/keyrelease/encoding.h"
#include "secure/tls_identity.h"

namespace sealsum::server {
namespace {

using json = nlohmann::json;

// Per-SSL_CTX pin state, reached from the verify callback through SSL_CTX app data.
struct PinState {
  std::optional<secure::Digest256> pin;       // when set, the leaf key must hash to it
  std::optional<secure::Digest256> observed;  // the leaf key seen in the last handshake
};

int verify_callback(int /*preverify_ok*/, X509_STORE_CTX* store) {
  if (X509_STORE_CTX_get_error_depth(store) != 0) return 1;  // only the leaf's key matters
  auto* ssl = static_cast<SSL*>(X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx()));
  auto* state = ssl ? static_cast<PinState*>(SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl))) : nullptr;
  if (state == nullptr) return 0;
  auto d = secure::certificate_spki_sha256(X509_STORE_CTX_get_current_cert(store));
  if (!d.ok()) return 0;
  state->observed = *d;
  return state->pin ? (*d == *state->pin ? 1 : 0) : 1;
}

struct Target {
  bool tls = false;
  std::string host;
  int port = 0;
};

Result<Target> parse_target(const std::string& url) {
  Target t;
  std::string rest;
  if (url.rfind("https://", 0) == 0) {
    t.tls = true;
    rest = url.substr(8);
    t.port = 443;
  } else if (url.rfind("http://", 0) == 0) {
    rest = url.substr(7);
    t.port = 80;
  } else {
    return invalid_argument("--server must start with http:// or https://");
  }
  if (auto slash = rest.find('/'); slash != std::string::npos) rest.resize(slash);
  if (auto colon = rest.rfind(':'); colon != std::string::npos) {
    try {
      size_t used = 0;
      t.port = std::stoi(rest.substr(colon + 1), &used);
      if (used != rest.size() - colon - 1 || t.port <= 0 || t.port > 65535) throw std::out_of_range("port");
    } catch (...) {
      return invalid_argument("--server has an invalid port");
    }
    rest.resize(colon);
  }
  if (rest.empty()) return invalid_argument("--server has no host");
  t.host = rest;
  return t;
}

// One client for one target; for https, every handshake goes through verify_callback.
class Connection {
 public:
  Connection(const Target& t, int timeout_s, std::optional<secure::Digest256> pin) {
    state_.pin = pin;
    if (t.tls) {
      auto c = std::make_unique<httplib::SSLClient>(t.host, t.port);
      c->enable_server_certificate_verification(false);  // trust comes from the attested key, not a CA
      SSL_CTX* ctx = c->ssl_context();
      SSL_CTX_set_app_data(ctx, &state_);
      SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, verify_callback);
      client_ = std::move(c);
    } else {
      client_ = std::make_unique<httplib::ClientImpl>(t.host, t.port);
    }
    client_->set_connection_timeout(10, 0);
    client_->set_read_timeout(timeout_s, 0);
    client_->set_write_timeout(timeout_s, 0);
  }
  httplib::ClientImpl& http() { return *client_; }
  const std::optional<secure::Digest256>& observed() const { return state_.observed; }

 private:
  PinState state_;
  std::unique_ptr<httplib::ClientImpl> client_;
};

Status transport_error(const std::string& what, httplib::Error e) {
  return unavailable(what + " failed: " + httplib::to_string(e) + " (is the server running, and the URL right?)");
}

}  // namespace

Result<std::string> fresh_nonce() {
  std::array<uint8_t, 24> b{};
  SEALSUM_RETURN_IF_ERROR(secure::random_bytes(b));
  return secure::keyrelease::base64url_encode(b);
}

Result<RemoteVerification> verify_server(const RemoteOptions& opts) {
  SEALSUM_ASSIGN_OR_RETURN(Target target, parse_target(opts.server_url));
  RemoteVerification out;
  out.tls = target.tls;
  SEALSUM_ASSIGN_OR_RETURN(out.nonce, fresh_nonce());
  Connection conn(target, opts.timeout_s, std::nullopt);
  // The answer is capped while it is read (a hostile server could send any size).
  std::string answer;
  bool too_large = false;
  auto res = conn.http().Get("/v1/attestation?nonce=" + out.nonce, [&](const char* data, size_t n) {
    too_large = answer.size() + n > kMaxAttestationAnswerBytes;
    if (!too_large) answer.append(data, n);
    return !too_large;
  });
  if (too_large) {
    return data_loss("GET /v1/attestation: the answer exceeds " + std::to_string(kMaxAttestationAnswerBytes) +
                     " bytes; not reading more");
  }
  if (!res) return transport_error("GET /v1/attestation", res.error());
  if (res->status != 200) {
    return unavailable("GET /v1/attestation answered HTTP " + std::to_string(res->status));
  }
  VerifyExpectations expect;
  expect.nonce = out.nonce;
  expect.measurements = opts.measurements;
  expect.allow_simulated = opts.allow_simulated;
  if (target.tls) {
    if (!conn.observed()) return internal_error("the TLS handshake did not present a certificate");
    expect.observed_tls_spki = conn.observed();
  } else {
    out.warnings.push_back("plain HTTP: the evidence was verified, but the channel is NOT bound to the attested "
                           "TEE (anyone on the path can read or change requests); use HTTPS outside --dev");
  }
  out.verdict = verify_attestation_answer(answer, expect);
  if (out.verdict.simulated) {
    out.warnings.push_back("the evidence is SIMULATED (software-signed): this is not attestation");
  }
  return out;
}

Result<RemoteSummary> remote_summarize(const RemoteOptions& opts, const json& request) {
  RemoteSummary out;
  SEALSUM_ASSIGN_OR_RETURN(out.verification, verify_server(opts));
  const AttestationVerdict& v = out.verification.verdict;
  if (!v.accepted) {
    std::string failed;
    for (const auto& c : v.checks) {
      if (!c.passed) failed += (failed.empty() ? "" : ", ") + c.name;
    }
    return permission_denied("the server's attestation was refused (failed checks: " + failed +
                             "); nothing was sent to it");
  }
  SEALSUM_ASSIGN_OR_RETURN(Target target, parse_target(opts.server_url));
  std::optional<secure::Digest256> pin;
  if (target.tls) {
    if (!v.tls_spki) return permission_denied("the attested runtime data names no TLS key; refusing to send");
    pin = v.tls_spki;
  }
  Connection conn(target, opts.timeout_s, pin);
  auto res = conn.http().Post("/v1/summarize", request.dump(), "application/json");
  if (!res) return transport_error("POST /v1/summarize (pinned to the attested key)", res.error());
  out.http_status = res->status;
  out.answer = json::parse(res->body, nullptr, false);
  if (out.answer.is_discarded()) return data_loss("the server's answer is not JSON");
  return out;
}

}  // namespace sealsum::server
