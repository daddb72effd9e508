// Broker key store: policy files + sealed key records (see store.h).
#include "secure/broker/store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <nlohmann/json.hpp>

#include "common/atomic_file.h"
#include "common/files.h"
#include "secure/digest.h"
#include "secure/sealed.h"

namespace sealsum::secure::keyrelease {
namespace fs = std::filesystem;
namespace {

constexpr size_t kKeyBytes = kSealingKeySize;
constexpr size_t kRecordBytes = kKeyBytes + 32;

Digest256 binding(std::string_view key_id, std::string_view policy) {
  Sha256 h;
  static constexpr char kLabel[] = "sealsum-kbs-record-v1";
  const uint8_t zero = 0;
  h.update({reinterpret_cast<const uint8_t*>(kLabel), sizeof kLabel - 1});
  h.update({&zero, 1});
  h.update({reinterpret_cast<const uint8_t*>(key_id.data()), key_id.size()});
  h.update({&zero, 1});
  h.update({reinterpret_cast<const uint8_t*>(policy.data()), policy.size()});
  return h.finish();
}

Result<std::string> read_small_file(const fs::path& p, size_t limit) {
  std::error_code ec;
  if (!fs::is_regular_file(p, ec)) return not_found(p.filename().string() + " does not exist");
  return read_file_bounded(p, limit);
}

Status make_private_dir(const fs::path& d) {
  if (::mkdir(d.c_str(), 0700) != 0 && errno != EEXIST) {
    return unavailable("cannot create directory " + d.string() + ": " + std::strerror(errno));
  }
  ::chmod(d.c_str(), 0700);
  return Status::ok();
}

}  // namespace

namespace {

enum class PolicyUse { kRelease, kClient };

Result<ReleasePolicy> parse_policy_document(std::string_view text, PolicyUse use) {
  if (text.size() > kMaxReleasePolicyBytes) return invalid_argument("release policy is larger than 64 KiB");
  nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return invalid_argument("release policy is not a JSON object");
  if (use == PolicyUse::kClient && j.contains("output")) {
    return invalid_argument("client policy: \"output\" is the data owner's output policy for the broker; a client "
                            "policy does not carry one");
  }
  ReleasePolicy out;
  if (auto it = j.find("allow_simulated"); it != j.end()) {
    if (!it->is_boolean()) return invalid_argument("release policy \"allow_simulated\" is not a boolean");
    out.allow_simulated = it->get<bool>();
    j.erase(it);
  }
  if (auto it = j.find("output"); it != j.end()) {
    auto output = parse_output_policy(*it);
    if (!output.ok()) return invalid_argument("release policy \"output\": " + output.status().message());
    out.output = std::move(output).value();
    out.output_policy = it->dump();
    j.erase(it);
  }
  auto p = attest::parse_policy_json(j.dump());
  if (!p.ok()) return invalid_argument("release policy: " + p.status().message());
  out.attestation = std::move(p).value();
  if (use == PolicyUse::kRelease && out.attestation.measurements.empty()) {
    return invalid_argument("release policy must name at least one allowed measurement in \"measurements\"");
  }
  return out;
}

}  // namespace

Result<ReleasePolicy> parse_release_policy_json(std::string_view text) {
  return parse_policy_document(text, PolicyUse::kRelease);
}

Result<ReleasePolicy> parse_client_policy_json(std::string_view text) {
  return parse_policy_document(text, PolicyUse::kClient);
}

Status validate_key_id(std::string_view key_id) {
  SEALSUM_RETURN_IF_ERROR(validate_kid(key_id));
  if (key_id.front() == '.') return invalid_argument("key id must not start with '.'");
  return Status::ok();
}

Status KeyStore::init(const fs::path& dir, const fs::path& broker_key_file) {
  SEALSUM_RETURN_IF_ERROR(make_private_dir(dir));
  SEALSUM_RETURN_IF_ERROR(make_private_dir(dir / "keys"));
  std::error_code ec;
  if (fs::exists(broker_key_file, ec)) {
    // Re-running init is allowed with an existing, loadable broker key (never replaced).
    SEALSUM_ASSIGN_OR_RETURN(SealingKey existing, load_key_file(broker_key_file));
    (void)existing;
    return Status::ok();
  }
  SEALSUM_ASSIGN_OR_RETURN(SealingKey key, SealingKey::generate("sealsum-kbs-broker"));
  return write_key_file(broker_key_file, key);
}

Result<KeyStore> KeyStore::open(const fs::path& dir, const fs::path& broker_key_file) {
  std::error_code ec;
  if (!fs::is_directory(dir / "keys", ec)) {
    return not_found("key store " + dir.string() + " is not initialized (run `sealsum kbs init`)");
  }
  SEALSUM_ASSIGN_OR_RETURN(SealingKey key, load_key_file(broker_key_file));
  return KeyStore(dir, std::move(key));
}

Status KeyStore::register_key(const SealingKey& key, std::string_view policy_json) {
  SEALSUM_RETURN_IF_ERROR(validate_key_id(key.kid()));
  SEALSUM_ASSIGN_OR_RETURN(ReleasePolicy parsed, parse_release_policy_json(policy_json));
  (void)parsed;
  fs::path policy_path = dir_ / "keys" / (key.kid() + ".policy.json");
  fs::path record_path = dir_ / "keys" / (key.kid() + ".sealed");
  std::error_code ec;
  if (fs::exists(policy_path, ec) || fs::exists(record_path, ec)) {
    return invalid_argument("key id " + key.kid() + " is already registered; remove its files in " +
                            (dir_ / "keys").string() + " first to replace it");
  }
  SEALSUM_ASSIGN_OR_RETURN(SecretBuffer record, SecretBuffer::allocate(kRecordBytes, true));
  std::memcpy(record.data(), key.bytes().data(), kKeyBytes);
  Digest256 b = binding(key.kid(), policy_json);
  std::memcpy(record.data() + kKeyBytes, b.data(), b.size());
  SEALSUM_ASSIGN_OR_RETURN(std::vector<uint8_t> sealed,
                           seal_to_bytes(record.span(), broker_key_, SealOptions{ContentType::kDocument}));
  SEALSUM_RETURN_IF_ERROR(write_file_atomic(policy_path, {reinterpret_cast<const uint8_t*>(policy_json.data()),
                                                        policy_json.size()}));
  Status st = write_file_atomic(record_path, sealed);
  if (!st.is_ok()) fs::remove(policy_path, ec);
  return st;
}

Result<KeyStore::Entry> KeyStore::load(std::string_view key_id) const {
  if (!validate_key_id(key_id).is_ok()) return not_found("no such key id (malformed)");
  std::string id(key_id);
  fs::path policy_path = dir_ / "keys" / (id + ".policy.json");
  fs::path record_path = dir_ / "keys" / (id + ".sealed");
  std::error_code ec;
  if (!fs::exists(record_path, ec)) return not_found("key id " + id + " is not registered");
  SEALSUM_ASSIGN_OR_RETURN(std::string policy_text, read_small_file(policy_path, kMaxReleasePolicyBytes));
  SEALSUM_ASSIGN_OR_RETURN(std::string sealed, read_small_file(record_path, 4096));
  SEALSUM_ASSIGN_OR_RETURN(
      SecretBuffer record,
      open_sealed_bytes({reinterpret_cast<const uint8_t*>(sealed.data()), sealed.size()}, broker_key_,
                        ContentType::kDocument, "key record " + id));
  if (record.size() != kRecordBytes) return data_loss("key record " + id + " has the wrong size");
  Digest256 b = binding(id, policy_text);
  if (!ct_equal(record.span().subspan(kKeyBytes), b)) {
    return data_loss("key record " + id + " does not match its id or its policy file (edited or renamed since "
                     "registration?); re-register the key");
  }
  SEALSUM_ASSIGN_OR_RETURN(ReleasePolicy policy, parse_release_policy_json(policy_text));
  SEALSUM_ASSIGN_OR_RETURN(SecretBuffer key, SecretBuffer::copy_of(record.span().first(kKeyBytes), true));
  return Entry{std::move(key), std::move(policy)};
}

}  // namespace sealsum::secure::keyrelease
