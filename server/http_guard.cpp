// Guarded HTTP(S) server: workers, answers, listening and lifetime (see http_guard.h); the event
// loop that reads requests is in http_guard_loop.cpp.
#include "server/http_guard.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <optional>

#include "server/http_guard_internal.h"

namespace sealsum::server {

using Clock = GuardClock;

// httplib::Stream over a buffered request and its connection's socket for the answer.
class GuardStream : public httplib::Stream {
 public:
  GuardStream(Conn& c, std::chrono::milliseconds write_timeout) : c_(c), write_timeout_(write_timeout) {}
  bool is_readable() const override { return pos_ < c_.buf.size(); }
  bool is_writable() const override { return !write_failed_; }
  ssize_t read(char* ptr, size_t size) override {
    // The loop buffered the whole request: past it is the end (a body without Content-Length is empty).
    if (pos_ >= c_.buf.size()) return 0;
    const size_t n = std::min(size, c_.buf.size() - pos_);
    std::copy_n(c_.buf.data() + pos_, n, ptr);
    pos_ += n;
    return static_cast<ssize_t>(n);
  }
  ssize_t write(const char* ptr, size_t size) override {
    if (write_failed_) return -1;
    if (!write_deadline_) write_deadline_ = Clock::now() + write_timeout_;
    const ssize_t r = c_.tls ? c_.tls->write(ptr, size, *write_deadline_) : write_plain(ptr, size);
    if (r < 0) write_failed_ = true;
    return r;
  }
  void get_remote_ip_and_port(std::string& ip, int& port) const override {
    ip = c_.ip;
    port = c_.port;
  }
  void get_local_ip_and_port(std::string& ip, int& port) const override {
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    char host[INET6_ADDRSTRLEN] = {0};
    port = 0;
    if (getsockname(c_.fd, reinterpret_cast<sockaddr*>(&ss), &len) == 0 && ss.ss_family == AF_INET) {
      auto* a = reinterpret_cast<sockaddr_in*>(&ss);
      inet_ntop(AF_INET, &a->sin_addr, host, sizeof host);
      port = ntohs(a->sin_port);
    }
    ip = host;
  }
  socket_t socket() const override { return c_.fd; }
  bool write_failed() const { return write_failed_; }

 private:
  ssize_t write_plain(const char* ptr, size_t size) {
    size_t done = 0;
    while (done < size) {
      const ssize_t r = ::send(c_.fd, ptr + done, size - done, MSG_NOSIGNAL | MSG_DONTWAIT);
      if (r > 0) {
        done += static_cast<size_t>(r);
        continue;
      }
      if (r < 0 && errno == EINTR) continue;
      if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        pollfd p{c_.fd, POLLOUT, 0};
        const int left = wait_ms(*write_deadline_);
        if (left > 0 && ::poll(&p, 1, left) >= 0) continue;
      }
      return -1;
    }
    return static_cast<ssize_t>(size);
  }

  Conn& c_;
  std::chrono::milliseconds write_timeout_;
  std::optional<Clock::time_point> write_deadline_;
  size_t pos_ = 0;
  bool write_failed_ = false;
};

void GuardedServer::Impl::close_conn(std::unique_ptr<Conn> c) {
  if (!c) return;
  if (c->tls && c->handshaken) c->tls->close_notify();
  c->tls.reset();
  ::close(c->fd);
  std::lock_guard<std::mutex> lock(mu);
  --open;
  auto it = per_client.find(c->ip);
  if (it != per_client.end() && --it->second == 0) per_client.erase(it);
}

void GuardedServer::Impl::run_worker() {
  for (;;) {
    std::unique_ptr<Conn> c;
    {
      std::unique_lock<std::mutex> lock(mu);
      work_cv.wait(lock, [this] { return stopping || !pending.empty(); });
      if (pending.empty()) return;
      c = std::move(pending.front());
      pending.pop_front();
    }
    GuardStream stream(*c, limits.write_timeout);
    const bool last = stopping || c->served + 1 >= limits.max_requests_per_connection;
    bool closed = false;
    bool ok = false;
    try {
      ok = self.process_request(stream, last, closed, [](httplib::Request&) {});
    } catch (...) {
      ok = false;
    }
    ++c->served;
    if (!ok || closed || last || stream.write_failed() || stopping) {
      close_conn(std::move(c));
      continue;
    }
    {
      std::lock_guard<std::mutex> lock(mu);
      returned.push_back(std::move(c));
    }
    wake();
  }
}

GuardedServer::GuardedServer(GuardLimits limits, const secure::TlsIdentity* tls, GuardErrorBody error_body)
    : impl_(std::make_unique<Impl>(*this, limits, tls, std::move(error_body))) {
  set_payload_max_length(limits.max_body_bytes);
}

GuardedServer::~GuardedServer() {
  stop_serving();
  if (impl_->listen_fd >= 0) ::close(impl_->listen_fd);
  if (impl_->wake_fd >= 0) ::close(impl_->wake_fd);
}

Status GuardedServer::listen_on(const std::string& host, int port) {
  Impl& im = *impl_;
  if (im.identity && !im.tls_ctx) {
    auto ctx = secure::TlsServerContext::create(*im.identity);
    if (!ctx.ok()) return ctx.status();
    im.tls_ctx = std::move(ctx).value();
  }
  if (im.wake_fd < 0) im.wake_fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (im.wake_fd < 0) return unavailable("cannot create an eventfd (out of file descriptors?)");
  const std::string where = host + ":" + std::to_string(port);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* res = nullptr;
  if (::getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &res) != 0 || res == nullptr) {
    return unavailable("cannot resolve the listen address " + where + "; give an IP address or host name");
  }
  int fd = ::socket(res->ai_family, res->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, res->ai_protocol);
  const int one = 1;
  const bool ok = fd >= 0 && ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) == 0 &&
                  ::bind(fd, res->ai_addr, res->ai_addrlen) == 0 && ::listen(fd, 256) == 0;
  ::freeaddrinfo(res);
  if (!ok) {
    if (fd >= 0) ::close(fd);
    return unavailable("cannot listen on " + where + " (in use, or not allowed); pick another port");
  }
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len);
  port_ = ss.ss_family == AF_INET6 ? ntohs(reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port)
                                   : ntohs(reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
  if (im.listen_fd >= 0) ::close(im.listen_fd);
  im.listen_fd = fd;
  return Status::ok();
}

void GuardedServer::serve() {
  Impl& im = *impl_;
  if (im.stopping || im.listen_fd < 0) return;
  serving_ = true;
  for (size_t i = 0; i < std::max<size_t>(1, im.limits.workers); ++i) im.workers.emplace_back([&im] { im.run_worker(); });
  im.run_loop();
  {
    std::lock_guard<std::mutex> lock(im.mu);
    im.stopping = true;
  }
  im.work_cv.notify_all();
  for (auto& t : im.workers) t.join();
  im.workers.clear();
  std::vector<std::unique_ptr<Conn>> back;
  {
    std::lock_guard<std::mutex> lock(im.mu);
    back.swap(im.returned);
  }
  for (auto& c : back) im.close_conn(std::move(c));
  serving_ = false;
}

void GuardedServer::stop_serving() {
  Impl& im = *impl_;
  {
    std::lock_guard<std::mutex> lock(im.mu);
    im.stopping = true;
  }
  im.work_cv.notify_all();
  im.wake();
}

}  // namespace sealsum::server
