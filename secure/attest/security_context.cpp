// ACI security context directory (see security_context.h).
#include "secure/attest/security_context.h"

#include "common/encoding.h"
#include "common/files.h"
#include "secure/attest/cce_policy.h"

namespace sealsum::secure::attest {
namespace {

// Decodes one base64 file of the context (whitespace skipped). kNotFound / kDataLoss name the file.
Result<std::vector<uint8_t>> read_base64_file(const std::filesystem::path& path) {
  // base64 is 4/3 of the decoded size; allow line breaks on top.
  SEALSUM_ASSIGN_OR_RETURN(std::string text, read_file_bounded(path, kMaxAzureInputBytes * 2));
  encoding::Base64Options o;
  o.whitespace = encoding::Whitespace::kAny;
  o.max_chars = kMaxAzureInputBytes * 2;
  auto bytes = encoding::base64_decode(text, path.string(), o);
  if (!bytes.ok()) return bytes.status();
  if (bytes->size() > kMaxAzureInputBytes) return data_loss(path.string() + " decodes to more than 4 MiB");
  return bytes;
}

}  // namespace

Result<SecurityContext> read_security_context(const std::filesystem::path& dir) {
  SecurityContext out;
  SEALSUM_ASSIGN_OR_RETURN(std::vector<uint8_t> cert, read_base64_file(dir / "host-amd-cert-base64"));
  auto hc = parse_host_amd_certificate_json(std::string_view(reinterpret_cast<const char*>(cert.data()), cert.size()));
  if (!hc.ok()) return data_loss((dir / "host-amd-cert-base64").string() + ": " + hc.status().message());
  out.host_amd_cert = std::move(hc).value();
  SEALSUM_ASSIGN_OR_RETURN(out.uvm_endorsement, read_base64_file(dir / "reference-info-base64"));
  // The policy goes through the one CCE policy loader (cce_policy.h), as `sealsum policy` reads it.
  const auto policy_path = dir / "security-policy-base64";
  SEALSUM_ASSIGN_OR_RETURN(std::string policy_file, read_file_bounded(policy_path, kMaxCcePolicyFileBytes));
  auto policy = load_cce_policy(policy_file);
  if (!policy.ok()) return data_loss(policy_path.string() + ": " + policy.status().message());
  out.cce_policy = std::move(policy->rego);
  return out;
}

}  // namespace sealsum::secure::attest
