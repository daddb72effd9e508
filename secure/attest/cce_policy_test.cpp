// CCE policy loading, HOST_DATA against the real ACI report, both shared allow-all policies refused
// with named rules, and the Secure Key Release policy JSON.
#include <catch2/catch.hpp>

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "common/fixtures.h"
#include "secure/attest/attest_testutil.h"
#include "secure/attest/cce_policy.h"
#include "secure/attest/cce_policy_testutil.h"
#include "secure/attest/report.h"
#include "secure/digest.h"

namespace at = sealsum::secure::attest;
using sealsum::Code;
using sealsum::secure::to_hex;
using at::testutil::has_rule;
using at::testutil::repo_fixture;

namespace {

// The `ccepolicy:` / `hostdata:` lines of azure-cleanroom-maa/values.txt.
std::string values_line(const std::string& key) {
  std::istringstream in(sealsum::read_fixture("attestation/azure-cleanroom-maa/values.txt"));
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(key + ": ", 0) == 0) return line.substr(key.size() + 2);
  }
  throw std::runtime_error("values.txt has no " + key + " line");
}

std::string b64(const std::string& s) {
  static const char* a = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < s.size(); i += 3) {
    uint32_t v = uint8_t(s[i]) << 16 | uint8_t(s[i + 1]) << 8 | uint8_t(s[i + 2]);
    for (int k = 18; k >= 0; k -= 6) out += a[(v >> k) & 63];
  }
  if (i + 1 == s.size()) {
    uint32_t v = uint8_t(s[i]) << 16;
    out += std::string{a[v >> 18], a[(v >> 12) & 63]} + "==";
  } else if (i + 2 == s.size()) {
    uint32_t v = uint8_t(s[i]) << 16 | uint8_t(s[i + 1]) << 8;
    out += std::string{a[v >> 18], a[(v >> 12) & 63], a[(v >> 6) & 63]} + "=";
  }
  return out;
}

}  // namespace

TEST_CASE("HOST_DATA of the azure-aci-milan policy is the HOST_DATA its report carries", "[attest][cce]") {
  auto p = at::load_cce_policy(sealsum::read_fixture("attestation/azure-aci-milan/uvm_security_policy.base64"));
  REQUIRE(p.ok());
  CHECK(p->from_base64);
  CHECK(p->rego.rfind("package policy\n", 0) == 0);
  std::string report = sealsum::read_fixture("attestation/azure-aci-milan/snp_report.bin");
  REQUIRE(report.size() >= 0xC0 + 32);
  std::vector<uint8_t> host_data(report.begin() + 0xC0, report.begin() + 0xC0 + 32);
  CHECK(to_hex(at::cce_host_data(p->rego)) == to_hex(host_data));
  // The same policy given as decoded Rego text hashes the same.
  auto rego = at::load_cce_policy(p->rego);
  REQUIRE(rego.ok());
  CHECK_FALSE(rego->from_base64);
  CHECK(at::cce_host_data(rego->rego) == at::cce_host_data(p->rego));
  // One changed byte changes it.
  std::string changed = p->rego;
  changed.back() = ' ';
  CHECK(at::cce_host_data(changed) != at::cce_host_data(p->rego));
}

TEST_CASE("the clean-room MAA values: ccepolicy decodes to the listed hostdata", "[attest][cce]") {
  auto p = at::load_cce_policy(values_line("ccepolicy"));
  REQUIRE(p.ok());
  CHECK(to_hex(at::cce_host_data(p->rego)) == values_line("hostdata"));
  CHECK(values_line("hostdata") == "73973b78d70cc68353426de188db5dfc57e5b766e399935fb73a61127ea26d20");
}

TEST_CASE("base64 with line breaks and blanks loads; its Rego is kept byte for byte", "[attest][cce]") {
  std::string rego = "package policy\n\napi_version := \"0.10.0\"\n";
  std::string enc = b64(rego);
  std::string wrapped;
  for (size_t i = 0; i < enc.size(); ++i) wrapped += enc[i] + std::string(i % 16 == 15 ? "\r\n" : (i % 7 == 3 ? " " : ""));
  auto p = at::load_cce_policy("\n  " + wrapped + "\n\n");
  REQUIRE(p.ok());
  CHECK(p->rego == rego);
  CHECK(p->from_base64);
  // Unpadded is accepted too.
  std::string unpadded = enc;
  unpadded.erase(std::remove(unpadded.begin(), unpadded.end(), '='), unpadded.end());
  REQUIRE(unpadded.size() != enc.size());
  auto u = at::load_cce_policy(unpadded);
  REQUIRE(u.ok());
  CHECK(u->rego == rego);
  // Rego text with leading blank lines is not trimmed: HOST_DATA covers every byte.
  auto r = at::load_cce_policy("\n\npackage policy\n");
  REQUIRE(r.ok());
  CHECK(r->rego == "\n\npackage policy\n");
}

TEST_CASE("empty, oversize, garbage and non-Rego base64 policy files are refused", "[attest][cce]") {
  auto code = [](std::string_view s) { return at::load_cce_policy(s).status().code(); };
  CHECK(code("") == Code::kInvalidArgument);
  CHECK(code(" \n\t\r\n") == Code::kInvalidArgument);
  std::string big(at::kMaxCcePolicyFileBytes + 1, 'A');
  CHECK(code(big) == Code::kResourceExhausted);
  CHECK(code("packages policy") == Code::kDataLoss);         // not `package `, not base64 either
  CHECK(code("cGFja2FnZSBwb2xpY3kK!") == Code::kDataLoss);   // invalid character
  CHECK(code("cGFja2FnZ=SBwb2xpY3kK") == Code::kDataLoss);   // padding in the middle
  CHECK(code("cGFja2FnZSBwb2xpY3kKA") == Code::kDataLoss);   // impossible length
  CHECK(code("cGFja2FnZSBwb2xpY3l=") == Code::kDataLoss);    // non-zero trailing bits
  CHECK(code("cGFja2FnZSBwb2xpY3kK===") == Code::kDataLoss); // too much padding
  CHECK(code(b64("hello world, not a policy")) == Code::kDataLoss);
  CHECK(code(b64(std::string("\x00\x01\xff", 3))) == Code::kDataLoss);
  CHECK(code("package") == Code::kDataLoss);                 // the keyword alone
  auto ok = at::load_cce_policy("cGFja2FnZSBwb2xpY3kK");     // "package policy\n"
  REQUIRE(ok.ok());
  CHECK(ok->rego == "package policy\n");
  // The limit applies to the file as given; a policy just under it loads.
  std::string under = "package policy\n" + std::string(at::kMaxCcePolicyFileBytes - 15, '\n');
  CHECK(at::load_cce_policy(under).ok());
}

TEST_CASE("both shared allow-all policies are refused by content, with named rules", "[attest][cce]") {
  auto aci = at::load_cce_policy(sealsum::read_fixture("attestation/azure-aci-milan/uvm_security_policy.base64"));
  auto maa = at::load_cce_policy(values_line("ccepolicy"));
  REQUIRE(aci.ok());
  REQUIRE(maa.ok());
  REQUIRE(aci->rego != maa->rego);  // two different texts: a hash list would need both
  for (const auto* p : {&*aci, &*maa}) {
    auto r = at::inspect_cce_policy(p->rego);
    INFO(r.to_json());
    CHECK(r.refused());
    for (const char* rule : {"allow_all_rule", "exec_in_container", "exec_external", "stdio_access", "dump_stacks",
                             "runtime_logging", "unencrypted_scratch", "fragments"}) {
      INFO(rule);
      CHECK(has_rule(r, rule));
    }
    CHECK_FALSE(has_rule(r, "no_containers"));  // create_container allows all: the list is moot
    CHECK_FALSE(has_rule(r, "syntax"));
    CHECK_FALSE(has_rule(r, "missing_rule"));   // api_svn 0.10.0 defines every point it needs
    // One allow_all_rule per literal enforcement point (17 in both), each naming it and the fix.
    size_t literal = 0;
    for (const auto& f : r.findings) {
      if (f.rule != "allow_all_rule") continue;
      ++literal;
      CHECK(f.detail.find(":= data.framework.") != std::string::npos);
    }
    CHECK(literal == 17);
  }
}

TEST_CASE("the safe sample policy passes with zero refusals", "[attest][cce]") {
  std::string safe = repo_fixture("cce/safe_policy.rego");
  auto p = at::load_cce_policy(safe);
  REQUIRE(p.ok());
  auto r = at::inspect_cce_policy(p->rego);
  INFO(r.to_json());
  CHECK_FALSE(r.refused());
  CHECK(r.refused_rules().empty());
  // Only the ACI infrastructure fragment is reported, as a warning naming its issuer and feed.
  REQUIRE(r.findings.size() == 1);
  CHECK(r.findings[0].rule == "fragments");
  CHECK(r.findings[0].severity == at::Severity::kWarn);
  CHECK(r.findings[0].detail.find("mcr.microsoft.com/aci/aci-cc-infra-fragment") != std::string::npos);
  CHECK(r.findings[0].detail.find("did:x509:0:sha256:") != std::string::npos);
  // Its base64 form loads to the same text.
  auto b = at::load_cce_policy(b64(safe));
  REQUIRE(b.ok());
  CHECK(b->rego == safe);
  auto j = nlohmann::json::parse(r.to_json());
  CHECK(j["refused"] == false);
  CHECK(j["findings"][0]["severity"] == "warn");
}

TEST_CASE("the Secure Key Release policy pins HOST_DATA, compliance and no debug", "[attest][cce]") {
  std::string hd = "CADD74F71EBB8FBF9782BAAB649612520F3C416BC5CE9AC768808DDC8D9B031C";
  auto r = at::skr_release_policy_json(hd, "https://sharedeus2.eus2.attest.azure.net");
  REQUIRE(r.ok());
  auto j = nlohmann::json::parse(*r);
  CHECK(j["version"] == "1.0.0");
  REQUIRE(j["anyOf"].size() == 1);
  CHECK(j["anyOf"][0]["authority"] == "https://sharedeus2.eus2.attest.azure.net");
  auto all = j["anyOf"][0]["allOf"];
  REQUIRE(all.size() == 3);
  CHECK(all[0] == nlohmann::json({{"claim", "x-ms-sevsnpvm-hostdata"},
                                  {"equals", "cadd74f71ebb8fbf9782baab649612520f3c416bc5ce9ac768808ddc8d9b031c"}}));
  CHECK(all[1] == nlohmann::json({{"claim", "x-ms-compliance-status"}, {"equals", "azure-compliant-uvm"}}));
  CHECK(all[2] == nlohmann::json({{"claim", "x-ms-sevsnpvm-is-debuggable"}, {"equals", "false"}}));

  auto code = [](std::string_view h, std::string_view u) { return at::skr_release_policy_json(h, u).status().code(); };
  std::string url = "https://maa.example";
  CHECK(code(hd.substr(1), url) == Code::kInvalidArgument);
  CHECK(code(hd + "00", url) == Code::kInvalidArgument);
  CHECK(code("g" + hd.substr(1), url) == Code::kInvalidArgument);
  CHECK(code(std::string(64, '0'), url) == Code::kPermissionDenied);
  CHECK(code("73973b78d70cc68353426de188db5dfc57e5b766e399935fb73a61127ea26d20", url) == Code::kPermissionDenied);
  CHECK(code("73973B78D70CC68353426DE188DB5DFC57E5B766E399935FB73A61127EA26D20", url) == Code::kPermissionDenied);
  for (const char* bad : {"http://maa.example", "maa.example", "https://", "https:///path", "https://a b",
                          "https://maa.example/\"x", "https://user@maa.example", "ftp://maa.example"}) {
    INFO(bad);
    CHECK(code(hd, bad) == Code::kInvalidArgument);
  }
}

TEST_CASE("verification with a CCE policy adds the HOST_DATA and inspection checks to the verdict", "[attest][cce]") {
  at::VerifyOptions o;
  o.now = 1767225600;  // 2026-01-01: inside every fixture certificate's validity
  at::Policy pinned = at::default_policy();
  pinned.host_data = {at::parse_report(at::testutil::aci_evidence().report)->host_data};
  auto base = at::verify_evidence(at::testutil::aci_evidence(), pinned, o);
  INFO(base.to_json());
  REQUIRE(base.verdict);  // without the policy check the real ACI evidence (HOST_DATA pinned) is accepted

  auto aci = at::load_cce_policy(sealsum::read_fixture("attestation/azure-aci-milan/uvm_security_policy.base64"));
  REQUIRE(aci.ok());
  auto r = base;
  at::add_cce_policy_checks(r, *aci);
  INFO(r.to_json());
  CHECK_FALSE(r.verdict);
  REQUIRE(r.find("cce_policy_host_data"));
  CHECK(r.find("cce_policy_host_data")->passed);
  REQUIRE(r.find("cce_policy_inspection"));
  CHECK_FALSE(r.find("cce_policy_inspection")->passed);
  CHECK(r.find("cce_policy_inspection")->detail.find("exec_in_container") != std::string::npos);
  CHECK(r.failed_checks() == std::vector<std::string>{"cce_policy_inspection"});

  // The safe sample passes inspection but is not the policy this report was made under.
  auto safe = at::load_cce_policy(repo_fixture("cce/safe_policy.rego"));
  REQUIRE(safe.ok());
  auto s = base;
  at::add_cce_policy_checks(s, *safe);
  INFO(s.to_json());
  CHECK_FALSE(s.verdict);
  CHECK(s.failed_checks() == std::vector<std::string>{"cce_policy_host_data"});
  CHECK(s.find("cce_policy_inspection")->passed);

  // Both pass: the verdict stays accepted (a report whose HOST_DATA is the safe sample's hash).
  auto t = base;
  auto hd = at::cce_host_data(safe->rego);
  std::copy(hd.begin(), hd.end(), t.report->host_data.begin());
  at::add_cce_policy_checks(t, *safe);
  CHECK(t.verdict);
  // A result that was already refused stays refused.
  auto u = t;
  u.verdict = false;
  at::add_cce_policy_checks(u, *safe);
  CHECK_FALSE(u.verdict);
}
