// Sealed documents for `sealsum serve --documents DIR|URL`: <id>.sealed files (secure/sealed.h,
// content type "document") from a directory or a blob container (document_sources.h), each opened
// with the key its header names, obtained through the key-release back end (the broker releases it
// only to an attested TEE whose measurement the data owner allowed).
//
// Output policy: who may read a summary is decided by the data owner, in one of two places the
// operator cannot change without the document key:
//   - stored with the document key at the broker (the release policy's "output" member,
//     secure/broker/store.h), released bound to the wrapped key (protocol.h); or
//   - inside the sealed, authenticated plaintext, as an envelope (below).
// When both are present they must agree (else kPermissionDenied: the document is not served);
// with neither, the summary goes in plaintext to the caller.
// A document plaintext is either
//   - plain text: the summary is returned in plaintext to the caller; or
//   - an envelope:  "SEALSUM-DOCUMENT-V1\n" <output policy JSON, one line, <= 16 KiB> "\n" <text>
//     where the policy is secure/output_seal.h's {"mode":"plaintext"} or
//     {"mode":"sealed","consumer":NAME,"key":JWK} (the summary is then sealed to NAME's key).
// A data owner makes an envelope with e.g.
//   { printf 'SEALSUM-DOCUMENT-V1\n%s\n' "$POLICY"; cat doc.txt; } > env && sealsum seal ... env
//
// Secrets: document text exists only in the SecretBuffer returned by open() (the envelope parser
// works on views and never copies the text); released keys are cached in memory (SecretBuffer
// inside SealingKey) for the life of the store so each document costs one key release.
// Failed releases: a key id whose release failed is not asked for again before its backoff
// (initial_backoff, doubling per consecutive failure up to max_backoff); requests meanwhile fail
// at once. Concurrent first requests for one key id share one release. The failure's details
// (broker URL, measurement, failed check) go to the operator's log only; open() returns a generic
// kUnavailable "the key ... was not released; retry after N s" that callers may see.
// Thread safety: list() and open() may be called concurrently.
#pragma once

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "secure/keys.h"
#include "secure/output_seal.h"
#include "secure/secret_buffer.h"
#include "server/document_sources.h"

namespace sealsum::server {

inline constexpr char kEnvelopeMagic[] = "SEALSUM-DOCUMENT-V1\n";
inline constexpr size_t kMaxPolicyLine = 16u << 10;
inline constexpr size_t kMaxDocumentFileBytes = 64u << 20;

// A document key and the output policy its release carried (compact JSON; empty when none).
struct DocumentKey {
  secure::SealingKey key;
  std::string output_policy;
};
// Obtains the sealing key named `kid` (e.g. through the broker). Called at most once per kid
// while it succeeds; must be thread-safe.
using KeyProvider = std::function<Result<DocumentKey>(const std::string& kid)>;

struct OpenedDocument {
  secure::SecretBuffer plaintext;   // the whole plaintext (envelope included)
  size_t text_offset = 0;           // where the document text starts in `plaintext`
  secure::OutputPolicy output;
  std::string_view text() const {
    return {reinterpret_cast<const char*>(plaintext.data()) + text_offset, plaintext.size() - text_offset};
  }
};

// Splits an envelope (or accepts plain text). kInvalidArgument for a malformed envelope; the
// message never contains document bytes.
Status parse_document_envelope(std::span<const uint8_t> plaintext, size_t& text_offset, secure::OutputPolicy& out);

struct ReleaseBackoff {
  std::chrono::milliseconds initial{5000};
  std::chrono::milliseconds max{300000};
  std::function<std::chrono::steady_clock::time_point()> now = [] { return std::chrono::steady_clock::now(); };
  // Operator log (one JSON line per failed release); null: stderr.
  std::function<void(const std::string& json_line)> log;
};

class DocumentStore {
 public:
  DocumentStore(std::unique_ptr<DocumentSource> source, KeyProvider keys, ReleaseBackoff backoff = {})
      : source_(std::move(source)), keys_(std::move(keys)), backoff_(std::move(backoff)) {}
  DocumentStore(std::filesystem::path dir, KeyProvider keys, ReleaseBackoff backoff = {})
      : DocumentStore(directory_source(std::move(dir)), std::move(keys), std::move(backoff)) {}

  // Ids of the source's <id>.sealed documents (valid ids only), sorted.
  Result<std::vector<std::string>> list() const { return source_->list(); }
  // The source the documents come from (`sealsum batch` stores summaries next to them).
  const DocumentSource& source() const { return *source_; }
  // kNotFound for an unknown id; key-release and authentication failures pass through.
  Result<OpenedDocument> open(const std::string& id);

 private:
  struct CachedKey {
    secure::SealingKey key;
    std::optional<secure::OutputPolicy> output;  // the broker-stored policy, validated
  };
  struct Failure {
    std::chrono::steady_clock::time_point retry_at;
    std::chrono::milliseconds backoff{0};
  };
  Result<std::shared_ptr<const CachedKey>> key_for(const std::string& kid);
  Result<std::shared_ptr<const CachedKey>> release(const std::string& kid);
  Status refused_until(const std::string& kid, std::chrono::steady_clock::time_point retry_at) const;
  std::unique_ptr<DocumentSource> source_;
  KeyProvider keys_;
  ReleaseBackoff backoff_;
  std::mutex mu_;
  std::condition_variable released_;  // a release in flight finished
  std::map<std::string, std::shared_ptr<const CachedKey>> cache_;
  std::map<std::string, Failure> failures_;
  std::map<std::string, bool> in_flight_;
};

}  // namespace sealsum::server
