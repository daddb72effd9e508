// Hostile clients for tests of the guarded servers (http_guard.h): slow-header clients and a
// header flood, from their own loopback source addresses (127.0.0.2, 127.0.0.3) so the probing
// client on 127.0.0.1 is not subject to their per-client caps. Test-only.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "common/proc_status.h"

namespace sealsum::server::testutil {

// Connects to 127.0.0.1:port from `source` (-1 on failure).
inline int connect_from(const char* source, int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in src{};
  src.sin_family = AF_INET;
  inet_pton(AF_INET, source, &src.sin_addr);
  sockaddr_in dst{};
  dst.sin_family = AF_INET;
  dst.sin_port = htons(static_cast<uint16_t>(port));
  inet_pton(AF_INET, "127.0.0.1", &dst.sin_addr);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&src), sizeof src) != 0 ||
      ::connect(fd, reinterpret_cast<sockaddr*>(&dst), sizeof dst) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

using sealsum::rss_kib;

// `slow` connections each sending one header line every `period` (reconnecting when the server
// closes them), and one connection streaming header lines as fast as it can (reconnecting too).
class Attackers {
 public:
  Attackers(int port, int slow, std::chrono::milliseconds period, std::string first_line)
      : port_(port), period_(period), first_(std::move(first_line)) {
    for (int i = 0; i < slow; ++i) slow_fds_.push_back(open_slow());
    slow_thread_ = std::thread([this] { run_slow(); });
    flood_thread_ = std::thread([this] { run_flood(); });
  }
  ~Attackers() {
    stop_ = true;
    slow_thread_.join();
    flood_thread_.join();
    for (int fd : slow_fds_) {
      if (fd >= 0) ::close(fd);
    }
  }
  // Connections the flood had to reopen because the server closed them.
  int flood_reconnects() const { return flood_reconnects_; }
  int slow_reconnects() const { return slow_reconnects_; }

 private:
  int open_slow() {
    const int fd = connect_from("127.0.0.2", port_);
    if (fd >= 0 && ::send(fd, first_.data(), first_.size(), MSG_NOSIGNAL) < 0) {
      ::close(fd);
      return -1;
    }
    return fd;
  }
  void run_slow() {
    while (!stop_) {
      for (int& fd : slow_fds_) {
        static const char kLine[] = "X-Slow: a\r\n";
        if (fd < 0 || ::send(fd, kLine, sizeof kLine - 1, MSG_NOSIGNAL | MSG_DONTWAIT) < 0) {
          if (fd >= 0) ::close(fd);
          fd = open_slow();
          ++slow_reconnects_;
        }
      }
      for (auto t = std::chrono::milliseconds(0); t < period_ && !stop_; t += std::chrono::milliseconds(50)) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
    }
  }
  void run_flood() {
    std::string chunk;
    for (int i = 0; i < 256; ++i) chunk += "X-Flood-" + std::to_string(i) + ": 0123456789abcdef\r\n";
    while (!stop_) {
      const int fd = connect_from("127.0.0.3", port_);
      if (fd < 0) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        continue;
      }
      bool ok = ::send(fd, first_.data(), first_.size(), MSG_NOSIGNAL) > 0;
      while (ok && !stop_) {
        pollfd p{fd, POLLOUT, 0};
        if (::poll(&p, 1, 100) <= 0) continue;
        ok = ::send(fd, chunk.data(), chunk.size(), MSG_NOSIGNAL | MSG_DONTWAIT) > 0 || errno == EAGAIN;
      }
      ::close(fd);
      if (!stop_) ++flood_reconnects_;
    }
  }

  int port_;
  std::chrono::milliseconds period_;
  std::string first_;
  std::vector<int> slow_fds_;
  std::atomic<bool> stop_{false};
  std::atomic<int> flood_reconnects_{0};
  std::atomic<int> slow_reconnects_{0};
  std::thread slow_thread_, flood_thread_;
};

}  // namespace sealsum::server::testutil
