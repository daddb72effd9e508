// libFuzzer target: every parser of outside bytes in the serve API — request bodies, document
// envelopes (decrypted plaintext is owner-controlled, not server-controlled), attestation answers
// (a client parses what a possibly hostile server sends), measurement lists and blob-container
// listings (document_sources.h: the storage account is untrusted).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "server/document_sources.h"
#include "server/serve_api.h"
#include "server/serve_verify.h"
#include "server/serve_documents.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace sealsum::server;
  const std::string_view s(reinterpret_cast<const char*>(data), size);
  ApiLimits limits;
  auto parsed = parse_summarize_request(s, limits);
  if (parsed.ok()) {
    sealsum::decoding::GenerationParams p;
    (void)apply_overrides(parsed.request->params, limits, p);
  }
  size_t off = 0;
  sealsum::secure::OutputPolicy policy;
  (void)parse_document_envelope({data, size}, off, policy);
  VerifyExpectations e;
  e.nonce = "fuzz-nonce-0123456789";
  e.policy.measurements = {std::array<uint8_t, 48>{}};
  e.allow_simulated = true;
  (void)verify_attestation_answer(s, e);
  (void)parse_measurement_list(s);
  (void)parse_blob_list(s);
  return 0;
}
