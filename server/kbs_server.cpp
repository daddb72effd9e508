// cpp-httplib shell of the key broker (see kbs_server.h).
#include "server/kbs_server.h"

#include <httplib.h>

#include <condition_variable>
#include <iostream>
#include <mutex>
#include <thread>

#include <nlohmann/json.hpp>

#include "secure/keyrelease/protocol.h"
#include "server/http_guard.h"

namespace sealsum::server {

struct KbsServer::Impl {
  secure::keyrelease::Broker& broker;
  KbsServerOptions options;
  GuardedServer svr;
  std::thread thread;
  int port = -1;
  std::mutex mu;
  std::condition_variable cv;
  bool stopped = false;

  Impl(secure::keyrelease::Broker& b, KbsServerOptions o, GuardErrorBody refusal)
      : broker(b), options(std::move(o)), svr(guard_limits(options), nullptr, std::move(refusal)) {}

  static GuardLimits guard_limits(const KbsServerOptions& o) {
    GuardLimits g;
    g.request_deadline = std::chrono::seconds(o.read_timeout_s);
    g.write_timeout = std::chrono::seconds(o.read_timeout_s);
    g.max_body_bytes = secure::keyrelease::kMaxRequestBytes;
    g.workers = o.threads == 0 ? 1 : o.threads;
    g.max_per_client = o.max_per_client;
    return g;
  }
};

namespace {

constexpr size_t kMaxChallengeBody = 1024;

void reply(httplib::Response& res, int status, const std::string& body) {
  res.status = status;
  res.set_content(body, "application/json");
  res.set_header("Cache-Control", "no-store");
}

std::string error_body(const std::string& error, const std::string& reason) {
  return secure::keyrelease::Refusal{0, error, "request", reason}.to_json();
}

}  // namespace

KbsServer::KbsServer(secure::keyrelease::Broker& broker, KbsServerOptions options)
    : impl_(std::make_unique<Impl>(broker, std::move(options), [](int status, const std::string& code, const std::string& message) {
        return secure::keyrelease::Refusal{status, code, "request", message}.to_json();
      })) {
  Impl* im = impl_.get();
  httplib::Server& s = im->svr;
  s.Post("/v1/challenge", [im](const httplib::Request& req, httplib::Response& res) {
    if (req.body.size() > kMaxChallengeBody) {
      reply(res, 413, error_body("bad_request", "a challenge request carries no body (at most " +
                                                    std::to_string(kMaxChallengeBody) + " bytes are ignored)"));
      return;
    }
    auto r = im->broker.challenge();
    reply(res, r.status, r.body);
  });
  s.Post("/v1/release", [im](const httplib::Request& req, httplib::Response& res) {
    auto r = im->broker.release(req.body);
    reply(res, r.status, r.body);
  });
  s.Get("/healthz", [](const httplib::Request&, httplib::Response& res) { reply(res, 200, "{\"status\":\"ok\"}"); });
  httplib::Server::HandlerWithResponse on_error = [](const httplib::Request&, httplib::Response& res) {
    // httplib calls this for every status >= 400: keep the broker's own JSON answers; give
    // httplib's bare errors (404, 413, 400, ...) a JSON body, keeping their status.
    if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
    std::string what = res.status == 413 ? "request body exceeds " + std::to_string(secure::keyrelease::kMaxRequestBytes) + " bytes"
                       : res.status == 404 ? "no such endpoint (POST /v1/challenge, POST /v1/release, GET /healthz)"
                                           : "request failed";
    reply(res, res.status, error_body(res.status == 404 ? "not_found" : "bad_request", what));
    return httplib::Server::HandlerResponse::Handled;
  };
  s.set_error_handler(std::move(on_error));
  if (im->options.log_requests) {
    s.set_logger([](const httplib::Request& req, const httplib::Response& res) {
      nlohmann::json line = {{"event", "kbs_request"}, {"method", req.method}, {"path", req.path}, {"status", res.status}};
      std::cerr << line.dump() << "\n";
    });
  }
}

KbsServer::~KbsServer() { stop(); }

Status KbsServer::start() {
  Impl* im = impl_.get();
  if (Status st = im->svr.listen_on(im->options.host, im->options.port); !st.is_ok()) return st;
  im->port = im->svr.bound_port();
  im->thread = std::thread([im] {
    im->svr.serve();
    std::lock_guard<std::mutex> lock(im->mu);
    im->stopped = true;
    im->cv.notify_all();
  });
  return Status::ok();
}

int KbsServer::port() const { return impl_->port; }

void KbsServer::stop() {
  if (!impl_) return;
  impl_->svr.stop_serving();
  if (impl_->thread.joinable()) impl_->thread.join();
  std::lock_guard<std::mutex> lock(impl_->mu);
  impl_->stopped = true;
  impl_->cv.notify_all();
}

void KbsServer::wait() {
  std::unique_lock<std::mutex> lock(impl_->mu);
  impl_->cv.wait(lock, [this] { return impl_->stopped; });
}

}  // namespace sealsum::server
