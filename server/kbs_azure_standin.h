// Loopback stand-in for the *remote* Azure services (test double of Microsoft Azure Attestation,
// Key Vault Secure Key Release and the managed-identity token endpoints, not of sealsum's code),
// following their documented API shapes so the Azure client can be exercised end to end without
// Azure:
//
//   POST /attest/SevSnpVm?api-version=2022-08-01   MAA: parses the SEV-SNP request body (attest's
//        parse_maa_request_json), verifies the evidence with the attest verifier (REPORT_DATA must
//        bind the runtime data; the simulated TEE is accepted because no SEV-SNP hardware is
//        reachable here), answers {"token": JWT} signed RS256 by the stand-in's MAA key, with the
//        runtime data as "x-ms-runtime" and the launch measurement claim.
//   POST /keys/{name}[/{version}]/release?api-version=7.4   Key Vault: requires "Authorization:
//        Bearer <bearer>", verifies the MAA token (pinned MAA key, exp/nbf), applies a release
//        policy (x-ms-attestation-type == sevsnpvm and the launch measurement equals
//        `measurement_hex`), and answers {"value": JWS} (RS256, Key Vault key) releasing the key
//        wrapped with CKM_RSA_AES_KEY_WRAP to x-ms-runtime.keys[0]. Errors use Azure's
//        {"error":{"code","message"}}.
//   GET  /msi/token?api-version=2019-08-01&resource=R     App Service / ACI identity endpoint
//        (X-IDENTITY-HEADER must equal `identity_header`): {"access_token", "expires_on": "<unix>", ...}
//   GET  /metadata/identity/oauth2/token?api-version=2018-02-01&resource=R   IMDS ("Metadata: true")
//   POST /{tenant}/oauth2/v2.0/token   Microsoft Entra client-assertion exchange (workload identity):
//        form with client_assertion == `federated_token`, scope R/.default.
// Attack knobs (set before the client runs) make the stand-in misbehave the ways the client must
// refuse. Test-only (header-only; included by server tests). Binds 127.0.0.1 on a free port.
#pragma once

#include <httplib.h>

#include <atomic>
#include <map>
#include <chrono>
#include <thread>

#include <nlohmann/json.hpp>

#include "secure/attest/azure_inputs.h"
#include "secure/attest/verifier.h"
#include "secure/digest.h"
#include "secure/keyrelease/azure_testutil.h"
#include "secure/keyrelease/jws.h"
#include "secure/keyrelease/rsa.h"
#include "server/httplib_testutil.h"

namespace sealsum::server::testutil {

class AzureStandin {
 public:
  enum class IdentityAnswer { kToken, kGarbage, kTooLarge, kNoToken, kOtherToken };

  AzureStandin(std::string measurement_hex, std::map<std::string, std::vector<uint8_t>> keys, std::string bearer)
      : measurement_hex_(std::move(measurement_hex)),
        keys_(std::move(keys)),
        bearer_(std::move(bearer)),
        maa_key_(std::move(secure::keyrelease::RsaPrivateKey::generate(2048)).value()),
        akv_key_(std::move(secure::keyrelease::RsaPrivateKey::generate(2048)).value()),
        other_key_(std::move(secure::keyrelease::RsaPrivateKey::generate(2048)).value()) {
    svr_.set_payload_max_length(4u << 20);
    svr_.Post("/attest/SevSnpVm", [this](const httplib::Request& req, httplib::Response& res) { attest(req, res); });
    svr_.Post(R"(/keys/([A-Za-z0-9-]+)(/[0-9a-fA-F]{32})?/release)",
              [this](const httplib::Request& req, httplib::Response& res) { release(req, res); });
    svr_.Get("/msi/token", [this](const httplib::Request& req, httplib::Response& res) {
      ++identity_calls;
      if (req.get_header_value("X-IDENTITY-HEADER") != identity_header || req.get_param_value("api-version") != "2019-08-01") {
        return azure_error(res, 401, "Unauthorized", "bad identity header or api-version");
      }
      token_answer(req.get_param_value("resource"), res, true);
    });
    svr_.Get("/metadata/identity/oauth2/token", [this](const httplib::Request& req, httplib::Response& res) {
      ++identity_calls;
      if (req.get_header_value("Metadata") != "true" || req.get_param_value("api-version") != "2018-02-01") {
        return azure_error(res, 400, "invalid_request", "Required metadata header not specified");
      }
      token_answer(req.get_param_value("resource"), res, true);
    });
    svr_.Post(R"(/([A-Za-z0-9.-]+)/oauth2/v2\.0/token)", [this](const httplib::Request& req, httplib::Response& res) {
      ++identity_calls;
      httplib::Params form;
      httplib::detail::parse_query_text(req.body, form);
      auto get = [&form](const char* k) {
        auto it = form.find(k);
        return it == form.end() ? std::string() : it->second;
      };
      const std::string scope = get("scope");
      if (req.matches[1] != tenant || get("client_id") != client_id || get("grant_type") != "client_credentials" ||
          get("client_assertion") != federated_token || !scope.ends_with("/.default")) {
        return azure_error(res, 401, "invalid_client", "AADSTS700016: client assertion refused");
      }
      token_answer(scope.substr(0, scope.size() - 9), res, false);
    });
    port_ = svr_.bind_to_any_port("127.0.0.1");
    if (port_ <= 0) throw std::runtime_error("stand-in cannot bind 127.0.0.1");
    thread_ = sealsum::server::testutil::listen_in_background(svr_);
  }
  AzureStandin(std::string measurement_hex, std::vector<uint8_t> key, std::string key_name, std::string bearer)
      : AzureStandin(std::move(measurement_hex), {{std::move(key_name), std::move(key)}}, std::move(bearer)) {}
  ~AzureStandin() {
    svr_.stop();
    if (thread_.joinable()) thread_.join();
  }

  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::string akv_public_pem() const { return akv_key_.public_key()->to_pem(); }
  std::atomic<int> maa_calls{0}, release_calls{0}, identity_calls{0};
  // Identity endpoints: what they expect and how they answer.
  std::string identity_header = "identity-header-secret";
  std::string tenant = "tenant-1", client_id = "11111111-2222-3333-4444-555555555555";
  std::string federated_token = "federated.assertion.token";
  std::string resource = "https://vault.azure.net";
  IdentityAnswer identity_answer = IdentityAnswer::kToken;
  // Key Vault attacks: sign with a key the client does not trust; flip a byte of the payload after
  // signing; wrap the key to another RSA key than the runtime data's.
  bool sign_with_wrong_key = false;
  bool tamper_signature = false;
  bool wrap_to_other_key = false;

 private:
  static void azure_error(httplib::Response& res, int status, const std::string& code, const std::string& msg) {
    res.status = status;
    res.set_content(nlohmann::json{{"error", {{"code", code}, {"message", msg}}}}.dump(), "application/json");
  }

  void token_answer(const std::string& asked_resource, httplib::Response& res, bool string_times) {
    if (asked_resource != resource) return azure_error(res, 400, "invalid_resource", "unknown resource");
    const long long exp = static_cast<long long>(std::time(nullptr)) + 3600;
    std::string token = identity_answer == IdentityAnswer::kOtherToken ? "not-" + bearer_ : bearer_;
    nlohmann::json j = {{"token_type", "Bearer"}, {"resource", resource}, {"client_id", client_id}};
    if (identity_answer != IdentityAnswer::kNoToken) j["access_token"] = token;
    if (string_times) j["expires_on"] = std::to_string(exp);
    else j["expires_in"] = 3599;
    std::string body = j.dump();
    if (identity_answer == IdentityAnswer::kGarbage) body = "<html>" + bearer_ + " no token here</html>";
    if (identity_answer == IdentityAnswer::kTooLarge) body = "{\"access_token\":\"" + std::string(200000, 'A') + "\"}";
    res.set_content(body, "application/json");
  }

  void attest(const httplib::Request& req, httplib::Response& res) {
    ++maa_calls;
    if (req.get_param_value("api-version") != "2022-08-01") return azure_error(res, 400, "InvalidParameter", "api-version");
    auto parsed = secure::attest::parse_maa_request_json(req.body);
    if (!parsed.ok()) return azure_error(res, 400, "InvalidParameter", parsed.status().message());
    secure::attest::SnpEvidence ev = secure::attest::evidence_from_maa_request(*parsed);
    secure::attest::Policy policy;
    policy.require_runtime_data = true;
    secure::attest::VerifyOptions opt;
    opt.allow_simulated = true;
    auto vr = secure::attest::verify_evidence(ev, policy, opt);
    if (!vr.verdict || !vr.report) return azure_error(res, 400, "InvalidParameter", vr.status().message());
    nlohmann::json runtime =
        nlohmann::json::parse(std::string(parsed->runtime_data.begin(), parsed->runtime_data.end()), nullptr, false);
    if (!runtime.is_object()) return azure_error(res, 400, "InvalidParameter", "runtime data is not JSON");
    auto token = secure::keyrelease::testutil::make_maa_token(maa_key_, url(), runtime,
                                                              secure::to_hex(vr.report->measurement),
                                                              secure::to_hex(vr.report->host_data), std::time(nullptr));
    if (!token.ok()) return azure_error(res, 500, "InternalError", token.status().message());
    res.set_content(nlohmann::json{{"token", *token}}.dump(), "application/json");
  }

  void release(const httplib::Request& req, httplib::Response& res) {
    ++release_calls;
    if (req.get_param_value("api-version") != "7.4") return azure_error(res, 400, "BadParameter", "api-version");
    if (req.get_header_value("Authorization") != "Bearer " + bearer_) {
      return azure_error(res, 401, "Unauthorized", "AKV10000: Request is missing a valid Bearer token.");
    }
    auto key = keys_.find(req.matches[1]);
    if (key == keys_.end()) return azure_error(res, 404, "KeyNotFound", "A key with this name was not found.");
    nlohmann::json body = nlohmann::json::parse(req.body, nullptr, false);
    if (!body.is_object() || !body.contains("target") || !body["target"].is_string()) {
      return azure_error(res, 400, "BadParameter", "target is required");
    }
    secure::keyrelease::JwsTrust maa_trust;
    maa_trust.pinned_public_keys_pem = {maa_key_.public_key()->to_pem()};
    auto claims_text = secure::keyrelease::verify_jws(body["target"].get<std::string>(), maa_trust);
    if (!claims_text.ok()) return azure_error(res, 403, "Forbidden", "Target environment attestation token is invalid.");
    nlohmann::json claims = nlohmann::json::parse(*claims_text, nullptr, false);
    if (!claims.is_object() || !secure::keyrelease::check_jwt_times(claims, std::time(nullptr)).is_ok() ||
        claims.value("x-ms-attestation-type", "") != "sevsnpvm" ||
        claims.value("x-ms-sevsnpvm-launchmeasurement", "") != measurement_hex_) {
      return azure_error(res, 403, "Forbidden",
                         "Target environment attestation statement cannot be verified against the key release policy.");
    }
    const nlohmann::json& runtime = claims["x-ms-runtime"];
    if (!runtime.is_object() || !runtime.contains("keys") || !runtime["keys"].is_array() || runtime["keys"].empty()) {
      return azure_error(res, 400, "BadParameter", "the attestation token carries no runtime key");
    }
    auto recipient = secure::keyrelease::RsaPublicKey::from_jwk(runtime["keys"][0]);
    if (!recipient.ok()) return azure_error(res, 400, "BadParameter", recipient.status().message());
    auto other = other_key_.public_key();
    auto answer = secure::keyrelease::testutil::make_akv_release_answer(
        sign_with_wrong_key ? maa_key_ : akv_key_, {}, url() + "/keys/" + key->first + "/0123456789abcdef0123456789abcdef",
        key->second, wrap_to_other_key ? *other : *recipient);
    if (!answer.ok()) return azure_error(res, 500, "InternalError", answer.status().message());
    std::string out = *answer;
    if (tamper_signature) {
      // Change one payload character (its base64url decodes to other bytes) in the middle part.
      const size_t d1 = out.find('.'), d2 = out.find('.', d1 + 1);
      const size_t at = d1 + (d2 - d1) / 2;
      out[at] = out[at] == 'A' ? 'B' : 'A';
    }
    res.set_content(out, "application/json");
  }

  std::string measurement_hex_;
  std::map<std::string, std::vector<uint8_t>> keys_;
  std::string bearer_;
  secure::keyrelease::RsaPrivateKey maa_key_, akv_key_, other_key_;
  httplib::Server svr_;
  std::thread thread_;
  int port_ = -1;
};

}  // namespace sealsum::server::testutil
