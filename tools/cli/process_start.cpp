// Process protections chosen by subcommand, first thing in main (see process_start.h).
#include "tools/cli/process_start.h"

#include <initializer_list>
#include <iostream>
#include <string_view>

#include "secure/process_hardening.h"
#include "secure/wipe_on_free.h"

namespace sealsum::cli {
namespace {

bool one_of(std::string_view cmd, std::initializer_list<std::string_view> names) {
  for (std::string_view n : names) {
    if (cmd == n) return true;
  }
  return false;
}

}  // namespace

int protect_process(int argc, char** argv) {
  if (argc < 2 || argv[1] == nullptr) return 0;
  const std::string_view cmd = argv[1];
  if (one_of(cmd, {"serve", "batch"})) {
    if (Status st = secure::harden_process(); !st.is_ok()) {
      std::cerr << "sealsum " << cmd << ": cannot protect the process: " << st.to_string() << "\n";
      return 1;
    }
  }
  if (one_of(cmd, {"serve", "batch", "summarize", "generate", "bench"})) {
    if (Status st = secure::enable_wipe_on_free(); !st.is_ok()) {
      std::cerr << "sealsum " << cmd << ": " << st.to_string() << "\n";
      return 1;
    }
  }
  return 0;
}

}  // namespace sealsum::cli
