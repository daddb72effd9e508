// make_simulated_evidence_source() of a release build (see config.h): there is no simulated TEE
// in this binary, so a request for one fails and says where to find it. This is what the attested
// sealsum-serve links unless it is configured with -DSEALSUM_DEV_TEE=ON.
#include "secure/keyrelease/config.h"

namespace sealsum::secure::keyrelease {

Result<std::unique_ptr<EvidenceSource>> make_simulated_evidence_source(
    const std::optional<std::array<uint8_t, 48>>& /*measurement*/) {
  return unimplemented(
      "this binary has no simulated TEE (a release sealsum-serve); for local --dev runs use `sealsum serve --dev`, "
      "or configure with -DSEALSUM_DEV_TEE=ON");
}

}  // namespace sealsum::secure::keyrelease
