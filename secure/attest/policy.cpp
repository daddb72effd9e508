// Attestation policy JSON (see policy.h).
#include "secure/attest/policy.h"
#include "common/encoding.h"

#include <set>

#include <nlohmann/json.hpp>

#include "secure/attest/azure_inputs.h"

namespace sealsum::secure::attest {

const std::array<uint8_t, 32> kAllowAllCcePolicyHash = {
    0x73, 0x97, 0x3b, 0x78, 0xd7, 0x0c, 0xc6, 0x83, 0x53, 0x42, 0x6d, 0xe1, 0x88, 0xdb, 0x5d, 0xfc,
    0x57, 0xe5, 0xb7, 0x66, 0xe3, 0x99, 0x93, 0x5f, 0xb7, 0x3a, 0x61, 0x12, 0x7e, 0xa2, 0x6d, 0x20};

namespace {

using nlohmann::json;

Status bad(const std::string& key, const std::string& what) {
  return invalid_argument("policy: \"" + key + "\" " + what);
}

Result<bool> get_bool(const json& v, const std::string& key) {
  if (!v.is_boolean()) return bad(key, "must be true or false");
  return v.get<bool>();
}

Result<uint32_t> get_uint(const json& v, const std::string& key, uint64_t max) {
  if (!v.is_number_unsigned() && !(v.is_number_integer() && v.get<int64_t>() >= 0)) {
    return bad(key, "must be a non-negative integer");
  }
  uint64_t x = v.get<uint64_t>();
  if (x > max) return bad(key, "must be at most " + std::to_string(max));
  return uint32_t(x);
}

template <size_t N>
Result<std::array<uint8_t, N>> get_hex(const json& v, const std::string& key) {
  if (!v.is_string()) return bad(key, "must be a hex string");
  auto bytes = encoding::hex_decode(v.get<std::string>());
  if (!bytes.ok() || bytes->size() != N) return bad(key, "must be exactly " + std::to_string(2 * N) + " hex digits");
  std::array<uint8_t, N> out{};
  std::copy(bytes->begin(), bytes->end(), out.begin());
  return out;
}

template <size_t N>
Result<std::vector<std::array<uint8_t, N>>> get_hex_list(const json& v, const std::string& key) {
  if (!v.is_array()) return bad(key, "must be an array of hex strings");
  std::vector<std::array<uint8_t, N>> out;
  for (size_t i = 0; i < v.size(); ++i) {
    SEALSUM_ASSIGN_OR_RETURN(auto h, get_hex<N>(v[i], key + "[" + std::to_string(i) + "]"));
    out.push_back(h);
  }
  return out;
}

Result<MinTcb> get_min_tcb(const json& v) {
  if (!v.is_object()) return bad("min_tcb", "must be an object");
  MinTcb t;
  for (const auto& [k, val] : v.items()) {
    std::string key = "min_tcb." + k;
    SEALSUM_ASSIGN_OR_RETURN(uint32_t x, get_uint(val, key, 255));
    if (k == "bootloader") t.bootloader = uint8_t(x);
    else if (k == "tee") t.tee = uint8_t(x);
    else if (k == "snp") t.snp = uint8_t(x);
    else if (k == "microcode") t.microcode = uint8_t(x);
    else if (k == "fmc") t.fmc = uint8_t(x);
    else return bad(key, "is not a TCB component (bootloader, tee, snp, microcode, fmc)");
  }
  return t;
}

}  // namespace

Result<Policy> parse_policy_json(std::string_view text) {
  if (text.size() > kMaxPolicyBytes) return invalid_argument("policy file exceeds " + std::to_string(kMaxPolicyBytes) + " bytes");
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return invalid_argument("policy is not valid JSON");
  if (!j.is_object()) return invalid_argument("policy must be a JSON object");
  Policy p;
  for (const auto& [key, v] : j.items()) {
    if (key == "allow_debug") {
      SEALSUM_ASSIGN_OR_RETURN(p.allow_debug, get_bool(v, key));
    } else if (key == "allow_migrate_ma") {
      SEALSUM_ASSIGN_OR_RETURN(p.allow_migrate_ma, get_bool(v, key));
    } else if (key == "max_vmpl") {
      SEALSUM_ASSIGN_OR_RETURN(p.max_vmpl, get_uint(v, key, 3));
    } else if (key == "min_report_version") {
      SEALSUM_ASSIGN_OR_RETURN(p.min_report_version, get_uint(v, key, 1000));
    } else if (key == "min_guest_svn") {
      SEALSUM_ASSIGN_OR_RETURN(p.min_guest_svn, get_uint(v, key, UINT32_MAX));
    } else if (key == "min_tcb") {
      SEALSUM_ASSIGN_OR_RETURN(p.min_tcb, get_min_tcb(v));
    } else if (key == "measurements") {
      SEALSUM_ASSIGN_OR_RETURN(p.measurements, get_hex_list<48>(v, key));
    } else if (key == "host_data") {
      SEALSUM_ASSIGN_OR_RETURN(p.host_data, get_hex_list<32>(v, key));
    } else if (key == "models") {
      SEALSUM_ASSIGN_OR_RETURN(p.models, get_hex_list<32>(v, key));
    } else if (key == "report_data") {
      SEALSUM_ASSIGN_OR_RETURN(p.report_data, get_hex<64>(v, key));
    } else if (key == "require_runtime_data") {
      SEALSUM_ASSIGN_OR_RETURN(p.require_runtime_data, get_bool(v, key));
    } else if (key == "require_uvm_endorsement") {
      SEALSUM_ASSIGN_OR_RETURN(p.require_uvm_endorsement, get_bool(v, key));
    } else if (key == "uvm_feed") {
      if (!v.is_string()) return bad(key, "must be a string");
      p.uvm_feed = v.get<std::string>();
    } else if (key == "allow_vlek") {
      SEALSUM_ASSIGN_OR_RETURN(p.allow_vlek, get_bool(v, key));
    } else {
      return bad(key, "is not a policy key (see secure/attest/policy.h)");
    }
  }
  for (const auto& h : p.host_data) {
    if (h == kAllowAllCcePolicyHash) {
      return invalid_argument("policy: \"host_data\" lists the allow-all CCE policy hash, which is always refused");
    }
  }
  return p;
}

}  // namespace sealsum::secure::attest
