// See model_loading.h. Only the key handling lives here; the crypto is secure/, the transport
// server/kbs_client.h, and the model format weights/model_file.h.
#include "tools/cli/model_loading.h"

#include <array>
#include <cstring>
#include <fstream>
#include <optional>
#include <string>

#include "secure/keyrelease/config.h"
#include "secure/keys.h"
#include "secure/sealed.h"
#include "server/kbs_client.h"
#include "weights/model_file.h"

namespace sealsum::cli {
namespace {

namespace sec = sealsum::secure;

Result<std::array<uint8_t, 48>> parse_measurement(const std::string& hex) {
  if (hex.size() != 96) {
    return invalid_argument("--simulated-measurement: expected 96 hex digits (48 bytes), got " +
                            std::to_string(hex.size()) + " characters");
  }
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::array<uint8_t, 48> out{};
  for (size_t i = 0; i < out.size(); ++i) {
    const int hi = nibble(hex[2 * i]), lo = nibble(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return invalid_argument("--simulated-measurement: not a hex digit at offset " +
                                                  std::to_string(hi < 0 ? 2 * i : 2 * i + 1));
    out[i] = static_cast<uint8_t>(hi * 16 + lo);
  }
  return out;
}

// The sealing key for a sealed model: from the owner's key file, or released by the broker.
Result<sec::SealingKey> sealed_model_key(const Args& args, const sec::SealedHeader& header) {
  if (auto keyfile = args.get("key")) return sec::load_key_file(*keyfile);
  sec::keyrelease::KeyReleaseConfig config;
  config.backend = sec::keyrelease::Backend::kBroker;
  config.broker_url = *args.get("kbs");
  config.key_id = args.get_or("model-key-id", header.kid);
  config.insecure_simulated_tee = args.has("insecure-simulated-tee");
  if (auto hex = args.get("simulated-measurement")) {
    auto m = parse_measurement(*hex);
    if (!m.ok()) return m.status();
    config.simulated_measurement = *m;
  }
  auto released = server::obtain_key(config);
  if (!released.ok()) {
    return released.status().with_context("key release of '" + config.key_id + "' from " + config.broker_url);
  }
  // The key is named by the sealed header's kid so the header's key-id check compares like with like;
  // a wrong released key still fails authentication of the first segment.
  return sec::SealingKey::from_bytes(released->key.span(), header.kid);
}

}  // namespace

void add_model_flags(Args& args) {
  args.option("model", "MODEL", "sealsum model file, plaintext or sealed (sealsum convert --seal)", true)
      .option("key", "KEYFILE", "sealed model: the owner's key file (mode 0600)")
      .option("kbs", "URL", "sealed model: get the key from the key broker at URL (released only to an attested TEE)")
      .option("model-key-id", "ID", "with --kbs: the key id registered with the broker (default: the sealed file's)")
      .flag("insecure-simulated-tee", "with --kbs: attest with the SIMULATED TEE (local development only, not secure)")
      .option("simulated-measurement", "HEX",
              "with --insecure-simulated-tee: 96-hex-digit MEASUREMENT to claim (default: SHA-384 of this binary)");
}

Result<bool> is_sealed_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return not_found("cannot open model file '" + path + "'");
  char magic[8] = {};
  in.read(magic, sizeof magic);
  return in.gcount() == 8 && std::memcmp(magic, "SEALSUM\0", 8) == 0;
}

Result<std::unique_ptr<engine::Engine>> load_engine_for_cli(const Args& args, const engine::EngineOptions& options) {
  const std::string path = *args.get("model");
  auto sealed = is_sealed_file(path);
  if (!sealed.ok()) return sealed.status();
  const bool key = args.has("key"), kbs = args.has("kbs");
  const bool kbs_only = args.has("model-key-id") || args.has("insecure-simulated-tee") ||
                        args.has("simulated-measurement");
  if (!*sealed) {
    if (key || kbs || kbs_only) {
      return invalid_argument("model file '" + path + "' is not sealed; --key/--kbs and their options apply only "
                              "to sealed models");
    }
    return engine::Engine::load(path, options);
  }
  if (key == kbs) {
    return invalid_argument("model file '" + path + "' is sealed: give exactly one of --key KEYFILE or --kbs URL");
  }
  if (key && kbs_only) {
    return invalid_argument("--model-key-id, --insecure-simulated-tee and --simulated-measurement apply only with --kbs");
  }
  if (args.has("simulated-measurement") && !args.has("insecure-simulated-tee")) {
    return invalid_argument("--simulated-measurement needs --insecure-simulated-tee");
  }
  auto header = sec::read_sealed_header(path);
  if (!header.ok()) return header.status();
  if (header->content_type != sec::ContentType::kModel) {
    return invalid_argument("sealed file '" + path + "' holds a " + sec::content_type_name(header->content_type) +
                            ", not a model");
  }
  auto sealing_key = sealed_model_key(args, *header);
  if (!sealing_key.ok()) return sealing_key.status();
  auto plain = sec::open_sealed_file(path, *sealing_key, sec::ContentType::kModel);
  if (!plain.ok()) return plain.status();
  auto file = weights::ModelFile::from_buffer(std::move(plain).value(), path);
  if (!file.ok()) return file.status();
  return engine::Engine::from_model_file(std::move(file).value(), options);
}

}  // namespace sealsum::cli
