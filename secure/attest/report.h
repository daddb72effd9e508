// SEV-SNP ATTESTATION_REPORT: bounded parsing of the 1184-byte structure the AMD Secure Processor
// signs (AMD SEV-SNP Firmware ABI specification, table "ATTESTATION_REPORT Structure").
//
// Layout (all integers little-endian; offsets in hex):
//   000 VERSION u32          004 GUEST_SVN u32        008 POLICY u64
//   010 FAMILY_ID[16]        020 IMAGE_ID[16]         030 VMPL u32        034 SIGNATURE_ALGO u32
//   038 CURRENT_TCB u64      040 PLATFORM_INFO u64    048 key info u32 (bit 0 AUTHOR_KEY_EN,
//       bit 1 MASK_CHIP_KEY, bits 4:2 SIGNING_KEY: 0 VCEK, 1 VLEK, 7 none)       04C reserved
//   050 REPORT_DATA[64]      090 MEASUREMENT[48]      0C0 HOST_DATA[32]   0E0 ID_KEY_DIGEST[48]
//   110 AUTHOR_KEY_DIGEST[48] 140 REPORT_ID[32]       160 REPORT_ID_MA[32] 180 REPORTED_TCB u64
//   188 CPUID_FAM_ID, CPUID_MOD_ID, CPUID_STEP (u8 each, version >= 3; reserved before)
//   1A0 CHIP_ID[64]          1E0 COMMITTED_TCB u64
//   1E8 CURRENT_BUILD, CURRENT_MINOR, CURRENT_MAJOR u8, reserved
//   1EC COMMITTED_BUILD, COMMITTED_MINOR, COMMITTED_MAJOR u8, reserved
//   1F0 LAUNCH_TCB u64       1F8 LAUNCH_MIT_VECTOR u64, 200 CURRENT_MIT_VECTOR u64 (version >= 5)
//   2A0 SIGNATURE: R[72], S[72] little-endian (ECDSA P-384 uses the low 48 bytes), reserved to 4A0
// The signature covers bytes [0, 0x2A0) with SHA-384.
//
// TCB_VERSION (u64) packs security patch levels per product:
//   Milan, Genoa: byte 0 BOOT_LOADER, 1 TEE, 2..5 reserved, 6 SNP, 7 MICROCODE
//   Turin:        byte 0 FMC, 1 BOOT_LOADER, 2 TEE, 3 SNP, 4..6 reserved, 7 MICROCODE
//
// Contract: parse_report() copies the bytes it reads (the result owns them); it never reads outside
// the given span; it accepts versions 2..5 (4 is read like 3). Thread safety: free functions are
// reentrant; SnpReport is a value type.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace sealsum::secure::attest {

inline constexpr size_t kSnpReportSize = 0x4A0;      // 1184
inline constexpr size_t kSnpSignedSize = 0x2A0;      // bytes covered by the signature
inline constexpr size_t kSnpSignatureOffset = 0x2A0;
inline constexpr uint32_t kSnpMinVersion = 2;
inline constexpr uint32_t kSnpMaxVersion = 5;
inline constexpr uint32_t kSigAlgoEcdsaP384Sha384 = 1;
inline constexpr size_t kMaxReportInputBytes = 1u << 20;  // hex/raw input files larger than this are refused

enum class Product { kUnknown, kMilan, kGenoa, kTurin };
const char* product_name(Product p);
// "Milan-B0" -> kMilan, "Genoa" -> kGenoa, ... (prefix match on the VCEK product-name extension).
Product product_from_name(std::string_view name);

// Security patch levels of one TCB_VERSION, decoded for a product (fmc is 0 before Turin).
struct TcbParts {
  uint8_t fmc = 0, bootloader = 0, tee = 0, snp = 0, microcode = 0;
  bool operator==(const TcbParts&) const = default;
};
TcbParts decode_tcb(uint64_t raw, Product product);
std::string tcb_to_string(const TcbParts& t);  // "bl=3 tee=0 snp=8 ucode=115" (+ "fmc=N" on Turin)

enum class SigningKey : uint8_t { kVcek = 0, kVlek = 1, kNone = 7, kReserved = 0xFF };
const char* signing_key_name(SigningKey k);

// Guest policy bits (POLICY at 0x008).
inline constexpr uint64_t kPolicySmt = 1ull << 16;
inline constexpr uint64_t kPolicyMigrateMa = 1ull << 18;
inline constexpr uint64_t kPolicyDebug = 1ull << 19;
inline constexpr uint64_t kPolicySingleSocket = 1ull << 20;

struct SnpReport {
  uint32_t version = 0;
  uint32_t guest_svn = 0;
  uint64_t policy = 0;
  std::array<uint8_t, 16> family_id{};
  std::array<uint8_t, 16> image_id{};
  uint32_t vmpl = 0;
  uint32_t signature_algo = 0;
  uint64_t current_tcb = 0;
  uint64_t platform_info = 0;
  bool author_key_en = false;
  bool mask_chip_key = false;
  SigningKey signing_key = SigningKey::kVcek;
  std::array<uint8_t, 64> report_data{};
  std::array<uint8_t, 48> measurement{};
  std::array<uint8_t, 32> host_data{};
  std::array<uint8_t, 48> id_key_digest{};
  std::array<uint8_t, 48> author_key_digest{};
  std::array<uint8_t, 32> report_id{};
  std::array<uint8_t, 32> report_id_ma{};
  uint64_t reported_tcb = 0;
  std::optional<uint8_t> cpuid_fam_id, cpuid_mod_id, cpuid_step;  // version >= 3
  std::array<uint8_t, 64> chip_id{};
  uint64_t committed_tcb = 0;
  uint8_t current_build = 0, current_minor = 0, current_major = 0;
  uint8_t committed_build = 0, committed_minor = 0, committed_major = 0;
  uint64_t launch_tcb = 0;
  std::optional<uint64_t> launch_mit_vector, current_mit_vector;  // version >= 5
  std::array<uint8_t, 72> signature_r{};  // little-endian, as in the report
  std::array<uint8_t, 72> signature_s{};
  std::array<uint8_t, kSnpReportSize> raw{};  // the exact bytes parsed (signature input = raw[0:0x2A0])

  bool debug_allowed() const { return (policy & kPolicyDebug) != 0; }
  // The product implied by CPUID (version >= 3 only): family 0x19 models 0x00-0x0F Milan,
  // 0x10-0x1F and 0xA0-0xAF Genoa; family 0x1A Turin. kUnknown otherwise.
  Product cpuid_product() const;
};

// Parses one report at `offset` in `bytes` (which may be a larger blob). Fails with kDataLoss when
// fewer than 1184 bytes remain, with kUnimplemented for a version outside 2..5.
Result<SnpReport> parse_report(std::span<const uint8_t> bytes, size_t offset = 0);

// Turns the contents of a report file into bytes: raw binary is returned as-is; text consisting
// only of hex digits and whitespace (optionally a leading "0x") is decoded. Bounded by
// kMaxReportInputBytes. Fails with kDataLoss on odd-length or malformed hex.
Result<std::vector<uint8_t>> decode_report_input(std::span<const uint8_t> file_bytes);

// The report as JSON text (every field; byte strings as lowercase hex; TCBs raw and decoded for
// `product`). Used by `sealsum attestation report` and in verification results.
std::string report_to_json(const SnpReport& r, Product product, int indent = 2);

// REPORT_DATA the producer puts in a report for `runtime_data`: SHA-256(runtime_data) then 32 zero
// bytes (what Azure MAA expects).
std::array<uint8_t, 64> report_data_for_runtime_data(std::span<const uint8_t> runtime_data);

}  // namespace sealsum::secure::attest
