// Hash-chained JSON-lines audit log (see audit.h).
#include "secure/broker/audit.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <fstream>

#include <nlohmann/json.hpp>

#include "secure/digest.h"

namespace sealsum::secure::keyrelease {
namespace {

constexpr size_t kMaxLineBytes = 64 * 1024;
const std::string kZeroHash(64, '0');

std::string line_hash(const std::string& line) {
  return to_hex(sha256({reinterpret_cast<const uint8_t*>(line.data()), line.size()}));
}

std::string utc_now() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace

Result<AuditVerification> verify_audit_log(const std::filesystem::path& path) {
  AuditVerification out;
  out.last_hash = kZeroHash;
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return out;
  std::ifstream in(path, std::ios::binary);
  if (!in) return unavailable("cannot read audit log " + path.string());
  std::string line;
  while (std::getline(in, line)) {
    std::string where = "audit log " + path.string() + " line " + std::to_string(out.records + 1);
    if (line.size() > kMaxLineBytes) return data_loss(where + " is too long");
    nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_object()) return data_loss(where + " is not a JSON object");
    auto seq = j.find("seq");
    auto prev = j.find("prev");
    if (seq == j.end() || !seq->is_number_unsigned() || seq->get<uint64_t>() != out.records) {
      return data_loss(where + ": \"seq\" is not " + std::to_string(out.records) + " (a line was removed or reordered)");
    }
    if (prev == j.end() || !prev->is_string() || prev->get<std::string>() != out.last_hash) {
      return data_loss(where + ": \"prev\" does not match the previous line's SHA-256 (the log was altered)");
    }
    out.last_hash = line_hash(line);
    ++out.records;
  }
  if (!in.eof()) return unavailable("error reading audit log " + path.string());
  return out;
}

Result<AuditLog> AuditLog::open(const std::filesystem::path& path) {
  SEALSUM_RETURN_IF_ERROR(verify_audit_log(path).status());  // refuse a broken log before creating anything
  int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return unavailable("cannot open audit log " + path.string() + ": " + std::strerror(errno));
  // One writer per log: a second broker on the same store would fork the hash chain.
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    ::close(fd);
    return unavailable("audit log " + path.string() + " is in use by another broker process; run one broker per store");
  }
  // Re-verify under the lock: another writer may have appended between the check and the lock.
  auto again = verify_audit_log(path);
  if (!again.ok()) {
    ::close(fd);
    return again.status();
  }
  return AuditLog(path, fd, again->records, again->last_hash);
}

AuditLog::AuditLog(AuditLog&& o) noexcept
    : path_(std::move(o.path_)), fd_(o.fd_), next_seq_(o.next_seq_), prev_(std::move(o.prev_)) {
  o.fd_ = -1;
}

AuditLog::~AuditLog() {
  if (fd_ >= 0) ::close(fd_);
}

Status AuditLog::append(const AuditRecord& r) {
  std::lock_guard<std::mutex> lock(mu_);
  nlohmann::ordered_json j;
  j["seq"] = next_seq_;
  j["time"] = utc_now();
  j["event"] = r.event;
  j["key_id"] = r.key_id;
  j["measurement"] = r.measurement;
  j["simulated"] = r.simulated;
  j["verdict"] = r.released ? "released" : "refused";
  j["check"] = r.check;
  j["reason"] = r.reason.substr(0, 4096);
  j["prev"] = prev_;
  // Replace invalid UTF-8 rather than throw: reasons may quote public but arbitrary bytes.
  std::string line = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  std::string out = line + "\n";
  size_t off = 0;
  while (off < out.size()) {
    ssize_t n = ::write(fd_, out.data() + off, out.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return unavailable("cannot append to audit log " + path_.string() + ": " + std::strerror(errno));
    off += static_cast<size_t>(n);
  }
  if (::fdatasync(fd_) != 0) return unavailable("cannot sync audit log " + path_.string());
  prev_ = line_hash(line);
  ++next_seq_;
  return Status::ok();
}

}  // namespace sealsum::secure::keyrelease
