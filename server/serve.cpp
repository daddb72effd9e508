// `sealsum serve` HTTP shell (see serve.h). Routing, limits, queueing, logs and metrics live here;
// request rules in serve_api.cpp, attestation in serve_attest.cpp, documents in
// serve_documents.cpp, the page in web_page.cpp.
#include "server/serve.h"

#include <httplib.h>

#include <chrono>
#include <cmath>
#include <future>
#include <iostream>
#include <mutex>
#include <thread>

#include <nlohmann/json.hpp>

#include "common/encoding.h"
#include "server/http_guard.h"
#include "server/web_page.h"

namespace sealsum::server {
namespace {

using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point t) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
}

// Per-connection-thread request context: handlers fill it, the logger (same thread, after the
// response is written) reads and resets it.
struct RequestContext {
  std::optional<Clock::time_point> start;
  json extra = json::object();
  bool recorded = false;
};
thread_local RequestContext t_ctx;

const char* route_label(const std::string& path) {
  static const char* const kRoutes[] = {"/v1/summarize", "/v1/attestation", "/v1/documents", "/v1/info", "/v1/policy",
                                        "/healthz",      "/metrics",        "/openapi.json", "/"};
  for (const char* r : kRoutes) {
    if (path == r) return r;
  }
  return "other";
}

int http_status_for(const Status& st) {
  switch (st.code()) {
    case Code::kInvalidArgument: return 400;
    case Code::kNotFound: return 404;
    case Code::kPermissionDenied: return 403;
    case Code::kResourceExhausted: return 413;
    case Code::kUnavailable: return 503;
    default: return 500;
  }
}

const char* error_code_for(int status) {
  switch (status) {
    case 400: return "bad_request";
    case 403: return "forbidden";
    case 404: return "not_found";
    case 413: return "too_large";
    case 503: return "busy";
    default: return "internal";
  }
}

void set_json(httplib::Response& res, int status, const std::string& body) {
  res.status = status;
  res.set_content(body, "application/json");
}

void set_error(httplib::Response& res, int status, const std::string& message) {
  set_json(res, status, ApiError{status, error_code_for(status), message}.to_json());
}

}  // namespace

LogSink stderr_log() {
  static std::mutex mu;
  return [](const std::string& line) {
    std::lock_guard<std::mutex> lock(mu);
    std::cerr << line << '\n';
    std::cerr.flush();
  };
}

struct Server::Answer {
  int status = 200;
  std::string body;
  json log = json::object();
};

Server::Server(ServeOptions options, const engine::Engine& engine, Attester& attester, DocumentStore* documents,
               const secure::TlsIdentity* tls, LogSink log)
    : options_(std::move(options)), engine_(engine), attester_(attester), documents_(documents), tls_(tls),
      log_(std::move(log)) {}

Server::~Server() {
  stop();
  if (queue_) queue_->shutdown();
}

Result<std::unique_ptr<Server>> Server::create(ServeOptions options, const engine::Engine& engine,
                                               Attester& attester, DocumentStore* documents,
                                               const secure::TlsIdentity* tls, LogSink log) {
  if (!log) log = stderr_log();
  std::unique_ptr<Server> s(new Server(std::move(options), engine, attester, documents, tls, std::move(log)));
  GuardLimits g;
  const ServeOptions& o = s->options_;
  g.request_deadline = std::chrono::seconds(o.read_timeout_s);
  g.write_timeout = std::chrono::seconds(o.write_timeout_s);
  g.max_body_bytes = o.limits.max_body_bytes;
  g.workers = o.http_threads;
  g.max_per_client = o.max_connections_per_client;
  g.max_buffered_bytes = std::max<size_t>(64u << 20, 4 * o.limits.max_body_bytes);
  s->http_ = std::make_unique<GuardedServer>(g, tls, [](int status, const std::string& code, const std::string& message) {
    return ApiError{status, code, message}.to_json();
  });
  s->queue_ = std::make_unique<WorkQueue>(s->options_.workers, s->options_.queue_capacity);
  s->install_routes();
  return s;
}

std::string Server::base_url() const {
  return std::string(tls_ ? "https://" : "http://") + options_.host + ":" + std::to_string(port_);
}

Status Server::bind() {
  if (Status st = http_->listen_on(options_.host, options_.port); !st.is_ok()) return st;
  port_ = http_->bound_port();
  return Status::ok();
}

void Server::run() {
  log_(json{{"event", "listening"}, {"url", base_url()}, {"dev", options_.dev}, {"tls", tls_ != nullptr},
            {"workers", queue_->workers()}, {"queue_capacity", queue_->capacity()}}
           .dump());
  if (!stopped_) http_->serve();
  queue_->shutdown();  // drain: every accepted job has run
  log_(json{{"event", "stopped"}}.dump());
}

void Server::stop() {
  if (stopped_.exchange(true) || !http_) return;
  http_->stop_serving();
}

void Server::record(const std::string& method, const std::string& path, int status) {
  const double ms = t_ctx.start ? ms_since(*t_ctx.start) : 0.0;
  const char* route = route_label(path);
  metrics_.observe_request(route, status, ms / 1000.0);
  json line = {{"event", "request"}, {"method", method}, {"route", route}, {"status", status},
               {"ms", std::round(ms * 100) / 100}};
  for (auto it = t_ctx.extra.begin(); it != t_ctx.extra.end(); ++it) line[it.key()] = it.value();
  log_(line.dump());
  t_ctx.recorded = true;
}

void Server::install_routes() {
  httplib::Server& h = *http_;

  h.set_pre_routing_handler([](const httplib::Request&, httplib::Response&) {
    t_ctx.start = Clock::now();
    t_ctx.extra = json::object();
    return httplib::Server::HandlerResponse::Unhandled;
  });
  h.set_error_handler([](const httplib::Request&, httplib::Response& res) {
    if (res.body.empty()) {
      const int st = res.status;
      std::string msg = st == 404 ? "no such route (see GET /openapi.json)"
                        : st == 413 ? "request body too large"
                                    : "request failed";
      set_error(res, st, msg);
    }
  });
  h.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
    set_error(res, 500, "internal error");
  });
  // Metrics and the log line are recorded when the handler is done and before the answer is
  // written (post-routing), so a client that has its answer also sees it counted; requests that
  // never reach a handler (404 routes, 413 bodies, malformed HTTP) are recorded by the logger.
  h.set_post_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
    record(req.method, req.path, res.status == -1 ? 200 : res.status);
  });
  h.set_logger([this](const httplib::Request& req, const httplib::Response& res) {
    if (!t_ctx.recorded) record(req.method, req.path, res.status);
    t_ctx = RequestContext{};
  });

  h.Get("/healthz", [](const httplib::Request&, httplib::Response& res) {
    set_json(res, 200, R"({"status":"ok"})");
  });
  h.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
    QueueGauges g{queue_->depth(), queue_->capacity(), queue_->running(), queue_->rejected()};
    res.set_content(metrics_.render(g), "text/plain; version=0.0.4; charset=utf-8");
  });
  h.Get("/openapi.json", [this](const httplib::Request&, httplib::Response& res) {
    set_json(res, 200, openapi_json(options_.limits));
  });
  h.Get("/", [](const httplib::Request&, httplib::Response& res) {
    res.set_header("Content-Security-Policy",
                   "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'");
    res.set_header("X-Content-Type-Options", "nosniff");
    res.set_content(web_page_html(), "text/html; charset=utf-8");
  });
  h.Get("/v1/policy", [this](const httplib::Request&, httplib::Response& res) {
    if (options_.cce_policy.empty()) {
      set_json(res, 404, R"({"error":"not_found","message":"no CCE policy: this server does not run on Azure Container Instances"})");
      return;
    }
    res.set_content(options_.cce_policy, "text/plain; charset=utf-8");
  });
  h.Get("/v1/info", [this](const httplib::Request&, httplib::Response& res) {
    const auto& info = engine_.info();
    json model = secure::attest::model_digests_json(attester_.model());
    model["architecture"] = info.architecture;
    model["label"] = options_.model_label;
    model["max_input_tokens"] = engine_.max_input_tokens();
    json j = {{"model", model},
              {"dev", options_.dev},
              {"simulated_tee", attester_.simulated()},
              {"tls", tls_ != nullptr},
              {"tls_spki_sha256", tls_ ? json(secure::to_hex(tls_->spki_sha256())) : json(nullptr)},
              {"plaintext_input", options_.allow_plaintext_input},
              {"documents", documents_ != nullptr},
              {"limits", {{"max_body_bytes", options_.limits.max_body_bytes},
                          {"max_text_bytes", options_.limits.max_text_bytes},
                          {"num_beams", options_.limits.max_beams},
                          {"max_length", options_.limits.max_length}}}};
    set_json(res, 200, j.dump());
  });
  h.Get("/v1/documents", [this](const httplib::Request&, httplib::Response& res) {
    json ids = json::array();
    if (documents_) {
      auto listed = documents_->list();
      if (!listed.ok()) {
        log_(json{{"event", "documents_list_failed"}, {"error", listed.status().to_string()}}.dump());
        set_error(res, 503, "the document store cannot be listed right now; try again later");
        return;
      }
      ids = *listed;
    }
    set_json(res, 200, json{{"documents", ids}}.dump());
  });
  h.Get("/v1/attestation", [this](const httplib::Request& req, httplib::Response& res) {
    const std::string nonce = req.get_param_value("nonce");
    if (!valid_nonce(nonce)) {
      set_error(res, 400, "query parameter nonce must be 16..128 characters of [A-Za-z0-9_-]");
      return;
    }
    auto answer = attester_.attest(nonce);
    if (!answer.ok()) {
      t_ctx.extra["error"] = answer.status().to_string();
      set_error(res, 500, "cannot produce attestation evidence");
      return;
    }
    set_json(res, 200, *answer);
  });
  // Parsing runs in the job, under the work queue's bound (a hostile body costs a queue slot, not
  // a connection thread's unbounded share); the body outlives the job (this thread waits for it).
  h.Post("/v1/summarize", [this](const httplib::Request& req, httplib::Response& res) {
    auto promise = std::make_shared<std::promise<Answer>>();
    std::future<Answer> done = promise->get_future();
    const auto submitted = Clock::now();
    const std::string_view body = req.body;
    const bool accepted = queue_->submit([this, promise, body, submitted] {
      try {
        promise->set_value(parse_and_summarize(body, ms_since(submitted)));
      } catch (...) {
        promise->set_value(Answer{500, ApiError{500, "internal", "internal error"}.to_json(), json::object()});
      }
    });
    if (!accepted) {
      res.set_header("Retry-After", std::to_string(options_.retry_after_s));
      set_error(res, 503, "the server is busy (queue full); retry after " + std::to_string(options_.retry_after_s) + " s");
      return;
    }
    Answer a = done.get();
    for (auto it = a.log.begin(); it != a.log.end(); ++it) t_ctx.extra[it.key()] = it.value();
    set_json(res, a.status, a.body);
  });
}

Server::Answer Server::parse_and_summarize(std::string_view body, double queue_ms) {
  ParsedRequest parsed = parse_summarize_request(body, options_.limits);
  if (!parsed.ok()) return Answer{parsed.error.http_status, parsed.error.to_json(), json::object()};
  const SummarizeRequest& r = *parsed.request;
  json log = {{"source", r.text ? "text" : "document"}};
  if (r.document) log["document"] = *r.document;
  if (r.text && !options_.allow_plaintext_input) {
    return Answer{403,
                  ApiError{403, "forbidden",
                           "this server accepts only sealed documents ({\"document\": ID}); plaintext input is off"}
                      .to_json(),
                  std::move(log)};
  }
  Answer a = summarize(r, queue_ms);
  for (auto it = log.begin(); it != log.end(); ++it) a.log[it.key()] = it.value();
  return a;
}

Server::Answer Server::summarize(const SummarizeRequest& req, double queue_ms) {
  auto fail = [](int status, const std::string& message, json log = json::object()) {
    return Answer{status, ApiError{status, error_code_for(status), message}.to_json(), std::move(log)};
  };
  decoding::GenerationParams params = engine_.default_params();
  if (auto e = apply_overrides(req.params, options_.limits, params)) return fail(e->http_status, e->message);

  std::optional<OpenedDocument> doc;
  std::string_view text;
  if (req.document) {
    if (!documents_) return fail(404, "no document \"" + *req.document + "\" (this server has no document store)");
    auto opened = documents_->open(*req.document);
    if (!opened.ok()) {
      const int st = http_status_for(opened.status());
      // The status message names files, ids and checks only (common/status.h contract).
      return fail(st, st == 404 ? opened.status().message() : "document cannot be opened: " + opened.status().message(),
                  json{{"error", opened.status().to_string()}});
    }
    doc.emplace(std::move(opened).value());
    text = doc->text();
  } else {
    text = *req.text;
  }
  // From here to the answer, what the engine holds of the text (prefixed text, ids, summary) is in
  // secret memory (engine.h "Secrets"); the document itself stays in doc's SecretBuffer.
  if (!req.truncate) {
    bool truncated = false;
    (void)engine_.prepare_secret_input(text, &truncated);
    if (truncated) {
      return fail(413, "the input has more than " + std::to_string(engine_.max_input_tokens()) +
                           " tokens; send a shorter text or allow \"truncate\"");
    }
  }
  auto s = engine_.summarize_secret(text, params);
  if (!s.ok()) return fail(s.status().code() == Code::kInvalidArgument ? 400 : 500, s.status().message());
  const auto& t = s->timings;
  const bool sealed_output = doc && doc->output.sealed;
  if (sealed_output) {
    // Nothing about the summary's size or cost in clear (the operator relays the answer and reads
    // /metrics and the log): no token counts, timings or histograms; the ciphertext is padded to
    // a size bucket (secure/output_seal.h).
    auto sealed = secure::seal_output(doc->output, encoding::as_bytes(secure::view(s->text)),
                                      "document:" + *req.document);
    if (!sealed.ok()) return fail(500, "cannot seal the summary: " + sealed.status().message());
    json out = {{"sealed_summary", std::move(sealed).value()}};
    return Answer{200, out.dump(), json{{"sealed_output", true}}};
  }
  metrics_.observe_generation(t.input_tokens, t.generated_tokens, (t.encode_ms + t.decode_ms) / 1000.0);
  json out = {{"input_tokens", t.input_tokens},
              {"output_tokens", t.generated_tokens},
              {"truncated", s->truncated},
              {"timings",
               {{"queue_ms", queue_ms},
                {"tokenize_ms", t.tokenize_ms},
                {"encode_ms", t.encode_ms},
                {"decode_ms", t.decode_ms},
                {"detokenize_ms", t.detokenize_ms},
                {"total_ms", t.total_ms}}},
              {"summary", secure::view(s->text)}};  // leaves in clear: the output policy says so
  std::string body = out.dump(-1, ' ', false, json::error_handler_t::replace);
  return Answer{200, std::move(body),
                json{{"input_tokens", t.input_tokens}, {"output_tokens", t.generated_tokens}, {"sealed_output", false}}};
}

}  // namespace sealsum::server
