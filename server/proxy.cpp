// The verifying local proxy (see proxy.h).
#include "server/proxy.h"

#include <httplib.h>

#include <nlohmann/json.hpp>

namespace sealsum::server {
namespace {

using json = nlohmann::json;

void answer_error(httplib::Response& res, int status, const std::string& error, const std::string& message,
                  const std::vector<std::string>& failed = {}) {
  json j = {{"error", error}, {"message", message}};
  if (!failed.empty()) j["failed_checks"] = failed;
  res.status = status;
  res.set_content(j.dump(), "application/json");
}

bool loopback(const std::string& host) { return host == "127.0.0.1" || host == "::1" || host == "localhost"; }

}  // namespace

Proxy::Proxy(ProxyOptions options) : options_(std::move(options)), http_(std::make_unique<httplib::Server>()) {}
Proxy::~Proxy() = default;

Result<std::unique_ptr<Proxy>> Proxy::create(ProxyOptions options) {
  if (!loopback(options.host)) {
    return invalid_argument("the proxy listens in plain HTTP, so only on loopback (127.0.0.1 or ::1), not " +
                            options.host);
  }
  if (options.upstream.policy.measurements.empty()) return invalid_argument("the proxy needs at least one pin");
  std::unique_ptr<Proxy> p(new Proxy(std::move(options)));
  p->http_->set_payload_max_length(kMaxProxyBodyBytes);
  auto forward = [opts = p->options_.upstream](const httplib::Request& req, httplib::Response& res) {
    auto reply = attested_request(opts, req.method, req.path, req.body, kMaxSummaryAnswerBytes);
    if (!reply.ok()) {
      answer_error(res, 502, "upstream_unavailable", reply.status().message());
      return;
    }
    if (!reply->sent) {
      answer_error(res, 502, "attestation_refused",
                   "the server failed attestation against this proxy's pins; nothing was forwarded",
                   reply->failed_checks());
      return;
    }
    res.status = reply->http_status;
    res.set_content(reply->body, req.path == "/v1/policy" && reply->http_status == 200 ? "text/plain; charset=utf-8"
                                                                                        : "application/json");
  };
  p->http_->Post("/v1/summarize", forward);
  for (const char* path : {"/v1/documents", "/v1/info", "/v1/policy", "/healthz"}) p->http_->Get(path, forward);
  return p;
}

Status Proxy::bind() {
  port_ = options_.port == 0 ? http_->bind_to_any_port(options_.host) : (http_->bind_to_port(options_.host, options_.port)
                                                                             ? options_.port
                                                                             : -1);
  if (port_ <= 0) return unavailable("cannot listen on " + options_.host + ":" + std::to_string(options_.port));
  return Status::ok();
}

void Proxy::run() { http_->listen_after_bind(); }
void Proxy::stop() { http_->stop(); }

}  // namespace sealsum::server
