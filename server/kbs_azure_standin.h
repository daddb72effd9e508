// Loopback stand-in for the *remote* Azure services (test double of Microsoft Azure Attestation
// and Key Vault Secure Key Release, not of sealsum's code), following their documented API
// shapes so the Azure client can be exercised end to end without Azure:
//
//   POST /attest/SevSnpVm?api-version=2022-08-01   MAA: parses the SEV-SNP request body (attest's
//        parse_maa_request_json), verifies the evidence with the attest verifier (REPORT_DATA must
//        bind the runtime data; the simulated TEE is accepted because no SEV-SNP hardware is
//        reachable here), answers {"token": JWT} signed RS256 by the stand-in's MAA key, with the
//        runtime data as "x-ms-runtime" and the launch measurement claim.
//   POST /keys/{name}/release?api-version=7.4      Key Vault: requires "Authorization: Bearer
//        <bearer>", verifies the MAA token (pinned MAA key, exp/nbf), applies a release policy
//        (x-ms-attestation-type == sevsnpvm and the launch measurement equals `measurement_hex`),
//        and answers {"value": JWS} (RS256, Key Vault key) releasing the key wrapped with
//        CKM_RSA_AES_KEY_WRAP to x-ms-runtime.keys[0]. Errors use Azure's {"error":{"code","message"}}.
// Test-only (header-only; included by server tests). Binds 127.0.0.1 on a free port.
#pragma once

#include <httplib.h>

#include <atomic>
#include <thread>

#include <nlohmann/json.hpp>

#include "secure/attest/azure_inputs.h"
#include "secure/attest/verifier.h"
#include "secure/digest.h"
#include "secure/keyrelease/azure_testutil.h"
#include "secure/keyrelease/jws.h"
#include "secure/keyrelease/rsa.h"

namespace sealsum::server::testutil {

class AzureStandin {
 public:
  AzureStandin(std::string measurement_hex, std::vector<uint8_t> key, std::string key_name, std::string bearer)
      : measurement_hex_(std::move(measurement_hex)),
        key_(std::move(key)),
        key_name_(std::move(key_name)),
        bearer_(std::move(bearer)),
        maa_key_(std::move(secure::keyrelease::RsaPrivateKey::generate(2048)).value()),
        akv_key_(std::move(secure::keyrelease::RsaPrivateKey::generate(2048)).value()) {
    svr_.set_payload_max_length(4u << 20);
    svr_.Post("/attest/SevSnpVm", [this](const httplib::Request& req, httplib::Response& res) { attest(req, res); });
    svr_.Post(R"(/keys/([A-Za-z0-9-]+)/release)",
              [this](const httplib::Request& req, httplib::Response& res) { release(req, res); });
    port_ = svr_.bind_to_any_port("127.0.0.1");
    if (port_ <= 0) throw std::runtime_error("stand-in cannot bind 127.0.0.1");
    thread_ = std::thread([this] { svr_.listen_after_bind(); });
  }
  ~AzureStandin() {
    svr_.stop();
    if (thread_.joinable()) thread_.join();
  }

  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::string akv_public_pem() const { return akv_key_.public_key()->to_pem(); }
  std::atomic<int> maa_calls{0}, release_calls{0};
  // Test knob: sign release answers with a key the client does not trust.
  bool sign_with_wrong_key = false;

 private:
  static void azure_error(httplib::Response& res, int status, const std::string& code, const std::string& msg) {
    res.status = status;
    res.set_content(nlohmann::json{{"error", {{"code", code}, {"message", msg}}}}.dump(), "application/json");
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
    if (req.matches[1] != key_name_) return azure_error(res, 404, "KeyNotFound", "A key with this name was not found.");
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
    auto answer = secure::keyrelease::testutil::make_akv_release_answer(
        sign_with_wrong_key ? maa_key_ : akv_key_, {}, url() + "/keys/" + key_name_ + "/0123456789abcdef0123456789abcdef",
        key_, *recipient);
    if (!answer.ok()) return azure_error(res, 500, "InternalError", answer.status().message());
    res.set_content(*answer, "application/json");
  }

  std::string measurement_hex_;
  std::vector<uint8_t> key_;
  std::string key_name_, bearer_;
  secure::keyrelease::RsaPrivateKey maa_key_, akv_key_;
  httplib::Server svr_;
  std::thread thread_;
  int port_ = -1;
};

}  // namespace sealsum::server::testutil
