// Policy JSON: accepted forms, strictness (unknown keys, wrong types and lengths), allow-all refusal.
#include <catch2/catch.hpp>

#include "secure/attest/policy.h"
#include "secure/digest.h"

namespace at = sealsum::secure::attest;
using sealsum::Code;

TEST_CASE("the default policy requires only what every verifier must", "[attest][policy]") {
  at::Policy p = at::default_policy();
  CHECK_FALSE(p.allow_debug);
  CHECK_FALSE(p.allow_migrate_ma);
  CHECK(p.max_vmpl == 0u);  // no downgrade: VMPL 0 unless a policy says otherwise
  CHECK(p.models.empty());
  CHECK(p.measurements.empty());
  CHECK(p.host_data.empty());
  CHECK_FALSE(p.report_data.has_value());
  CHECK_FALSE(p.require_runtime_data);
  CHECK_FALSE(p.require_uvm_endorsement);
  CHECK(sealsum::secure::to_hex(at::kAllowAllCcePolicyHash) ==
        "73973b78d70cc68353426de188db5dfc57e5b766e399935fb73a61127ea26d20");
  auto empty = at::parse_policy_json("{}");
  REQUIRE(empty.ok());
  CHECK_FALSE(empty->allow_debug);
  CHECK(empty->max_vmpl == 0u);
}

TEST_CASE("a full policy parses", "[attest][policy]") {
  auto p = at::parse_policy_json(R"({
    "allow_debug": true, "max_vmpl": 2, "min_report_version": 3, "min_guest_svn": 7,
    "min_tcb": {"bootloader": 1, "tee": 2, "snp": 3, "microcode": 4, "fmc": 5},
    "measurements": [")" + std::string(96, 'a') + R"(", ")" + std::string(96, 'B') + R"("],
    "host_data": [")" + std::string(64, '1') + R"("], "allow_migrate_ma": true,
    "models": [")" + std::string(64, 'c') + R"(", ")" + std::string(64, 'D') + R"("],
    "report_data": ")" + std::string(128, 'f') + R"(",
    "require_runtime_data": true, "require_uvm_endorsement": true, "uvm_feed": "F", "allow_vlek": false})");
  REQUIRE(p.ok());
  CHECK(p->allow_debug);
  CHECK(p->max_vmpl == 2u);
  CHECK(p->min_report_version == 3);
  CHECK(p->min_guest_svn == 7u);
  CHECK(p->min_tcb.bootloader == 1);
  CHECK(p->min_tcb.fmc == 5);
  REQUIRE(p->measurements.size() == 2);
  CHECK(p->measurements[1][0] == 0xBB);
  CHECK(p->host_data[0][31] == 0x11);
  CHECK(p->allow_migrate_ma);
  REQUIRE(p->models.size() == 2);
  CHECK(p->models[0][0] == 0xCC);
  CHECK(p->models[1][31] == 0xDD);
  CHECK((*p->report_data)[63] == 0xFF);
  CHECK(p->require_runtime_data);
  CHECK(p->uvm_feed == std::string("F"));
  CHECK_FALSE(p->allow_vlek);
}

TEST_CASE("malformed policies are refused naming the key", "[attest][policy]") {
  auto refused = [](const std::string& json, const std::string& key) {
    auto p = at::parse_policy_json(json);
    INFO(json);
    REQUIRE_FALSE(p.ok());
    CHECK(p.status().code() == Code::kInvalidArgument);
    CHECK(p.status().message().find(key) != std::string::npos);
  };
  refused("not json", "JSON");
  refused("[]", "object");
  refused(R"({"alow_debug": true})", "alow_debug");  // typo must not silently weaken the policy
  refused(R"({"allow_debug": "no"})", "allow_debug");
  refused(R"({"max_vmpl": 4})", "max_vmpl");
  refused(R"({"max_vmpl": -1})", "max_vmpl");
  refused(R"({"min_tcb": {"snp": 256}})", "min_tcb.snp");
  refused(R"({"min_tcb": {"spn": 1}})", "min_tcb.spn");
  refused(R"({"measurements": ["abcd"]})", "measurements[0]");
  refused(R"({"measurements": "abcd"})", "measurements");
  refused(R"({"host_data": [")" + std::string(63, 'a') + R"("]})", "host_data[0]");
  refused(R"({"report_data": ")" + std::string(128, 'g') + R"("})", "report_data");
  refused(R"({"uvm_feed": 3})", "uvm_feed");
  refused(R"({"allow_migrate_ma": 1})", "allow_migrate_ma");
  refused(R"({"models": [")" + std::string(62, 'a') + R"("]})", "models[0]");
  refused(R"({"models": {}})", "models");
  refused(R"({"model": []})", "model");
  // Listing the allow-all CCE policy as allowed is a configuration error.
  refused(R"({"host_data": ["73973b78d70cc68353426de188db5dfc57e5b766e399935fb73a61127ea26d20"]})", "allow-all");
}
