// harden_process (process_hardening.h), checked in a forked child so the test binary itself is unchanged.
#include "secure/process_hardening.h"

#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>

TEST_CASE("harden_process makes the process non-dumpable with no core limit", "[process]") {
  REQUIRE(prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) == 1);  // the default: the check below can fail
  const pid_t child = fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    int code = 0;
    if (!sealsum::secure::harden_process().is_ok()) code |= 1;
    if (prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) != 0) code |= 2;
    rlimit r{};
    if (getrlimit(RLIMIT_CORE, &r) != 0 || r.rlim_cur != 0 || r.rlim_max != 0) code |= 4;
    // The hard limit cannot be raised again.
    const rlimit up{1 << 20, 1 << 20};
    if (setrlimit(RLIMIT_CORE, &up) == 0 && geteuid() != 0) code |= 8;
    _exit(code);
  }
  int status = 0;
  REQUIRE(waitpid(child, &status, 0) == child);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
}
