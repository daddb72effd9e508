// Test helper for the in-process HTTP stand-ins of the server tests (cpp-httplib servers on
// 127.0.0.1 that play a blob store, a relay, Azure's services or a hostile peer).
#pragma once

#include <httplib.h>

#include <chrono>
#include <thread>

namespace sealsum::server::testutil {

// Runs srv.listen_after_bind() (srv already bound) on a new thread and returns that thread once the
// server listens. Until listen() runs, stop() is a no-op (cpp-httplib), so a destructor reached
// earlier (a failed REQUIRE) would join a thread that never ends. The caller stops and joins it.
inline std::thread listen_in_background(httplib::Server& srv) {
  std::thread t([&srv] { srv.listen_after_bind(); });
  while (!srv.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  return t;
}

}  // namespace sealsum::server::testutil
