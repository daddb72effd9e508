// libFuzzer target for every parser of outside bytes in secure/keyrelease: release requests,
// runtime data, refusal bodies, release policies, JWS compact tokens, Key Vault release answers,
// managed-identity token answers and release signer PEM files. The first byte picks the parser. Build: -DSEALSUM_FUZZ=ON with clang.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "secure/keyrelease/azure.h"
#include "secure/keyrelease/azure_identity.h"
#include "secure/keyrelease/jws.h"
#include "secure/keyrelease/protocol.h"
#include "secure/broker/store.h"

using namespace sealsum::secure::keyrelease;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string_view in(reinterpret_cast<const char*>(data + 1), size - 1);
  switch (data[0] % 8) {
    case 0: (void)parse_release_request(in); break;
    case 1: {
      auto rt = parse_runtime_data(in);
      if (rt.ok()) (void)RsaPublicKey::from_jwk(rt->key_jwk);
      break;
    }
    case 2: (void)parse_refusal(403, in); break;
    case 3: (void)parse_release_policy_json(in); break;
    case 4: (void)parse_jws(in); break;
    case 5: {
      // A pinned key that never matches: exercises parsing up to signature verification.
      static const std::string pem = [] {
        auto k = RsaPrivateKey::generate(2048);
        return k->public_key()->to_pem();
      }();
      static const JwsTrust trust{{pem}, {}, std::nullopt};
      static const RsaPrivateKey key = std::move(RsaPrivateKey::generate(2048)).value();
      (void)unwrap_akv_release(in, trust, key, "fuzz-key");
      break;
    }
    case 6: (void)parse_token_response({data + 1, size - 1}, 1000); break;
    case 7: (void)release_trust_from_pem(in); break;
  }
  return 0;
}
