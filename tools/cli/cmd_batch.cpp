// `sealsum batch`: summarize every document of a store and write each summary next to it
// (server/batch.h has the file format, resumption and sharding rules).
//
//   sealsum batch --sealed-model FILE --kbs URL --documents DIR|URL [--shard-index I] [--shard-count N]
//                 (--vcek CERT --cert-chain PEM | --host-amd-cert JSON [--uvm-endorsement COSE] |
//                  --security-context-dir DIR, default $UVM_SECURITY_CONTEXT_DIR)
//                 [--truncate] [--threads N] [--workers N] [--progress-interval S] [generation flags]
//   sealsum batch --dev (--model MODEL | --sealed-model FILE) --kbs URL --documents DIR|URL ...
//
// Like `serve`, it runs in the TEE: the model key and every document key come from the broker,
// released to this process's attestation evidence, whose runtime data names the model it runs
// (model binding). A blob container's SAS (read, list, create, write) comes from
// $SEALSUM_DOCUMENTS_SAS, never the measured command line. --shard-index defaults to
// $JOB_COMPLETION_INDEX (a Kubernetes Indexed Job), else 0. --workers N (default 4) summarizes N
// documents at once: their encoders run side by side and their decoder steps are shared
// (engine/step_batcher.h; results identical to one at a time); --workers 1 runs them in turn.
// --dev: simulated TEE evidence (the broker's policy must allow_simulated), a plaintext --model,
// http:// containers; NOT confidential.
// Output on stderr: a progress bar on a terminal, else a line every --progress-interval seconds;
// one line per failed document (its id and the reason, never its text); a final summary line.
// Exit codes: 0 every document of the shard has a summary, 1 some failed (or the store could not
// be listed, or the model not loaded), 2 usage.
//
// The model loading mirrors cmd_serve.cpp's load_engine (same release configuration, same model
// binding); the two are meant to become one function when serve and batch move to the TEE binary.
#include <unistd.h>

#include <cstdlib>
#include <iostream>

#include "engine/engine.h"
#include "secure/attest/model_binding.h"
#include "secure/digest.h"
#include "secure/keyrelease/config.h"
#include "secure/process_hardening.h"
#include "secure/sealed.h"
#include "server/batch.h"
#include "server/kbs_client.h"
#include "server/serve_attest.h"
#include "tools/cli/command.h"
#include "tools/cli/tee_startup.h"
#include "tools/cli/generation_flags.h"

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
    "*  sealsum batch --dev: DEVELOPMENT MODE. NOTHING HERE IS CONFIDENTIAL.          *\n"
    "*  The TEE is SIMULATED: its evidence is software-signed, not attestation.       *\n"
    "*  Never give this process the keys of real documents.                          *\n"
    "*********************************************************************************\n";

kr::KeyReleaseConfig release_config(const sealsum::cli::Args& args, bool dev,
                                    const std::optional<std::array<uint8_t, 48>>& sim_measurement) {
  kr::KeyReleaseConfig c;
  c.backend = kr::Backend::kBroker;
  c.broker_url = args.get_or("kbs", "");
  c.insecure_simulated_tee = dev;
  c.simulated_measurement = sim_measurement;
  if (auto p = args.get("host-amd-cert")) c.hardware.host_amd_cert_json = *p;
  if (auto p = args.get("vcek")) c.hardware.vcek = *p;
  if (auto p = args.get("cert-chain")) c.hardware.cert_chain = *p;
  if (auto p = args.get("uvm-endorsement")) c.hardware.uvm_endorsement = *p;
  if (auto p = args.get("security-context-dir")) {
    c.hardware.security_context_dir = *p;
  } else if (const char* env = std::getenv("UVM_SECURITY_CONTEXT_DIR");
             !dev && !args.has("host-amd-cert") && !args.has("vcek") && env != nullptr && *env != '\0') {
    c.hardware.security_context_dir = env;
  }
  return c;
}


// The document store: a directory, or a blob container whose SAS comes from the environment.
Result<std::unique_ptr<srv::DocumentSource>> open_source(const std::string& where, bool dev) {
  if (where.rfind("http://", 0) != 0 && where.rfind("https://", 0) != 0) return srv::directory_source(where);
  std::string url = where;
  if (url.find('?') != std::string::npos && !dev) {
    return sealsum::invalid_argument("put the SAS in the SEALSUM_DOCUMENTS_SAS environment variable, not in the URL "
                                     "(the command line is part of the measured CCE policy and visible to ps)");
  }
  if (const char* sas = std::getenv("SEALSUM_DOCUMENTS_SAS"); sas != nullptr && *sas != '\0') {
    if (url.find('?') != std::string::npos) return sealsum::invalid_argument("give the SAS once");
    url += std::string(*sas == '?' ? "" : "?") + sas;
  }
  return srv::blob_source(url, srv::BlobSourceOptions{dev});
}

int run_batch(const std::vector<std::string>& argv) {
  sealsum::cli::Args args("batch", "(--sealed-model FILE | --model MODEL --dev) --kbs URL --documents DIR|URL "
                                   "[--shard-index I] [--shard-count N] [options]");
  args.option("model", "MODEL", "plaintext model file (--dev only)")
      .option("sealed-model", "FILE", "sealed model file; its key comes from --kbs")
      .option("model-key-id", "ID", "key id of the sealed model (default: the id in its header)")
      .option("kbs", "URL", "key broker (sealsum kbs serve) releasing the model and document keys", true)
      .option("documents", "DIR|URL", "the store: a directory of <id>.sealed, or a blob container "
                                      "https://host/container (SAS in $SEALSUM_DOCUMENTS_SAS; http:// with --dev)", true)
      .option("shard-index", "I", "this run's shard, 0..N-1 (default $JOB_COMPLETION_INDEX, else 0)")
      .option("shard-count", "N", "number of shards (default 1)")
      .flag("truncate", "summarize the beginning of documents longer than the model's input (default: fail them)")
      .option("threads", "N", "engine compute threads (default 1)")
      .option("workers", "N", "documents summarized at once, sharing decoder steps (default 4; 1: one at a time)")
      .option("progress-interval", "S", "seconds between progress lines when stderr is not a terminal (default 30)")
      .flag("dev", "DEVELOPMENT: simulated TEE, plaintext --model, http:// containers. NOT CONFIDENTIAL")
      .option("simulated-measurement", "HEX", "--dev: MEASUREMENT of the simulated TEE (default SHA-384 of this binary)")
      .option("vcek", "CERT", "VCEK certificate (DER or PEM) for the evidence")
      .option("cert-chain", "PEM", "ASK+ARK chain for the evidence")
      .option("host-amd-cert", "JSON", "Azure host certificate JSON (instead of --vcek/--cert-chain)")
      .option("uvm-endorsement", "COSE", "Azure UVM endorsement to attach to the evidence")
      .option("security-context-dir", "DIR", "ACI security context; default $UVM_SECURITY_CONTEXT_DIR");
  sealsum::cli::add_generation_flags(args);
  if (int rc = sealsum::cli::parse_or_exit(args, argv); rc >= 0) return rc;
  const bool dev = args.has("dev");
  if (args.has("model") == args.has("sealed-model")) return usage_error(args, "give exactly one of --model or --sealed-model");
  if (args.has("model") && !dev) {
    return usage_error(args, "a plaintext --model is allowed only with --dev; seal it and use --sealed-model");
  }
  if (!dev && args.has("simulated-measurement")) return usage_error(args, "--simulated-measurement needs --dev");
  auto count = args.get_int("shard-count", 1, 1 << 20);
  auto threads = args.get_int("threads", 1, 256);
  auto interval = args.get_int("progress-interval", 1, 86400);
  auto workers = args.get_int("workers", 1, srv::kMaxBatchWorkers);
  for (const auto* r : {&count, &threads, &interval, &workers}) {
    if (!r->ok()) return usage_error(args, r->status().message());
  }
  srv::BatchOptions bo;
  bo.shard_count = static_cast<uint32_t>(count->value_or(1));
  if (args.has("shard-index")) {
    auto index = args.get_int("shard-index", 0, bo.shard_count - 1);
    if (!index.ok()) return usage_error(args, index.status().message());
    bo.shard_index = static_cast<uint32_t>(index->value_or(0));
  } else if (const char* env = std::getenv("JOB_COMPLETION_INDEX"); env != nullptr && *env != '\0') {
    char* end = nullptr;
    const long long v = std::strtoll(env, &end, 10);
    if (*end != '\0' || v < 0 || v >= bo.shard_count) {
      return usage_error(args, "JOB_COMPLETION_INDEX must be a shard index below --shard-count " +
                                   std::to_string(bo.shard_count));
    }
    bo.shard_index = static_cast<uint32_t>(v);
  }
  bo.truncate = args.has("truncate");
  bo.workers = static_cast<uint32_t>(workers->value_or(4));
  std::optional<std::array<uint8_t, 48>> sim_measurement;
  if (auto m = args.get("simulated-measurement")) {
    auto list = srv::parse_measurement_list(*m);
    if (!list.ok() || list->size() != 1) return usage_error(args, "--simulated-measurement must be 96 hex digits");
    sim_measurement = list->front();
  }
  auto source = open_source(*args.get("documents"), dev);
  if (!source.ok()) return usage_error(args, "--documents: " + source.status().message());

  // No core dumps, no ptrace: before the model, keys or any document is loaded.
  if (Status st = sealsum::secure::harden_process(); !st.is_ok()) return sealsum::cli::fail("batch", st);
  if (dev) std::cerr << kDevWarning << std::flush;
  kr::KeyReleaseConfig rc = release_config(args, dev, sim_measurement);
  auto loaded = load_engine(args, rc, static_cast<int>(threads->value_or(1)), /*batch_decoding=*/bo.workers > 1);
  if (!loaded.ok()) return sealsum::cli::fail("batch", loaded.status().with_context("loading the model"));
  rc.model = loaded->digests;  // every document key release names the model this process runs
  bo.params = loaded->engine->default_params();
  if (Status st = sealsum::cli::apply_generation_flags(args, bo.params); !st.is_ok()) {
    return usage_error(args, st.message());
  }
  srv::DocumentStore documents(std::move(source).value(),
                               [rc](const std::string& kid) { return release_key(rc, kid); });

  srv::ProgressPrinter printer(std::cerr, ::isatty(STDERR_FILENO) == 1,
                               std::chrono::seconds(interval->value_or(30)));
  srv::BatchCallbacks cb;
  cb.on_progress = [&](const srv::BatchProgress& p) { printer.update(p); };
  cb.on_failure = [&](const std::string& id, const Status& why) {
    printer.note("batch: FAILED \"" + id + "\": " + why.to_string());
  };
  cb.on_replaced = [&](const std::string& id) {
    printer.note("batch: replaced an incomplete summary of \"" + id + "\"");
  };
  std::cerr << "batch: shard " << bo.shard_index << " of " << bo.shard_count << " of "
            << documents.source().describe() << std::endl;
  auto result = srv::run_batch(documents, *loaded->engine, bo, cb);
  if (!result.ok()) return sealsum::cli::fail("batch", result.status());
  printer.finish(*result);
  return result->failed == 0 ? 0 : 1;
}

}  // namespace

SEALSUM_COMMAND("batch", "summarize every document of a store, writing sealed summaries next to them (TEE)", run_batch);
