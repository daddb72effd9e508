// `sealsum kbs`: the key broker for on-premises use and tests (protocol: secure/keyrelease/protocol.h).
//
//   sealsum kbs init --store DIR --broker-key KEYFILE
//   sealsum kbs register --store DIR --broker-key KEYFILE --key KEYFILE --policy POLICY.json
//   sealsum kbs serve --store DIR --broker-key KEYFILE --port N [--host 127.0.0.1] [--threads N]
//   sealsum kbs audit-verify --store DIR
//
// Keys are released only to attested enclaves (never written to disk by a client); there is
// deliberately no "fetch" command. Key bytes never reach stdout, stderr or the audit log.
#include <pthread.h>
#include <signal.h>

#include <fstream>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "secure/broker/audit.h"
#include "secure/broker/broker.h"
#include "secure/broker/store.h"
#include "secure/process_hardening.h"
#include "server/kbs_server.h"
#include "tools/cli/command.h"

namespace {

using sealsum::Status;
using sealsum::cli::Args;
namespace kr = sealsum::secure::keyrelease;

int fail(const Status& st) { return sealsum::cli::fail("kbs", st); }

int run_init(const std::vector<std::string>& argv) {
  Args args("kbs init", "--store DIR --broker-key KEYFILE");
  args.option("store", "DIR", "key store directory (created, mode 0700)", true)
      .option("broker-key", "KEYFILE", "the broker's own key file (created with mode 0600 if absent)", true);
  if (int rc = sealsum::cli::parse_or_exit(args, argv); rc >= 0) return rc;
  if (Status st = kr::KeyStore::init(*args.get("store"), *args.get("broker-key")); !st.is_ok()) return fail(st);
  std::cerr << "initialized key store " << *args.get("store") << " (broker key " << *args.get("broker-key")
            << "; keep it 0600 and backed up: without it the stored keys are lost)\n";
  return 0;
}

int run_register(const std::vector<std::string>& argv) {
  Args args("kbs register", "--store DIR --broker-key KEYFILE --key KEYFILE --policy POLICY.json");
  args.option("store", "DIR", "key store directory (see kbs init)", true)
      .option("broker-key", "KEYFILE", "the broker's key file", true)
      .option("key", "KEYFILE", "the sealing key to register (sealsum keygen); its kid becomes the key id", true)
      .option("policy", "POLICY.json",
              "release policy: attestation policy JSON (\"measurements\" required) plus optional \"allow_simulated\" "
              "and \"output\" (the output policy of what is summarized with this key)",
              true);
  if (int rc = sealsum::cli::parse_or_exit(args, argv); rc >= 0) return rc;
  auto store = kr::KeyStore::open(*args.get("store"), *args.get("broker-key"));
  if (!store.ok()) return fail(store.status());
  auto key = sealsum::secure::load_key_file(*args.get("key"));
  if (!key.ok()) return fail(key.status());
  std::ifstream in(*args.get("policy"), std::ios::binary);
  if (!in) return fail(sealsum::not_found("cannot open policy file " + *args.get("policy")));
  std::string policy((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto parsed = kr::parse_release_policy_json(policy);
  if (!parsed.ok()) return fail(parsed.status().with_context("policy file " + *args.get("policy") + ": "));
  if (Status st = store->register_key(*key, policy); !st.is_ok()) return fail(st);
  const auto& o = parsed->output;
  const std::string output = !o         ? "summaries as the document's envelope says (default: plaintext)"
                             : o->sealed ? "summaries sealed to consumer \"" + o->consumer + "\""
                                         : "summaries in plaintext to the caller";
  std::cerr << "registered key id " << key->kid() << " (" << parsed->attestation.measurements.size()
            << " allowed measurement(s); " << output << ")\n";
  if (parsed->allow_simulated) {
    std::cerr << "WARNING: this policy sets allow_simulated: the key will be released to the SIMULATED TEE, "
                 "which anyone can run. Use it for local development only.\n";
  }
  std::cout << key->kid() << "\n";
  return 0;
}

int run_serve(const std::vector<std::string>& argv) {
  Args args("kbs serve", "--store DIR --broker-key KEYFILE --port N [--host 127.0.0.1] [--threads N]");
  args.option("store", "DIR", "key store directory", true)
      .option("broker-key", "KEYFILE", "the broker's key file", true)
      .option("port", "N", "TCP port to listen on (0: any free port, printed on stdout)", true)
      .option("host", "ADDR", "address to bind (default 127.0.0.1)")
      .option("threads", "N", "worker threads (default 4)");
  if (int rc = sealsum::cli::parse_or_exit(args, argv); rc >= 0) return rc;
  auto port = args.get_int("port", 0, 65535);
  auto threads = args.get_int("threads", 1, 64);
  if (!port.ok() || !threads.ok()) {
    std::cerr << "sealsum kbs serve: " << (!port.ok() ? port.status() : threads.status()).message() << "\n";
    return 2;
  }
  // No core dumps and no ptrace/proc-mem access by other processes, before any key is loaded.
  if (Status st = sealsum::secure::harden_process(); !st.is_ok()) return fail(st);
  auto store = kr::KeyStore::open(*args.get("store"), *args.get("broker-key"));
  if (!store.ok()) return fail(store.status());
  auto audit = kr::AuditLog::open(store->audit_log_path());
  if (!audit.ok()) return fail(audit.status());
  kr::Broker broker(std::move(store).value(), std::move(audit).value());

  sealsum::server::KbsServerOptions o;
  o.host = args.get_or("host", "127.0.0.1");
  o.port = static_cast<int>(port->value_or(0));
  o.threads = static_cast<size_t>(threads->value_or(4));
  if (o.host != "127.0.0.1" && o.host != "::1" && o.host != "localhost") {
    std::cerr << "sealsum kbs: listening on " << o.host << " over plain HTTP: released keys stay secret (wrapped to "
              << "the enclave's key) but key ids and timing are visible; put TLS in front of it\n";
  }
  // SIGINT/SIGTERM are handled by a dedicated thread (sigwait), which stops the server cleanly.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  sealsum::server::KbsServer server(broker, o);
  if (Status st = server.start(); !st.is_ok()) return fail(st);
  std::cout << "listening on http://" << o.host << ":" << server.port() << std::endl;
  std::thread signals([&server, set] {
    int sig = 0;
    sigwait(&set, &sig);
    std::cerr << "sealsum kbs: signal " << sig << ", shutting down\n";
    server.stop();
  });
  server.wait();
  // If the server ended on its own, wake the signal thread so it can be joined.
  pthread_kill(signals.native_handle(), SIGTERM);
  signals.join();
  return 0;
}

int run_audit_verify(const std::vector<std::string>& argv) {
  Args args("kbs audit-verify", "--store DIR");
  args.option("store", "DIR", "key store directory whose audit.log to check", true);
  if (int rc = sealsum::cli::parse_or_exit(args, argv); rc >= 0) return rc;
  auto v = kr::verify_audit_log(std::filesystem::path(*args.get("store")) / "audit.log");
  if (!v.ok()) return fail(v.status());
  std::cout << "audit log intact: " << v->records << " record(s), last line SHA-256 " << v->last_hash << "\n";
  return 0;
}

int run_kbs(const std::vector<std::string>& argv) {
  static const char* kUsage =
      "usage: sealsum kbs <command> [options]\n"
      "  init          create a key store and the broker key\n"
      "  register      store a sealing key under a release policy\n"
      "  serve         run the key broker (POST /v1/challenge, POST /v1/release)\n"
      "  audit-verify  check the audit log's hash chain\n"
      "Run `sealsum kbs <command> --help` for options.\n";
  if (argv.empty() || argv[0] == "--help" || argv[0] == "-h") {
    (argv.empty() ? std::cerr : std::cout) << kUsage;
    return argv.empty() ? 2 : 0;
  }
  std::vector<std::string> rest(argv.begin() + 1, argv.end());
  if (argv[0] == "init") return run_init(rest);
  if (argv[0] == "register") return run_register(rest);
  if (argv[0] == "serve") return run_serve(rest);
  if (argv[0] == "audit-verify") return run_audit_verify(rest);
  std::cerr << "sealsum kbs: unknown command '" << argv[0] << "'\n" << kUsage;
  return 2;
}

}  // namespace

SEALSUM_COMMAND("kbs", "key broker: release sealing keys to attested enclaves (init, register, serve)", run_kbs);
