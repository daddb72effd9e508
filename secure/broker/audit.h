// Append-only, hash-chained audit log of key releases and refusals (JSON lines).
//
// Each line is one compact JSON object:
//   {"seq":N,"time":"2026-11-23T17:20:00Z","event":"release","key_id":..,"measurement":"<96 hex>"|"",
//    "simulated":bool,"verdict":"released"|"refused","check":..,"reason":..,"prev":"<64 hex>"}
// where "prev" is the SHA-256 (hex) of the previous line's bytes without its newline, and
// 64 zeros for the first line; "seq" counts from 0. Editing, deleting or reordering any line breaks
// the chain at the next one (verify_audit_log). Truncating the tail is not detectable from the
// file alone; ship lines off-host (e.g. to a log collector) when that matters.
// Never written: key material, runtime data or evidence bytes.
//
// Durability: the file is opened O_APPEND|O_CREAT (mode 0600); each record is one write() followed
// by fdatasync(), under a mutex, so concurrent appends from HTTP worker threads cannot interleave.
// open() verifies the existing chain and refuses (kDataLoss) to extend a broken log, and takes an
// exclusive flock so a second broker on the same store is refused (kUnavailable) instead of
// forking the chain.
// Thread safety: append() may be called concurrently.
#pragma once

#include <filesystem>
#include <mutex>
#include <string>

#include "common/status.h"

namespace sealsum::secure::keyrelease {

struct AuditRecord {
  std::string event = "release";
  std::string key_id;
  std::string measurement;  // hex, or empty when the evidence did not parse
  bool simulated = false;
  bool released = false;
  std::string check;   // failed check name ("" when released)
  std::string reason;
};

class AuditLog {
 public:
  static Result<AuditLog> open(const std::filesystem::path& path);
  AuditLog(AuditLog&& o) noexcept;
  AuditLog& operator=(AuditLog&&) = delete;
  AuditLog(const AuditLog&) = delete;
  ~AuditLog();

  Status append(const AuditRecord& record);
  const std::filesystem::path& path() const { return path_; }

 private:
  AuditLog(std::filesystem::path p, int fd, uint64_t next_seq, std::string prev)
      : path_(std::move(p)), fd_(fd), next_seq_(next_seq), prev_(std::move(prev)) {}
  std::filesystem::path path_;
  int fd_ = -1;
  std::mutex mu_;
  uint64_t next_seq_ = 0;
  std::string prev_;
};

struct AuditVerification {
  uint64_t records = 0;
  std::string last_hash;  // hex of the last line (64 zeros when empty)
};
// Checks every line parses, "seq" counts up from 0 and "prev" chains. kDataLoss names the line.
Result<AuditVerification> verify_audit_log(const std::filesystem::path& path);

}  // namespace sealsum::secure::keyrelease
