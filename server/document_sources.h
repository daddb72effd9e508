// Where `sealsum serve --documents` finds sealed documents: a directory, or an HTTP(S) blob
// container (e.g. an Azure Storage account, as the data owner's upload target).
//
// Everything a source returns is ciphertext and ids: the sealed bytes are authenticated by the
// document key when opened (serve_documents.h), so a source is untrusted storage. It may still
// withhold or swap whole documents (availability, and which sealed file an id names; the sealed
// header's content type and key id are checked on open).
//
//   directory_source(DIR):   DIR/<id>.sealed files.
//   blob_source(URL):        URL = "https://host/container[?SAS]". fetch(id) is
//                            GET /container/<id>.sealed?SAS; list() is Azure Blob Storage's List
//                            Blobs (GET /container?restype=container&comp=list&SAS, following
//                            NextMarker, at most kMaxListPages pages), keeping names "<id>.sealed"
//                            with a valid id. The SAS query is a credential: it never appears in a
//                            message or log (errors name the host and the id only).
// Summaries (`sealsum batch`, server/batch.h) are stored next to their documents as
// "<id>.summary.json": DIR/<id>.summary.json, or the blob <container>/<id>.summary.json. Writes are
// atomic: a directory write goes to a hidden temporary file (".<id>.summary.json.tmp-PID-N",
// fsynced, never a valid id so never listed) that is then linked (no overwrite) or renamed
// (replace) to its name; a blob write is one Put Blob (BlockBlob; "If-None-Match: *" when it must
// not overwrite). A reader never sees a partial summary under the final name.
// Limits: fetch refuses documents over max_bytes (kResourceExhausted) while downloading; a list
// answer is at most kMaxListAnswerBytes a page. Ids are checked with valid_document_id before any
// path or URL is built from them.
// Thread safety: every method may be called concurrently (each HTTP call has its own client);
// concurrent store_summary calls for one id leave exactly one complete summary.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace sealsum::server {

inline constexpr size_t kMaxListAnswerBytes = 4u << 20;
inline constexpr int kMaxListPages = 64;
inline constexpr char kSummarySuffix[] = ".summary.json";

class DocumentSource {
 public:
  virtual ~DocumentSource() = default;
  // Valid document ids, sorted. kUnavailable when the store cannot be listed.
  virtual Result<std::vector<std::string>> list() const = 0;
  // The sealed bytes of `id`. kNotFound when absent, kResourceExhausted over max_bytes.
  virtual Result<std::string> fetch(const std::string& id, size_t max_bytes) const = 0;
  // The summary stored next to `id`, or nullopt when there is none. kResourceExhausted over max_bytes.
  virtual Result<std::optional<std::string>> fetch_summary(const std::string& id, size_t max_bytes) const = 0;
  // Stores `bytes` as the summary of `id`, atomically (see above). replace=false: only if none
  // exists; returns false (and changes nothing) when one already does. replace=true overwrites.
  // kUnavailable when the store refuses the write (the message names the id and the store only).
  virtual Result<bool> store_summary(const std::string& id, std::string_view bytes, bool replace) const = 0;
  // For logs and messages: the directory, or scheme://host/container (never the query).
  virtual std::string describe() const = 0;
};

std::unique_ptr<DocumentSource> directory_source(std::filesystem::path dir);

struct BlobSourceOptions {
  bool allow_plain_http = false;  // --dev only: http:// containers (local stand-ins)
  int timeout_s = 30;
};
// kInvalidArgument for a URL that is not http(s)://host/container[?query] (or http without
// allow_plain_http).
Result<std::unique_ptr<DocumentSource>> blob_source(const std::string& url, BlobSourceOptions options = {});

// The "<Name>" values of an Azure List Blobs answer that are "<id>.sealed" with a valid id, and its
// NextMarker (empty at the end). Exposed for tests and the fuzz target; bounded by the input.
struct BlobListPage {
  std::vector<std::string> ids;
  std::string next_marker;
};
BlobListPage parse_blob_list(std::string_view xml);

}  // namespace sealsum::server
