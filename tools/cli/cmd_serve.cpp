// `sealsum serve`: the summarization service (server/serve.h).
//
//   sealsum serve --model MODEL --port N --dev            local development (NOT confidential)
//   sealsum serve --sealed-model FILE --kbs URL [--model-key-id ID] [--documents DIR|URL]
//                 (--vcek CERT --cert-chain PEM | --host-amd-cert JSON [--uvm-endorsement COSE] |
//                  --security-context-dir DIR, default $UVM_SECURITY_CONTEXT_DIR)
//                 [--host H] [--port N] [--allow-plaintext-input]
//
// --dev: simulated TEE evidence, plain HTTP on 127.0.0.1, a plaintext --model and {"text"} input
// allowed, and a loud warning on stderr. Otherwise: HTTPS with a key pair generated in this process
// (its public key is bound into the attestation evidence), the model from a sealed file whose key
// the broker releases to this TEE's evidence, documents from DIR/<id>.sealed (or a blob container
// URL, server/document_sources.h; its SAS from $SEALSUM_DOCUMENTS_SAS, never the command line) with
// keys from the broker too. In --dev, --kbs/--documents/--sealed-model also work, with the simulated TEE as the
// evidence source (the broker's policy must allow_simulated).
// --key-release azure --maa-endpoint URL --akv-endpoint URL --akv-signer PEM: the keys come from
// Azure Key Vault / Managed HSM Secure Key Release instead (secure/keyrelease/azure.h): MAA attests
// the evidence, the vault releases each key (Key Vault key name = --model-key-id, else the kid in
// the sealed file's header; NAME or NAME/VERSION) wrapped to this process, with an access token of
// the managed identity the environment offers (azure_identity.h: $IDENTITY_ENDPOINT, workload
// identity, IMDS; never a token on the command line). With --dev, --host-amd-cert or
// --vcek/--cert-chain attach certificates to the simulated reports (only stand-ins accept those).
// SIGINT/SIGTERM stop accepting, finish queued requests and exit 0.
#include <pthread.h>
#include <signal.h>

#include <cstdlib>
#include <iostream>
#include <thread>

#include <nlohmann/json.hpp>

#include "engine/engine.h"
#include "secure/attest/model_binding.h"
#include "secure/attest/security_context.h"
#include "common/files.h"
#include "secure/digest.h"
#include "secure/process_hardening.h"
#include "secure/attest/azure_inputs.h"
#include "secure/sealed.h"
#include "server/kbs_client.h"
#include "server/serve.h"
#include "tools/cli/command.h"
#include "tools/cli/tee_startup.h"

namespace {

using sealsum::cli::LoadedModel;
using sealsum::cli::load_engine;
using sealsum::cli::release_key;

using sealsum::cli::usage_error;
using sealsum::Result;
using sealsum::Status;
namespace at = sealsum::secure::attest;
namespace kr = sealsum::secure::keyrelease;
namespace srv = sealsum::server;

constexpr const char* kDevWarning =
    "\n"
    "*********************************************************************************\n"
    "*  sealsum serve --dev: DEVELOPMENT MODE. NOTHING HERE IS CONFIDENTIAL.          *\n"
    "*  - the TEE is SIMULATED: its evidence is software-signed, not attestation;     *\n"
    "*  - plain HTTP on 127.0.0.1: requests and summaries cross the wire in clear;    *\n"
    "*  - unsealed models and plaintext {\"text\"} input are accepted.                 *\n"
    "*  Never send real documents to this server.                                    *\n"
    "*********************************************************************************\n";

// --security-context-dir, else $UVM_SECURITY_CONTEXT_DIR (what ACI sets) unless certificates were
// given explicitly or this is a --dev run.
std::optional<std::string> security_context_dir(const sealsum::cli::Args& args, bool dev) {
  if (auto p = args.get("security-context-dir")) return *p;
  if (dev || args.has("host-amd-cert") || args.has("vcek")) return std::nullopt;
  const char* env = std::getenv("UVM_SECURITY_CONTEXT_DIR");
  if (env != nullptr && *env != '\0') return std::string(env);
  return std::nullopt;
}

kr::KeyReleaseConfig release_config(const sealsum::cli::Args& args, bool dev,
                                    const std::optional<std::array<uint8_t, 48>>& sim_measurement) {
  kr::KeyReleaseConfig c;
  c.backend = args.get_or("key-release", "broker") == "azure" ? kr::Backend::kAzure : kr::Backend::kBroker;
  c.broker_url = args.get_or("kbs", "");
  c.insecure_simulated_tee = dev;
  c.simulated_measurement = sim_measurement;
  if (auto p = args.get("host-amd-cert")) c.hardware.host_amd_cert_json = *p;
  if (auto p = args.get("vcek")) c.hardware.vcek = *p;
  if (auto p = args.get("cert-chain")) c.hardware.cert_chain = *p;
  if (auto p = args.get("uvm-endorsement")) c.hardware.uvm_endorsement = *p;
  if (auto p = security_context_dir(args, dev)) c.hardware.security_context_dir = *p;
  return c;
}

// The Azure back end's configuration: endpoints, the release answer's signer, and the managed
// identity credential (shared by every release, so its token is cached).
Result<kr::AzureSkrConfig> azure_config(const sealsum::cli::Args& args) {
  kr::AzureSkrConfig a;
  a.maa_endpoint = args.get_or("maa-endpoint", "");
  a.key_vault_url = args.get_or("akv-endpoint", "");
  for (std::string* u : {&a.maa_endpoint, &a.key_vault_url}) {
    while (!u->empty() && u->back() == '/') u->pop_back();
  }
  SEALSUM_RETURN_IF_ERROR(kr::check_azure_endpoints(a));
  SEALSUM_ASSIGN_OR_RETURN(std::string pem, sealsum::read_file_bounded(*args.get("akv-signer"), 64 * 1024));
  auto trust = kr::release_trust_from_pem(pem);
  if (!trust.ok()) return trust.status().with_context("--akv-signer");
  a.release_trust = std::move(trust).value();
  kr::ManagedIdentityOptions mi;
  auto kind = kr::parse_identity_kind(args.get_or("identity", "auto"));
  if (!kind.ok()) return kind.status().with_context("--identity");
  mi.kind = *kind;
  mi.resource = kr::key_vault_resource(a.key_vault_url);
  mi.client_id = args.get_or("identity-client-id", "");
  mi.imds_endpoint = args.get_or("imds-endpoint", mi.imds_endpoint);
  while (!mi.imds_endpoint.empty() && mi.imds_endpoint.back() == '/') mi.imds_endpoint.pop_back();
  SEALSUM_ASSIGN_OR_RETURN(kr::IdentityEnvironment env, kr::read_identity_environment());
  auto credential = kr::ManagedIdentityCredential::create(mi, std::move(env), std::make_shared<srv::HttplibTransport>());
  if (!credential.ok()) return credential.status().with_context("managed identity");
  a.access_token = std::move(credential).value();
  return a;
}

int run_serve(const std::vector<std::string>& argv) {
  sealsum::cli::Args args("serve", "(--model MODEL --dev | --sealed-model FILE (--kbs URL | --key-release azure "
                                   "--maa-endpoint URL --akv-endpoint URL --akv-signer PEM)) [--port N] [options]");
  args.option("model", "MODEL", "plaintext model file (--dev only)")
      .option("sealed-model", "FILE", "sealed model file; its key comes from --kbs or --key-release azure")
      .option("model-key-id", "ID", "key id of the sealed model (default: the id in its header); azure: the Key "
                                     "Vault key NAME or NAME/VERSION")
      .option("kbs", "URL", "key broker (sealsum kbs serve), e.g. http://127.0.0.1:8443")
      .option("key-release", "broker|azure", "where the keys come from (default broker: --kbs)")
      .option("maa-endpoint", "URL", "azure: Microsoft Azure Attestation, e.g. https://sharedeus.eus.attest.azure.net")
      .option("akv-endpoint", "URL", "azure: Key Vault or Managed HSM, e.g. https://NAME.managedhsm.azure.net")
      .option("akv-signer", "PEM", "azure: the release answer's signer: PUBLIC KEY blocks (pinned) and/or "
                                   "CERTIFICATE blocks (roots of its x5c chain)")
      .option("identity", "SOURCE", "azure: managed identity source auto|app-service|workload|imds (default auto: "
                                    "$IDENTITY_ENDPOINT, then workload identity, then IMDS)")
      .option("identity-client-id", "ID", "azure: client id of a user-assigned identity (default $AZURE_CLIENT_ID)")
      .option("imds-endpoint", "URL", "azure: IMDS address (default http://169.254.169.254; tests)")
      .option("documents", "DIR|URL", "sealed documents <id>.sealed: a directory, or a blob container "
                                      "https://host/container[?SAS] (http:// with --dev)")
      .option("host", "HOST", "address to listen on (default 127.0.0.1; --dev forces it)")
      .option("port", "N", "port (default 8080; 0 = any free port)")
      .flag("dev", "DEVELOPMENT: simulated TEE, plain HTTP, plaintext model and input. NOT CONFIDENTIAL")
      .flag("allow-plaintext-input", "accept {\"text\": ...} requests (always on with --dev)")
      .option("simulated-measurement", "HEX", "--dev: MEASUREMENT of the simulated TEE (default SHA-384 of this binary)")
      .option("vcek", "CERT", "VCEK certificate (DER or PEM) for the evidence")
      .option("cert-chain", "PEM", "ASK+ARK chain for the evidence")
      .option("host-amd-cert", "JSON", "Azure host certificate JSON (instead of --vcek/--cert-chain)")
      .option("uvm-endorsement", "COSE", "Azure UVM endorsement to attach to the evidence")
      .option("security-context-dir", "DIR", "ACI security context (base64 certificates, UVM endorsement, CCE policy); "
                                             "default $UVM_SECURITY_CONTEXT_DIR")
      .option("threads", "N", "engine compute threads (default 1)")
      .option("workers", "N", "requests processed at once (default 2); their decoder steps are shared")
      .flag("no-batch-decoding", "run one request at a time in the engine instead of sharing decoder steps")
      .option("max-encoders", "N", "encoders run at once while others decode (default 0 = the CPUs the compute "
                                   "threads leave free, at least 1)")
      .option("queue", "N", "requests that may wait before 503 (default 8)")
      .option("max-body-bytes", "N", "largest request body (default 1048576)")
      .option("read-timeout", "S", "seconds a client may take to send a whole request (default 10)")
      .option("max-connections-per-client", "N", "open connections allowed per client address (default 32)");
  if (int rc = sealsum::cli::parse_or_exit(args, argv); rc >= 0) return rc;
  const bool dev = args.has("dev");
  if (args.has("model") == args.has("sealed-model")) return usage_error(args, "give exactly one of --model or --sealed-model");
  if (args.has("model") && !dev) {
    return usage_error(args, "a plaintext --model is allowed only with --dev; seal it and use --sealed-model");
  }
  const std::string key_release = args.get_or("key-release", "broker");
  if (key_release != "broker" && key_release != "azure") return usage_error(args, "--key-release must be broker or azure");
  if (key_release == "azure") {
    if (args.has("kbs")) return usage_error(args, "--kbs is the broker back end; --key-release azure uses Key Vault");
    for (const char* f : {"maa-endpoint", "akv-endpoint", "akv-signer"}) {
      if (!args.has(f)) return usage_error(args, std::string("--key-release azure needs --") + f);
    }
  } else {
    for (const char* f : {"maa-endpoint", "akv-endpoint", "akv-signer", "identity", "identity-client-id", "imds-endpoint"}) {
      if (args.has(f)) return usage_error(args, std::string("--") + f + " needs --key-release azure");
    }
    if ((args.has("sealed-model") || args.has("documents")) && !args.has("kbs")) {
      return usage_error(args, "--sealed-model and --documents need --kbs URL (or --key-release azure) to obtain their keys");
    }
  }
  if (dev && args.has("host") && args.get_or("host", "") != "127.0.0.1") {
    return usage_error(args, "--dev listens on 127.0.0.1 only");
  }
  if (!dev && args.has("simulated-measurement")) return usage_error(args, "--simulated-measurement needs --dev");
  auto port = args.get_int("port", 0, 65535);
  auto threads = args.get_int("threads", 1, 256);
  auto workers = args.get_int("workers", 1, 64);
  auto queue = args.get_int("queue", 0, 4096);
  auto body = args.get_int("max-body-bytes", 1024, 64 << 20);
  auto timeout = args.get_int("read-timeout", 1, 3600);
  auto per_client = args.get_int("max-connections-per-client", 1, 4096);
  auto encoders = args.get_int("max-encoders", 0, 256);
  for (const auto* r : {&port, &threads, &workers, &queue, &body, &timeout, &per_client, &encoders}) {
    if (!r->ok()) return usage_error(args, r->status().message());
  }
  std::optional<std::array<uint8_t, 48>> sim_measurement;
  if (auto m = args.get("simulated-measurement")) {
    auto list = srv::parse_measurement_list(*m);
    if (!list.ok() || list->size() != 1) return usage_error(args, "--simulated-measurement must be 96 hex digits");
    sim_measurement = list->front();
  }

  // No core dumps and no ptrace/proc-mem access by other processes (every mode, --dev included), and
  // wipe-on-free: main did both first thing (tools/cli/process_start.h), before any thread or secret.
  // Hardening again is idempotent and covers an entry point that skipped main's protections.
  if (Status st = sealsum::secure::harden_process(); !st.is_ok()) return sealsum::cli::fail("serve", st);

  // Block the stop signals in every thread (the engine starts its pool below); one thread waits for them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  if (dev) std::cerr << kDevWarning << std::flush;
  srv::LogSink log = srv::stderr_log();
  kr::KeyReleaseConfig rc = release_config(args, dev, sim_measurement);
  if (rc.backend == kr::Backend::kAzure) {
    auto azure = azure_config(args);
    if (!azure.ok()) return usage_error(args, "--key-release azure: " + azure.status().message());
    rc.azure = std::move(azure).value();
    auto* mi = dynamic_cast<kr::ManagedIdentityCredential*>(rc.azure.access_token.get());
    log(nlohmann::json{{"event", "key_release"}, {"backend", "azure"}, {"maa", rc.azure.maa_endpoint},
                       {"vault", rc.azure.key_vault_url},
                       {"identity", mi ? kr::identity_kind_name(mi->kind()) : "given"}}
            .dump());
  }
  // The evidence source first: a binary without the simulated TEE (the release sealsum-serve) refuses
  // --dev here, before any model is read.
  auto source = kr::make_evidence_source(rc);
  if (!source.ok()) return sealsum::cli::fail("serve", source.status().with_context("evidence source"));

  auto loaded = load_engine(args, rc, static_cast<int>(threads->value_or(1)), !args.has("no-batch-decoding"),
                            static_cast<int>(encoders->value_or(0)));
  if (!loaded.ok()) return sealsum::cli::fail("serve", loaded.status().with_context("loading the model"));
  // Every later release (document keys) names the model this server runs, so the data owner's release
  // policy can pin it ("models").
  rc.model = loaded->digests;
  log(nlohmann::json{{"event", "model"}, {"model", at::model_digests_json(loaded->digests)}}.dump());

  std::optional<sealsum::secure::TlsIdentity> tls;
  if (!dev) {
    auto id = sealsum::secure::TlsIdentity::create();
    if (!id.ok()) return sealsum::cli::fail("serve", id.status());
    tls.emplace(std::move(id).value());
  }
  srv::Attester attester(std::move(source).value(),
                         tls ? std::optional<sealsum::secure::Digest256>(tls->spki_sha256()) : std::nullopt, dev,
                         loaded->digests);

  std::unique_ptr<srv::DocumentStore> documents;
  if (auto where = args.get("documents")) {
    std::unique_ptr<srv::DocumentSource> store;
    if (where->rfind("http://", 0) == 0 || where->rfind("https://", 0) == 0) {
      // The SAS rotates and is a secret: it comes from the environment, never the (measured) command
      // line, so rotating it changes neither HOST_DATA nor what `ps` shows.
      std::string url = *where;
      if (url.find('?') != std::string::npos && !dev) {
        return usage_error(args, "--documents: put the SAS in the SEALSUM_DOCUMENTS_SAS environment variable, not in "
                                 "the URL (the command line is part of the measured CCE policy and visible to ps)");
      }
      if (const char* sas = std::getenv("SEALSUM_DOCUMENTS_SAS"); sas != nullptr && *sas != '\0') {
        if (url.find('?') != std::string::npos) return usage_error(args, "--documents: give the SAS once");
        url += std::string(*sas == '?' ? "" : "?") + sas;
      }
      auto blob = srv::blob_source(url, srv::BlobSourceOptions{dev});
      if (!blob.ok()) return usage_error(args, "--documents: " + blob.status().message());
      store = std::move(blob).value();
    } else {
      store = srv::directory_source(*where);
    }
    documents = std::make_unique<srv::DocumentStore>(std::move(store),
                                                     [rc](const std::string& kid) { return release_key(rc, kid); });
  }

  srv::ServeOptions so;
  if (auto dir = security_context_dir(args, dev)) {
    // The CCE policy whose SHA-256 is HOST_DATA, served at /v1/policy so clients can inspect it.
    auto ctx = at::read_security_context(*dir);
    if (!ctx.ok()) return sealsum::cli::fail("serve", ctx.status().with_context("--security-context-dir"));
    so.cce_policy = std::move(ctx->cce_policy);
  }
  so.host = dev ? "127.0.0.1" : args.get_or("host", "127.0.0.1");
  so.port = static_cast<int>(port->value_or(8080));
  so.dev = dev;
  so.allow_plaintext_input = dev || args.has("allow-plaintext-input");
  so.workers = static_cast<size_t>(workers->value_or(2));
  so.queue_capacity = static_cast<size_t>(queue->value_or(8));
  so.http_threads = so.workers + so.queue_capacity + 8;
  so.limits.max_body_bytes = static_cast<size_t>(body->value_or(1 << 20));
  so.read_timeout_s = static_cast<int>(timeout->value_or(10));
  so.max_connections_per_client = static_cast<size_t>(per_client->value_or(32));
  so.model_label = std::filesystem::path(args.get_or("model", args.get_or("sealed-model", ""))).filename().string();
  auto server = srv::Server::create(so, *loaded->engine, attester, documents.get(), tls ? &*tls : nullptr, log);
  if (!server.ok()) return sealsum::cli::fail("serve", server.status());
  if (Status st = (*server)->bind(); !st.is_ok()) return sealsum::cli::fail("serve", st);
  // The port line on stdout lets scripts started with --port 0 find the server.
  std::cout << (*server)->base_url() << std::endl;

  srv::Server* s = server->get();
  std::thread waiter([s, stop_signals, log] {
    int sig = 0;
    sigwait(&stop_signals, &sig);
    log(std::string("{\"event\":\"shutdown\",\"signal\":\"") + (sig == SIGINT ? "SIGINT" : "SIGTERM") + "\"}");
    s->stop();
  });
  s->run();
  waiter.join();
  return 0;
}

}  // namespace

SEALSUM_COMMAND("serve", "run the summarization service (HTTPS + attestation; --dev for local runs)", run_serve);
