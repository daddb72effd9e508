#include "common/fixtures.h"

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace sealsum {

std::filesystem::path fixtures_dir() {
  const char* env = std::getenv("SEALSUM_FIXTURES");
  if (env == nullptr || *env == '\0') env = std::getenv("SEALSUM_FIXTURES_DEFAULT");
  std::filesystem::path p = (env != nullptr && *env != '\0') ? env : "../shared";
  std::error_code ec;
  if (!std::filesystem::is_directory(p, ec)) {
    throw std::runtime_error("fixtures directory '" + p.string() +
                             "' is missing: set SEALSUM_FIXTURES to the shared/ folder "
                             "(models, golden, attestation, corpus)");
  }
  return p;
}

std::filesystem::path fixture(const std::string& relative) {
  auto p = fixtures_dir() / relative;
  std::error_code ec;
  if (!std::filesystem::exists(p, ec)) {
    throw std::runtime_error("fixture '" + p.string() + "' is missing from the fixtures directory");
  }
  return p;
}

std::string read_fixture(const std::string& relative) {
  auto p = fixture(relative);
  std::ifstream in(p, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open fixture '" + p.string() + "'");
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace sealsum
