// `sealsum proxy --server URL PINS [--listen 127.0.0.1:PORT]`
//
// A local verifying proxy (server/proxy.h): plain HTTP on loopback for any client (curl, scripts);
// each request is forwarded only after the server passes attestation against PINS
// (tools/cli/client_policy.h), on the same connection, pinned to the attested TLS key. Prints the
// listening URL on stdout, then serves until SIGINT/SIGTERM.
// Exit: 0 stopped by a signal, 1 cannot listen, 2 usage error.
#include <pthread.h>
#include <signal.h>

#include <iostream>
#include <thread>

#include "server/proxy.h"
#include "tools/cli/client_policy.h"
#include "tools/cli/command.h"

namespace {

int run_proxy(const std::vector<std::string>& argv) {
  sealsum::cli::Args args("proxy", "--server URL (--policy FILE | --measurement HEX[,...]) [--listen 127.0.0.1:PORT]");
  args.option("server", "URL", "the attested sealsum serve endpoint, e.g. https://10.0.0.5:8443", true)
      .option("listen", "HOST:PORT", "loopback address to listen on (default 127.0.0.1:8081; port 0 = any)")
      .option("timeout", "S", "seconds to wait for the server (default 300)");
  sealsum::cli::add_client_policy_flags(args);
  if (int rc = sealsum::cli::parse_or_exit(args, argv); rc >= 0) return rc;
  auto pins = sealsum::cli::client_policy_from_args(args);
  if (!pins.ok()) return sealsum::cli::usage_error(args, pins.status().message());
  auto timeout = args.get_int("timeout", 1, 3600);
  if (!timeout.ok()) return sealsum::cli::usage_error(args, timeout.status().message());
  sealsum::server::ProxyOptions po;
  po.upstream.server_url = *args.get("server");
  po.upstream.policy = pins->policy;
  po.upstream.allow_simulated = pins->allow_simulated;
  po.upstream.timeout_s = static_cast<int>(timeout->value_or(300));
  const std::string listen = args.get_or("listen", "127.0.0.1:8081");
  const auto colon = listen.rfind(':');
  if (colon == std::string::npos) return sealsum::cli::usage_error(args, "--listen must be HOST:PORT");
  po.host = listen.substr(0, colon);
  try {
    size_t used = 0;
    po.port = std::stoi(listen.substr(colon + 1), &used);
    if (used != listen.size() - colon - 1 || po.port < 0 || po.port > 65535) throw std::out_of_range("port");
  } catch (...) {
    return sealsum::cli::usage_error(args, "--listen has an invalid port");
  }
  auto proxy = sealsum::server::Proxy::create(po);
  if (!proxy.ok()) return sealsum::cli::usage_error(args, proxy.status().message());

  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  if (sealsum::Status st = (*proxy)->bind(); !st.is_ok()) return sealsum::cli::fail("proxy", st);
  std::cout << "http://" << po.host << ":" << (*proxy)->port() << std::endl;
  sealsum::server::Proxy* p = proxy->get();
  std::thread waiter([p, stop_signals] {
    int sig = 0;
    sigwait(&stop_signals, &sig);
    p->stop();
  });
  p->run();
  waiter.join();
  return 0;
}

}  // namespace

SEALSUM_COMMAND("proxy", "a local verifying proxy: attests the server, then forwards pinned (loopback HTTP)", run_proxy);
