// A guarded HTTP(S) front for cpp-httplib's routing, shared by `sealsum serve` and `sealsum kbs serve`.
//
// Why: cpp-httplib 0.11.4 (Debian) reads each request on a pool thread with a per-read timeout, no
// cap on header count, an unbounded accept queue and no per-client limit, so a few slow clients
// hold every thread and one header flood grows memory without bound. GuardedServer replaces its
// accept loop and connection threads and keeps only its request parsing and routing
// (httplib::Server::process_request):
//   - one event-loop thread accepts connections, runs TLS handshakes, and reads each request's head
//     and body without blocking, with one deadline for the whole request (handshake + head + body;
//     request_deadline from accept, or from the first byte of a kept-alive connection's next
//     request). Late requests get 408, oversized heads (bytes or header count) 431, bodies over
//     max_body_bytes 413, chunked bodies 411, each then closed. Kept-alive connections wait in the
//     loop at most idle_timeout.
//   - a worker thread gets a connection only when its whole request is buffered: handlers never
//     wait on a client's reads; writes wait at most write_timeout per answer.
//   - admission at accept: at most max_connections open (loop + queued + workers) and
//     max_per_client per source address, requests queued for a worker at most max_pending, and at
//     most max_buffered_bytes buffered in the loop; over any of them the connection gets 503 and
//     is closed (plain HTTP; TLS connections are closed).
// Ownership: the TLS identity (optional) must outlive the server. Routes are installed on the
// httplib::Server base as usual; httplib's own listen()/bind_to_port()/stop() must not be used.
// Thread safety: stop_serving() may be called from any thread (and before serve()); the rest from
// one thread.
#pragma once

#include <httplib.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "common/status.h"
#include "secure/tls_identity.h"

namespace sealsum::server {

struct GuardLimits {
  std::chrono::milliseconds request_deadline{10000};
  std::chrono::milliseconds idle_timeout{5000};
  std::chrono::milliseconds write_timeout{10000};
  size_t max_head_bytes = 16 * 1024;  // request line + headers + blank line
  size_t max_header_count = 64;
  size_t max_body_bytes = 64 * 1024;
  size_t workers = 8;
  size_t max_pending = 64;
  size_t max_connections = 512;
  size_t max_per_client = 64;
  size_t max_buffered_bytes = 64u << 20;
  size_t max_requests_per_connection = 100;
};

// Counters of what the guard refused (monotonic; readable from any thread).
struct GuardStats {
  std::atomic<uint64_t> refused_busy{0};        // connection or buffer caps, full queue
  std::atomic<uint64_t> refused_per_client{0};  // max_per_client
  std::atomic<uint64_t> timed_out{0};           // request_deadline passed (408)
  std::atomic<uint64_t> head_too_large{0};      // 431
  std::atomic<uint64_t> body_refused{0};        // 413 / 411 / bad Content-Length
};

// Result of scanning a complete request head (what the event loop needs to know before routing).
struct HeadScan {
  enum class State { kComplete, kIncomplete, kTooLarge, kTooManyHeaders, kBadLength, kChunked };
  State state = State::kIncomplete;
  size_t head_bytes = 0;      // through the blank line
  size_t content_length = 0;  // 0 when absent
  // The "Expect: 100-continue" line [begin, end) including its line end; begin == end when absent.
  size_t expect_begin = 0, expect_end = 0;
};
// Scans `buf` (bytes received so far) for a request head of at most max_head_bytes and
// max_header_count header lines. Lines end in LF (CRLF accepted). Content-Length must be 1-18
// digits and agree when repeated; any Transfer-Encoding is kChunked. Never reads past buf.
HeadScan scan_request_head(std::string_view buf, size_t max_head_bytes, size_t max_header_count);

// Body of a refusal the guard sends itself: (status, short code, message) -> JSON.
using GuardErrorBody = std::function<std::string(int status, const std::string& code, const std::string& message)>;

class GuardedServer : public httplib::Server {
 public:
  // `tls` null: plain HTTP.
  GuardedServer(GuardLimits limits, const secure::TlsIdentity* tls, GuardErrorBody error_body);
  ~GuardedServer() override;
  GuardedServer(const GuardedServer&) = delete;
  GuardedServer& operator=(const GuardedServer&) = delete;

  // Binds and listens on host:port (0: any free port). kUnavailable when it cannot; kInternal
  // when the TLS context cannot be set up.
  Status listen_on(const std::string& host, int port);
  int bound_port() const { return port_; }
  // Serves until stop_serving(); then answers what is already queued, closes every connection and
  // joins its threads. Returns at once if stop_serving() came first.
  void serve();
  void stop_serving();
  bool serving() const { return serving_; }
  const GuardStats& stats() const { return stats_; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  GuardStats stats_;
  int port_ = 0;
  std::atomic<bool> serving_{false};
};

}  // namespace sealsum::server
