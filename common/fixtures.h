// The one place tests and tools find the shared fixtures (models, goldens, attestation reports).
//
// Resolution: $SEALSUM_FIXTURES if set, else $SEALSUM_FIXTURES_DEFAULT (set by ctest to the CMake
// cache value, default <source>/../shared). There is no silent skip: when the directory is missing,
// fixtures_dir() throws std::runtime_error naming the path and how to fix it, so a test that needs
// fixtures fails loudly (in CI the fixtures are always present).
#pragma once

#include <filesystem>
#include <string>

namespace sealsum {

std::filesystem::path fixtures_dir();
// fixtures_dir() / relative, which must exist (throws otherwise).
std::filesystem::path fixture(const std::string& relative);
// Reads a whole fixture file into a string (throws on failure).
std::string read_fixture(const std::string& relative);

}  // namespace sealsum
