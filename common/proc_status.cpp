// /proc/self/status reader (see proc_status.h).
#include "common/proc_status.h"

#include <fstream>

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

}  // namespace sealsum
