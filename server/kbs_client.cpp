// cpp-httplib transport for key release and obtain_key() (see kbs_client.h).
#include "server/kbs_client.h"

#include <httplib.h>

namespace sealsum::server {

Result<std::pair<std::string, std::string>> split_url(const std::string& url) {
  size_t scheme_end = url.find("://");
  if (scheme_end == std::string::npos) return invalid_argument("URL has no scheme (expected http:// or https://)");
  std::string scheme = url.substr(0, scheme_end);
  if (scheme != "http" && scheme != "https") return invalid_argument("URL scheme must be http or https");
  size_t path_start = url.find('/', scheme_end + 3);
  std::string origin = path_start == std::string::npos ? url : url.substr(0, path_start);
  std::string path = path_start == std::string::npos ? "/" : url.substr(path_start);
  if (origin.size() <= scheme_end + 3) return invalid_argument("URL has no host");
  for (char c : url) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) return invalid_argument("URL contains spaces or control characters");
  }
  return std::make_pair(origin, path);
}

Result<secure::keyrelease::HttpResponse> HttplibTransport::post(const std::string& url, const std::string& body,
                                                               const secure::keyrelease::HttpHeaders& headers) {
  secure::keyrelease::HttpRequest r;
  r.url = url;
  r.body = body;
  r.headers = headers;
  return send(r);
}

Result<secure::keyrelease::HttpResponse> HttplibTransport::send(const secure::keyrelease::HttpRequest& r) {
  if (r.method != "GET" && r.method != "POST") return invalid_argument("HTTP method must be GET or POST");
  SEALSUM_ASSIGN_OR_RETURN(auto parts, split_url(r.url));
  httplib::Client cli(parts.first);
  if (!cli.is_valid()) return invalid_argument("cannot use URL origin " + parts.first);
  const int timeout = r.timeout_s > 0 ? r.timeout_s : options_.read_timeout_s;
  cli.set_connection_timeout(r.timeout_s > 0 ? r.timeout_s : options_.connect_timeout_s, 0);
  cli.set_read_timeout(timeout, 0);
  cli.set_write_timeout(timeout, 0);
  if (!options_.ca_cert_file.empty()) cli.set_ca_cert_path(options_.ca_cert_file.c_str());
  cli.enable_server_certificate_verification(true);

  httplib::Request req;
  req.method = r.method;
  req.path = parts.second;
  for (const auto& [k, v] : r.headers) req.headers.emplace(k, v);
  for (const auto& [k, v] : r.secret_headers) req.headers.emplace(k, std::string(v.begin(), v.end()));
  req.headers.emplace("Accept", "application/json");
  if (r.method == "POST") {
    req.body = std::string(r.body);
    req.set_header("Content-Type", r.content_type);
  }
  const size_t limit = r.max_response_bytes != 0 ? r.max_response_bytes : options_.max_response_bytes;
  secure::keyrelease::HttpResponse out;
  if (r.secret_response) {
    SEALSUM_ASSIGN_OR_RETURN(out.secret_body, secure::SecretBuffer::allocate(limit));
  }
  size_t received = 0;
  bool too_big = false;
  req.content_receiver = [&](const char* data, size_t n, uint64_t, uint64_t) {
    if (received + n > limit) {
      too_big = true;
      return false;
    }
    if (r.secret_response) std::copy(data, data + n, out.secret_body.data() + received);
    else out.body.append(data, n);
    received += n;
    return true;
  };
  auto res = cli.send(req);
  // Our copies of credentials (httplib's own transient buffers are beyond reach).
  for (auto& [k, v] : req.headers) secure::wipe(v.data(), v.size());
  if (r.secret_body) secure::wipe(req.body.data(), req.body.size());
  if (too_big) {
    return resource_exhausted(parts.first + " sent an answer larger than " + std::to_string(limit) + " bytes");
  }
  if (!res) {
    return unavailable("cannot reach " + parts.first + ": " + httplib::to_string(res.error()) +
                       " (is the service running and the URL right?)");
  }
  out.status = res->status;
  if (r.secret_response) out.secret_body.truncate(received);
  return out;
}

Result<secure::keyrelease::ReleasedKey> obtain_key(const secure::keyrelease::KeyReleaseConfig& config) {
  HttplibTransport transport;
  return secure::keyrelease::obtain_key(config, transport);
}

}  // namespace sealsum::server
