// Server attestation answers (see serve_attest.h): the TEE side. The client side that checks them
// is server/serve_verify.cpp (linked into clients, never into sealsum-serve); make_runtime_data
// here is the one definition of the bound bytes both sides use.
#include "server/serve_attest.h"

#include <algorithm>

#include "secure/attest/azure_inputs.h"
#include "secure/attest/simulated.h"
#include "common/encoding.h"
#include "secure/keyrelease/protocol.h"

namespace sealsum::server {
namespace {

using json = nlohmann::json;
namespace at = secure::attest;

}  // namespace

bool valid_nonce(std::string_view nonce) {
  if (nonce.size() < 16 || nonce.size() > 128) return false;
  for (char c : nonce) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
    if (!ok) return false;
  }
  return true;
}

std::string make_runtime_data(std::string_view nonce, const std::optional<secure::Digest256>& tls_spki,
                              const at::ModelDigests& model) {
  json j = {{"model", at::model_digests_json(model)},
            {"nonce", std::string(nonce)},
            {"purpose", kAttestationPurpose},
            {"tls_spki_sha256", tls_spki ? json(secure::to_hex(*tls_spki)) : json(nullptr)}};
  return j.dump();  // nlohmann orders object keys: the bytes are deterministic
}

Result<std::string> Attester::attest(std::string_view nonce) {
  if (!valid_nonce(nonce)) return invalid_argument("nonce must be 16..128 characters of [A-Za-z0-9_-]");
  const std::string runtime = make_runtime_data(nonce, tls_spki_, model_);
  const auto report_data = at::report_data_for_runtime_data(encoding::as_bytes(runtime));
  at::SnpEvidence ev;
  {
    std::lock_guard<std::mutex> lock(mu_);
    SEALSUM_ASSIGN_OR_RETURN(ev, source_->collect(report_data));
  }
  std::string measurement, host_data;
  std::span<const uint8_t> rep(ev.report);
  // Simulated evidence (development builds) wraps an SNP-shaped report after its magic; only the
  // format constants are used here, so the TEE links no simulated-TEE code.
  if (rep.size() >= at::kSimulatedMagicSize &&
      std::equal(rep.begin(), rep.begin() + at::kSimulatedMagicSize, at::kSimulatedMagic)) {
    rep = rep.subspan(at::kSimulatedMagicSize);
  }
  if (auto r = at::parse_report(rep); r.ok()) {
    measurement = secure::to_hex(r->measurement);
    host_data = secure::to_hex(r->host_data);
  }
  json answer = {{"runtime_data", encoding::base64url_encode(encoding::as_bytes(runtime))},
                 {"evidence", secure::keyrelease::evidence_to_json(ev)},
                 {"simulated", simulated_},
                 {"measurement", measurement},
                 {"host_data", host_data},
                 {"model", at::model_digests_json(model_)}};
  return answer.dump();
}

Result<std::vector<std::array<uint8_t, 48>>> parse_measurement_list(std::string_view list) {
  std::vector<std::array<uint8_t, 48>> out;
  size_t start = 0;
  while (start <= list.size()) {
    size_t end = list.find(',', start);
    if (end == std::string_view::npos) end = list.size();
    std::string_view item = list.substr(start, end - start);
    auto bytes = encoding::hex_decode(item);
    if (!bytes.ok() || bytes->size() != 48) {
      return invalid_argument("measurement #" + std::to_string(out.size() + 1) + " is not 96 hex digits");
    }
    std::array<uint8_t, 48> m{};
    std::copy(bytes->begin(), bytes->end(), m.begin());
    out.push_back(m);
    start = end + 1;
  }
  if (out.empty()) return invalid_argument("no measurement given");
  return out;
}

}  // namespace sealsum::server
