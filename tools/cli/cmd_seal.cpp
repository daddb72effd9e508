// `sealsum keygen`, `sealsum seal`, `sealsum unseal`: the data owner's tools for sealed files
// (format: secure/sealed.cpp; key files: secure/keys.h).
//
//   sealsum keygen -o KEYFILE [--kid NAME]
//   sealsum keygen --type x25519 -o KEYFILE [--consumer NAME]
//       a consumer's output key (secure/output_seal.h): the private JWK goes to KEYFILE (0600);
//       stdout gets the public half, as the output policy {"mode":"sealed","consumer":NAME,"key":JWK}
//       when --consumer is given (the data owner puts it in the broker's release policy, "output")
//   sealsum seal --key KEYFILE --type document|model [--kid KID] [--segment-size BYTES] INPUT -o OUTPUT
//   sealsum unseal --key KEYFILE [--type document|model] INPUT -o OUTPUT
//
// `-o` is accepted as a spelling of `--output`. Key bytes never reach stdout, stderr or a
// std::string; messages name files, key ids and segment indices only.
#include <iostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "secure/keys.h"
#include "secure/output_seal.h"
#include "secure/sealed.h"
#include "tools/cli/command.h"

namespace {

using sealsum::cli::usage_error;
using sealsum::Status;
using sealsum::cli::Args;
namespace sec = sealsum::secure;

int keygen_output_key(const Args& args) {
  if (args.has("kid")) return usage_error(args, "--kid applies to sealing keys only");
  auto key = sec::OutputKey::generate_x25519();
  if (!key.ok()) return sealsum::cli::fail("keygen", key.status());
  nlohmann::json out = key->public_jwk();
  if (auto consumer = args.get("consumer")) {
    out = {{"mode", "sealed"}, {"consumer", *consumer}, {"key", out}};
    if (auto valid = sec::parse_output_policy(out); !valid.ok()) {
      return usage_error(args, "--consumer: " + valid.status().message());
    }
  }
  const std::string path = *args.get("output");
  if (Status st = sec::write_output_key_file(path, *key); !st.is_ok()) return sealsum::cli::fail("keygen", st);
  std::cout << out.dump() << std::endl;
  std::cerr << "wrote " << path << " (X25519 output key; keep it private, give the data owner the line above)\n";
  return 0;
}

int run_keygen(const std::vector<std::string>& argv) {
  Args args("keygen", "-o KEYFILE [--kid NAME] | --type x25519 -o KEYFILE [--consumer NAME]");
  args.option("output", "KEYFILE", "where to write the new key (created with mode 0600; never overwritten)", true)
      .option("kid", "NAME", "key id to record (1-64 of A-Z a-z 0-9 . _ : -); default: derived from the key")
      .option("type", "TYPE", "sealing (default: a 256-bit sealing key) or x25519 (a consumer's output key)")
      .option("consumer", "NAME", "x25519: print the public key as an output policy naming this consumer");
  if (int rc = sealsum::cli::parse_or_exit(args, argv); rc >= 0) return rc;
  const std::string type = args.get_or("type", "sealing");
  if (type == "x25519") return keygen_output_key(args);
  if (type != "sealing") return usage_error(args, "--type must be sealing or x25519");
  if (args.has("consumer")) return usage_error(args, "--consumer applies to --type x25519 only");
  const std::string kid = args.get_or("kid", "");
  if (!kid.empty()) {
    if (Status st = sec::validate_kid(kid); !st.is_ok()) return usage_error(args, "--kid: " + st.message());
  }
  auto key = sec::SealingKey::generate(kid);
  if (!key.ok()) return sealsum::cli::fail("keygen", key.status());
  const std::string path = *args.get("output");
  if (Status st = sec::write_key_file(path, *key); !st.is_ok()) return sealsum::cli::fail("keygen", st);
  std::cout << "wrote " << path << " (kid " << key->kid() << ")\n";
  return 0;
}

int run_seal(const std::vector<std::string>& argv) {
  Args args("seal", "--key KEYFILE --type document|model [--kid KID] INPUT -o OUTPUT");
  args.option("key", "KEYFILE", "key file (see sealsum keygen); must have mode 0600", true)
      .option("type", "TYPE", "content type recorded in the header: document or model", true)
      .option("kid", "KID", "refuse to seal unless the key file's key id is KID (guards against a wrong key file)")
      .option("segment-size", "BYTES", "plaintext bytes per authenticated segment (default 65536)")
      .option("output", "OUTPUT", "sealed file to write (via a temporary file, mode 0600)", true)
      .positionals("INPUT", "plaintext file to seal", 1, 1);
  if (int rc = sealsum::cli::parse_or_exit(args, argv); rc >= 0) return rc;
  auto type = sec::content_type_from_name(*args.get("type"));
  if (!type.ok()) return usage_error(args, "--type: " + type.status().message());
  auto seg = args.get_int("segment-size", sec::kMinSegmentSize, sec::kMaxSegmentSize);
  if (!seg.ok()) return usage_error(args, seg.status().message());
  auto key = sec::load_key_file(*args.get("key"));
  if (!key.ok()) return sealsum::cli::fail("seal", key.status());
  if (auto want = args.get("kid"); want && *want != key->kid()) {
    return sealsum::cli::fail("seal", sealsum::invalid_argument("key file " + *args.get("key") + " has key id '" +
                                                                key->kid() + "', not '" + *want + "'"));
  }
  sec::SealOptions options;
  options.content_type = *type;
  if (seg->has_value()) options.segment_size = static_cast<uint32_t>(**seg);
  const std::string input = args.rest().front(), output = *args.get("output");
  if (Status st = sec::seal_file(input, output, *key, options); !st.is_ok()) return sealsum::cli::fail("seal", st);
  std::cerr << "sealed " << input << " -> " << output << " (" << sec::content_type_name(*type) << ", kid "
            << key->kid() << ")\n";
  return 0;
}

int run_unseal(const std::vector<std::string>& argv) {
  Args args("unseal", "--key KEYFILE [--type document|model] INPUT -o OUTPUT");
  args.option("key", "KEYFILE", "key file the input was sealed with; must have mode 0600", true)
      .option("type", "TYPE", "refuse unless the sealed content type is TYPE (document or model)")
      .option("output", "OUTPUT", "plaintext file to write (mode 0600); created only if every segment verifies",
              true)
      .positionals("INPUT", "sealed file", 1, 1);
  if (int rc = sealsum::cli::parse_or_exit(args, argv); rc >= 0) return rc;
  std::optional<sec::ContentType> expected;
  if (auto t = args.get("type")) {
    auto type = sec::content_type_from_name(*t);
    if (!type.ok()) return usage_error(args, "--type: " + type.status().message());
    expected = *type;
  }
  auto key = sec::load_key_file(*args.get("key"));
  if (!key.ok()) return sealsum::cli::fail("unseal", key.status());
  const std::string input = args.rest().front(), output = *args.get("output");
  if (Status st = sec::unseal_file(input, output, *key, expected); !st.is_ok()) {
    return sealsum::cli::fail("unseal", st);
  }
  std::cerr << "unsealed " << input << " -> " << output << "\n";
  return 0;
}

}  // namespace

SEALSUM_COMMAND("keygen", "create a sealing key, or a consumer's X25519 output key (mode 0600)", run_keygen);
SEALSUM_COMMAND("seal", "encrypt a document or model into a sealed file", run_seal);
SEALSUM_COMMAND("unseal", "decrypt and verify a sealed file (data owner)", run_unseal);
