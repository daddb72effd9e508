// See tee_startup.h.
#include "tools/cli/tee_startup.h"

#include "secure/keys.h"
#include "secure/sealed.h"
#include "server/kbs_client.h"
#include "weights/model_file.h"

namespace sealsum::cli {

namespace at = sealsum::secure::attest;
namespace kr = sealsum::secure::keyrelease;
namespace srv = sealsum::server;

Result<srv::DocumentKey> release_key(kr::KeyReleaseConfig config, const std::string& kid) {
  config.key_id = kid;
  SEALSUM_ASSIGN_OR_RETURN(kr::ReleasedKey released, srv::obtain_key(config));
  SEALSUM_ASSIGN_OR_RETURN(auto key, sealsum::secure::SealingKey::from_bytes(released.key.span(), kid));
  return srv::DocumentKey{std::move(key), std::move(released.output_policy)};
}

Result<LoadedModel> load_engine(const Args& args, const kr::KeyReleaseConfig& rc, int threads, bool batch_decoding,
                                int max_encoders) {
  sealsum::engine::EngineOptions eo;
  eo.threads = threads;
  eo.batch_decoding = batch_decoding;
  eo.max_encoders = max_encoders;
  LoadedModel out;
  if (auto m = args.get("model")) {
    SEALSUM_ASSIGN_OR_RETURN(out.engine, sealsum::engine::Engine::load(*m, eo));
  } else {
    const std::string path = *args.get("sealed-model");
    SEALSUM_ASSIGN_OR_RETURN(auto header, sealsum::secure::read_sealed_header(path));
    SEALSUM_ASSIGN_OR_RETURN(sealsum::secure::Digest256 announced, sealsum::secure::sha256_file(path));
    kr::KeyReleaseConfig model_rc = rc;
    model_rc.model = at::ModelDigests{std::nullopt, announced};
    const std::string kid = args.get_or("model-key-id", header.kid);
    SEALSUM_ASSIGN_OR_RETURN(auto released, release_key(model_rc, kid));
    sealsum::secure::Digest256 opened{};
    SEALSUM_ASSIGN_OR_RETURN(auto bytes, sealsum::secure::open_sealed_file(
                                             path, released.key, sealsum::secure::ContentType::kModel, &opened));
    if (opened != announced) {
      return sealsum::data_loss("the sealed model file changed while it was being loaded; nothing was loaded");
    }
    out.digests.sealed_sha256 = opened;
    SEALSUM_ASSIGN_OR_RETURN(auto file, sealsum::weights::ModelFile::from_buffer(std::move(bytes), "sealed model"));
    SEALSUM_ASSIGN_OR_RETURN(out.engine, sealsum::engine::Engine::from_model_file(std::move(file), eo));
  }
  out.digests.sha256 = out.engine->model_file().sha256();
  return out;
}

}  // namespace sealsum::cli
