// The CCE policy inspection: each unsafe setting flipped in the safe sample is refused with its
// named rule; attempts to hide a setting from the scanner fail closed; scanner bounds.
#include <catch2/catch.hpp>

#include "secure/attest/cce_policy.h"
#include "secure/attest/cce_policy_testutil.h"
#include "secure/attest/cce_rego.h"

namespace at = sealsum::secure::attest;
using at::testutil::has_rule;
using at::testutil::replaced;
using at::testutil::repo_fixture;

namespace {

const std::string& safe() {
  static const std::string s = repo_fixture("cce/safe_policy.rego");
  return s;
}

// Inspects the safe sample with `from` replaced by `to`; requires refusal with every rule in `rules`.
void refused_by(const std::string& from, const std::string& to, std::initializer_list<const char*> rules) {
  auto r = at::inspect_cce_policy(replaced(safe(), from, to));
  INFO("variant: " << from << " -> " << to << "\n" << r.to_json());
  REQUIRE(r.refused());
  for (const char* rule : rules) {
    INFO("expected rule " << rule);
    CHECK(has_rule(r, rule));
  }
}

std::string bound(const std::string& point) { return point + " := data.framework." + point; }

}  // namespace

TEST_CASE("the safe sample is the baseline: no refusals", "[attest][cce]") {
  REQUIRE_FALSE(at::inspect_cce_policy(safe()).refused());
}

TEST_CASE("exec inside the container is refused", "[attest][cce]") {
  refused_by(bound("exec_in_container"), "exec_in_container := {\"allowed\": true}", {"allow_all_rule", "exec_in_container"});
  refused_by("\"exec_processes\": []", "\"exec_processes\": [{\"command\": [\"/bin/sh\"], \"signals\": []}]",
             {"exec_in_container"});
}

TEST_CASE("exec beside the container is refused", "[attest][cce]") {
  refused_by(bound("exec_external"), "exec_external := {\"allowed\": true, \"env_list\": null}",
             {"allow_all_rule", "exec_external"});
  refused_by("external_processes := []",
             "external_processes := [{\"command\": [\"bash\"], \"env_rules\": [], \"working_dir\": \"/\"}]",
             {"exec_external"});
}

TEST_CASE("stdio access is refused wherever it appears", "[attest][cce]") {
  refused_by("\"allow_stdio_access\": false", "\"allow_stdio_access\": true", {"stdio_access"});
  refused_by(bound("create_container"), "create_container := {\"allowed\": true, \"allow_stdio_access\": true}",
             {"stdio_access", "allow_all_rule"});
  // The finding names the container (by its "name", else by position).
  auto named = at::inspect_cce_policy(replaced(safe(), "\"allow_stdio_access\": false", "\"allow_stdio_access\": 1"));
  REQUIRE(has_rule(named, "stdio_access"));
  CHECK(named.findings[0].detail.find("in `containers` (entry 'sealsum')") != std::string::npos);
  auto unnamed = at::inspect_cce_policy(
      "package policy\ncontainers := [{\"a\": 1}, {\"allow_stdio_access\": true}]\n");
  REQUIRE(has_rule(unnamed, "stdio_access"));
  bool by_index = false;
  for (const auto& f : unnamed.findings) by_index |= f.detail.find("(entry #1)") != std::string::npos;
  CHECK(by_index);
  // Many settings: 16 reported one by one, the rest counted.
  std::string many = "package policy\nexternal_processes := [";
  for (int i = 0; i < 20; ++i) many += "{\"allow_stdio_access\": true},";
  auto m = at::inspect_cce_policy(many + "]\n");
  size_t stdio = 0;
  for (const auto& f : m.findings) stdio += f.rule == "stdio_access";
  CHECK(stdio == 17);
  // An escaped key is the same key.
  refused_by("\"allow_stdio_access\": false", "\"allow\\u005fstdio_access\": true", {"stdio_access"});
}

TEST_CASE("debug: stack dumps are refused", "[attest][cce]") {
  refused_by("allow_dump_stacks := false", "allow_dump_stacks := true", {"dump_stacks"});
  refused_by(bound("dump_stacks"), "dump_stacks := {\"allowed\": true}", {"dump_stacks", "allow_all_rule"});
}

TEST_CASE("runtime logging is refused", "[attest][cce]") {
  refused_by("allow_runtime_logging := false", "allow_runtime_logging := true", {"runtime_logging"});
  refused_by(bound("runtime_logging"), "runtime_logging := {\"allowed\": true}", {"runtime_logging"});
}

TEST_CASE("unencrypted scratch is refused", "[attest][cce]") {
  refused_by("allow_unencrypted_scratch := false", "allow_unencrypted_scratch := true", {"unencrypted_scratch"});
  refused_by(bound("scratch_mount"), "scratch_mount := {\"allowed\": true}", {"unencrypted_scratch"});
}

TEST_CASE("an elevated (privileged) container is refused", "[attest][cce]") {
  refused_by("\"allow_elevated\": false", "\"allow_elevated\": true", {"elevated_container"});
}

TEST_CASE("fragments: listed ones warn, an unbound load_fragment refuses", "[attest][cce]") {
  refused_by(bound("load_fragment"), "load_fragment := {\"allowed\": true}", {"fragments", "allow_all_rule"});
  refused_by("fragments := [", "fragments := [1, ", {"fragments"});  // unreadable entry
}

TEST_CASE("a policy without containers is flagged", "[attest][cce]") {
  // The infrastructure fragment contributes containers: a warning.
  auto w = at::inspect_cce_policy(replaced(safe(), "containers := [", "workload := ["));
  INFO(w.to_json());
  CHECK_FALSE(w.refused());
  bool warned = false;
  for (const auto& f : w.findings) warned |= f.rule == "no_containers" && f.severity == at::Severity::kWarn;
  CHECK(warned);
  // Without fragments, a refusal.
  std::string none = replaced(replaced(safe(), "containers := [", "workload := ["), "fragments := [", "unused := [");
  auto r = at::inspect_cce_policy(none);
  INFO(r.to_json());
  CHECK(has_rule(r, "no_containers"));
  // An empty list too.
  CHECK(has_rule(at::inspect_cce_policy(replaced(none, "workload := [", "containers := [] \nworkload := [")), "no_containers"));
}

TEST_CASE("enforcement points not bound to the framework are refused", "[attest][cce]") {
  refused_by(bound("mount_device"), "mount_device := true", {"allow_all_rule"});
  refused_by(bound("create_container"), "create_container := data.framework.mount_device", {"custom_rule"});
  refused_by(bound("mount_overlay"), "mount_overlay := {\"allowed\": true} { input.target != \"\" }", {"custom_rule"});
  refused_by(bound("exec_in_container"), "exec_in_container { true }", {"custom_rule", "exec_in_container"});
  refused_by(bound("exec_in_container"), "exec_in_container.allowed := true", {"custom_rule", "exec_in_container"});
  refused_by(bound("exec_in_container"), "exec_in_container := {\"allowed\": false, \"allowed\": true}",
             {"allow_all_rule"});
  refused_by(bound("exec_in_container"),
             "exec_in_container := {\"allowed\": false} { false } else := {\"allowed\": true}", {"custom_rule"});
  refused_by(bound("exec_in_container"), bound("exec_in_container") + "\nexec_in_container := {\"allowed\": true} { true }",
             {"custom_rule"});
  refused_by(bound("exec_in_container"), "default exec_in_container := {\"allowed\": true}", {"allow_all_rule"});
  refused_by("allow_dump_stacks := false", "allow_all := true", {"allow_all_rule"});
  // A literal deny is safe.
  auto deny = at::inspect_cce_policy(replaced(safe(), bound("exec_external"), "exec_external := {\"allowed\": false}"));
  CHECK_FALSE(deny.refused());
}

TEST_CASE("a missing enforcement point is refused only where the platform default allows it", "[attest][cce]") {
  // api_version 0.10.0 defines exec_in_container: absent means denied.
  auto ok = at::inspect_cce_policy(replaced(safe(), bound("exec_in_container"), ""));
  INFO(ok.to_json());
  CHECK_FALSE(ok.refused());
  std::string old = replaced(replaced(safe(), bound("exec_in_container"), ""), "api_version := \"0.10.0\"",
                             "api_version := \"0.1.0\"");
  auto r = at::inspect_cce_policy(old);
  CHECK(has_rule(r, "missing_rule"));
  CHECK(has_rule(r, "exec_in_container"));
  // No api_version at all: unknown, so refused as well.
  CHECK(has_rule(at::inspect_cce_policy(replaced(replaced(safe(), bound("dump_stacks"), ""), "api_version := \"0.10.0\"", "")),
                 "missing_rule"));
}

TEST_CASE("settings the scanner cannot read as literals are refused", "[attest][cce]") {
  refused_by("allow_dump_stacks := false", "allow_dump_stacks := false == false", {"dump_stacks"});
  refused_by("allow_runtime_logging := false", "allow_runtime_logging := false { true } else := true", {"runtime_logging"});
  refused_by("external_processes := []", "external_processes := [p | p := data.x[_]]", {"exec_external"});
  refused_by("containers := [", "containers := data.other\nignored := [", {"unreadable"});
  refused_by("external_processes := []", "external_processes := []\n  + [1]", {"unreadable"});
  refused_by("package policy", "package other", {"package"});
}

TEST_CASE("malformed policy text is refused as a syntax finding", "[attest][cce]") {
  for (const char* bad : {"package policy\nx := \"unterminated\n", "package policy\nx := [1, 2\n",
                          "package policy\nx := ]\n", "package policy\nx := \"bad \\q escape\"\n",
                          "package policy\nx := `raw", "package policy\nx := \x01\n",
                          "package policy\nx := \"\\u12\"\n", "package policy\nx := caf\xc3\xa9\n"}) {
    INFO(bad);
    auto r = at::inspect_cce_policy(bad);
    CHECK(has_rule(r, "syntax"));
  }
  std::string deep = "package policy\nx := " + std::string(200, '[') + std::string(200, ']') + "\n";
  CHECK(has_rule(at::inspect_cce_policy(deep), "syntax"));
}

TEST_CASE("the scanner reads values, comments and statements", "[attest][cce]") {
  auto m = at::rego::scan("package policy # c\n# comment \"x\n"
                          "a := {\"k\": [1, -2.5e3, `raw\nstring`, null, true,],\n \"s\": \"\\u00e9\\n\"}\n"
                          "b := data.framework.b\n"
                          "c[x] { x := 1 }\n"
                          "default d = false\n");
  REQUIRE(m.ok());
  REQUIRE(m->statements.size() == 5);
  const auto& a = m->statements[1];
  CHECK(a.name == "a");
  REQUIRE(a.value.kind == at::rego::Value::Kind::kObject);
  auto k = a.value.all("k");
  REQUIRE(k.size() == 1);
  REQUIRE(k[0]->items.size() == 5);
  CHECK(k[0]->items[1].text == "-2.5e3");
  CHECK(k[0]->items[2].text == "raw\nstring");
  CHECK(a.value.all("s")[0]->text == "\xc3\xa9\n");
  CHECK(m->statements[2].value.kind == at::rego::Value::Kind::kRef);
  CHECK(m->statements[2].value.text == "data.framework.b");
  CHECK(m->statements[3].form == at::rego::Statement::Form::kOther);
  CHECK(m->statements[3].name == "c");
  CHECK(m->statements[4].form == at::rego::Statement::Form::kDefault);
  CHECK(m->statements[4].line == 8);  // the raw string's line break counts
  CHECK(m->statements[4].value.is_bool(false));
}
