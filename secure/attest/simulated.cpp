// Simulated TEE evidence (see simulated.h). NOT attestation: for local runs only.
#include "secure/attest/simulated.h"

#include <cstring>
#include <iostream>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "secure/attest/p384.h"

namespace sealsum::secure::attest {
namespace {

static_assert(sizeof(kSimulatedMagic) - 1 == kSimulatedMagicSize);
constexpr char kChipIdMarker[] = "SIMULATED";
constexpr size_t kReportOffset = kSimulatedMagicSize;
constexpr size_t kKeyOffset = kSimulatedMagicSize + kSnpReportSize;

struct PkeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;

void put32(uint8_t* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = uint8_t(v >> (8 * i));
}
void put64(uint8_t* p, uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = uint8_t(v >> (8 * i));
}

// The signed message: magic || report[0:0x2A0] || public key.
std::vector<uint8_t> signed_message(std::span<const uint8_t> evidence) {
  std::vector<uint8_t> m;
  m.reserve(kSimulatedMagicSize + kSnpSignedSize + kSimulatedPublicKeySize);
  m.insert(m.end(), evidence.begin(), evidence.begin() + long(kReportOffset + kSnpSignedSize));
  m.insert(m.end(), evidence.begin() + long(kKeyOffset), evidence.begin() + long(kKeyOffset + kSimulatedPublicKeySize));
  return m;
}

Result<Pkey> public_key_from_point(std::span<const uint8_t> point) {
  char group[] = "P-384";
  OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, group, 0),
      OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, const_cast<uint8_t*>(point.data()), point.size()),
      OSSL_PARAM_construct_end()};
  std::unique_ptr<EVP_PKEY_CTX, decltype(&EVP_PKEY_CTX_free)> ctx(EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr),
                                                                   EVP_PKEY_CTX_free);
  EVP_PKEY* key = nullptr;
  if (!ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &key, EVP_PKEY_PUBLIC_KEY, params) != 1) {
    return data_loss("simulated evidence: the embedded public key is not a valid P-384 point");
  }
  return Pkey(key);
}

}  // namespace

struct SimulatedTee::Key {
  Pkey pkey;
  std::array<uint8_t, kSimulatedPublicKeySize> public_point{};
};

const char* simulated_warning() {
  return "WARNING: SIMULATED TEE EVIDENCE. This is NOT hardware attestation: it is signed by a software key "
         "anyone can create. Never use it to protect real data.";
}

SimulatedTee::SimulatedTee(SimulatedTee&&) noexcept = default;
SimulatedTee& SimulatedTee::operator=(SimulatedTee&&) noexcept = default;
SimulatedTee::~SimulatedTee() = default;

Result<SimulatedTee> SimulatedTee::create(const SimulatedOptions& options) {
  std::cerr << simulated_warning() << "\n";
  SimulatedTee tee;
  tee.options_ = options;
  if (options.vmpl > 3) return invalid_argument("simulated TEE: vmpl must be 0..3");
  if (options.measurement) {
    tee.measurement_ = *options.measurement;
  } else {
    SEALSUM_ASSIGN_OR_RETURN(tee.measurement_, measure_running_binary());
  }
  tee.key_ = std::make_unique<Key>();
  tee.key_->pkey.reset(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-384"));
  if (!tee.key_->pkey) return internal_error("simulated TEE: P-384 key generation failed");
  EVP_PKEY_set_utf8_string_param(tee.key_->pkey.get(), OSSL_PKEY_PARAM_EC_POINT_CONVERSION_FORMAT,
                                 OSSL_PKEY_EC_POINT_CONVERSION_FORMAT_UNCOMPRESSED);
  size_t len = 0;
  if (EVP_PKEY_get_octet_string_param(tee.key_->pkey.get(), OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY,
                                      tee.key_->public_point.data(), tee.key_->public_point.size(), &len) != 1 ||
      len != kSimulatedPublicKeySize || tee.key_->public_point[0] != 0x04) {
    return internal_error("simulated TEE: cannot export the public key");
  }
  return tee;
}

Result<std::vector<uint8_t>> SimulatedTee::make_evidence(const std::array<uint8_t, 64>& report_data) const {
  std::cerr << simulated_warning() << "\n";
  std::vector<uint8_t> ev(kSimulatedEvidenceSize, 0);
  std::memcpy(ev.data(), kSimulatedMagic, kSimulatedMagicSize);
  uint8_t* r = ev.data() + kReportOffset;
  put32(r + 0x00, 2);                  // VERSION
  put64(r + 0x08, (1ull << 17) | (1ull << 16) | options_.extra_policy_bits);  // POLICY: reserved-one, SMT; debug off
  put32(r + 0x30, options_.vmpl);     // VMPL
  put32(r + 0x34, kSigAlgoEcdsaP384Sha384);
  put32(r + 0x48, 7u << 2);            // SIGNING_KEY = 7 (none): no AMD key signed this
  std::memcpy(r + 0x50, report_data.data(), 64);
  std::memcpy(r + 0x90, measurement_.data(), 48);
  std::memcpy(r + 0xC0, options_.host_data.data(), 32);
  std::memcpy(r + 0x1A0, kChipIdMarker, sizeof(kChipIdMarker) - 1);
  std::memcpy(ev.data() + kKeyOffset, key_->public_point.data(), kSimulatedPublicKeySize);
  std::array<uint8_t, 72> sig_r{}, sig_s{};
  SEALSUM_RETURN_IF_ERROR(ecdsa_p384_sign_amd(key_->pkey.get(), signed_message(ev), sig_r, sig_s));
  std::memcpy(r + kSnpSignatureOffset, sig_r.data(), 72);
  std::memcpy(r + kSnpSignatureOffset + 72, sig_s.data(), 72);
  return ev;
}

bool is_simulated_evidence(std::span<const uint8_t> bytes) {
  return bytes.size() >= kSimulatedMagicSize && std::memcmp(bytes.data(), kSimulatedMagic, kSimulatedMagicSize) == 0;
}

Result<SimulatedEvidence> open_simulated_evidence(std::span<const uint8_t> bytes) {
  if (!is_simulated_evidence(bytes)) return data_loss("not simulated evidence (magic missing)");
  if (bytes.size() != kSimulatedEvidenceSize) {
    return data_loss("simulated evidence is " + std::to_string(bytes.size()) + " bytes, expected " +
                     std::to_string(kSimulatedEvidenceSize));
  }
  SimulatedEvidence out;
  SEALSUM_ASSIGN_OR_RETURN(out.report, parse_report(bytes, kReportOffset));
  std::memcpy(out.public_key.data(), bytes.data() + kKeyOffset, kSimulatedPublicKeySize);
  SEALSUM_ASSIGN_OR_RETURN(Pkey key, public_key_from_point(out.public_key));
  Status st = ecdsa_p384_verify_amd(key.get(), signed_message(bytes), out.report.signature_r, out.report.signature_s);
  if (!st.is_ok()) return unauthenticated("simulated evidence self-signature does not verify");
  return out;
}

Result<std::array<uint8_t, 48>> measure_running_binary() { return sha384_file("/proc/self/exe"); }

}  // namespace sealsum::secure::attest
