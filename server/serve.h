// `sealsum serve`: the HTTP(S) service over one loaded Engine.
//
// Routes:
//   POST /v1/summarize          summarize {"text"} (when allowed) or {"document": ID} (serve_api.h)
//   GET  /v1/attestation?nonce= evidence binding the nonce and the TLS key (serve_attest.h)
//   GET  /v1/documents          {"documents": [ids]}
//   GET  /v1/info               model (architecture, label, sha256, sealed_sha256: the digests the
//                               attestation's runtime data binds), mode, limits
//   GET  /v1/policy             the CCE policy text whose SHA-256 is HOST_DATA (ACI; 404 elsewhere)
//   GET  /healthz   GET /metrics (Prometheus)   GET /openapi.json   GET / (the web page)
//
// Connections: GuardedServer (http_guard.h) reads each whole request (head + body) within
// read_timeout_s without holding a thread, bounds heads, connections (max_connections_per_client
// per source address) and queued requests, and only then hands it to a connection thread.
// Flow of a summary: a connection thread (http_threads of them) submits the body to the
// WorkQueue (queue.h: `workers` threads, `queue_capacity` waiting); a full queue answers 503 with
// Retry-After at once. The worker parses the body (bounded JSON: serve_api.h), opens the document
// (key release on first use), runs the engine and builds the answer; the connection thread waits
// for it. Bodies over limits.max_body_bytes get 413 before they are read.
//
// Logs: one JSON object per line through `log` (stderr by default): start/stop events and per
// request {"event":"request","method","route","status","ms", and for summaries "input_tokens",
// "output_tokens","source":"text"|"document","document": ID}. Never document text, summaries,
// request bodies, keys or nonces' meaning beyond their length. Summaries sealed to a consumer
// (output policy) are answered with the padded sealed_summary only: no token counts or timings in
// the answer, the log or /metrics.
//
// Lifetime: create() -> bind() -> run() (blocks until stop()) ; stop() is safe from any thread
// (e.g. a signal-waiting thread) and drains queued work before run() returns.
// Thread safety: stop(), port(), metrics() may be called from any thread.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"
#include "engine/engine.h"
#include "secure/tls_identity.h"
#include "server/metrics.h"
#include "server/queue.h"
#include "server/serve_api.h"
#include "server/serve_attest.h"
#include "server/serve_documents.h"

namespace sealsum::server {

class GuardedServer;

using LogSink = std::function<void(const std::string& json_line)>;
// Writes the line + '\n' to stderr under a mutex.
LogSink stderr_log();

struct ServeOptions {
  std::string host = "127.0.0.1";
  int port = 0;  // 0: any free port (see port())
  bool dev = false;                    // simulated TEE, plain HTTP (reported in /v1/info)
  bool allow_plaintext_input = false;  // accept {"text": ...}
  ApiLimits limits;
  size_t workers = 2;
  size_t queue_capacity = 8;
  size_t http_threads = 16;
  size_t max_connections_per_client = 32;
  int read_timeout_s = 10;   // whole request (TLS handshake, head and body)
  int write_timeout_s = 10;  // whole answer
  int retry_after_s = 2;
  std::string model_label;  // shown in /v1/info (a file name; not secret)
  std::string cce_policy;   // ACI's CCE policy (Rego), served at /v1/policy; empty: 404
};

class Server {
 public:
  // `documents` may be null (no --documents); `tls` null means plain HTTP (dev only). The engine,
  // attester, documents and tls identity must outlive the server.
  static Result<std::unique_ptr<Server>> create(ServeOptions options, const engine::Engine& engine,
                                                Attester& attester, DocumentStore* documents,
                                                const secure::TlsIdentity* tls, LogSink log);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds host:port (kUnavailable when it cannot).
  Status bind();
  int port() const { return port_; }
  std::string base_url() const;
  // Serves until stop(); then drains the queue. Returns when everything has finished.
  void run();
  void stop();

  const Metrics& metrics() const { return metrics_; }
  const WorkQueue& queue() const { return *queue_; }

 private:
  Server(ServeOptions options, const engine::Engine& engine, Attester& attester, DocumentStore* documents,
         const secure::TlsIdentity* tls, LogSink log);
  void install_routes();
  // Counts one answered request and writes its log line (connection thread; see serve.cpp).
  void record(const std::string& method, const std::string& path, int status);
  struct Answer;
  Answer summarize(const SummarizeRequest& req, double queue_ms);
  // Parses a /v1/summarize body (bounded JSON, serve_api.h), applies the input policy, summarizes.
  Answer parse_and_summarize(std::string_view body, double queue_ms);

  ServeOptions options_;
  const engine::Engine& engine_;
  Attester& attester_;
  DocumentStore* documents_;
  const secure::TlsIdentity* tls_;
  LogSink log_;
  Metrics metrics_;
  std::unique_ptr<WorkQueue> queue_;
  std::unique_ptr<GuardedServer> http_;
  int port_ = 0;
  std::atomic<bool> stopped_{false};
};

}  // namespace sealsum::server
