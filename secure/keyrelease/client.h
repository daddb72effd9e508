// The engine's side of key release: one interface, two back ends.
//
//   KeyReleaseClient::release(key_id) -> the 256-bit key in a SecretBuffer (with the broker's
//   output policy, if any), or a Status saying
//   which check refused it. Back ends:
//    - BrokerClient: the sealsum broker (`sealsum kbs serve`; protocol in protocol.h);
//    - AzureSkrClient (azure.h): Microsoft Azure Attestation + Key Vault / Managed HSM Secure Key
//      Release.
//   Both run the same steps: fresh ephemeral RSA key pair -> runtime data naming its public half
//   -> evidence whose REPORT_DATA = SHA-256(runtime data) -> the service checks the evidence and
//   wraps the key to the ephemeral key -> unwrap inside this process. The ephemeral private key
//   lives only for one release() call.
//
// Two seams keep this module free of sockets and hardware, so it is unit-testable:
//    - HttpTransport: POST a JSON body, get status + body (implemented with cpp-httplib in
//      server/kbs_client.cpp, since only server/ may use httplib);
//    - EvidenceSource: SEV-SNP evidence for given REPORT_DATA (hardware: /dev/sev-guest plus
//      certificate files; or the simulated TEE for local dev runs, which only a policy with
//      allow_simulated accepts).
//
// Thread safety: clients and sources are used by one thread at a time.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string_view>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"
#include "secure/attest/model_binding.h"
#include "secure/attest/verifier.h"
#include "secure/secret_buffer.h"

namespace sealsum::secure::keyrelease {

struct HttpResponse {
  int status = 0;
  std::string body;
  SecretBuffer secret_body;  // filled instead of `body` for HttpRequest::secret_response
};

using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

// A request that may carry credentials (azure_identity.h): header values in `secret_headers` and
// a `secret_body` are copied by the transport only into buffers it wipes after the exchange, and
// never logged; with `secret_response` the answer is received into HttpResponse::secret_body (a
// SecretBuffer of max_response_bytes) instead of `body`. Every answer is bounded by
// max_response_bytes (0: the transport's default); a longer one is kResourceExhausted.
struct HttpRequest {
  std::string method = "POST";  // "GET" or "POST"
  std::string url;
  std::string_view body;        // POST only; the caller keeps it alive during send()
  bool secret_body = false;
  std::string content_type = "application/json";
  HttpHeaders headers;
  std::vector<std::pair<std::string, std::span<const uint8_t>>> secret_headers;
  size_t max_response_bytes = 0;
  bool secret_response = false;
  int timeout_s = 0;            // connect and read timeout; 0: the transport's default
};

class HttpTransport {
 public:
  virtual ~HttpTransport() = default;
  // POSTs `body` with Content-Type application/json. A reachable service answering any status is
  // a success here; kUnavailable when it cannot be reached or the answer exceeds the size limit.
  virtual Result<HttpResponse> post(const std::string& url, const std::string& body, const HttpHeaders& headers) = 0;
  // Any request above. This default serves plain JSON POSTs through post() and answers
  // kUnimplemented for anything else (GET, forms, secrets); the cpp-httplib transport implements all.
  virtual Result<HttpResponse> send(const HttpRequest& request);
};

class EvidenceSource {
 public:
  virtual ~EvidenceSource() = default;
  // Evidence whose report carries `report_data` (runtime_data is left empty: the caller sets it).
  virtual Result<attest::SnpEvidence> collect(const std::array<uint8_t, 64>& report_data) = 0;
};

// The simulated TEE's source (SimulatedEvidenceSource) is in simulated_source.h: it is linked only
// into development builds, never into the release sealsum-serve.

// Real SEV-SNP: the report from /dev/sev-guest (or the legacy /dev/sev), certificates from files.
struct HardwareEvidenceOptions {
  // Either the Azure host certificate JSON (uvm_host_amd_certificate.json) ...
  std::optional<std::filesystem::path> host_amd_cert_json;
  // ... or a VCEK (DER or PEM) and the ASK+ARK chain (PEM).
  std::optional<std::filesystem::path> vcek;
  std::optional<std::filesystem::path> cert_chain;
  std::optional<std::filesystem::path> uvm_endorsement;  // COSE_Sign1 (Azure ACI)
  // ... or ACI's security context directory (attest/security_context.h): certificates and the UVM
  // endorsement from its base64 files. Takes precedence over the three above.
  std::optional<std::filesystem::path> security_context_dir;
  uint32_t vmpl = 0;
};
// The certificates (and UVM endorsement) those options name, in an SnpEvidence without a report.
// kInvalidArgument when they name none.
Result<attest::SnpEvidence> load_evidence_certificates(const HardwareEvidenceOptions& options);
inline bool names_certificates(const HardwareEvidenceOptions& o) {
  return o.security_context_dir || o.host_amd_cert_json || (o.vcek && o.cert_chain);
}
class HardwareEvidenceSource : public EvidenceSource {
 public:
  explicit HardwareEvidenceSource(HardwareEvidenceOptions o) : options_(std::move(o)) {}
  // The certificates and endorsement are read once (first call) and reused; each call asks the
  // hardware for a fresh report.
  Result<attest::SnpEvidence> collect(const std::array<uint8_t, 64>& report_data) override;

 private:
  Result<attest::SnpEvidence> load_certificates() const;
  HardwareEvidenceOptions options_;
  std::optional<attest::SnpEvidence> certificates_;
};

// A released key and the output policy the data owner stored with it (protocol.h: compact JSON,
// empty when none; the broker binds it to the wrapped key, Azure Key Vault has none).
// The policy is authentic only once `key` has opened a file sealed under it (protocol.h).
struct ReleasedKey {
  SecretBuffer key;
  std::string output_policy;
};

class KeyReleaseClient {
 public:
  virtual ~KeyReleaseClient() = default;
  // kPermissionDenied when the service refused (the message names the failed check),
  // kUnavailable when it could not be reached, kDataLoss/kUnauthenticated for a bad answer.
  virtual Result<ReleasedKey> release(const std::string& key_id) = 0;
};

// Client of `sealsum kbs serve` at `base_url` (e.g. "http://127.0.0.1:8443"). The transport and
// the evidence source must outlive the client.
class BrokerClient : public KeyReleaseClient {
 public:
  // `model`: the model this workload runs, named in the runtime data (attest/model_binding.h).
  BrokerClient(std::string base_url, HttpTransport& transport, EvidenceSource& evidence,
               std::optional<attest::ModelDigests> model = std::nullopt)
      : base_url_(std::move(base_url)), transport_(transport), evidence_(evidence), model_(std::move(model)) {}
  Result<ReleasedKey> release(const std::string& key_id) override;

 private:
  std::string base_url_;
  HttpTransport& transport_;
  EvidenceSource& evidence_;
  std::optional<attest::ModelDigests> model_;
};

// Status for a non-200 answer of a key-release service (kPermissionDenied for 403 etc.).
Status refusal_status(const std::string& service, int http_status, const std::string& body);

}  // namespace sealsum::secure::keyrelease
