// Azure evidence containers (see azure_inputs.h).
#include "secure/attest/azure_inputs.h"
#include "common/encoding.h"
#include "common/json_access.h"

#include <nlohmann/json.hpp>

namespace sealsum::secure::attest {
namespace {

encoding::Base64Options base64_options() {
  encoding::Base64Options o;  // the wire grammar, bounded like the containers themselves
  o.max_chars = kMaxAzureInputBytes;
  return o;
}

// A string member of `j`, or a kDataLoss naming it.
Result<std::string> string_member(const nlohmann::json& j, const char* key, const char* what) {
  return json_access::string_member(j, key, {what, Code::kDataLoss});
}

Result<nlohmann::json> parse_json(std::string_view text, const char* what) {
  if (text.size() > kMaxAzureInputBytes) {
    return resource_exhausted(std::string(what) + " is " + std::to_string(text.size()) + " bytes; limit " +
                              std::to_string(kMaxAzureInputBytes));
  }
  nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return data_loss(std::string(what) + " is not valid JSON");
  return j;
}

Result<std::string> b64_text(const std::string& b64, const char* what) {
  return encoding::base64_decode_text(b64, what, base64_options());
}

}  // namespace

Result<HostAmdCertificate> parse_host_amd_certificate_json(std::string_view json) {
  SEALSUM_ASSIGN_OR_RETURN(nlohmann::json j, parse_json(json, "host AMD certificate JSON"));
  HostAmdCertificate out;
  SEALSUM_ASSIGN_OR_RETURN(out.vcek_pem, string_member(j, "vcekCert", "host AMD certificate JSON"));
  SEALSUM_ASSIGN_OR_RETURN(out.chain_pem, string_member(j, "certificateChain", "host AMD certificate JSON"));
  if (const auto* t = json_access::find(j, "tcbm"); t != nullptr && t->is_string()) out.tcbm = t->get<std::string>();
  return out;
}

Result<MaaRequest> parse_maa_request_json(std::string_view json) {
  const char* what = "MAA request";
  SEALSUM_ASSIGN_OR_RETURN(nlohmann::json j, parse_json(json, what));
  SEALSUM_ASSIGN_OR_RETURN(std::string report_b64, string_member(j, "report", what));
  SEALSUM_ASSIGN_OR_RETURN(std::string inner_text, b64_text(report_b64, "MAA request \"report\""));
  SEALSUM_ASSIGN_OR_RETURN(nlohmann::json inner, parse_json(inner_text, "MAA request \"report\" JSON"));

  MaaRequest out;
  SEALSUM_ASSIGN_OR_RETURN(std::string snp_b64, string_member(inner, "SnpReport", what));
  SEALSUM_ASSIGN_OR_RETURN(out.report, encoding::base64_decode(snp_b64, "MAA SnpReport", base64_options()));
  SEALSUM_ASSIGN_OR_RETURN(std::string chain_b64, string_member(inner, "VcekCertChain", what));
  SEALSUM_ASSIGN_OR_RETURN(std::string chain, b64_text(chain_b64, "MAA VcekCertChain"));
  // Split off the first PEM block (the VCEK); the rest is the ASK/ARK chain.
  const std::string end_marker = "-----END CERTIFICATE-----";
  size_t end = chain.find(end_marker);
  if (end == std::string::npos) return data_loss("MAA VcekCertChain holds no PEM certificate");
  end += end_marker.size();
  out.vcek_pem = chain.substr(0, end) + "\n";
  out.chain_pem = chain.substr(end);

  if (inner.contains("Endorsements")) {
    SEALSUM_ASSIGN_OR_RETURN(std::string end_b64, string_member(inner, "Endorsements", what));
    SEALSUM_ASSIGN_OR_RETURN(std::string end_text, b64_text(end_b64, "MAA Endorsements"));
    SEALSUM_ASSIGN_OR_RETURN(nlohmann::json endorsements, parse_json(end_text, "MAA Endorsements JSON"));
    if (endorsements.contains("Uvm")) {
      if (!endorsements["Uvm"].is_array()) return data_loss("MAA Endorsements.Uvm is not an array");
      for (const auto& e : endorsements["Uvm"]) {
        if (!e.is_string()) return data_loss("MAA Endorsements.Uvm entry is not a string");
        SEALSUM_ASSIGN_OR_RETURN(std::vector<uint8_t> cose, encoding::base64_decode(e.get<std::string>(), "MAA Uvm endorsement", base64_options()));
        out.uvm_endorsements.push_back(std::move(cose));
      }
    }
  }
  if (j.contains("runtimeData")) {
    SEALSUM_ASSIGN_OR_RETURN(std::string rt_b64, string_member(j["runtimeData"], "data", what));
    SEALSUM_ASSIGN_OR_RETURN(out.runtime_data, encoding::base64_decode(rt_b64, "MAA runtimeData", base64_options()));
  }
  return out;
}

SnpEvidence evidence_from_maa_request(const MaaRequest& req) {
  SnpEvidence e;
  e.report = req.report;
  e.signing_cert.assign(req.vcek_pem.begin(), req.vcek_pem.end());
  e.cert_kind = CertKind::kVcek;
  e.chain_pem = req.chain_pem;
  if (!req.uvm_endorsements.empty()) e.uvm_endorsement = req.uvm_endorsements.front();
  if (!req.runtime_data.empty()) e.runtime_data = req.runtime_data;
  return e;
}

}  // namespace sealsum::secure::attest
