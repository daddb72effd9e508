// `sealsum proxy`: a local, verifying proxy for clients that cannot attest (curl, scripts, other
// languages). It listens on loopback only, in plain HTTP, and forwards each request to the sealsum
// server only after attesting that server against the relying party's pins on a fresh upstream
// connection, then sends the request on that same connection, pinned to the attested TLS key
// (server/client.h attested_request). Attestation runs for every request, so a replica behind a
// balancer, a restarted server or a changed key is re-checked each time; nothing is forwarded when
// a check fails (502 {"error":"attestation_refused","message":...,"failed_checks":[...]}).
//
// Forwarded: POST /v1/summarize, GET /v1/documents, /v1/info, /v1/policy, /healthz. Anything else
// is 404 here. Request bodies are bounded (kMaxProxyBodyBytes); answers by kMaxSummaryAnswerBytes.
// Lifetime: create() -> bind() -> run() (blocks) ; stop() from any thread.
// Thread safety: requests are served concurrently; each uses its own upstream connection.
#pragma once

#include <memory>
#include <string>

#include "common/status.h"
#include "server/client.h"

namespace httplib {
class Server;
}

namespace sealsum::server {

inline constexpr size_t kMaxProxyBodyBytes = 16u << 20;

struct ProxyOptions {
  RemoteOptions upstream;  // the server and the pins
  std::string host = "127.0.0.1";  // must be a loopback address
  int port = 0;                    // 0: any free port
};

class Proxy {
 public:
  // kInvalidArgument when the listen address is not loopback or the pins are empty.
  static Result<std::unique_ptr<Proxy>> create(ProxyOptions options);
  ~Proxy();
  Proxy(const Proxy&) = delete;
  Proxy& operator=(const Proxy&) = delete;

  Status bind();
  int port() const { return port_; }
  void run();
  void stop();

 private:
  explicit Proxy(ProxyOptions options);
  ProxyOptions options_;
  std::unique_ptr<httplib::Server> http_;
  int port_ = 0;
};

}  // namespace sealsum::server
