// Loading the engine for CLI commands from a plaintext or a sealed model file.
//
// add_model_flags(args) declares the model options shared by `summarize`, `generate`, `bench` and
// `serve`:
//   --model FILE                 plaintext sealsum model file, or a sealed one (detected by the
//                                sealed magic "SEALSUM\0", secure/sealed.h)
//   --key KEYFILE                sealed model: the owner-held key file (local use)
//   --kbs URL                    sealed model: obtain the key from the key broker at URL, which
//                                releases it only to an attested enclave
//   --model-key-id ID            with --kbs: the registered key id (default: the sealed header's)
//   --insecure-simulated-tee     with --kbs: attest with the SIMULATED TEE (local development only)
//   --simulated-measurement HEX  with --insecure-simulated-tee: the 96-hex-digit MEASUREMENT to
//                                claim (default: SHA-384 of this binary)
//
// load_engine_for_cli(args, options): a plaintext model goes through Engine::load; a sealed model
// is decrypted straight into a SecretBuffer (never to disk), verified by ModelFile::from_buffer
// and handed to Engine::from_model_file. The released key lives only in secret memory and is wiped
// when loading ends. Flag misuse (e.g. --key and --kbs together, key flags for a plaintext model)
// is kInvalidArgument. Failures name the file, key id or broker, never key or model bytes.
// Thread safety: none needed (called once per process, before serving).
#pragma once

#include <memory>

#include "common/status.h"
#include "engine/engine.h"
#include "tools/cli/command.h"

namespace sealsum::cli {

void add_model_flags(Args& args);

Result<std::unique_ptr<engine::Engine>> load_engine_for_cli(const Args& args, const engine::EngineOptions& options);

// True when `path` starts with the sealed-file magic. kNotFound when it cannot be opened.
Result<bool> is_sealed_file(const std::string& path);

}  // namespace sealsum::cli
