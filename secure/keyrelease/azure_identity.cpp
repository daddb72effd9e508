// Managed-identity tokens: environment, source selection, requests, and the in-place token
// answer parser (see azure_identity.h).
#include "secure/keyrelease/azure_identity.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <cstring>
#include <ctime>

#include "common/encoding.h"
#include "common/files.h"

namespace sealsum::secure::keyrelease {
namespace {

constexpr int kMaxDepth = 8;

// A cursor over the answer bytes; every read is bounds-checked.
struct Cursor {
  std::span<const uint8_t> in;
  size_t pos = 0;
  bool end() const { return pos >= in.size(); }
  uint8_t peek() const { return in[pos]; }
  void ws() {
    while (!end() && (peek() == ' ' || peek() == '\t' || peek() == '\n' || peek() == '\r')) ++pos;
  }
  bool eat(uint8_t c) {
    ws();
    if (end() || peek() != c) return false;
    ++pos;
    return true;
  }
};

// A string starting at the opening quote; returns the raw bytes between the quotes (escapes left
// as they are, but validated) and whether any escape occurred.
Result<std::span<const uint8_t>> scan_string(Cursor& c, bool* escaped) {
  if (!c.eat('"')) return data_loss("a string was expected");
  const size_t start = c.pos;
  *escaped = false;
  while (!c.end()) {
    uint8_t ch = c.peek();
    if (ch == '"') {
      std::span<const uint8_t> raw = c.in.subspan(start, c.pos - start);
      ++c.pos;
      return raw;
    }
    if (ch < 0x20) return data_loss("a string holds a control character");
    if (ch == '\\') {
      *escaped = true;
      if (++c.pos >= c.in.size()) break;
      uint8_t e = c.peek();
      if (e == 'u') {
        for (int i = 0; i < 4; ++i) {
          if (++c.pos >= c.in.size() || !std::isxdigit(c.peek())) return data_loss("a string has a bad \\u escape");
        }
      } else if (std::string_view("\"\\/bfnrt").find(static_cast<char>(e)) == std::string_view::npos) {
        return data_loss("a string has a bad escape");
      }
    }
    ++c.pos;
  }
  return data_loss("a string is not terminated");
}

Status skip_value(Cursor& c, int depth);

Status skip_container(Cursor& c, int depth, uint8_t close, bool object) {
  if (depth > kMaxDepth) return data_loss("values are nested too deeply");
  ++c.pos;  // the opening bracket
  if (c.eat(close)) return Status::ok();
  for (;;) {
    if (object) {
      bool esc = false;
      SEALSUM_ASSIGN_OR_RETURN(auto key, scan_string(c, &esc));
      (void)key;
      if (!c.eat(':')) return data_loss("a ':' was expected");
    }
    SEALSUM_RETURN_IF_ERROR(skip_value(c, depth + 1));
    if (c.eat(close)) return Status::ok();
    if (!c.eat(',')) return data_loss("a ',' or a closing bracket was expected");
  }
}

Status skip_value(Cursor& c, int depth) {
  c.ws();
  if (c.end()) return data_loss("a value was expected");
  const uint8_t ch = c.peek();
  if (ch == '"') {
    bool esc = false;
    return scan_string(c, &esc).status();
  }
  if (ch == '{') return skip_container(c, depth, '}', true);
  if (ch == '[') return skip_container(c, depth, ']', false);
  for (std::string_view lit : {"true", "false", "null"}) {
    if (c.in.size() - c.pos >= lit.size() && std::equal(lit.begin(), lit.end(), c.in.begin() + c.pos)) {
      c.pos += lit.size();
      return Status::ok();
    }
  }
  const size_t start = c.pos;
  while (!c.end() && std::string_view("0123456789+-.eE").find(static_cast<char>(c.peek())) != std::string_view::npos) {
    ++c.pos;
  }
  if (c.pos == start) return data_loss("an unexpected character");
  return Status::ok();
}

// A non-negative integer given as a JSON number or a decimal string (IMDS sends strings).
Result<int64_t> scan_integer(Cursor& c) {
  c.ws();
  const bool quoted = !c.end() && c.peek() == '"';
  if (quoted) ++c.pos;
  int64_t v = 0;
  size_t digits = 0;
  while (!c.end() && c.peek() >= '0' && c.peek() <= '9') {
    if (++digits > 15) return data_loss("a time value is too large");
    v = v * 10 + (c.peek() - '0');
    ++c.pos;
  }
  if (digits == 0 || (quoted && !c.eat('"'))) return data_loss("a time value is not a decimal integer");
  return v;
}

bool is_token_char(uint8_t ch) {
  return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
         std::string_view("._~+/=-").find(static_cast<char>(ch)) != std::string_view::npos;
}

bool key_is(std::span<const uint8_t> key, std::string_view name) {
  return key.size() == name.size() && std::equal(name.begin(), name.end(), key.begin());
}

bool safe_id(std::string_view s, std::string_view extra) {
  if (s.empty() || s.size() > 128) return false;
  for (char ch : s) {
    if (!std::isalnum(static_cast<unsigned char>(ch)) && extra.find(ch) == std::string_view::npos) return false;
  }
  return true;
}

std::string env_or_empty(const char* name) {
  const char* v = std::getenv(name);
  return v == nullptr ? std::string() : std::string(v);
}

}  // namespace

Result<IdentityKind> parse_identity_kind(std::string_view name) {
  if (name == "auto") return IdentityKind::kAuto;
  if (name == "app-service") return IdentityKind::kAppService;
  if (name == "workload") return IdentityKind::kWorkload;
  if (name == "imds") return IdentityKind::kImds;
  return invalid_argument("identity source must be auto, app-service, workload or imds");
}

const char* identity_kind_name(IdentityKind kind) {
  switch (kind) {
    case IdentityKind::kAppService: return "managed identity endpoint ($IDENTITY_ENDPOINT)";
    case IdentityKind::kWorkload: return "workload identity (Microsoft Entra token endpoint)";
    case IdentityKind::kImds: return "managed identity via IMDS";
    default: return "managed identity (auto)";
  }
}

Result<IdentityEnvironment> read_identity_environment() {
  IdentityEnvironment e;
  e.identity_endpoint = env_or_empty("IDENTITY_ENDPOINT");
  e.federated_token_file = env_or_empty("AZURE_FEDERATED_TOKEN_FILE");
  e.client_id = env_or_empty("AZURE_CLIENT_ID");
  e.tenant_id = env_or_empty("AZURE_TENANT_ID");
  e.authority_host = env_or_empty("AZURE_AUTHORITY_HOST");
  if (const char* h = std::getenv("IDENTITY_HEADER"); h != nullptr && *h != '\0') {
    SEALSUM_ASSIGN_OR_RETURN(e.identity_header,
                             SecretBuffer::copy_of({reinterpret_cast<const uint8_t*>(h), std::strlen(h)}));
  }
  return e;
}

std::string key_vault_resource(std::string_view url) {
  size_t host = url.find("://");
  host = host == std::string_view::npos ? 0 : host + 3;
  std::string_view h = url.substr(host, url.find_first_of(":/", host) - host);
  return h.ends_with(".managedhsm.azure.net") ? "https://managedhsm.azure.net" : "https://vault.azure.net";
}

Result<IdentityKind> select_identity(const IdentityEnvironment& env, IdentityKind requested) {
  const bool app = !env.identity_endpoint.empty() && !env.identity_header.empty();
  const bool workload = !env.federated_token_file.empty() && !env.client_id.empty() && !env.tenant_id.empty();
  switch (requested) {
    case IdentityKind::kAuto: return app ? IdentityKind::kAppService : workload ? IdentityKind::kWorkload : IdentityKind::kImds;
    case IdentityKind::kAppService:
      if (!app) return invalid_argument("the app-service identity needs IDENTITY_ENDPOINT and IDENTITY_HEADER set");
      return requested;
    case IdentityKind::kWorkload:
      if (!workload) {
        return invalid_argument("workload identity needs AZURE_FEDERATED_TOKEN_FILE, AZURE_CLIENT_ID and AZURE_TENANT_ID "
                                "set (the AKS workload identity webhook sets them for pods labelled "
                                "azure.workload.identity/use)");
      }
      return requested;
    default: return requested;
  }
}

Result<AccessToken> parse_token_response(std::span<const uint8_t> body, int64_t now) {
  if (body.size() > kMaxTokenResponseBytes) return resource_exhausted("the token answer is too large");
  Cursor c{body, 0};
  AccessToken out;
  bool have_token = false;
  int64_t expires_on = -1, expires_in = -1;
  if (!c.eat('{')) return data_loss("the token answer is not a JSON object");
  if (!c.eat('}')) {
    for (;;) {
      bool esc = false;
      SEALSUM_ASSIGN_OR_RETURN(auto key, scan_string(c, &esc));
      if (!c.eat(':')) return data_loss("the token answer lacks a ':'");
      if (!esc && key_is(key, "access_token")) {
        if (have_token) return data_loss("the token answer has two access tokens");
        SEALSUM_ASSIGN_OR_RETURN(auto raw, scan_string(c, &esc));
        if (esc || raw.empty() || raw.size() > kMaxAccessTokenBytes || !std::all_of(raw.begin(), raw.end(), is_token_char)) {
          return data_loss("the token answer's access_token is not a bounded token string");
        }
        SEALSUM_ASSIGN_OR_RETURN(out.value, SecretBuffer::copy_of(raw));
        have_token = true;
      } else if (!esc && key_is(key, "token_type")) {
        SEALSUM_ASSIGN_OR_RETURN(auto raw, scan_string(c, &esc));
        std::string_view t(reinterpret_cast<const char*>(raw.data()), raw.size());
        if (t != "Bearer" && t != "bearer") return data_loss("the token answer's token_type is not Bearer");
      } else if (!esc && (key_is(key, "expires_on") || key_is(key, "expires_in"))) {
        const bool on = key_is(key, "expires_on");
        Cursor probe = c;
        auto v = scan_integer(probe);
        if (v.ok()) {
          c = probe;
          (on ? expires_on : expires_in) = *v;
        } else {
          SEALSUM_RETURN_IF_ERROR(skip_value(c, 1));  // e.g. App Service's old date strings: no expiry
        }
      } else {
        SEALSUM_RETURN_IF_ERROR(skip_value(c, 1));
      }
      if (c.eat('}')) break;
      if (!c.eat(',')) return data_loss("the token answer lacks a ',' between members");
    }
  }
  c.ws();
  if (!c.end()) return data_loss("the token answer has bytes after its JSON object");
  if (!have_token) return data_loss("the token answer has no access_token");
  out.expires_at = expires_on > 0 ? expires_on : expires_in >= 0 ? now + expires_in : 0;
  return out;
}

Result<std::shared_ptr<ManagedIdentityCredential>> ManagedIdentityCredential::create(
    ManagedIdentityOptions o, IdentityEnvironment env, std::shared_ptr<HttpTransport> transport) {
  if (!transport) return invalid_argument("managed identity needs an HTTP transport");
  SEALSUM_ASSIGN_OR_RETURN(IdentityKind kind, select_identity(env, o.kind));
  if (o.client_id.empty()) o.client_id = env.client_id;
  if (!o.client_id.empty() && !safe_id(o.client_id, "-")) {
    return invalid_argument("the identity client id must be a GUID-like id ([A-Za-z0-9-])");
  }
  if (kind == IdentityKind::kWorkload) {
    if (!safe_id(env.tenant_id, "-.")) return invalid_argument("AZURE_TENANT_ID must be a tenant id or domain");
    if (env.authority_host.empty()) env.authority_host = "https://login.microsoftonline.com/";
    if (!env.authority_host.ends_with("/")) env.authority_host += "/";
    const bool loopback = env.authority_host.starts_with("http://127.0.0.1:") ||
                          env.authority_host.starts_with("http://localhost:");
    if (!env.authority_host.starts_with("https://") && !loopback) {
      return invalid_argument("AZURE_AUTHORITY_HOST must be an https:// URL (the client assertion is a credential)");
    }
  }
  if (o.resource.empty() || o.resource.find_first_of(" ?#&") != std::string::npos) {
    return invalid_argument("the token resource must be a plain URL such as https://vault.azure.net");
  }
  return std::shared_ptr<ManagedIdentityCredential>(
      new ManagedIdentityCredential(std::move(o), std::move(env), std::move(transport), kind));
}

Result<SecretBuffer> ManagedIdentityCredential::token() {
  std::lock_guard<std::mutex> lock(mu_);
  const int64_t now = static_cast<int64_t>(std::time(nullptr));
  if (cached_.value.empty() || cached_.expires_at - 300 <= now) {
    SEALSUM_ASSIGN_OR_RETURN(AccessToken fresh, fetch());
    cached_ = std::move(fresh);
  }
  return SecretBuffer::copy_of(cached_.value.span());
}

Result<AccessToken> ManagedIdentityCredential::fetch() {
  Result<AccessToken> r = kind_ == IdentityKind::kAppService ? fetch_app_service()
                          : kind_ == IdentityKind::kWorkload ? fetch_workload()
                                                             : fetch_imds();
  if (!r.ok()) return r.status().with_context(std::string("access token from the ") + identity_kind_name(kind_));
  return r;
}

Result<AccessToken> ManagedIdentityCredential::finish(const HttpRequest& request) {
  SEALSUM_ASSIGN_OR_RETURN(HttpResponse res, transport_->send(request));
  const std::string what = "the endpoint answered HTTP " + std::to_string(res.status);
  if (res.status == 401 || res.status == 403) return permission_denied(what + " (is this identity assigned?)");
  if (res.status == 429 || res.status >= 500) return unavailable(what + "; retry later");
  if (res.status != 200) return invalid_argument(what + " (check the identity client id and resource)");
  return parse_token_response(res.secret_body.span(), static_cast<int64_t>(std::time(nullptr)));
}

Result<AccessToken> ManagedIdentityCredential::fetch_app_service() {
  HttpRequest r;
  r.method = "GET";
  r.url = env_.identity_endpoint + (env_.identity_endpoint.find('?') == std::string::npos ? "?" : "&") +
          "api-version=2019-08-01&resource=" + encoding::percent_encode(options_.resource);
  if (!options_.client_id.empty()) r.url += "&client_id=" + encoding::percent_encode(options_.client_id);
  r.secret_headers.emplace_back("X-IDENTITY-HEADER", env_.identity_header.span());
  r.secret_response = true;
  r.max_response_bytes = kMaxTokenResponseBytes;
  r.timeout_s = options_.timeout_s;
  return finish(r);
}

Result<AccessToken> ManagedIdentityCredential::fetch_imds() {
  HttpRequest r;
  r.method = "GET";
  r.url = options_.imds_endpoint + "/metadata/identity/oauth2/token?api-version=2018-02-01&resource=" +
          encoding::percent_encode(options_.resource);
  if (!options_.client_id.empty()) r.url += "&client_id=" + encoding::percent_encode(options_.client_id);
  r.headers.emplace_back("Metadata", "true");
  r.secret_response = true;
  r.max_response_bytes = kMaxTokenResponseBytes;
  r.timeout_s = options_.timeout_s;
  return finish(r);
}

Result<AccessToken> ManagedIdentityCredential::fetch_workload() {
  // The projected token file rotates (about hourly): read it for every exchange.
  SEALSUM_ASSIGN_OR_RETURN(std::string file, read_file_bounded(env_.federated_token_file, kMaxAccessTokenBytes));
  SEALSUM_ASSIGN_OR_RETURN(SecretBuffer assertion, SecretBuffer::copy_of(
                                                      {reinterpret_cast<const uint8_t*>(file.data()), file.size()}));
  wipe(file.data(), file.size());
  size_t n = assertion.size();
  while (n > 0 && std::isspace(assertion.data()[n - 1])) --n;
  assertion.truncate(n);
  if (n == 0 || !std::all_of(assertion.data(), assertion.data() + n, is_token_char)) {
    return data_loss("AZURE_FEDERATED_TOKEN_FILE does not hold a token");
  }
  const std::string head = "grant_type=client_credentials&client_id=" + encoding::percent_encode(options_.client_id) +
                           "&scope=" + encoding::percent_encode(options_.resource + "/.default") +
                           "&client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer"
                           "&client_assertion=";
  SEALSUM_ASSIGN_OR_RETURN(SecretBuffer form, SecretBuffer::allocate(head.size() + n));
  std::copy(head.begin(), head.end(), form.data());
  std::copy(assertion.data(), assertion.data() + n, form.data() + head.size());
  HttpRequest r;
  r.url = env_.authority_host + env_.tenant_id + "/oauth2/v2.0/token";
  r.body = {reinterpret_cast<const char*>(form.data()), form.size()};
  r.secret_body = true;
  r.content_type = "application/x-www-form-urlencoded";
  r.secret_response = true;
  r.max_response_bytes = kMaxTokenResponseBytes;
  r.timeout_s = options_.timeout_s;
  return finish(r);
}

}  // namespace sealsum::secure::keyrelease
