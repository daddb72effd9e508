// The guarded server's event loop: admission at accept, TLS handshakes, reading each whole request
// under its deadline, refusals (see http_guard.h).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <cerrno>
#include <string>

#include "server/http_guard_internal.h"

namespace sealsum::server {

using Clock = GuardClock;

namespace {

const char* reason_phrase(int status) {
  switch (status) {
    case 400: return "Bad Request";
    case 408: return "Request Timeout";
    case 411: return "Length Required";
    case 413: return "Payload Too Large";
    case 431: return "Request Header Fields Too Large";
    default: return "Service Unavailable";
  }
}

// Source address of a connected socket ("" when unknown): the per-client key.
std::string peer_address(int fd, int* port) {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  char host[INET6_ADDRSTRLEN] = {0};
  *port = 0;
  if (getpeername(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) return "";
  if (ss.ss_family == AF_INET) {
    auto* a = reinterpret_cast<sockaddr_in*>(&ss);
    inet_ntop(AF_INET, &a->sin_addr, host, sizeof host);
    *port = ntohs(a->sin_port);
  } else if (ss.ss_family == AF_INET6) {
    auto* a = reinterpret_cast<sockaddr_in6*>(&ss);
    inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof host);
    *port = ntohs(a->sin6_port);
  }
  std::string ip = host;
  if (ip.rfind("::ffff:", 0) == 0 && ip.find('.') != std::string::npos) ip = ip.substr(7);  // v4-mapped
  return ip;
}

std::string refusal_message(const GuardErrorBody& error_body, int status, const std::string& code,
                            const std::string& message) {
  const std::string body = error_body(status, code, message);
  std::string msg = "HTTP/1.1 " + std::to_string(status) + " " + reason_phrase(status) +
                    "\r\nContent-Type: application/json\r\nConnection: close\r\nCache-Control: no-store\r\n";
  if (status == 503) msg += "Retry-After: 1\r\n";
  return msg + "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

}  // namespace

void GuardedServer::Impl::dispatch(std::unique_ptr<Conn> c) {
  leave_loop(*c);
  {
    std::lock_guard<std::mutex> lock(mu);
    if (pending.size() < limits.max_pending) {
      pending.push_back(std::move(c));
      work_cv.notify_one();
      return;
    }
  }
  ++self.stats_.refused_busy;
  refuse(std::move(c), 503, "busy", "the server is busy; retry in a moment");
}

GuardedServer::Impl::Fed GuardedServer::Impl::feed(std::unique_ptr<Conn>& c, size_t old_size) {
  Conn& k = *c;
  if (k.need == 0) {
    bool end = false;
    for (size_t i = old_size; i < k.buf.size() && !end; ++i) {
      if (k.buf[i] != '\n') continue;
      ++k.newlines;
      end = (i >= 1 && k.buf[i - 1] == '\n') || (i >= 2 && k.buf[i - 1] == '\r' && k.buf[i - 2] == '\n');
    }
    if (!end) {
      if (k.buf.size() <= limits.max_head_bytes && k.newlines <= limits.max_header_count + 1) return Fed::kMore;
      ++self.stats_.head_too_large;
      leave_loop(k);
      refuse_lingering(std::move(c), 431, "header_too_large",
             "the request head exceeds " + std::to_string(limits.max_head_bytes) + " bytes or " +
                 std::to_string(limits.max_header_count) + " header lines");
      return Fed::kGone;
    }
    const HeadScan scan = scan_request_head(k.buf, limits.max_head_bytes, limits.max_header_count);
    using S = HeadScan::State;
    int status = 0;
    std::string code, message;
    if (scan.state == S::kTooLarge || scan.state == S::kTooManyHeaders || scan.state == S::kIncomplete) {
      ++self.stats_.head_too_large;
      status = 431, code = "header_too_large";
      message = "the request head exceeds " + std::to_string(limits.max_head_bytes) + " bytes or " +
                std::to_string(limits.max_header_count) + " header lines";
    } else if (scan.state == S::kChunked) {
      ++self.stats_.body_refused;
      status = 411, code = "length_required", message = "send the body with Content-Length (no Transfer-Encoding)";
    } else if (scan.state == S::kBadLength) {
      ++self.stats_.body_refused;
      status = 400, code = "bad_request", message = "Content-Length is malformed or repeated with different values";
    } else if (scan.content_length > limits.max_body_bytes) {
      ++self.stats_.body_refused;
      status = 413, code = "too_large";
      message = "request body exceeds " + std::to_string(limits.max_body_bytes) + " bytes";
    }
    if (status != 0) {
      leave_loop(k);
      refuse_lingering(std::move(c), status, code, message);
      return Fed::kGone;
    }
    k.need = scan.head_bytes + scan.content_length;
    if (scan.expect_end > scan.expect_begin) {
      // Answer "100 Continue" here (the body is read here); httplib must not send a second one.
      const size_t cut = scan.expect_end - scan.expect_begin;
      k.buf.erase(scan.expect_begin, cut);
      k.need -= cut;
      if (k.buf.size() < k.need) {
        static const char kContinue[] = "HTTP/1.1 100 Continue\r\n\r\n";
        const size_t n = sizeof kContinue - 1;
        const bool sent = k.tls ? k.tls->write(kContinue, n, Clock::now()) == static_cast<long>(n)
                                : ::send(k.fd, kContinue, n, MSG_NOSIGNAL | MSG_DONTWAIT) == static_cast<ssize_t>(n);
        if (!sent) {
          leave_loop(k);
          close_conn(std::move(c));
          return Fed::kGone;
        }
      }
    }
    k.buf.reserve(k.need);
  }
  if (k.buf.size() < k.need) return Fed::kMore;
  if (k.buf.size() > k.need) {
    k.extra.assign(k.buf, k.need, std::string::npos);
    k.buf.resize(k.need);
  }
  dispatch(std::move(c));
  return Fed::kGone;
}

bool GuardedServer::Impl::advance(std::unique_ptr<Conn>& c) {
  if (c->tls && !c->handshaken) {
    switch (c->tls->handshake()) {
      case secure::TlsIo::kDone: c->handshaken = true; break;
      case secure::TlsIo::kWantRead: c->events = POLLIN; return true;
      case secure::TlsIo::kWantWrite: c->events = POLLOUT; return true;
      default:
        leave_loop(*c);
        close_conn(std::move(c));
        return false;
    }
  }
  char tmp[16 * 1024];
  while (c->draining) {
    size_t got = 0;
    if (c->tls) {
      const secure::TlsIo io = c->tls->read_some(tmp, sizeof tmp, &got);
      if (io == secure::TlsIo::kWantRead || io == secure::TlsIo::kWantWrite) {
        c->events = io == secure::TlsIo::kWantRead ? POLLIN : POLLOUT;
        return true;
      }
      if (io != secure::TlsIo::kDone) got = 0;
    } else {
      const ssize_t r = ::recv(c->fd, tmp, sizeof tmp, MSG_DONTWAIT);
      if (r < 0 && errno == EINTR) continue;
      if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return true;
      got = r > 0 ? static_cast<size_t>(r) : 0;
    }
    if (got == 0 || got >= c->drain_left) {
      close_conn(std::move(c));
      return false;
    }
    c->drain_left -= got;
  }
  for (;;) {
    const size_t limit = c->need ? c->need : limits.max_head_bytes + 1;
    const size_t room = std::min(sizeof tmp, limit > c->buf.size() ? limit - c->buf.size() : size_t{1});
    size_t got = 0;
    bool closed = false;
    if (c->tls) {
      const secure::TlsIo io = c->tls->read_some(tmp, room, &got);
      if (io == secure::TlsIo::kWantRead || io == secure::TlsIo::kWantWrite) {
        c->events = io == secure::TlsIo::kWantRead ? POLLIN : POLLOUT;
        return true;
      }
      closed = io != secure::TlsIo::kDone;
    } else {
      const ssize_t r = ::recv(c->fd, tmp, room, MSG_DONTWAIT);
      if (r < 0 && errno == EINTR) continue;
      if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        c->events = POLLIN;
        return true;
      }
      closed = r <= 0;
      got = r > 0 ? static_cast<size_t>(r) : 0;
    }
    if (closed) {
      leave_loop(*c);
      close_conn(std::move(c));
      return false;
    }
    if (loop_bytes + got > limits.max_buffered_bytes) {
      ++self.stats_.refused_busy;
      leave_loop(*c);
      refuse(std::move(c), 503, "busy", "the server is busy; retry in a moment");
      return false;
    }
    if (c->idle) {
      c->idle = false;
      c->deadline = Clock::now() + limits.request_deadline;
    }
    const size_t old_size = c->buf.size();
    c->buf.append(tmp, got);
    c->counted += got;
    loop_bytes += got;
    if (feed(c, old_size) == Fed::kGone) return false;
  }
}

void GuardedServer::Impl::refuse_lingering(std::unique_ptr<Conn> c, int status, const std::string& code,
                                           const std::string& message) {
  const std::string msg = refusal_message(error_body, status, code, message);
  bool sent = false;
  if (c->tls) {
    sent = c->handshaken && c->tls->write(msg.data(), msg.size(), Clock::now()) == static_cast<long>(msg.size());
  } else {
    sent = ::send(c->fd, msg.data(), msg.size(), MSG_NOSIGNAL | MSG_DONTWAIT) == static_cast<ssize_t>(msg.size());
    if (sent) ::shutdown(c->fd, SHUT_WR);
  }
  if (!sent) {
    close_conn(std::move(c));
    return;
  }
  c->draining = true;
  c->drain_left = limits.max_body_bytes + limits.max_head_bytes + (64u << 10);
  c->deadline = Clock::now() + std::min<std::chrono::milliseconds>(limits.request_deadline, std::chrono::seconds(2));
  c->buf.clear();
  c->buf.shrink_to_fit();
  c->events = POLLIN;
  loop.push_back(std::move(c));
}

void GuardedServer::Impl::refuse(std::unique_ptr<Conn> c, int status, const std::string& code,
                               const std::string& message) {
  const std::string msg = refusal_message(error_body, status, code, message);
  if (c->tls) {
    if (c->handshaken) (void)c->tls->write(msg.data(), msg.size(), Clock::now());
  } else {
    (void)!::send(c->fd, msg.data(), msg.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
  }
  close_conn(std::move(c));
}

void GuardedServer::Impl::accept_ready() {
  for (int i = 0; i < 64; ++i) {
    const int fd = ::accept4(listen_fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR) continue;
      if (errno == EMFILE || errno == ENFILE) accept_paused_until = Clock::now() + std::chrono::milliseconds(100);
      return;
    }
    auto c = std::make_unique<Conn>();
    c->fd = fd;
    c->ip = peer_address(fd, &c->port);
    c->deadline = Clock::now() + limits.request_deadline;
    const int one = 1;
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    bool busy = false, over = false;
    {
      std::lock_guard<std::mutex> lock(mu);
      busy = open >= limits.max_connections;
      over = !busy && per_client[c->ip] >= limits.max_per_client;
      if (!busy && !over) {
        ++open;
        ++per_client[c->ip];
      } else if (per_client[c->ip] == 0) {
        per_client.erase(c->ip);
      }
    }
    if (busy || over) {
      ++(busy ? self.stats_.refused_busy : self.stats_.refused_per_client);
      if (!tls_ctx) {
        const std::string msg =
            refusal_message(error_body, 503, "busy",
                            busy ? "the server has too many connections; retry in a moment"
                                 : "too many connections from your address; close some");
        (void)!::send(fd, msg.data(), msg.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
      }
      ::close(fd);
      continue;
    }
    if (tls_ctx) {
      auto t = secure::TlsConnection::create(*tls_ctx, fd);
      if (!t.ok()) {
        close_conn(std::move(c));
        continue;
      }
      c->tls = std::move(t).value();
    }
    loop.push_back(std::move(c));
  }
}

void GuardedServer::Impl::run_loop() {
  std::vector<pollfd> fds;
  while (!stopping) {
    const auto now = Clock::now();
    auto next = now + std::chrono::seconds(1);
    fds.clear();
    fds.push_back({wake_fd, POLLIN, 0});
    fds.push_back({now >= accept_paused_until ? listen_fd : -1, POLLIN, 0});
    for (const auto& c : loop) {
      fds.push_back({c->fd, c->events, 0});
      next = std::min(next, c->deadline);
    }
    const size_t polled = loop.size();
    if (::poll(fds.data(), fds.size(), wait_ms(next)) < 0 && errno != EINTR) break;
    if (fds[0].revents) {
      uint64_t n = 0;
      (void)!::read(wake_fd, &n, sizeof n);
    }
    std::vector<std::unique_ptr<Conn>> back;
    {
      std::lock_guard<std::mutex> lock(mu);
      back.swap(returned);
    }
    // Connections polled above come first in `loop`; new ones are appended behind them.
    auto it = loop.begin();
    for (size_t i = 0; i < polled; ++i) {
      if (fds[i + 2].revents != 0 && !advance(*it)) {
        it = loop.erase(it);
      } else {
        ++it;
      }
    }
    if (fds[1].revents) accept_ready();
    for (auto& c : back) {
      c->buf = std::move(c->extra);
      c->extra.clear();
      c->need = 0;
      c->newlines = 0;
      c->counted = c->buf.size();
      loop_bytes += c->counted;
      c->idle = c->buf.empty();
      c->deadline = Clock::now() + (c->idle ? limits.idle_timeout : limits.request_deadline);
      if (!c->buf.empty() && feed(c, 0) == Fed::kGone) continue;
      if (advance(c)) loop.push_back(std::move(c));
    }
    const auto late = Clock::now();
    for (auto c = loop.begin(); c != loop.end();) {
      if (late < (*c)->deadline) {
        ++c;
        continue;
      }
      std::unique_ptr<Conn> gone = std::move(*c);
      c = loop.erase(c);
      leave_loop(*gone);
      if (gone->idle || gone->draining) {
        close_conn(std::move(gone));
      } else {
        ++self.stats_.timed_out;
        refuse(std::move(gone), 408, "request_timeout",
               "the request was not received within " + std::to_string(limits.request_deadline.count()) + " ms");
      }
    }
  }
  for (auto& c : loop) close_conn(std::move(c));
  loop.clear();
  loop_bytes = 0;
}

}  // namespace sealsum::server
