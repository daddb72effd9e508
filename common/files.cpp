// Bounded file and stream reads (see files.h).
#include "common/files.h"

#include <fstream>

namespace sealsum {

Result<std::string> read_stream_bounded(std::istream& in, size_t limit, std::string_view name) {
  std::string out;
  char buf[65536];
  while (in.read(buf, sizeof buf) || in.gcount() > 0) {
    out.append(buf, static_cast<size_t>(in.gcount()));
    if (out.size() > limit) {
      return resource_exhausted(std::string(name) + " is larger than " + std::to_string(limit) + " bytes");
    }
  }
  if (in.bad()) return data_loss("error reading " + std::string(name));
  return out;
}

Result<std::string> read_file_bounded(const std::filesystem::path& path, size_t limit) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return not_found("cannot open " + path.string());
  return read_stream_bounded(in, limit, path.string());
}

}  // namespace sealsum
