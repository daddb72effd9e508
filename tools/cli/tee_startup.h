// Start-up steps the two TEE commands share (`serve` and `batch`): releasing a key and loading the
// model with its digests. Linked into sealsum-serve and sealsum.
#pragma once

#include <memory>
#include <string>

#include "common/status.h"
#include "engine/engine.h"
#include "secure/attest/model_binding.h"
#include "secure/keyrelease/config.h"
#include "server/serve_documents.h"
#include "tools/cli/command.h"

namespace sealsum::cli {

// Releases key `kid` under `config` (broker or Azure) as a document key with its output policy.
Result<server::DocumentKey> release_key(secure::keyrelease::KeyReleaseConfig config, const std::string& kid);

struct LoadedModel {
  std::unique_ptr<engine::Engine> engine;
  secure::attest::ModelDigests digests;  // what the process names in every runtime data (model binding)
};

// Loads the model and computes its digests from the very bytes loaded. For a sealed model, the
// model key's release names the sealed file's digest (hashed first); the digest of the bytes then
// decrypted must be the same, or the file changed in between and nothing is loaded.
// batch_decoding: EngineOptions::batch_decoding (concurrent requests share decoder steps);
// max_encoders: EngineOptions::max_encoders.
Result<LoadedModel> load_engine(const Args& args, const secure::keyrelease::KeyReleaseConfig& rc, int threads,
                                bool batch_decoding = false, int max_encoders = 0);

}  // namespace sealsum::cli
