// Azure managed-identity access tokens (Microsoft Entra ID) for Key Vault / Managed HSM release.
//
// Where the token comes from is whatever the environment offers, checked in this order (kAuto):
//   1. App Service / ACI style endpoint: $IDENTITY_ENDPOINT and $IDENTITY_HEADER set.
//        GET {IDENTITY_ENDPOINT}?api-version=2019-08-01&resource=R[&client_id=C]
//        X-IDENTITY-HEADER: {IDENTITY_HEADER}
//   2. AKS workload identity: $AZURE_FEDERATED_TOKEN_FILE, $AZURE_CLIENT_ID and $AZURE_TENANT_ID set.
//        POST {AZURE_AUTHORITY_HOST, default https://login.microsoftonline.com/}{tenant}/oauth2/v2.0/token
//        form: grant_type=client_credentials, client_id, scope=R/.default,
//              client_assertion_type=...jwt-bearer, client_assertion=<the file's token, re-read each time>
//   3. IMDS (always reachable on Azure VMs and confidential ACI; no environment needed):
//        GET {imds, default http://169.254.169.254}/metadata/identity/oauth2/token
//            ?api-version=2018-02-01&resource=R[&client_id=C]     Metadata: true
// (Workload identity before IMDS because IMDS cannot be detected without a network probe, and an
// AKS pod with workload identity must not fall back to the node's identity.) R is the resource:
// https://vault.azure.net, or https://managedhsm.azure.net for a Managed HSM (key_vault_resource).
//
// Secrets: the access token, $IDENTITY_HEADER and the federated token are credentials. They live in
// SecretBuffers; the answers that carry tokens are received into one (HttpRequest::secret_response)
// and parsed in place by parse_token_response, which copies only the token's bytes, into another
// SecretBuffer. No message, log line or Status ever contains them. Answers are bounded
// (kMaxTokenResponseBytes), and the token is a bounded string of the JWT alphabet.
// Thread safety: ManagedIdentityCredential::token() may be called from several threads (a mutex
// guards the cached token); the rest is reentrant.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>

#include "common/status.h"
#include "secure/keyrelease/client.h"
#include "secure/secret_buffer.h"

namespace sealsum::secure::keyrelease {

inline constexpr size_t kMaxTokenResponseBytes = 64 * 1024;
inline constexpr size_t kMaxAccessTokenBytes = 16 * 1024;

enum class IdentityKind { kAuto, kAppService, kWorkload, kImds };
// "auto", "app-service", "workload", "imds"; kInvalidArgument otherwise.
Result<IdentityKind> parse_identity_kind(std::string_view name);
const char* identity_kind_name(IdentityKind kind);

// The identity-related environment, read once (read_identity_environment) or filled by tests.
struct IdentityEnvironment {
  std::string identity_endpoint;     // $IDENTITY_ENDPOINT
  SecretBuffer identity_header;      // $IDENTITY_HEADER (a credential)
  std::string federated_token_file;  // $AZURE_FEDERATED_TOKEN_FILE
  std::string client_id;             // $AZURE_CLIENT_ID
  std::string tenant_id;             // $AZURE_TENANT_ID
  std::string authority_host;        // $AZURE_AUTHORITY_HOST
};
Result<IdentityEnvironment> read_identity_environment();

// The token resource for a Key Vault URL: "https://managedhsm.azure.net" when its host ends with
// ".managedhsm.azure.net", else "https://vault.azure.net".
std::string key_vault_resource(std::string_view key_vault_url);

// The source kind to use: `requested`, or for kAuto the first the environment offers (order above).
// kInvalidArgument when a requested kind lacks its environment (the message names the variables).
Result<IdentityKind> select_identity(const IdentityEnvironment& env, IdentityKind requested);

struct AccessToken {
  SecretBuffer value;
  int64_t expires_at = 0;  // unix seconds; 0 when the answer named no expiry
};
// Parses a token answer: one JSON object with "access_token" (required: 1..kMaxAccessTokenBytes of
// [A-Za-z0-9._~+/=-], no escapes), "token_type" (if present: Bearer), "expires_on" (unix seconds,
// number or decimal string) or else "expires_in" (seconds from `now`); other members are skipped
// (nesting at most 8 deep). kDataLoss names the defect (never the token); kResourceExhausted over
// kMaxTokenResponseBytes.
Result<AccessToken> parse_token_response(std::span<const uint8_t> body, int64_t now);

class AccessTokenSource {
 public:
  virtual ~AccessTokenSource() = default;
  // A bearer token for the vault, in a fresh SecretBuffer owned by the caller.
  virtual Result<SecretBuffer> token() = 0;
};

// A token given by the caller (e.g. tests, or a token another process provides).
class FixedAccessToken : public AccessTokenSource {
 public:
  explicit FixedAccessToken(SecretBuffer token) : token_(std::move(token)) {}
  Result<SecretBuffer> token() override { return SecretBuffer::copy_of(token_.span()); }

 private:
  SecretBuffer token_;
};

struct ManagedIdentityOptions {
  IdentityKind kind = IdentityKind::kAuto;
  std::string resource = "https://vault.azure.net";
  std::string client_id;  // a user-assigned identity's client id; default $AZURE_CLIENT_ID (if any)
  std::string imds_endpoint = "http://169.254.169.254";
  int timeout_s = 10;
};

class ManagedIdentityCredential : public AccessTokenSource {
 public:
  // Checks the options against the environment (select_identity, ids and URLs well formed).
  static Result<std::shared_ptr<ManagedIdentityCredential>> create(ManagedIdentityOptions options,
                                                                   IdentityEnvironment env,
                                                                   std::shared_ptr<HttpTransport> transport);
  // A cached token while it has more than 5 minutes left, else a new one from the endpoint.
  // kUnavailable (unreachable), kResourceExhausted (answer too large), kPermissionDenied (401/403),
  // kDataLoss (not a token answer); every message names the source kind, never a secret.
  Result<SecretBuffer> token() override;
  IdentityKind kind() const { return kind_; }

 private:
  ManagedIdentityCredential(ManagedIdentityOptions o, IdentityEnvironment env, std::shared_ptr<HttpTransport> t,
                            IdentityKind kind)
      : options_(std::move(o)), env_(std::move(env)), transport_(std::move(t)), kind_(kind) {}
  Result<AccessToken> fetch();
  Result<AccessToken> fetch_app_service();
  Result<AccessToken> fetch_imds();
  Result<AccessToken> fetch_workload();
  Result<AccessToken> finish(const HttpRequest& request);

  ManagedIdentityOptions options_;
  IdentityEnvironment env_;
  std::shared_ptr<HttpTransport> transport_;
  IdentityKind kind_;
  std::mutex mu_;
  AccessToken cached_;
};

}  // namespace sealsum::secure::keyrelease
