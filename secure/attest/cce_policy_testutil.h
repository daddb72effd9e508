// Test helpers for the CCE policy tests: repository fixtures (tests/fixtures, path compiled in as
// SEALSUM_REPO_FIXTURES by secure/CMakeLists.txt) and finding lookups. Throws when a fixture is
// missing, so tests fail, never skip.
#pragma once

#include <algorithm>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>

#include "secure/attest/cce_policy.h"

namespace sealsum::secure::attest::testutil {

inline std::string repo_fixture(const std::string& relative) {
  std::string path = std::string(SEALSUM_REPO_FIXTURES) + "/" + relative;
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("repository fixture " + path + " not found");
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// True when the inspection refused with `rule`.
inline bool has_rule(const CceInspection& r, const std::string& rule) {
  auto rules = r.refused_rules();
  return std::find(rules.begin(), rules.end(), rule) != rules.end();
}

// `text` with the first occurrence of `from` replaced by `to`; throws when `from` is absent (so a
// variant that no longer applies fails instead of testing the unchanged policy).
inline std::string replaced(std::string text, const std::string& from, const std::string& to) {
  size_t at = text.find(from);
  if (at == std::string::npos) throw std::runtime_error("variant text not found: " + from);
  return text.replace(at, from.size(), to);
}

}  // namespace sealsum::secure::attest::testutil
