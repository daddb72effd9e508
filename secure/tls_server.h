// Server side of TLS over one accepted socket, with deadlines (for server/http_guard.h).
//
// TlsServerContext: TLS 1.2+ server settings for one TlsIdentity (its certificate and key).
// TlsConnection: one accepted, non-blocking socket. handshake() and read_some() never wait (for an
// event loop); read() and write() wait (poll) at most until the given deadline, so a slow or
// silent peer cannot hold the caller longer.
// Ownership: the context must outlive its connections; a connection does not own the socket (the
// caller closes it after the connection is destroyed).
// Thread safety: a context may be shared by threads; one connection is used by one thread at a time.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>

#include "common/status.h"
#include "secure/tls_identity.h"

namespace sealsum::secure {

using TlsDeadline = std::chrono::steady_clock::time_point;

class TlsServerContext {
 public:
  // kInternal when OpenSSL refuses the identity's key pair.
  static Result<std::unique_ptr<TlsServerContext>> create(const TlsIdentity& identity);
  ~TlsServerContext();
  TlsServerContext(const TlsServerContext&) = delete;
  TlsServerContext& operator=(const TlsServerContext&) = delete;

 private:
  friend class TlsConnection;
  struct Impl;
  explicit TlsServerContext(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// What a non-blocking step needs next.
enum class TlsIo { kDone, kWantRead, kWantWrite, kClosed, kFailed };

class TlsConnection {
 public:
  // A server session on `fd` (must be O_NONBLOCK); the handshake has not started.
  static Result<std::unique_ptr<TlsConnection>> create(const TlsServerContext& ctx, int fd);
  ~TlsConnection();  // frees the session; does not close fd
  TlsConnection(const TlsConnection&) = delete;
  TlsConnection& operator=(const TlsConnection&) = delete;

  // One non-blocking handshake step: kDone when the handshake is complete, kWantRead/kWantWrite
  // to be called again when fd is ready, kFailed when the peer failed it.
  TlsIo handshake();
  // Non-blocking: kDone with *got > 0 bytes, or kWantRead/kWantWrite (nothing yet), kClosed, kFailed.
  TlsIo read_some(char* buf, size_t n, size_t* got);
  // Up to `n` decrypted bytes: > 0 read, 0 the peer closed, -1 error or deadline passed.
  long read(char* buf, size_t n, TlsDeadline deadline);
  // Writes all `n` bytes: n, or -1 on error or deadline.
  long write(const char* buf, size_t n, TlsDeadline deadline);
  // True when decrypted bytes are buffered (a read will not wait).
  bool pending() const;
  // Best-effort close_notify (never waits).
  void close_notify();

 private:
  struct Impl;
  explicit TlsConnection(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace sealsum::secure
