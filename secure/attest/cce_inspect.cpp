// The CCE policy inspection (rules listed in cce_policy.h). Reads the statements cce_rego.h scans;
// whatever it cannot read as a literal it refuses (fail closed).
#include <array>
#include <cstdio>
#include <map>

#include "secure/attest/cce_policy.h"
#include "secure/attest/cce_rego.h"

namespace sealsum::secure::attest {
namespace {

using rego::Statement;
using rego::Value;
using Kind = Value::Kind;

// The enforcement points of the Confidential Containers policy API: the version that introduced
// each and whether the platform allows it when a policy of an older api_version does not define it.
struct Point { const char* name; std::array<int, 3> introduced; bool allowed_by_default; };
constexpr Point kPoints[] = {
    {"mount_device", {0, 1, 0}, false},       {"mount_overlay", {0, 1, 0}, false},
    {"create_container", {0, 1, 0}, false},   {"unmount_device", {0, 2, 0}, true},
    {"unmount_overlay", {0, 6, 0}, true},     {"exec_in_container", {0, 2, 0}, true},
    {"exec_external", {0, 3, 0}, true},       {"shutdown_container", {0, 4, 0}, true},
    {"signal_container_process", {0, 5, 0}, true}, {"plan9_mount", {0, 6, 0}, true},
    {"plan9_unmount", {0, 6, 0}, true},       {"get_properties", {0, 7, 0}, true},
    {"dump_stacks", {0, 7, 0}, true},         {"runtime_logging", {0, 8, 0}, true},
    {"load_fragment", {0, 9, 0}, false},      {"scratch_mount", {0, 10, 0}, true},
    {"scratch_unmount", {0, 10, 0}, true},    {"rw_mount_device", {0, 10, 0}, false},
};

// Topic rules raised when an enforcement point is not bound to the framework.
const std::map<std::string, std::pair<const char*, const char*>> kTopics = {
    {"exec_in_container", {"exec_in_container", "the operator can run any command inside the container"}},
    {"exec_external", {"exec_external", "the operator can start any process in the utility VM beside the container"}},
    {"dump_stacks", {"dump_stacks", "the host can dump the stacks of processes in the utility VM"}},
    {"runtime_logging", {"runtime_logging", "the utility VM's runtime logs reach the host"}},
    {"scratch_mount", {"unencrypted_scratch", "scratch space may be mounted unencrypted"}},
    {"load_fragment", {"fragments", "any policy fragment, from any issuer, can be loaded and add containers"}},
};

// allow_* flags and the rule a value other than false breaks.
struct Flag { const char* name; const char* rule; const char* what; };
constexpr Flag kFlags[] = {
    {"allow_all", "allow_all_rule", "turns every enforcement point into allow"},
    {"allow_dump_stacks", "dump_stacks", "lets the host dump the stacks of processes in the utility VM"},
    {"allow_runtime_logging", "runtime_logging", "sends the utility VM's runtime logs to the host"},
    {"allow_unencrypted_scratch", "unencrypted_scratch", "lets container scratch space be written unencrypted"},
};

std::string at_line(uint32_t line) { return "line " + std::to_string(line) + ": "; }

// Policy text quoted in a finding: control characters blanked, cut to 80 bytes.
std::string clean(std::string s) {
  for (char& c : s) {
    if (uint8_t(c) < 0x20 || c == 0x7F) c = ' ';
  }
  return s.size() > 80 ? s.substr(0, 80) + "..." : s;
}

class Inspector {
 public:
  explicit Inspector(const rego::Module& m) : m_(m) {
    for (const auto& s : m.statements) by_name_[s.name].push_back(&s);
  }

  CceInspection run() {
    check_package();
    read_api_version();
    for (const auto& p : kPoints) check_point(p);
    for (const auto& f : kFlags) check_flag(f);
    check_stdio();
    check_fragments();
    check_containers();
    check_external_processes();
    for (const auto& s : m_.statements) {
      if (s.name.empty()) {
        refuse("unreadable", at_line(s.line) + "a top-level line starts with '" + clean(m_.tokens[s.begin].text) +
                                 "'; the inspection reads policies in the form az confcom writes (one rule per line)");
      }
    }
    return std::move(out_);
  }

 private:
  void refuse(const std::string& rule, std::string detail) { out_.findings.push_back({rule, Severity::kRefuse, std::move(detail)}); }
  void warn(const std::string& rule, std::string detail) { out_.findings.push_back({rule, Severity::kWarn, std::move(detail)}); }
  const std::vector<const Statement*>& defs(const std::string& name) const {
    static const std::vector<const Statement*> kNone;
    auto it = by_name_.find(name);
    return it == by_name_.end() ? kNone : it->second;
  }
  static bool is_value(const Statement& s) {
    return s.form == Statement::Form::kAssign || s.form == Statement::Form::kDefault;
  }

  void check_package() {
    const auto& st = m_.statements;
    if (st.empty() || st[0].form != Statement::Form::kPackage || st[0].name != "policy") {
      refuse("package", "the policy must begin with `package policy` (ACI evaluates data.policy.*)");
    }
    for (size_t i = 1; i < st.size(); ++i) {
      if (st[i].form == Statement::Form::kPackage) refuse("package", at_line(st[i].line) + "a second `package` line");
    }
  }

  void read_api_version() {
    for (const char* n : {"api_version", "api_svn"}) {
      for (const Statement* s : defs(n)) {
        std::array<int, 3> v{};
        if (is_value(*s) && s->value.kind == Kind::kString &&
            std::sscanf(s->value.text.c_str(), "%d.%d.%d", &v[0], &v[1], &v[2]) == 3) {
          api_ = v;
          api_known_ = true;
        }
      }
    }
  }

  // "allowed": false everywhere it appears (at least once), or plain false.
  static bool literal_deny(const Value& v) {
    if (v.is_bool(false)) return true;
    if (v.kind != Kind::kObject) return false;
    auto allowed = v.all("allowed");
    if (allowed.empty()) return false;
    for (const Value* a : allowed) {
      if (!a->is_bool(false)) return false;
    }
    return true;
  }
  static bool literal_allow(const Value& v) {
    if (v.is_bool(true)) return true;
    if (v.kind != Kind::kObject) return false;
    for (const Value* a : v.all("allowed")) {
      if (a->is_bool(true)) return true;
    }
    return false;
  }

  void check_point(const Point& p) {
    const std::string name = p.name;
    const std::string bound = "data.framework." + name;
    const std::string fix = "; bind it to the framework: " + name + " := " + bound;
    bool open = false;
    const auto& d = defs(name);
    if (d.empty() && p.allowed_by_default && (!api_known_ || api_ < p.introduced)) {
      open = true;
      std::string v = std::to_string(p.introduced[0]) + "." + std::to_string(p.introduced[1]) + "." +
                      std::to_string(p.introduced[2]);
      refuse("missing_rule", name + " is not defined and the policy's api_version " +
                                 (api_known_ ? "predates " + v : "is not given") +
                                 ", so the platform's default (allow) applies" + fix);
    }
    for (const Statement* s : d) {
      if (is_value(*s) && !s->conditional && s->value.kind == Kind::kRef && s->value.text == bound) continue;
      if (is_value(*s) && !s->conditional && literal_deny(s->value)) continue;  // an `else` may follow a condition
      open = true;
      if (is_value(*s) && literal_allow(s->value) && !s->conditional) {
        if (name == "create_container") create_allows_all_ = true;
        refuse("allow_all_rule", at_line(s->line) + name + " := " + s->value.brief() + " admits every request" + fix);
      } else {
        refuse("custom_rule", at_line(s->line) + name + " is defined by hand" +
                                  (is_value(*s) ? " (" + s->value.brief() + (s->conditional ? " with a condition)" : ")") : "") +
                                  ", so the inspection cannot show what it admits" + fix);
      }
    }
    auto topic = kTopics.find(name);
    if (open && topic != kTopics.end()) {
      refuse(topic->second.first, name + " is not bound to " + bound + ": " + topic->second.second + fix);
    }
  }

  void check_flag(const Flag& f) {
    for (const Statement* s : defs(f.name)) {
      if (is_value(*s) && !s->conditional && s->value.is_bool(false)) continue;
      std::string shown = is_value(*s) ? s->value.brief() : "<a rule body>";
      refuse(f.rule, at_line(s->line) + f.name + " is " + shown + (s->conditional ? " under a condition" : "") + ": it " +
                         f.what + "; set " + f.name + " := false");
    }
  }

  // `"allow_stdio_access": <not false>` anywhere in the text; at most kMaxStdioFindings reported.
  void check_stdio() {
    constexpr size_t kMaxStdioFindings = 16;
    const auto& t = m_.tokens;
    size_t found = 0;
    for (const auto& s : m_.statements) {
      for (size_t i = s.begin; i + 2 < s.end; ++i) {
        if (t[i].kind != rego::Tok::kString || t[i].text != "allow_stdio_access" || !t[i + 1].is(":")) continue;
        if (t[i + 2].is_ident("false")) continue;
        if (++found > kMaxStdioFindings) continue;
        refuse("stdio_access", at_line(t[i].line) + "allow_stdio_access is " + clean(t[i + 2].text) + " in `" +
                                   clean(s.name) + "`" + item_name(s, i) +
                                   ": the stdin/stdout/stderr of the processes it covers reach the host, where the "
                                   "operator reads them; set it to false (az confcom acipolicygen --disable-stdio)");
      }
    }
    if (found > kMaxStdioFindings) {
      refuse("stdio_access", std::to_string(found - kMaxStdioFindings) + " more allow_stdio_access settings are not false");
    }
  }

  // For token i inside an object that is an element of a top-level list (NAME := [{...}, ...]):
  // " (entry 'NAME')" from its "name" member, " (entry #k)" without one; "" elsewhere.
  std::string item_name(const Statement& s, size_t i) const {
    const auto& t = m_.tokens;
    for (size_t j = i; j-- > s.begin;) {
      if (!t[j].is("{") || t[j].depth != 1 || t[j].match < i) continue;
      for (size_t k = j + 1; k + 2 < t[j].match; ++k) {
        if (t[k].depth == 2 && t[k].kind == rego::Tok::kString && t[k].text == "name" && t[k + 1].is(":") &&
            t[k + 2].kind == rego::Tok::kString) {
          return " (entry '" + clean(t[k + 2].text) + "')";
        }
      }
      size_t index = 0;
      for (size_t k = s.begin; k < j; ++k) index += t[k].depth == 1 && t[k].is("{");
      return " (entry #" + std::to_string(index) + ")";
    }
    return "";
  }

  // A top-level literal list, or nullptr after refusing (rule) what cannot be read.
  const Value* literal_list(const std::string& name, const std::string& rule) {
    const Value* list = nullptr;
    for (const Statement* s : defs(name)) {
      if (!is_value(*s) || s->conditional || s->value.kind != Kind::kArray || list) {
        refuse(rule, at_line(s->line) + "`" + name + "` is not one literal list the inspection can read; write it as " +
                         name + " := [ ... ] once, as az confcom does");
        return nullptr;
      }
      list = &s->value;
    }
    return list;
  }

  static std::string string_member(const Value& v, const char* key) {
    auto m = v.all(key);
    return m.size() == 1 && m[0]->kind == Kind::kString ? clean(m[0]->text) : std::string();
  }

  void check_fragments() {
    const Value* list = literal_list("fragments", "fragments");
    if (!list) return;
    for (const Value& f : list->items) {
      if (f.kind != Kind::kObject) {
        refuse("fragments", at_line(f.line) + "a fragment entry is not an object: " + f.brief());
        continue;
      }
      std::string issuer = string_member(f, "issuer");
      if (issuer.empty()) issuer = string_member(f, "iss");
      auto includes = f.all("includes");
      std::string inc = includes.size() == 1 ? includes[0]->brief() : "?";
      if (inc.find("\"containers\"") != std::string::npos) fragment_containers_ = true;
      warn("fragments", at_line(f.line) + "accepts fragments from issuer " + (issuer.empty() ? "<none>" : issuer) +
                            ", feed " + string_member(f, "feed") + ", minimum_svn " + string_member(f, "minimum_svn") +
                            ", including " + inc + ": what that issuer signs can run here; check you trust it");
    }
  }

  void check_containers() {
    const auto& d = defs("containers");
    const Value* list = literal_list("containers", "unreadable");
    if (!d.empty() && !list) return;  // unreadable: literal_list refused it
    if ((!list || list->items.empty()) && !create_allows_all_) {
      std::string what = "the policy has no containers list (or an empty one), so it does not name the workload";
      if (fragment_containers_) {
        warn("no_containers", what + "; its containers come from a fragment, whose issuer then decides what runs");
      } else {
        refuse("no_containers", what + "; generate it from the deployment with az confcom acipolicygen");
      }
    }
    if (!list) return;
    for (size_t i = 0; i < list->items.size(); ++i) {
      const Value& c = list->items[i];
      if (c.kind != Kind::kObject) {
        refuse("unreadable", at_line(c.line) + "containers[" + std::to_string(i) + "] is not an object literal");
        continue;
      }
      std::string name = string_member(c, "name");
      if (name.empty()) name = string_member(c, "id");
      std::string where = at_line(c.line) + "container " + (name.empty() ? "#" + std::to_string(i) : "'" + name + "'");
      for (const Value* e : c.all("exec_processes")) {
        if (e->kind == Kind::kArray && e->items.empty()) continue;
        refuse("exec_in_container", where + " lists exec_processes " + e->brief() +
                                        ": the operator can run them inside the container; remove them");
      }
      for (const Value* e : c.all("allow_elevated")) {
        if (e->is_bool(false)) continue;
        refuse("elevated_container", where + " has allow_elevated " + e->brief() +
                                         ": a privileged container can read every other container's memory in the "
                                         "utility VM; do not deploy it privileged");
      }
    }
  }

  void check_external_processes() {
    const Value* list = literal_list("external_processes", "exec_external");
    if (list && !list->items.empty()) {
      refuse("exec_external", at_line(list->line) + "external_processes " + list->brief() +
                                  ": the operator can start them in the utility VM beside the container; remove them "
                                  "(never generate with --debug-mode)");
    }
  }

  const rego::Module& m_;
  std::map<std::string, std::vector<const Statement*>> by_name_;
  std::array<int, 3> api_{};
  bool api_known_ = false;
  bool create_allows_all_ = false;
  bool fragment_containers_ = false;
  CceInspection out_;
};

}  // namespace

CceInspection inspect_cce_policy(std::string_view rego) {
  auto m = rego::scan(rego);
  if (!m.ok()) {
    CceInspection out;
    out.findings.push_back({"syntax", Severity::kRefuse,
                            m.status().message() + "; the inspection cannot read the policy, so it refuses it"});
    return out;
  }
  return Inspector(*m).run();
}

}  // namespace sealsum::secure::attest
