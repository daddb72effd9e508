// Test support: this process's memory figures from /proc/self/status and /proc/self/smaps (Linux),
// for tests that bound memory growth under hostile input or check where secrets are mapped. Never linked into the sealsum binary (sealsum_testsupport).
// Thread safety: reentrant.
#pragma once

#include <string>

namespace sealsum {

// The value in KiB of a /proc/self/status field such as "VmRSS" or "VmHWM"; -1 when absent.
long proc_status_kib(const std::string& field);
// Resident set size of this process in KiB (VmRSS).
inline long rss_kib() { return proc_status_kib("VmRSS"); }
// The "VmFlags:" line of the /proc/self/smaps mapping that holds `addr`; "" when none does.
std::string vm_flags_of(const void* addr);
// Whether that mapping is excluded from core dumps (VmFlags "dd").
inline bool excluded_from_dumps(const void* addr) { return (vm_flags_of(addr) + " ").find(" dd ") != std::string::npos; }

}  // namespace sealsum
