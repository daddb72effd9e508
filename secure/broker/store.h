// The broker's key store: sealing keys encrypted at rest under the broker key, each with its
// release policy, in one directory.
//
// Layout (directory mode 0700, files 0600):
//   DIR/keys/<key_id>.policy.json   the release policy exactly as registered (auditable text)
//   DIR/keys/<key_id>.sealed        a sealed file (secure/sealed.h, content type "document") under
//                                   the broker key; plaintext = key (32 bytes) || binding (32 bytes)
//   DIR/audit.log                   the release audit log (audit.h)
// binding = SHA-256("sealsum-kbs-record-v1" || 0x00 || key_id || 0x00 || policy file bytes), so a
// record renamed to another key id, or a policy edited on disk after registration, is detected on
// load (kDataLoss: re-register the key) instead of silently releasing under the wrong policy.
// The broker key is a key file (secure/keys.h: JWK, mode 0600 enforced on load).
//
// Release policy JSON: the attest policy object (secure/attest/policy.h: "measurements",
// "host_data", "min_tcb", "allow_debug", ...) plus one key of our own, "allow_simulated" (bool,
// default false: accept the simulated TEE, for local dev runs only). "measurements" must name at
// least one measurement: a key is never released to "any code". require_runtime_data is forced on
// at release time (the nonce/ephemeral-key binding).
// Optional "output": the data owner's *output policy* for what is summarized with this key
// (secure/output_seal.h: {"mode":"plaintext"} or {"mode":"sealed","consumer":NAME,"key":JWK}).
// It is stored with the key (covered by the binding below) and released with it, bound to the
// wrapped key (protocol.h), so the operator cannot strip or change it in transit.
//
// Key ids are the key file's kid (1..64 of [A-Za-z0-9._:-], not starting with '.'), so a released
// key rebuilds the same SealingKey that sealed the files.
// Thread safety: load() is reentrant and may run concurrently with register_key() of another id.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"
#include "secure/attest/policy.h"
#include "secure/keys.h"
#include "secure/output_seal.h"
#include "secure/secret_buffer.h"

namespace sealsum::secure::keyrelease {

inline constexpr size_t kMaxReleasePolicyBytes = 64u << 10;

struct ReleasePolicy {
  attest::Policy attestation;
  bool allow_simulated = false;
  std::string output_policy;           // the "output" member as compact JSON, as released; empty when absent
  std::optional<OutputPolicy> output;  // the same, parsed
};
// kInvalidArgument naming the key on any error (including an empty "measurements").
Result<ReleasePolicy> parse_release_policy_json(std::string_view json);
// The relying party's use of the same format (`sealsum verify --policy FILE`): one file can pin a
// server for a client and a key at the broker. "output" is refused (it is the data owner's, for the
// broker); "measurements" may be empty here (flags add pins; the caller requires at least one).
Result<ReleasePolicy> parse_client_policy_json(std::string_view json);

// OK for a kid usable as a store file name (validate_kid and no leading '.').
Status validate_key_id(std::string_view key_id);

class KeyStore {
 public:
  // Creates DIR and DIR/keys (0700) and a fresh broker key file (0600; refuses to overwrite).
  static Status init(const std::filesystem::path& dir, const std::filesystem::path& broker_key_file);
  // Opens an initialized store: the directories must exist; the broker key file is loaded.
  static Result<KeyStore> open(const std::filesystem::path& dir, const std::filesystem::path& broker_key_file);

  // Stores `key` (id = key.kid()) under `policy_json` (validated first). Refuses an id already
  // registered (kInvalidArgument: remove both files of that id first).
  Status register_key(const SealingKey& key, std::string_view policy_json);

  struct Entry {
    SecretBuffer key;
    ReleasePolicy policy;
  };
  // kNotFound for an unknown id; kDataLoss when the record does not match its id or policy.
  Result<Entry> load(std::string_view key_id) const;

  const std::filesystem::path& dir() const { return dir_; }
  std::filesystem::path audit_log_path() const { return dir_ / "audit.log"; }

 private:
  KeyStore(std::filesystem::path dir, SealingKey broker_key) : dir_(std::move(dir)), broker_key_(std::move(broker_key)) {}
  std::filesystem::path dir_;
  SealingKey broker_key_;
};

}  // namespace sealsum::secure::keyrelease
