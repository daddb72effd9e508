// `sealsum version`: build identity, for auditors comparing a measured binary with a reproduced one.
#include <iostream>

#include "tools/cli/command.h"

namespace {

int run_version(const std::vector<std::string>& argv) {
  sealsum::cli::Args args("version", "");
  if (int rc = sealsum::cli::parse_or_exit(args, argv); rc >= 0) return rc;
  std::cout << "sealsum " << SEALSUM_VERSION << " (" << __VERSION__ << ")\n";
  return 0;
}

}  // namespace

SEALSUM_COMMAND("version", "print the version and compiler of this build", run_version);
