// Bounded whole-file reads (see file_io.h).
#include "tools/convert/file_io.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace sealsum::convert {

Result<std::vector<uint8_t>> read_file_bytes(const std::string& path, uint64_t max_bytes) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return not_found("cannot open '" + path + "': " + std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return invalid_argument("'" + path + "' is not a regular file");
  }
  if (uint64_t(st.st_size) > max_bytes) {
    ::close(fd);
    return resource_exhausted("'" + path + "' is " + std::to_string(st.st_size) + " bytes, above the limit of " +
                              std::to_string(max_bytes));
  }
  std::vector<uint8_t> out(size_t(st.st_size));
  size_t got = 0;
  while (got < out.size()) {
    ssize_t n = ::read(fd, out.data() + got, out.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ::close(fd);
      return data_loss("reading '" + path + "' failed after " + std::to_string(got) + " bytes");
    }
    got += size_t(n);
  }
  ::close(fd);
  return out;
}

Result<nlohmann::json> read_json_object(const std::string& path, uint64_t max_bytes) {
  SEALSUM_ASSIGN_OR_RETURN(std::vector<uint8_t> bytes, read_file_bytes(path, max_bytes));
  nlohmann::json j = nlohmann::json::parse(bytes.begin(), bytes.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return data_loss("'" + path + "' is not valid JSON");
  if (!j.is_object()) return data_loss("'" + path + "' is not a JSON object");
  return j;
}

}  // namespace sealsum::convert
