// Sealed documents and their output policies (see serve_documents.h).
#include "server/serve_documents.h"

#include <algorithm>
#include <cstring>

#include <nlohmann/json.hpp>

#include "secure/keyrelease/encoding.h"
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

Result<std::shared_ptr<const DocumentStore::CachedKey>> DocumentStore::key_for(const std::string& kid) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (auto it = cache_.find(kid); it != cache_.end()) return it->second;
  }
  // Released outside the lock: a release is a network round trip; two concurrent first requests
  // for one kid may both release it, which is harmless.
  SEALSUM_ASSIGN_OR_RETURN(DocumentKey released, keys_(kid));
  std::optional<secure::OutputPolicy> output;
  if (!released.output_policy.empty()) {
    nlohmann::json j = nlohmann::json::parse(released.output_policy, nullptr, false);
    auto parsed = secure::parse_output_policy(j);
    if (!parsed.ok()) return parsed.status().with_context("the output policy released with key " + kid);
    output = std::move(parsed).value();
  }
  auto shared = std::make_shared<const CachedKey>(CachedKey{std::move(released.key), std::move(output)});
  std::lock_guard<std::mutex> lock(mu_);
  return cache_.emplace(kid, std::move(shared)).first->second;
}

Result<OpenedDocument> DocumentStore::open(const std::string& id) {
  if (!valid_document_id(id)) return invalid_argument("invalid document id");
  SEALSUM_ASSIGN_OR_RETURN(std::string fetched, source_->fetch(id, kMaxDocumentFileBytes));
  const std::span<const uint8_t> sealed = secure::keyrelease::as_bytes(fetched);
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
