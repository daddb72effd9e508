// Request-head scanning for the guarded server (see http_guard.h).
#include <cctype>
#include <string_view>

#include "server/http_guard.h"

namespace sealsum::server {
namespace {

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  }
  return true;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// 1-18 decimal digits (fits size_t with room; far above any body limit).
bool parse_length(std::string_view v, size_t* out) {
  if (v.empty() || v.size() > 18) return false;
  size_t n = 0;
  for (char c : v) {
    if (c < '0' || c > '9') return false;
    n = n * 10 + static_cast<size_t>(c - '0');
  }
  *out = n;
  return true;
}

}  // namespace

HeadScan scan_request_head(std::string_view buf, size_t max_head_bytes, size_t max_header_count) {
  HeadScan scan;
  using S = HeadScan::State;
  bool have_length = false;
  size_t headers = 0;
  size_t pos = 0;
  for (bool first = true;; first = false) {
    const size_t nl = buf.find('\n', pos);
    if (nl == std::string_view::npos) {
      scan.state = buf.size() > max_head_bytes ? S::kTooLarge : S::kIncomplete;
      return scan;
    }
    const size_t end = nl + 1;
    if (end > max_head_bytes) {
      scan.state = S::kTooLarge;
      return scan;
    }
    std::string_view line = buf.substr(pos, nl - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    const size_t begin = pos;
    pos = end;
    if (first) continue;  // the request line: httplib parses it
    if (line.empty()) {
      scan.head_bytes = end;
      scan.state = S::kComplete;
      return scan;
    }
    if (++headers > max_header_count) {
      scan.state = S::kTooManyHeaders;
      return scan;
    }
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;  // malformed: httplib answers 400
    const std::string_view name = line.substr(0, colon);
    const std::string_view value = trim(line.substr(colon + 1));
    if (iequals(name, "content-length")) {
      size_t n = 0;
      if (!parse_length(value, &n) || (have_length && n != scan.content_length)) {
        scan.state = S::kBadLength;
        return scan;
      }
      have_length = true;
      scan.content_length = n;
    } else if (iequals(name, "transfer-encoding")) {
      scan.state = S::kChunked;
      return scan;
    } else if (iequals(name, "expect") && iequals(value, "100-continue")) {
      scan.expect_begin = begin;
      scan.expect_end = end;
    }
  }
}

}  // namespace sealsum::server
