// Azure evidence containers and the bounded hex/base64 decoders (see azure_inputs.h).
#include "secure/attest/azure_inputs.h"

#include <nlohmann/json.hpp>

namespace sealsum::secure::attest {
namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

int b64_value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+' || c == '-') return 62;
  if (c == '/' || c == '_') return 63;
  return -1;
}

// A string member of `j`, or a kDataLoss naming it.
Result<std::string> string_member(const nlohmann::json& j, const char* key, const char* what) {
  if (!j.is_object() || !j.contains(key) || !j[key].is_string()) {
    return data_loss(std::string(what) + ": missing or non-string field \"" + key + "\"");
  }
  return j[key].get<std::string>();
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
  auto bytes = base64_decode(b64);
  if (!bytes.ok()) return bytes.status().with_context(what);
  return std::string(bytes->begin(), bytes->end());
}

}  // namespace

Result<std::vector<uint8_t>> hex_decode(std::string_view hex) {
  if (hex.size() % 2 != 0) return data_loss("hex string has odd length " + std::to_string(hex.size()));
  std::vector<uint8_t> out(hex.size() / 2);
  for (size_t i = 0; i < out.size(); ++i) {
    int hi = hex_value(hex[2 * i]), lo = hex_value(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return data_loss("invalid hex digit at position " + std::to_string(2 * i));
    out[i] = uint8_t(hi << 4 | lo);
  }
  return out;
}

Result<std::vector<uint8_t>> base64_decode(std::string_view b64) {
  if (b64.size() > kMaxAzureInputBytes) return resource_exhausted("base64 input exceeds the size limit");
  while (!b64.empty() && b64.back() == '=') b64.remove_suffix(1);
  std::vector<uint8_t> out;
  out.reserve(b64.size() * 3 / 4);
  uint32_t acc = 0;
  int bits = 0;
  size_t symbols = 0;
  for (size_t i = 0; i < b64.size(); ++i) {
    char c = b64[i];
    if (c == '\n' || c == '\r') continue;  // PEM-style line breaks
    ++symbols;
    int v = b64_value(c);
    if (v < 0) return data_loss("invalid base64 character at position " + std::to_string(i));
    acc = (acc << 6) | uint32_t(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(uint8_t(acc >> bits));
      acc &= (1u << bits) - 1;
    }
  }
  if (symbols % 4 == 1) return data_loss("base64 input has an impossible length");
  return out;
}

Result<HostAmdCertificate> parse_host_amd_certificate_json(std::string_view json) {
  SEALSUM_ASSIGN_OR_RETURN(nlohmann::json j, parse_json(json, "host AMD certificate JSON"));
  HostAmdCertificate out;
  SEALSUM_ASSIGN_OR_RETURN(out.vcek_pem, string_member(j, "vcekCert", "host AMD certificate JSON"));
  SEALSUM_ASSIGN_OR_RETURN(out.chain_pem, string_member(j, "certificateChain", "host AMD certificate JSON"));
  if (j.contains("tcbm") && j["tcbm"].is_string()) out.tcbm = j["tcbm"].get<std::string>();
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
  SEALSUM_ASSIGN_OR_RETURN(out.report, base64_decode(snp_b64));
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
        SEALSUM_ASSIGN_OR_RETURN(std::vector<uint8_t> cose, base64_decode(e.get<std::string>()));
        out.uvm_endorsements.push_back(std::move(cose));
      }
    }
  }
  if (j.contains("runtimeData")) {
    SEALSUM_ASSIGN_OR_RETURN(std::string rt_b64, string_member(j["runtimeData"], "data", what));
    SEALSUM_ASSIGN_OR_RETURN(out.runtime_data, base64_decode(rt_b64));
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
