// Attest-then-pin client of `sealsum serve` (see client.h).
#include "server/client.h"

#include <httplib.h>

#include <memory>

#include "secure/aead.h"
#include "common/encoding.h"
#include "secure/tls_pin.h"

namespace sealsum::server {
namespace {

using json = nlohmann::json;

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

// One keep-alive client for one target; for https, every handshake goes through the key pin.
class Connection {
 public:
  Connection(const Target& t, int timeout_s) {
    if (t.tls) {
      auto c = std::make_unique<httplib::SSLClient>(t.host, t.port);
      c->enable_server_certificate_verification(false);  // trust comes from the attested key, not a CA
      pin_.attach(c->ssl_context());
      client_ = std::move(c);
    } else {
      client_ = std::make_unique<httplib::ClientImpl>(t.host, t.port);
    }
    client_->set_keep_alive(true);  // attest and send on one connection (one replica behind a balancer)
    client_->set_connection_timeout(10, 0);
    client_->set_read_timeout(timeout_s, 0);
    client_->set_write_timeout(timeout_s, 0);
  }
  // From now on every handshake must present a key hashing to `pin`.
  void pin(const secure::Digest256& pin) { pin_.pin(pin); }
  const std::optional<secure::Digest256>& observed() const { return pin_.observed(); }

  struct Reply {
    int status = 0;
    std::string body;
  };
  // Sends one request; the answer's body is read at most `limit` bytes (kResourceExhausted past it).
  Result<Reply> send(const std::string& method, const std::string& path, const std::string& body, size_t limit) {
    httplib::Request req;
    req.method = method;
    req.path = path;
    if (!body.empty()) {
      req.body = body;
      req.set_header("Content-Type", "application/json");
    }
    Reply out;
    bool too_big = false;
    req.content_receiver = [&](const char* data, size_t n, uint64_t, uint64_t) {
      if (n > limit - out.body.size()) {
        too_big = true;
        return false;
      }
      out.body.append(data, n);
      return true;
    };
    auto res = client_->send(req);
    if (too_big) return resource_exhausted(method + " " + path + ": the answer exceeds " + std::to_string(limit) + " bytes");
    if (!res) {
      return unavailable(method + " " + path + " failed: " + httplib::to_string(res.error()) +
                         " (is the server running, and the URL right?)");
    }
    out.status = res->status;
    return out;
  }

 private:
  secure::TlsKeyPin pin_;  // must outlive the SSL client (declared before client_ so it is destroyed after)
  std::unique_ptr<httplib::ClientImpl> client_;
};

// Attests the server on `conn`.
Result<RemoteVerification> attest_on(Connection& conn, const Target& target, const RemoteOptions& opts) {
  RemoteVerification out;
  out.tls = target.tls;
  SEALSUM_ASSIGN_OR_RETURN(out.nonce, fresh_nonce());
  SEALSUM_ASSIGN_OR_RETURN(Connection::Reply res,
                           conn.send("GET", "/v1/attestation?nonce=" + out.nonce, "", kMaxAttestationAnswerBytes));
  if (res.status != 200) return unavailable("GET /v1/attestation answered HTTP " + std::to_string(res.status));
  VerifyExpectations expect;
  expect.nonce = out.nonce;
  expect.policy = opts.policy;
  expect.allow_simulated = opts.allow_simulated;
  if (target.tls) {
    if (!conn.observed()) return internal_error("the TLS handshake did not present a certificate");
    expect.observed_tls_spki = conn.observed();
  }
  out.verdict = verify_attestation_answer(res.body, expect);
  if (!target.tls && out.verdict.accepted) {
    out.warnings.push_back("plain HTTP to a --dev server: the channel is NOT bound to the attested TEE (anyone on "
                           "the path can read or change requests)");
  }
  if (out.verdict.simulated) {
    out.warnings.push_back("the evidence is SIMULATED (software-signed): this is not attestation");
  }
  return out;
}

}  // namespace

Result<std::string> fresh_nonce() {
  std::array<uint8_t, 24> b{};
  SEALSUM_RETURN_IF_ERROR(secure::random_bytes(b));
  return encoding::base64url_encode(b);
}

Result<RemoteVerification> verify_server(const RemoteOptions& opts) {
  SEALSUM_ASSIGN_OR_RETURN(Target target, parse_target(opts.server_url));
  Connection conn(target, opts.timeout_s);
  return attest_on(conn, target, opts);
}

Result<AttestedReply> attested_request(const RemoteOptions& opts, const std::string& method, const std::string& path,
                                       const std::string& body, size_t limit) {
  SEALSUM_ASSIGN_OR_RETURN(Target target, parse_target(opts.server_url));
  Connection conn(target, opts.timeout_s);
  AttestedReply out;
  SEALSUM_ASSIGN_OR_RETURN(out.verification, attest_on(conn, target, opts));
  const AttestationVerdict& v = out.verification.verdict;
  if (!v.accepted) return out;
  if (target.tls) {
    if (!v.tls_spki) return permission_denied("the attested runtime data names no TLS key; refusing to send");
    conn.pin(*v.tls_spki);
  }
  SEALSUM_ASSIGN_OR_RETURN(Connection::Reply res, conn.send(method, path, body, limit));
  if (target.tls && conn.observed() != v.tls_spki) {
    return permission_denied("the answer came over a connection whose key is not the attested one; discarded");
  }
  out.sent = true;
  out.http_status = res.status;
  out.body = std::move(res.body);
  return out;
}

std::vector<std::string> AttestedReply::failed_checks() const {
  std::vector<std::string> out;
  for (const auto& c : verification.verdict.checks) {
    if (!c.passed) out.push_back(c.name);
  }
  return out;
}

Result<RemoteSummary> remote_summarize(const RemoteOptions& opts, const json& request) {
  SEALSUM_ASSIGN_OR_RETURN(AttestedReply reply,
                           attested_request(opts, "POST", "/v1/summarize", request.dump(), kMaxSummaryAnswerBytes));
  if (!reply.sent) {
    std::string failed;
    for (const auto& name : reply.failed_checks()) failed += (failed.empty() ? "" : ", ") + name;
    return permission_denied("the server's attestation was refused (failed checks: " + failed +
                             "); nothing was sent to it");
  }
  RemoteSummary out;
  out.verification = std::move(reply.verification);
  out.http_status = reply.http_status;
  out.answer = json::parse(reply.body, nullptr, false);
  if (out.answer.is_discarded()) return data_loss("the server's answer is not JSON");
  return out;
}

}  // namespace sealsum::server
