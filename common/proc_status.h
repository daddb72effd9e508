// Test support: this process's memory figures from /proc/self/status (Linux), for tests that bound
// memory growth under hostile input. Never linked into the sealsum binary (sealsum_testsupport).
// Thread safety: reentrant.
#pragma once

#include <string>

namespace sealsum {

// The value in KiB of a /proc/self/status field such as "VmRSS" or "VmHWM"; -1 when absent.
long proc_status_kib(const std::string& field);
// Resident set size of this process in KiB (VmRSS).
inline long rss_kib() { return proc_status_kib("VmRSS"); }

}  // namespace sealsum
