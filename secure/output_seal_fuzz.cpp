// libFuzzer target: output policies and sealed outputs are outside bytes (the policy comes from a
// data owner's envelope or the broker, the sealed output from a server the consumer does not trust,
// the private JWK from a consumer key file).
#include <cstddef>
#include <cstdint>

#include "secure/output_seal.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static auto key = sealsum::secure::OutputKey::generate_x25519();
  nlohmann::json j = nlohmann::json::parse(data, data + size, nullptr, false);
  if (j.is_discarded()) return 0;
  (void)sealsum::secure::parse_output_policy(j);
  if (key.ok()) (void)key->open(j, "document:fuzz");
  (void)sealsum::secure::OutputKey::from_private_jwk(j);  // consumer key files (load_output_key_file)
  return 0;
}
