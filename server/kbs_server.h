// HTTP shell of the key broker (`sealsum kbs serve`): routes to secure::keyrelease::Broker.
//
//   POST /v1/challenge -> Broker::challenge()      POST /v1/release -> Broker::release(body)
//   GET  /healthz      -> 200 {"status":"ok"}      anything else    -> 404 JSON
// Connections go through GuardedServer (http_guard.h): each request must arrive whole (head and
// body) within read_timeout_s, heads are bounded, bodies over kMaxRequestBytes get 413 before the
// broker sees them, at most max_per_client connections per source address; requests run on
// `threads` workers. One JSON line per request goes to stderr
// (method, path, status, milliseconds; never bodies).
// Lifetime: the Broker must outlive the server. start() binds and serves on a background thread;
// stop() ends serving and joins it (call it from one thread at a time: e.g. a signal-handling
// thread, then the destructor); wait() blocks until serving ended. The destructor stops.
#pragma once

#include <memory>
#include <string>

#include "common/status.h"
#include "secure/broker/broker.h"

namespace sealsum::server {

struct KbsServerOptions {
  std::string host = "127.0.0.1";
  int port = 0;  // 0: any free port (see port())
  size_t threads = 4;
  int read_timeout_s = 10;  // whole-request deadline (head + body), and per-answer write limit
  size_t max_per_client = 32;
  bool log_requests = true;
};

class KbsServer {
 public:
  KbsServer(secure::keyrelease::Broker& broker, KbsServerOptions options);
  ~KbsServer();
  KbsServer(const KbsServer&) = delete;
  KbsServer& operator=(const KbsServer&) = delete;

  // Binds host:port and starts serving on a background thread. kUnavailable if it cannot bind.
  Status start();
  int port() const;
  void stop();
  // Blocks until stop() is called (from another thread or a signal-handling thread).
  void wait();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sealsum::server
