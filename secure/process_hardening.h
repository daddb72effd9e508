// Process-wide protections for the services that hold secrets (`sealsum serve`, `sealsum kbs serve`):
// no core dumps (RLIMIT_CORE 0, hard limit included) and not dumpable (prctl PR_SET_DUMPABLE 0:
// no core file, and other processes of the same user cannot ptrace it or read its /proc/PID/mem).
// Call once at start, before any secret is loaded; it holds for the life of the process (a
// non-dumpable process stays so across threads; execve of a set-uid binary aside).
// Failure: kInternal naming the call that failed (the caller should refuse to start).
// Thread safety: call from one thread at start.
#pragma once

#include "common/status.h"

namespace sealsum::secure {

Status harden_process();

}  // namespace sealsum::secure
