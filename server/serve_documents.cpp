// Sealed documents and their output policies (see serve_documents.h).
#include "server/serve_documents.h"

#include <algorithm>
#include <cstring>
#include <iostream>

#include <nlohmann/json.hpp>

#include "common/encoding.h"
#include "secure/sealed.h"
#include "server/serve_api.h"

namespace sealsum::server {

Status parse_document_envelope(std::span<const uint8_t> p, size_t& text_offset, secure::OutputPolicy& out) {
  constexpr size_t kMagic = sizeof kEnvelopeMagic - 1;
  text_offset = 0;
  out = secure::OutputPolicy{};
  if (p.size() < kMagic || std::memcmp(p.data(), kEnvelopeMagic, kMagic) != 0) return Status::ok();  // plain text
  const size_t limit = std::min(p.size(), kMagic + kMaxPolicyLine + 1);
  size_t nl = kMagic;
  while (nl < limit && p[nl] != '\n') ++nl;
  if (nl >= limit) {
    return invalid_argument("document envelope: the output policy line is missing its newline or exceeds 16 KiB");
  }
  std::string_view line(reinterpret_cast<const char*>(p.data()) + kMagic, nl - kMagic);
  nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
  if (j.is_discarded()) return invalid_argument("document envelope: the output policy is not valid JSON");
  auto policy = secure::parse_output_policy(j);
  if (!policy.ok()) return policy.status().with_context("document envelope");
  out = std::move(policy).value();
  text_offset = nl + 1;
  return Status::ok();
}

namespace {

bool same_policy(const secure::OutputPolicy& a, const secure::OutputPolicy& b) {
  return a.sealed == b.sealed && a.consumer == b.consumer && a.recipient_jwk == b.recipient_jwk;
}

}  // namespace

Status DocumentStore::refused_until(const std::string& kid, std::chrono::steady_clock::time_point retry_at) const {
  const auto left = std::chrono::duration_cast<std::chrono::seconds>(retry_at - backoff_.now()).count() + 1;
  return unavailable("the key \"" + kid + "\" was not released (the operator's log has the reason); retry after " +
                     std::to_string(std::max<long long>(left, 1)) + " s");
}

Result<std::shared_ptr<const DocumentStore::CachedKey>> DocumentStore::key_for(const std::string& kid) {
  {
    std::unique_lock<std::mutex> lock(mu_);
    // One release per kid at a time: later requests wait for it and share its outcome.
    released_.wait(lock, [&] { return in_flight_.count(kid) == 0; });
    if (auto it = cache_.find(kid); it != cache_.end()) return it->second;
    if (auto f = failures_.find(kid); f != failures_.end() && backoff_.now() < f->second.retry_at) {
      return refused_until(kid, f->second.retry_at);
    }
    in_flight_[kid] = true;
  }
  Result<std::shared_ptr<const CachedKey>> r = internal_error("key release threw");
  try {
    r = release(kid);
  } catch (...) {
    r = internal_error("the key release for \"" + kid + "\" failed unexpectedly");
  }
  std::lock_guard<std::mutex> lock(mu_);
  in_flight_.erase(kid);
  released_.notify_all();
  if (r.ok()) {
    failures_.erase(kid);
    return cache_.emplace(kid, *r).first->second;
  }
  Failure& f = failures_[kid];
  f.backoff = f.backoff.count() == 0 ? backoff_.initial : std::min(backoff_.max, f.backoff * 2);
  f.retry_at = backoff_.now() + f.backoff;
  const std::string line = nlohmann::json{{"event", "key_release_failed"},
                                          {"kid", kid},
                                          {"error", r.status().to_string()},
                                          {"retry_after_ms", f.backoff.count()}}
                               .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  if (backoff_.log) {
    backoff_.log(line);
  } else {
    std::cerr << line << std::endl;
  }
  return refused_until(kid, f.retry_at);
}

// Released outside the lock (a release is a network round trip).
Result<std::shared_ptr<const DocumentStore::CachedKey>> DocumentStore::release(const std::string& kid) {
  SEALSUM_ASSIGN_OR_RETURN(DocumentKey released, keys_(kid));
  std::optional<secure::OutputPolicy> output;
  if (!released.output_policy.empty()) {
    nlohmann::json j = nlohmann::json::parse(released.output_policy, nullptr, false);
    auto parsed = secure::parse_output_policy(j);
    if (!parsed.ok()) return parsed.status().with_context("the output policy released with key " + kid);
    output = std::move(parsed).value();
  }
  return std::make_shared<const CachedKey>(CachedKey{std::move(released.key), std::move(output)});
}

Result<OpenedDocument> DocumentStore::open(const std::string& id) {
  if (!valid_document_id(id)) return invalid_argument("invalid document id");
  SEALSUM_ASSIGN_OR_RETURN(std::string fetched, source_->fetch(id, kMaxDocumentFileBytes));
  const std::span<const uint8_t> sealed = encoding::as_bytes(fetched);
  auto parsed = secure::parse_sealed_header(sealed);
  if (!parsed.ok()) return parsed.status().with_context("document \"" + id + "\"");
  const secure::SealedHeader& header = *parsed;
  if (header.content_type != secure::ContentType::kDocument) {
    return invalid_argument("document \"" + id + "\" is not a sealed document (content type)");
  }
  SEALSUM_ASSIGN_OR_RETURN(auto key, key_for(header.kid));
  OpenedDocument doc;
  // Opening authenticates the key, and with it the released output policy (protocol.h).
  SEALSUM_ASSIGN_OR_RETURN(doc.plaintext, secure::open_sealed_bytes(sealed, key->key, secure::ContentType::kDocument,
                                                                   "document \"" + id + "\""));
  SEALSUM_RETURN_IF_ERROR(parse_document_envelope(doc.plaintext.span(), doc.text_offset, doc.output)
                              .with_context("document \"" + id + "\""));
  if (key->output) {
    const bool has_envelope = doc.text_offset != 0;
    if (has_envelope && !same_policy(doc.output, *key->output)) {
      return permission_denied("document \"" + id + "\": the output policy in its envelope differs from the one "
                               "registered with its key at the broker; the data owner must make them agree");
    }
    doc.output = *key->output;
  }
  return doc;
}

}  // namespace sealsum::server
