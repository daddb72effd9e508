// `<program> version`: build identity, for auditors comparing a measured binary with a reproduced one.
// Compiled into each binary with its own SEALSUM_PROGRAM, so `sealsum-serve version` names
// sealsum-serve, `sealsum-kbs version` sealsum-kbs and `sealsum version` sealsum.
#include <iostream>

#include "tools/cli/command.h"

#ifndef SEALSUM_PROGRAM
#define SEALSUM_PROGRAM "sealsum"
#endif

namespace {

int run_version(const std::vector<std::string>& argv) {
  sealsum::cli::Args args("version", "");
  if (int rc = sealsum::cli::parse_or_exit(args, argv); rc >= 0) return rc;
  std::cout << SEALSUM_PROGRAM " " << SEALSUM_VERSION << " (" << __VERSION__ << ")\n";
  return 0;
}

}  // namespace

SEALSUM_COMMAND("version", "print the version and compiler of this build", run_version);
