// Directory and HTTP(S) blob sources of sealed documents (see document_sources.h).
#include "server/document_sources.h"

#include <fcntl.h>
#include <httplib.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "common/atomic_file.h"
#include "common/encoding.h"
#include "common/files.h"
#include "server/kbs_client.h"
#include "server/serve_api.h"

namespace sealsum::server {
namespace {

namespace fs = std::filesystem;
constexpr char kSuffix[] = ".sealed";
constexpr size_t kSuffixLen = sizeof kSuffix - 1;

// "<id>.sealed" -> id when the id is valid, else "".
std::string id_of(std::string_view name) {
  if (name.size() <= kSuffixLen || name.substr(name.size() - kSuffixLen) != kSuffix) return "";
  std::string id(name.substr(0, name.size() - kSuffixLen));
  return valid_document_id(id) ? id : "";
}

class DirectorySource : public DocumentSource {
 public:
  explicit DirectorySource(fs::path dir) : dir_(std::move(dir)) {}
  Result<std::vector<std::string>> list() const override {
    std::vector<std::string> ids;
    std::error_code ec;
    for (fs::directory_iterator it(dir_, ec), end; !ec && it != end; it.increment(ec)) {
      std::string id = id_of(it->path().filename().string());
      if (!id.empty() && it->is_regular_file(ec)) ids.push_back(std::move(id));
    }
    if (ec) return unavailable("cannot list " + dir_.string() + ": " + ec.message());
    std::sort(ids.begin(), ids.end());
    return ids;
  }
  Result<std::string> fetch(const std::string& id, size_t max_bytes) const override {
    if (!valid_document_id(id)) return invalid_argument("invalid document id");
    const fs::path path = dir_ / (id + kSuffix);
    std::error_code ec;
    if (!fs::is_regular_file(path, ec)) return not_found("no document \"" + id + "\"");
    auto bytes = read_file_bounded(path, max_bytes);
    if (!bytes.ok() && bytes.status().code() == Code::kResourceExhausted) {
      return resource_exhausted("document \"" + id + "\" is larger than the limit");
    }
    return bytes;
  }
  Result<std::optional<std::string>> fetch_summary(const std::string& id, size_t max_bytes) const override {
    if (!valid_document_id(id)) return invalid_argument("invalid document id");
    const fs::path path = dir_ / (id + kSummarySuffix);
    std::error_code ec;
    if (!fs::exists(fs::symlink_status(path, ec))) return std::optional<std::string>();
    if (!fs::is_regular_file(path, ec)) {
      return invalid_argument("the summary of \"" + id + "\" in " + dir_.string() + " is not a regular file");
    }
    auto bytes = read_file_bounded(path, max_bytes);
    if (!bytes.ok()) {
      if (bytes.status().code() == Code::kResourceExhausted) {
        return resource_exhausted("the summary of \"" + id + "\" is larger than the limit");
      }
      return bytes.status();
    }
    return std::optional<std::string>(std::move(bytes).value());
  }

  Result<bool> store_summary(const std::string& id, std::string_view bytes, bool replace) const override {
    if (!valid_document_id(id)) return invalid_argument("invalid document id");
    const fs::path final_path = dir_ / (id + kSummarySuffix);
    auto fail = [&](const Status& st) -> Status {
      return unavailable("cannot store the summary of \"" + id + "\" in " + dir_.string() + ": " + st.message() +
                         " (is the directory writable?)");
    };
    const std::span<const uint8_t> data(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
    if (replace) {
      Status st = write_file_atomic(final_path, data);
      if (!st.is_ok()) return fail(st);
      return true;
    }
    auto written = write_file_atomic_if_absent(final_path, data);
    if (!written.ok()) return fail(written.status());
    return *written;
  }

  std::string describe() const override { return dir_.string(); }

 private:
  fs::path dir_;
};

class BlobSource : public DocumentSource {
 public:
  BlobSource(std::string origin, std::string container_path, std::string query, int timeout_s)
      : origin_(std::move(origin)), path_(std::move(container_path)), query_(std::move(query)), timeout_s_(timeout_s) {}

  Result<std::vector<std::string>> list() const override {
    std::vector<std::string> ids;
    std::string marker;
    for (int page = 0; page < kMaxListPages; ++page) {
      std::string target = path_ + "?restype=container&comp=list" + (query_.empty() ? "" : "&" + query_);
      if (!marker.empty()) target += "&marker=" + encoding::percent_encode(marker);
      SEALSUM_ASSIGN_OR_RETURN(auto body, get(target, kMaxListAnswerBytes, "listing the container"));
      if (!body.has_value()) return not_found("the blob container " + describe() + " does not exist");
      BlobListPage p = parse_blob_list(*body);
      ids.insert(ids.end(), p.ids.begin(), p.ids.end());
      if (p.next_marker.empty()) {
        std::sort(ids.begin(), ids.end());
        ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
        return ids;
      }
      marker = std::move(p.next_marker);
    }
    return unavailable("the blob container " + describe() + " lists more than " + std::to_string(kMaxListPages) +
                       " pages");
  }

  Result<std::string> fetch(const std::string& id, size_t max_bytes) const override {
    if (!valid_document_id(id)) return invalid_argument("invalid document id");
    SEALSUM_ASSIGN_OR_RETURN(auto body, get(blob_target(id + kSuffix), max_bytes, "document \"" + id + "\""));
    if (!body.has_value()) return not_found("no document \"" + id + "\"");
    return std::move(body).value();
  }

  Result<std::optional<std::string>> fetch_summary(const std::string& id, size_t max_bytes) const override {
    if (!valid_document_id(id)) return invalid_argument("invalid document id");
    return get(blob_target(id + kSummarySuffix), max_bytes, "the summary of \"" + id + "\"");
  }

  // Put Blob (BlockBlob) of the whole summary: atomic on the service side. Without replace,
  // "If-None-Match: *" makes the service refuse (409/412) when the blob exists.
  Result<bool> store_summary(const std::string& id, std::string_view bytes, bool replace) const override {
    if (!valid_document_id(id)) return invalid_argument("invalid document id");
    const std::string what = "storing the summary of \"" + id + "\"";
    SEALSUM_ASSIGN_OR_RETURN(auto cli, client());
    httplib::Headers headers = {{"x-ms-version", "2021-08-06"}, {"x-ms-blob-type", "BlockBlob"}};
    if (!replace) headers.emplace("If-None-Match", "*");
    auto res = cli->Put(blob_target(id + kSummarySuffix), headers, bytes.data(), bytes.size(), "application/json");
    if (!res) {
      return unavailable(what + ": cannot reach " + origin_ + ": " + httplib::to_string(res.error()) +
                         " (is the storage URL right?)");
    }
    if (res->status == 201 || res->status == 200) return true;
    if (!replace && (res->status == 409 || res->status == 412)) return false;
    return unavailable(what + ": " + describe() + " answered HTTP " + std::to_string(res->status) +
                       (res->status == 403 ? " (is the SAS token valid and allowed to create and write blobs?)" : ""));
  }

  std::string describe() const override { return origin_ + path_; }

 private:
  std::string blob_target(const std::string& name) const {
    return path_ + "/" + name + (query_.empty() ? "" : "?" + query_);
  }

  Result<std::unique_ptr<httplib::Client>> client() const {
    auto cli = std::make_unique<httplib::Client>(origin_);
    if (!cli->is_valid()) return invalid_argument("cannot use the document store origin " + origin_);
    cli->set_connection_timeout(10, 0);
    cli->set_read_timeout(timeout_s_, 0);
    cli->set_write_timeout(timeout_s_, 0);
    cli->enable_server_certificate_verification(true);
    return cli;
  }

  // The body of a 200 answer, nullopt for 404; other statuses and transport failures are
  // kUnavailable naming `what` and the host (never the query).
  Result<std::optional<std::string>> get(const std::string& target, size_t max_bytes,
                                                  const std::string& what) const {
    SEALSUM_ASSIGN_OR_RETURN(auto cli, client());
    const httplib::Headers headers = {{"x-ms-version", "2021-08-06"}};
    int status = 0;
    bool too_big = false;
    std::string body;
    auto on_response = [&](const httplib::Response& r) {
      status = r.status;
      if (status != 200) return true;  // read (and drop) the error body
      if (r.has_header("Content-Length")) {
        too_big = std::strtoull(r.get_header_value("Content-Length").c_str(), nullptr, 10) > max_bytes;
      }
      return !too_big;
    };
    auto on_data = [&](const char* data, size_t n) {
      if (status != 200) return true;
      if (body.size() + n > max_bytes) {
        too_big = true;
        return false;
      }
      body.append(data, n);
      return true;
    };
    auto res = cli->Get(target, headers, on_response, on_data);
    if (too_big) return resource_exhausted(what + " in " + describe() + " is larger than the limit");
    if (!res) {
      return unavailable(what + ": cannot reach " + origin_ + ": " + httplib::to_string(res.error()) +
                         " (is the storage URL right?)");
    }
    if (status == 404) return std::optional<std::string>();
    if (status != 200) {
      return unavailable(what + ": " + describe() + " answered HTTP " + std::to_string(status) +
                         (status == 403 ? " (is the SAS token valid and allowed to read and list?)" : ""));
    }
    return std::optional<std::string>(std::move(body));
  }

  std::string origin_, path_, query_;
  int timeout_s_;
};

}  // namespace

std::unique_ptr<DocumentSource> directory_source(fs::path dir) {
  return std::make_unique<DirectorySource>(std::move(dir));
}

Result<std::unique_ptr<DocumentSource>> blob_source(const std::string& url, BlobSourceOptions options) {
  SEALSUM_ASSIGN_OR_RETURN(auto parts, split_url(url));
  if (url.rfind("https://", 0) != 0 && !options.allow_plain_http) {
    return invalid_argument("a document store URL must be https:// (http:// only with --dev)");
  }
  std::string path = parts.second, query;
  if (auto q = path.find('?'); q != std::string::npos) {
    query = path.substr(q + 1);
    path.resize(q);
  }
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  if (path.size() < 2 || path.find("//") != std::string::npos) {
    return invalid_argument("a document store URL must name a container: https://host/container[?SAS]");
  }
  return std::unique_ptr<DocumentSource>(new BlobSource(parts.first, path, query, options.timeout_s));
}

BlobListPage parse_blob_list(std::string_view xml) {
  BlobListPage out;
  auto element = [&xml](std::string_view tag, size_t from, size_t& next) -> std::optional<std::string_view> {
    const std::string open = "<" + std::string(tag) + ">", close = "</" + std::string(tag) + ">";
    const size_t a = xml.find(open, from);
    if (a == std::string_view::npos) return std::nullopt;
    const size_t b = xml.find(close, a + open.size());
    if (b == std::string_view::npos) return std::nullopt;
    next = b + close.size();
    return xml.substr(a + open.size(), b - a - open.size());
  };
  size_t pos = 0, next = 0;
  while (auto name = element("Name", pos, next)) {
    std::string id = id_of(*name);
    if (!id.empty()) out.ids.push_back(std::move(id));
    pos = next;
  }
  if (auto marker = element("NextMarker", 0, next); marker && marker->size() <= 1024) out.next_marker = *marker;
  return out;
}

}  // namespace sealsum::server
