// /proc/self/status and /proc/self/smaps readers (see proc_status.h).
#include "common/proc_status.h"

#include <cstdint>
#include <fstream>
#include <string>

namespace sealsum {

long proc_status_kib(const std::string& field) {
  std::ifstream in("/proc/self/status");
  std::string key;
  const std::string want = field + ":";
  while (in >> key) {
    if (key == want) {
      long value = -1;
      in >> value;
      return value;
    }
    in.ignore(1 << 12, '\n');
  }
  return -1;
}

std::string vm_flags_of(const void* addr) {
  std::ifstream in("/proc/self/smaps");
  const auto a = reinterpret_cast<uintptr_t>(addr);
  std::string line;
  bool inside = false;
  while (std::getline(in, line)) {
    const auto dash = line.find('-');
    const auto space = line.find(' ');
    if (dash != std::string::npos && space != std::string::npos && dash < space &&
        line.find_first_not_of("0123456789abcdef") == dash) {
      const auto lo = std::stoull(line.substr(0, dash), nullptr, 16);
      const auto hi = std::stoull(line.substr(dash + 1, space - dash - 1), nullptr, 16);
      inside = lo <= a && a < hi;
    } else if (inside && line.rfind("VmFlags:", 0) == 0) {
      return line;
    }
  }
  return "";
}

}  // namespace sealsum
