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
  SEALSUM_ASSIGN_OR_RETURN(auto parts, split_url(url));
  httplib::Client cli(parts.first);
  if (!cli.is_valid()) return invalid_argument("cannot use URL origin " + parts.first);
  cli.set_connection_timeout(options_.connect_timeout_s, 0);
  cli.set_read_timeout(options_.read_timeout_s, 0);
  cli.set_write_timeout(options_.read_timeout_s, 0);
  if (!options_.ca_cert_file.empty()) cli.set_ca_cert_path(options_.ca_cert_file.c_str());
  cli.enable_server_certificate_verification(true);

  httplib::Request req;
  req.method = "POST";
  req.path = parts.second;
  for (const auto& [k, v] : headers) req.headers.emplace(k, v);
  req.headers.emplace("Accept", "application/json");
  req.body = body;
  req.set_header("Content-Type", "application/json");
  std::string received;
  bool too_big = false;
  const size_t limit = options_.max_response_bytes;
  req.content_receiver = [&](const char* data, size_t n, uint64_t, uint64_t) {
    if (received.size() + n > limit) {
      too_big = true;
      return false;
    }
    received.append(data, n);
    return true;
  };
  auto res = cli.send(req);
  if (too_big) return unavailable(parts.first + " sent an answer larger than " + std::to_string(limit) + " bytes");
  if (!res) {
    return unavailable("cannot reach " + parts.first + ": " + httplib::to_string(res.error()) +
                       " (is the service running and the URL right?)");
  }
  return secure::keyrelease::HttpResponse{res->status, std::move(received)};
}

Result<secure::keyrelease::ReleasedKey> obtain_key(const secure::keyrelease::KeyReleaseConfig& config) {
  HttplibTransport transport;
  return secure::keyrelease::obtain_key(config, transport);
}

}  // namespace sealsum::server
