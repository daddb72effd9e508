// SEV-SNP report parsing (see report.h for the layout and contracts).
#include "secure/attest/report.h"
#include "common/encoding.h"

#include <cstdio>
#include <cstring>

#include <nlohmann/json.hpp>

#include "secure/attest/azure_inputs.h"
#include "secure/digest.h"

namespace sealsum::secure::attest {
namespace {

uint32_t le32(const uint8_t* p) {
  return uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24;
}
uint64_t le64(const uint8_t* p) { return uint64_t(le32(p)) | uint64_t(le32(p + 4)) << 32; }

template <size_t N>
void copy_at(std::array<uint8_t, N>& dst, const uint8_t* base, size_t off) {
  std::memcpy(dst.data(), base + off, N);
}

bool is_hex_digit(uint8_t c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
bool is_space(uint8_t c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }

}  // namespace

const char* product_name(Product p) {
  switch (p) {
    case Product::kMilan: return "Milan";
    case Product::kGenoa: return "Genoa";
    case Product::kTurin: return "Turin";
    case Product::kUnknown: break;
  }
  return "unknown";
}

Product product_from_name(std::string_view name) {
  for (Product p : {Product::kMilan, Product::kGenoa, Product::kTurin}) {
    if (name.substr(0, std::strlen(product_name(p))) == product_name(p)) return p;
  }
  return Product::kUnknown;
}

TcbParts decode_tcb(uint64_t raw, Product product) {
  auto byte = [raw](int i) { return uint8_t(raw >> (8 * i)); };
  TcbParts t;
  if (product == Product::kTurin) {
    t.fmc = byte(0);
    t.bootloader = byte(1);
    t.tee = byte(2);
    t.snp = byte(3);
  } else {
    t.bootloader = byte(0);
    t.tee = byte(1);
    t.snp = byte(6);
  }
  t.microcode = byte(7);
  return t;
}

std::string tcb_to_string(const TcbParts& t) {
  std::string s = "bl=" + std::to_string(t.bootloader) + " tee=" + std::to_string(t.tee) +
                  " snp=" + std::to_string(t.snp) + " ucode=" + std::to_string(t.microcode);
  if (t.fmc != 0) s += " fmc=" + std::to_string(t.fmc);
  return s;
}

const char* signing_key_name(SigningKey k) {
  switch (k) {
    case SigningKey::kVcek: return "VCEK";
    case SigningKey::kVlek: return "VLEK";
    case SigningKey::kNone: return "none";
    case SigningKey::kReserved: break;
  }
  return "reserved";
}

Product SnpReport::cpuid_product() const {
  if (!cpuid_fam_id || !cpuid_mod_id) return Product::kUnknown;
  uint8_t fam = *cpuid_fam_id, mod = *cpuid_mod_id;
  if (fam == 0x19 && mod <= 0x0F) return Product::kMilan;
  if (fam == 0x19 && ((mod >= 0x10 && mod <= 0x1F) || (mod >= 0xA0 && mod <= 0xAF))) return Product::kGenoa;
  if (fam == 0x1A) return Product::kTurin;
  return Product::kUnknown;
}

Result<SnpReport> parse_report(std::span<const uint8_t> bytes, size_t offset) {
  if (offset > bytes.size() || bytes.size() - offset < kSnpReportSize) {
    return data_loss("SEV-SNP report truncated: need " + std::to_string(kSnpReportSize) + " bytes at offset " +
                     std::to_string(offset) + ", input has " + std::to_string(bytes.size()) +
                     " bytes (check --report-offset and the file)");
  }
  const uint8_t* p = bytes.data() + offset;
  SnpReport r;
  std::memcpy(r.raw.data(), p, kSnpReportSize);
  r.version = le32(p + 0x00);
  if (r.version < kSnpMinVersion || r.version > kSnpMaxVersion) {
    return unimplemented("SEV-SNP report version " + std::to_string(r.version) + " is not supported (2.." +
                         std::to_string(kSnpMaxVersion) + "); is this an SNP report at the right offset?");
  }
  r.guest_svn = le32(p + 0x04);
  r.policy = le64(p + 0x08);
  copy_at(r.family_id, p, 0x10);
  copy_at(r.image_id, p, 0x20);
  r.vmpl = le32(p + 0x30);
  r.signature_algo = le32(p + 0x34);
  r.current_tcb = le64(p + 0x38);
  r.platform_info = le64(p + 0x40);
  uint32_t key_info = le32(p + 0x48);
  r.author_key_en = key_info & 1u;
  r.mask_chip_key = (key_info >> 1) & 1u;
  uint32_t sk = (key_info >> 2) & 7u;
  r.signing_key = sk == 0 ? SigningKey::kVcek : sk == 1 ? SigningKey::kVlek : sk == 7 ? SigningKey::kNone
                                                                                      : SigningKey::kReserved;
  copy_at(r.report_data, p, 0x50);
  copy_at(r.measurement, p, 0x90);
  copy_at(r.host_data, p, 0xC0);
  copy_at(r.id_key_digest, p, 0xE0);
  copy_at(r.author_key_digest, p, 0x110);
  copy_at(r.report_id, p, 0x140);
  copy_at(r.report_id_ma, p, 0x160);
  r.reported_tcb = le64(p + 0x180);
  if (r.version >= 3) {
    r.cpuid_fam_id = p[0x188];
    r.cpuid_mod_id = p[0x189];
    r.cpuid_step = p[0x18A];
  }
  copy_at(r.chip_id, p, 0x1A0);
  r.committed_tcb = le64(p + 0x1E0);
  r.current_build = p[0x1E8];
  r.current_minor = p[0x1E9];
  r.current_major = p[0x1EA];
  r.committed_build = p[0x1EC];
  r.committed_minor = p[0x1ED];
  r.committed_major = p[0x1EE];
  r.launch_tcb = le64(p + 0x1F0);
  if (r.version >= 5) {
    r.launch_mit_vector = le64(p + 0x1F8);
    r.current_mit_vector = le64(p + 0x200);
  }
  copy_at(r.signature_r, p, 0x2A0);
  copy_at(r.signature_s, p, 0x2A0 + 72);
  return r;
}

Result<std::vector<uint8_t>> decode_report_input(std::span<const uint8_t> file_bytes) {
  if (file_bytes.size() > kMaxReportInputBytes) {
    return resource_exhausted("report input is " + std::to_string(file_bytes.size()) + " bytes; the limit is " +
                              std::to_string(kMaxReportInputBytes));
  }
  std::string_view text(reinterpret_cast<const char*>(file_bytes.data()), file_bytes.size());
  size_t start = 0;
  while (start < text.size() && is_space(uint8_t(text[start]))) ++start;
  if (text.substr(start, 2) == "0x" || text.substr(start, 2) == "0X") start += 2;
  bool hex_text = start < text.size();
  for (size_t i = start; i < text.size() && hex_text; ++i) {
    uint8_t c = uint8_t(text[i]);
    hex_text = is_hex_digit(c) || is_space(c);
  }
  if (!hex_text) return std::vector<uint8_t>(file_bytes.begin(), file_bytes.end());
  std::string digits;
  digits.reserve(text.size());
  for (size_t i = start; i < text.size(); ++i) {
    if (!is_space(uint8_t(text[i]))) digits.push_back(text[i]);
  }
  auto out = encoding::hex_decode(digits);
  if (!out.ok()) return out.status().with_context("report hex text");
  return out;
}

std::string report_to_json(const SnpReport& r, Product product, int indent) {
  using nlohmann::ordered_json;
  auto tcb = [product](uint64_t raw) {
    TcbParts t = decode_tcb(raw, product);
    char buf[17];
    std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(raw));
    ordered_json j = {{"raw", std::string(buf)},
                      {"bootloader", t.bootloader}, {"tee", t.tee}, {"snp", t.snp}, {"microcode", t.microcode}};
    if (product == Product::kTurin) j["fmc"] = t.fmc;
    return j;
  };
  ordered_json j;
  j["version"] = r.version;
  j["guest_svn"] = r.guest_svn;
  j["policy"] = {{"raw", r.policy},
                 {"abi_minor", r.policy & 0xFF},
                 {"abi_major", (r.policy >> 8) & 0xFF},
                 {"smt", (r.policy & kPolicySmt) != 0},
                 {"migrate_ma", (r.policy & kPolicyMigrateMa) != 0},
                 {"debug", r.debug_allowed()},
                 {"single_socket", (r.policy & kPolicySingleSocket) != 0}};
  j["family_id"] = to_hex(r.family_id);
  j["image_id"] = to_hex(r.image_id);
  j["vmpl"] = r.vmpl;
  j["signature_algo"] = r.signature_algo;
  j["current_tcb"] = tcb(r.current_tcb);
  j["platform_info"] = r.platform_info;
  j["author_key_en"] = r.author_key_en;
  j["mask_chip_key"] = r.mask_chip_key;
  j["signing_key"] = signing_key_name(r.signing_key);
  j["report_data"] = to_hex(r.report_data);
  j["measurement"] = to_hex(r.measurement);
  j["host_data"] = to_hex(r.host_data);
  j["id_key_digest"] = to_hex(r.id_key_digest);
  j["author_key_digest"] = to_hex(r.author_key_digest);
  j["report_id"] = to_hex(r.report_id);
  j["report_id_ma"] = to_hex(r.report_id_ma);
  j["reported_tcb"] = tcb(r.reported_tcb);
  if (r.cpuid_fam_id) {
    j["cpuid_fam_id"] = *r.cpuid_fam_id;
    j["cpuid_mod_id"] = *r.cpuid_mod_id;
    j["cpuid_step"] = *r.cpuid_step;
  }
  j["chip_id"] = to_hex(r.chip_id);
  j["committed_tcb"] = tcb(r.committed_tcb);
  j["current_version"] = std::to_string(r.current_major) + "." + std::to_string(r.current_minor) + "." +
                         std::to_string(r.current_build);
  j["committed_version"] = std::to_string(r.committed_major) + "." + std::to_string(r.committed_minor) + "." +
                           std::to_string(r.committed_build);
  j["launch_tcb"] = tcb(r.launch_tcb);
  if (r.launch_mit_vector) {
    j["launch_mit_vector"] = *r.launch_mit_vector;
    j["current_mit_vector"] = *r.current_mit_vector;
  }
  j["signature_r"] = to_hex(r.signature_r);
  j["signature_s"] = to_hex(r.signature_s);
  j["product"] = product_name(product);
  return j.dump(indent);
}

// Defined here, beside the report it fills, so the TEE side links it without the verifier.
std::array<uint8_t, 64> report_data_for_runtime_data(std::span<const uint8_t> runtime_data) {
  std::array<uint8_t, 64> out{};
  Digest256 h = sha256(runtime_data);
  std::copy(h.begin(), h.end(), out.begin());
  return out;
}

}  // namespace sealsum::secure::attest
