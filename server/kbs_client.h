// The key-release client's HTTP transport (cpp-httplib; only server/ may use it) and the one call
// the CLI and `sealsum serve` make to get a sealing key:
//
//   sealsum::server::obtain_key(const secure::keyrelease::KeyReleaseConfig&)
//       -> Result<secure::SecretBuffer>   (the 32-byte key; see secure/keyrelease/config.h)
//
// HttplibTransport: http:// and https:// URLs (server certificates verified against the system
// CA store, or `ca_cert_file` when set); bounded connect/read timeouts; no redirects; answers
// larger than max_response_bytes (or the request's own bound) are cut off and reported as
// kResourceExhausted. Headers may carry credentials (Authorization) and are never logged; secret
// headers and bodies (client.h HttpRequest) are wiped from this transport's copies after sending.
// Thread safety: a transport may be shared; each post() uses its own connection.
#pragma once

#include <string>

#include "common/status.h"
#include "secure/keyrelease/client.h"
#include "secure/keyrelease/config.h"
#include "secure/secret_buffer.h"

namespace sealsum::server {

struct HttpTransportOptions {
  int connect_timeout_s = 10;
  int read_timeout_s = 60;
  size_t max_response_bytes = 4u << 20;
  std::string ca_cert_file;  // PEM bundle for https (default: the system store)
};

class HttplibTransport : public secure::keyrelease::HttpTransport {
 public:
  explicit HttplibTransport(HttpTransportOptions options = {}) : options_(std::move(options)) {}
  Result<secure::keyrelease::HttpResponse> post(const std::string& url, const std::string& body,
                                                const secure::keyrelease::HttpHeaders& headers) override;
  Result<secure::keyrelease::HttpResponse> send(const secure::keyrelease::HttpRequest& request) override;

 private:
  HttpTransportOptions options_;
};

// Splits "scheme://host[:port]/path?query" into ("scheme://host[:port]", "/path?query").
// kInvalidArgument for anything but http/https URLs.
Result<std::pair<std::string, std::string>> split_url(const std::string& url);

// Runs one key release with the cpp-httplib transport (see secure/keyrelease/config.h).
Result<secure::keyrelease::ReleasedKey> obtain_key(const secure::keyrelease::KeyReleaseConfig& config);

}  // namespace sealsum::server
