// Internals of the guarded server (http_guard.h), shared by http_guard.cpp (threads, answers) and
// http_guard_loop.cpp (reading requests). Not for other users.
#pragma once

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <condition_variable>
#include <deque>
#include <list>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include "secure/tls_server.h"
#include "server/http_guard.h"

namespace sealsum::server {

using GuardClock = std::chrono::steady_clock;

// Milliseconds left until `deadline` (0 when past), for poll().
inline int wait_ms(GuardClock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - GuardClock::now()).count();
  return static_cast<int>(std::clamp<long long>(left, 0, INT_MAX));
}

// One client connection. Owned by exactly one of: the loop's list, the pending queue, a worker.
struct Conn {
  int fd = -1;
  std::string ip;
  int port = 0;
  std::unique_ptr<secure::TlsConnection> tls;
  bool handshaken = false;
  std::string buf;          // bytes of the current request (head + body), nothing beyond it
  std::string extra;        // bytes after the current request (pipelined), kept for the next one
  size_t counted = 0;       // bytes of this connection in Impl::loop_bytes
  size_t newlines = 0;      // LFs seen in buf (header-count bound before the head is complete)
  size_t need = 0;          // head + body bytes, once the head is complete (0 before)
  bool idle = false;        // kept alive, waiting for the first byte of the next request
  bool draining = false;    // refused: the answer is sent; input is read and dropped until close
  size_t drain_left = 0;    // bytes still to drop before closing anyway
  GuardClock::time_point deadline;
  short events = POLLIN;
  size_t served = 0;
};

struct GuardedServer::Impl {
  GuardedServer& self;
  GuardLimits limits;
  const secure::TlsIdentity* identity;
  GuardErrorBody error_body;
  std::unique_ptr<secure::TlsServerContext> tls_ctx;
  int listen_fd = -1;
  int wake_fd = -1;
  std::atomic<bool> stopping{false};
  GuardClock::time_point accept_paused_until{};  // after EMFILE (loop thread only)

  std::list<std::unique_ptr<Conn>> loop;  // loop thread only
  size_t loop_bytes = 0;                  // sum of loop conns' buf sizes (loop thread only)

  std::mutex mu;  // guards everything below
  std::condition_variable work_cv;
  std::deque<std::unique_ptr<Conn>> pending;   // complete requests for the workers
  std::vector<std::unique_ptr<Conn>> returned;  // kept-alive connections back from workers
  std::map<std::string, size_t> per_client;
  size_t open = 0;
  std::vector<std::thread> workers;

  Impl(GuardedServer& s, GuardLimits l, const secure::TlsIdentity* t, GuardErrorBody e)
      : self(s), limits(l), identity(t), error_body(std::move(e)) {}

  void wake() const {
    const uint64_t one = 1;
    if (wake_fd >= 0) (void)!::write(wake_fd, &one, sizeof one);
  }

  // Closes a connection and releases its admission slots (any thread).
  void close_conn(std::unique_ptr<Conn> c);
  // Sends the guard's own refusal without waiting, then closes (any thread).
  void refuse(std::unique_ptr<Conn> c, int status, const std::string& code, const std::string& message);

  // Loop thread: sends a refusal, then keeps reading and dropping the client's input (bounded in
  // time and bytes) so a client still sending its body reads the answer instead of a reset.
  void refuse_lingering(std::unique_ptr<Conn> c, int status, const std::string& code, const std::string& message);
  void accept_ready();
  // Reads what is available; false when the connection left the loop (c is then null).
  bool advance(std::unique_ptr<Conn>& c);
  enum class Fed { kMore, kGone };
  // Examines c->buf after new bytes: refuses, dispatches (kGone) or wants more (kMore).
  Fed feed(std::unique_ptr<Conn>& c, size_t old_size);
  void leave_loop(Conn& c) {
    loop_bytes -= c.counted;
    c.counted = 0;
  }
  void dispatch(std::unique_ptr<Conn> c);
  void run_loop();
  void run_worker();
};

}  // namespace sealsum::server
