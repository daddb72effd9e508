// The client side of the clean room: summarize through an attested `sealsum serve`, and open a
// summary sealed to this consumer.
//
//   sealsum summarize --server URL (--policy FILE | --measurement HEX[,...]) [--host-data HEX[,...]]
//                     [--model-digest HEX[,...]] (--document ID | --input FILE|-)
//                     [--insecure-simulated] [--consumer-key FILE] [--json] [generation flags]
//     Verifies the server first (server/client.h: fresh nonce, evidence signature and chain, the
//     pins of tools/cli/client_policy.h, REPORT_DATA binding of the nonce, model and TLS key), then
//     sends the request on the same connection, pinned to the attested key. Nothing is sent to a server that fails a
//     check. A summary the data owner's policy sealed to a consumer is opened with
//     --consumer-key, or printed sealed (JSON) for `sealsum open-summary`.
//     Prints the summary (or, with --json, the server's answer plus the attestation verdict).
//
//   sealsum open-summary --key FILE (--document ID | --context CTX) [INPUT|-]
//     INPUT: the server's JSON answer ({"sealed_summary": ...}) or the sealed object itself.
//     The context must be the one the server bound ("document:ID"), so a sealed summary of one
//     document cannot be passed off as another's. Prints the plaintext summary.
//
// Exit: 0 done, 1 refused or failed (reason on stderr), 2 usage error. Key bytes never reach
// stdout, stderr or a message.
#include <iostream>

#include <nlohmann/json.hpp>

#include "secure/output_seal.h"
#include "server/client.h"
#include "tools/cli/client_policy.h"
#include "tools/cli/command.h"
#include "tools/cli/generation_flags.h"
#include "tools/cli/remote.h"

namespace sealsum::cli {
namespace {

using json = nlohmann::json;
constexpr size_t kMaxInputBytes = 16u << 20;

// j[name] when it is a string, else `fallback` (the server is not trusted to send the right types).
std::string text_member(const json& j, const char* name, const char* fallback) {
  auto it = j.is_object() ? j.find(name) : j.end();
  return j.is_object() && it != j.end() && it->is_string() ? it->get<std::string>() : std::string(fallback);
}

// Opens `sealed` with the consumer key file and prints the plaintext.
int open_and_print(const std::string& command, const std::string& key_file, const json& sealed,
                   const std::string& context) {
  auto key = secure::load_output_key_file(key_file);
  if (!key.ok()) return fail(command, key.status());
  auto opened = key->open(sealed, context);
  if (!opened.ok()) return fail(command, opened.status().with_context("opening the sealed summary"));
  std::cout.write(reinterpret_cast<const char*>(opened->data()), static_cast<std::streamsize>(opened->size()));
  std::cout << std::endl;
  return std::cout ? 0 : fail(command, unavailable("cannot write to stdout"));
}

}  // namespace

int run_remote_summarize(const std::vector<std::string>& argv) {
  Args args("summarize", "--server URL (--policy FILE | --measurement HEX[,...]) (--document ID | --input FILE|-) "
                         "[options]");
  args.option("server", "URL", "the attested sealsum serve endpoint, e.g. https://10.0.0.5:8443", true)
      .option("document", "ID", "a sealed document of the server's document store")
      .option("input", "FILE", "plaintext to summarize (- = stdin); the server must allow plaintext input")
      .option("consumer-key", "FILE", "open a summary sealed to you with this output key (sealsum keygen --type x25519)")
      .flag("json", "print the server's answer and the attestation verdict as JSON")
      .option("timeout", "S", "seconds to wait for the server (default 300)");
  add_client_policy_flags(args);
  add_generation_flags(args);
  if (int rc = parse_or_exit(args, argv); rc >= 0) return rc;
  if (args.has("document") == args.has("input")) {
    return usage_error(args, "give exactly one of --document or --input");
  }
  auto pins = client_policy_from_args(args);
  if (!pins.ok()) return usage_error(args, pins.status().message());
  auto timeout = args.get_int("timeout", 1, 3600);
  if (!timeout.ok()) return usage_error(args, timeout.status().message());
  auto request = generation_request_members(args);
  if (!request.ok()) return usage_error(args, request.status().message());
  if (auto id = args.get("document")) {
    (*request)["document"] = *id;
  } else {
    auto text = read_input(*args.get("input"), kMaxInputBytes);
    if (!text.ok()) return fail("summarize", text.status());
    (*request)["text"] = std::move(text).value();
  }
  server::RemoteOptions opts;
  opts.server_url = *args.get("server");
  opts.policy = pins->policy;
  opts.allow_simulated = pins->allow_simulated;
  opts.timeout_s = static_cast<int>(timeout->value_or(300));
  auto r = server::remote_summarize(opts, *request);
  if (!r.ok()) return fail("summarize", r.status());
  for (const auto& w : r->verification.warnings) std::cerr << "sealsum summarize: WARNING: " << w << "\n";
  const json& answer = r->answer;
  if (r->http_status != 200) {
    return fail("summarize", unavailable("the server answered HTTP " + std::to_string(r->http_status) + ": " +
                                         text_member(answer, "message", "(no message)")));
  }
  if (args.has("json")) {
    json out = answer;
    out["attestation"] = r->verification.verdict.to_json();
    std::cout << out.dump(2, ' ', false, json::error_handler_t::replace) << std::endl;
    return 0;
  }
  if (answer.contains("summary") && answer["summary"].is_string()) {
    std::cout << answer["summary"].get<std::string>() << std::endl;
    return 0;
  }
  if (!answer.contains("sealed_summary")) return fail("summarize", data_loss("the server's answer has no summary"));
  const json& sealed = answer["sealed_summary"];
  if (auto key = args.get("consumer-key"); key && args.has("document")) {
    return open_and_print("summarize", *key, sealed, "document:" + *args.get("document"));
  }
  std::cerr << "sealsum summarize: the data owner's policy sealed this summary to consumer \""
            << text_member(sealed, "consumer", "?") << "\"; open it with --consumer-key or "
            << "`sealsum open-summary --key FILE --document ID`\n";
  std::cout << sealed.dump() << std::endl;
  return 0;
}

namespace {

int run_open_summary(const std::vector<std::string>& argv) {
  Args args("open-summary", "--key FILE (--document ID | --context CTX) [INPUT|-]");
  args.option("key", "FILE", "your output key file (sealsum keygen --type x25519), mode 0600", true)
      .option("document", "ID", "the document the summary is of (context \"document:ID\")")
      .option("context", "CTX", "the exact context the producer bound (instead of --document)")
      .positionals("INPUT", "the server's answer or the sealed summary JSON; - or absent: stdin", 0, 1);
  if (int rc = parse_or_exit(args, argv); rc >= 0) return rc;
  if (args.has("document") == args.has("context")) {
    return usage_error(args, "give exactly one of --document or --context");
  }
  auto text = read_input(args.rest().empty() ? "-" : args.rest().front(), kMaxInputBytes);
  if (!text.ok()) return fail("open-summary", text.status());
  json j = json::parse(*text, nullptr, false);
  if (j.is_object() && j.contains("sealed_summary")) j = j["sealed_summary"];
  if (!j.is_object() || !j.contains("alg")) {
    return fail("open-summary", invalid_argument("the input is not a sealed summary (JSON with \"alg\", or a server "
                                                 "answer with \"sealed_summary\")"));
  }
  const std::string context = args.has("document") ? "document:" + *args.get("document") : *args.get("context");
  return open_and_print("open-summary", *args.get("key"), j, context);
}

}  // namespace
}  // namespace sealsum::cli

SEALSUM_COMMAND("open-summary", "open a summary sealed to your output key (consumer)", sealsum::cli::run_open_summary);
