// TLS server connections with deadlines (see tls_server.h).
#include "secure/tls_server.h"

#include "secure/tls_internal.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>

#include <algorithm>
#include <cerrno>
#include <climits>

namespace sealsum::secure {
namespace {

// Waits until fd is ready for `events` or the deadline passes. True when ready.
bool wait_ready(int fd, short events, TlsDeadline deadline) {
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd p{fd, events, 0};
    const int r = ::poll(&p, 1, static_cast<int>(std::min<long long>(left.count(), INT_MAX)));
    if (r > 0) return true;
    if (r < 0 && errno != EINTR) return false;
  }
}

}  // namespace

struct TlsServerContext::Impl {
  SSL_CTX* ctx = nullptr;
  ~Impl() { SSL_CTX_free(ctx); }
};

TlsServerContext::TlsServerContext(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
TlsServerContext::~TlsServerContext() = default;

Result<std::unique_ptr<TlsServerContext>> TlsServerContext::create(const TlsIdentity& identity) {
  auto impl = std::make_unique<Impl>();
  impl->ctx = SSL_CTX_new(TLS_server_method());
  if (impl->ctx == nullptr) return internal_error("cannot create a TLS context (SSL_CTX_new)");
  SSL_CTX* c = impl->ctx;
  const bool ok = SSL_CTX_set_min_proto_version(c, TLS1_2_VERSION) == 1 &&
                  SSL_CTX_use_certificate(c, TlsIdentityAccess::certificate(identity)) == 1 &&
                  SSL_CTX_use_PrivateKey(c, TlsIdentityAccess::private_key(identity)) == 1 && SSL_CTX_check_private_key(c) == 1;
  ERR_clear_error();
  if (!ok) return internal_error("OpenSSL refused the TLS certificate or key");
  SSL_CTX_set_options(c, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
  SSL_CTX_set_mode(c, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_ENABLE_PARTIAL_WRITE);
  return std::unique_ptr<TlsServerContext>(new TlsServerContext(std::move(impl)));
}

struct TlsConnection::Impl {
  SSL* ssl = nullptr;
  int fd = -1;
  ~Impl() { SSL_free(ssl); }
  TlsIo step_result(int r);

  // After an SSL call returned `r` <= 0: waits for what OpenSSL wants. True: retry the call.
  bool retry(int r, TlsDeadline deadline) {
    const int err = SSL_get_error(ssl, r);
    if (err == SSL_ERROR_WANT_READ) return wait_ready(fd, POLLIN, deadline);
    if (err == SSL_ERROR_WANT_WRITE) return wait_ready(fd, POLLOUT, deadline);
    ERR_clear_error();
    return false;
  }
};

TlsConnection::TlsConnection(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
TlsConnection::~TlsConnection() = default;

Result<std::unique_ptr<TlsConnection>> TlsConnection::create(const TlsServerContext& ctx, int fd) {
  auto impl = std::make_unique<Impl>();
  impl->fd = fd;
  impl->ssl = SSL_new(ctx.impl_->ctx);
  if (impl->ssl == nullptr || SSL_set_fd(impl->ssl, fd) != 1) {
    ERR_clear_error();
    return internal_error("cannot create a TLS session (SSL_new)");
  }
  SSL_set_accept_state(impl->ssl);
  return std::unique_ptr<TlsConnection>(new TlsConnection(std::move(impl)));
}

TlsIo TlsConnection::Impl::step_result(int r) {
  switch (SSL_get_error(ssl, r)) {
    case SSL_ERROR_WANT_READ: return TlsIo::kWantRead;
    case SSL_ERROR_WANT_WRITE: return TlsIo::kWantWrite;
    case SSL_ERROR_ZERO_RETURN: return TlsIo::kClosed;
    default: ERR_clear_error(); return TlsIo::kFailed;
  }
}

TlsIo TlsConnection::handshake() {
  const int r = SSL_do_handshake(impl_->ssl);
  return r == 1 ? TlsIo::kDone : impl_->step_result(r);
}

TlsIo TlsConnection::read_some(char* buf, size_t n, size_t* got) {
  *got = 0;
  const int r = SSL_read(impl_->ssl, buf, static_cast<int>(std::min<size_t>(n, INT_MAX)));
  if (r > 0) {
    *got = static_cast<size_t>(r);
    return TlsIo::kDone;
  }
  return impl_->step_result(r);
}

long TlsConnection::read(char* buf, size_t n, TlsDeadline deadline) {
  if (n == 0) return 0;
  const int want = static_cast<int>(std::min<size_t>(n, INT_MAX));
  for (;;) {
    const int r = SSL_read(impl_->ssl, buf, want);
    if (r > 0) return r;
    if (SSL_get_error(impl_->ssl, r) == SSL_ERROR_ZERO_RETURN) return 0;
    if (!impl_->retry(r, deadline)) return -1;
  }
}

long TlsConnection::write(const char* buf, size_t n, TlsDeadline deadline) {
  size_t done = 0;
  while (done < n) {
    const int chunk = static_cast<int>(std::min<size_t>(n - done, INT_MAX));
    const int r = SSL_write(impl_->ssl, buf + done, chunk);
    if (r > 0) {
      done += static_cast<size_t>(r);
      continue;
    }
    if (!impl_->retry(r, deadline)) return -1;
  }
  return static_cast<long>(n);
}

bool TlsConnection::pending() const { return SSL_pending(impl_->ssl) > 0; }

void TlsConnection::close_notify() {
  if (SSL_shutdown(impl_->ssl) < 0) ERR_clear_error();
}

}  // namespace sealsum::secure
