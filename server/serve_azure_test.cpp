// `sealsum serve --dev --key-release azure` as a process against the Azure stand-ins on 127.0.0.1
// (kbs_azure_standin.h: identity endpoints, MAA, Key Vault): it gets the model and document keys
// through each managed-identity source and summarizes a sealed document; it refuses, with a
// message naming what failed and no secret in it, a tampered or untrusted JWS, a wrap under
// another key, a missing or invalid token, an identity endpoint that answers garbage or too much.
// Needs the `sealsum` binary (SEALSUM_BIN; the test fails, never skips, without it).
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

#include <catch2/catch.hpp>
#include <chrono>
#include <fcntl.h>
#include <fstream>
#include <map>
#include <sstream>

#include "secure/keys.h"
#include "server/kbs_azure_standin.h"
#include "server/serve_testutil.h"

using namespace sealsum;
using sealsum::server::testutil::AzureStandin;
using sealsum::server::testutil::shell_quote;
using sealsum::server::testutil::temp_dir;

namespace {

const std::string kBearer = "eyJ0eXAiOiJKV1Qi.c3RhbmQtaW4tYmVhcmVy.c2VjcmV0LXNpZ25hdHVyZQ";
const std::string kMeasurement(96, 'c');

std::string bin() {
  const char* b = std::getenv("SEALSUM_BIN");
  if (!b || !*b) throw std::runtime_error("SEALSUM_BIN is not set: run this test through ctest (or set it)");
  return b;
}

void sh(const std::string& cmd) {
  if (std::system((cmd + " >/dev/null").c_str()) != 0) throw std::runtime_error("failed: " + cmd);
}

std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Keys made and files sealed with the real CLI, once per test process.
struct Material {
  std::filesystem::path dir, model_sealed, docs, signer_dir, host_cert;
  std::vector<uint8_t> model_key, docs_key;
};

const Material& material() {
  static const Material m = [] {
    Material out;
    out.dir = temp_dir() / "azure";
    std::filesystem::create_directories(out.dir / "docs");
    const std::string b = shell_quote(bin()), d = out.dir.string();
    sh(b + " keygen -o " + shell_quote(d + "/model.key") + " --kid sealsum-model");
    sh(b + " keygen -o " + shell_quote(d + "/docs.key") + " --kid docs-key");
    out.model_sealed = out.dir / "model.sealed";
    sh(b + " seal --key " + shell_quote(d + "/model.key") + " --type model " +
       shell_quote(server::testutil::tiny_t5_path()) + " -o " + shell_quote(out.model_sealed.string()));
    std::ofstream(out.dir / "memo.txt") << "The board met on Tuesday and approved the budget for the new library.";
    sh(b + " seal --key " + shell_quote(d + "/docs.key") + " --type document " + shell_quote(d + "/memo.txt") + " -o " +
       shell_quote(d + "/docs/memo.sealed"));
    out.docs = out.dir / "docs";
    for (auto [file, dst] : {std::pair{"model.key", &out.model_key}, std::pair{"docs.key", &out.docs_key}}) {
      auto k = secure::load_key_file(out.dir / file);
      if (!k.ok()) throw std::runtime_error("load_key_file: " + k.status().to_string());
      dst->assign(k->bytes().begin(), k->bytes().end());
    }
    out.host_cert = fixture("attestation/azure-aci-milan/uvm_host_amd_certificate.json");
    return out;
  }();
  return m;
}

struct ServeRun {
  int exit_code = -1;    // the exit status (-1: killed by a signal)
  std::string url, err;  // the URL it printed (empty if none); its whole stderr
};

// Runs `sealsum serve` with `extra` flags and exactly the environment `env` (plus PATH); returns
// once it printed its URL (then POSTs {"document":"memo"} and stops it) or exited.
struct ServeResult {
  ServeRun run;
  int summarize_status = 0;
  std::string summarize_body;
};

ServeResult run_serve(const AzureStandin& azure, std::vector<std::string> extra, const std::map<std::string, std::string>& env,
                      const std::string& measurement = kMeasurement) {
  const Material& m = material();
  const std::filesystem::path signer = m.dir / "signer.pem";
  std::ofstream(signer) << azure.akv_public_pem();
  std::vector<std::string> args = {bin(), "serve", "--dev", "--port", "0", "--sealed-model", m.model_sealed.string(),
                                   "--documents", m.docs.string(), "--key-release", "azure", "--maa-endpoint",
                                   azure.url(), "--akv-endpoint", azure.url(), "--akv-signer", signer.string(),
                                   "--host-amd-cert", m.host_cert.string(), "--simulated-measurement", measurement};
  args.insert(args.end(), extra.begin(), extra.end());
  // The child's environment, built here (between fork and exec only async-signal-safe calls).
  std::vector<std::string> envs;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string_view v(*e);
    bool identity = false;
    for (const char* name : {"IDENTITY_ENDPOINT=", "IDENTITY_HEADER=", "AZURE_FEDERATED_TOKEN_FILE=", "AZURE_CLIENT_ID=",
                             "AZURE_TENANT_ID=", "AZURE_AUTHORITY_HOST="}) {
      identity = identity || v.starts_with(name);
    }
    if (!identity) envs.emplace_back(v);
  }
  for (const auto& [k, v] : env) envs.push_back(k + "=" + v);
  std::vector<char*> argv, envp;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  for (auto& e : envs) envp.push_back(e.data());
  envp.push_back(nullptr);
  const std::filesystem::path err_path = m.dir / "serve.err";
  int out[2];
  if (pipe(out) != 0) throw std::runtime_error("pipe");
  const char* err_c = err_path.c_str();
  pid_t pid = fork();
  if (pid < 0) throw std::runtime_error("fork");
  if (pid == 0) {
    dup2(out[1], 1);
    int e = open(err_c, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    dup2(e, 2);
    close(out[0]);
    execve(argv[0], argv.data(), envp.data());
    _exit(127);
  }
  close(out[1]);
  ServeResult r;
  std::string line;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(90);
  for (;;) {
    pollfd p{out[0], POLLIN, 0};
    if (std::chrono::steady_clock::now() > deadline || poll(&p, 1, 200) < 0) break;
    char ch;
    if (p.revents != 0) {
      if (read(out[0], &ch, 1) != 1) break;  // EOF: the process exited
      if (ch == '\n') {
        r.run.url = line;
        break;
      }
      line += ch;
    }
  }
  if (!r.run.url.empty()) {
    httplib::Client cli(r.run.url);
    cli.set_read_timeout(60, 0);
    auto res = cli.Post("/v1/summarize", R"({"document":"memo"})", "application/json");
    r.summarize_status = res ? res->status : -1;
    r.summarize_body = res ? res->body : "";
    kill(pid, SIGTERM);
  } else if (std::chrono::steady_clock::now() > deadline) {
    kill(pid, SIGKILL);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  close(out[0]);
  r.run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.run.err = slurp(err_path);
  return r;
}

AzureStandin make_standin() {
  const Material& m = material();
  return AzureStandin(kMeasurement, {{"sealsum-model", m.model_key}, {"docs-key", m.docs_key}}, kBearer);
}

// No secret of the exchange appears in what serve printed.
void check_no_secrets(const AzureStandin& azure, const std::string& err) {
  const Material& m = material();
  CHECK(err.find(kBearer) == std::string::npos);
  CHECK(err.find(azure.identity_header) == std::string::npos);
  CHECK(err.find(azure.federated_token) == std::string::npos);
  CHECK(err.find(secure::to_hex(m.model_key)) == std::string::npos);
  CHECK(err.find(secure::to_hex(m.docs_key)) == std::string::npos);
}

}  // namespace

TEST_CASE("serve --dev --key-release azure gets its keys from the stand-ins and summarizes a sealed document") {
  AzureStandin azure = make_standin();
  std::vector<std::string> extra;
  std::map<std::string, std::string> env;
  SECTION("ACI / App Service identity endpoint") {
    env = {{"IDENTITY_ENDPOINT", azure.url() + "/msi/token"}, {"IDENTITY_HEADER", azure.identity_header}};
  }
  SECTION("IMDS") { extra = {"--imds-endpoint", azure.url()}; }
  SECTION("AKS workload identity") {
    const auto token_file = material().dir / "federated-token";
    std::ofstream(token_file) << azure.federated_token << "\n";
    env = {{"AZURE_FEDERATED_TOKEN_FILE", token_file.string()}, {"AZURE_CLIENT_ID", azure.client_id},
           {"AZURE_TENANT_ID", azure.tenant}, {"AZURE_AUTHORITY_HOST", azure.url() + "/"}};
  }
  ServeResult r = run_serve(azure, extra, env);
  INFO(r.run.err);
  REQUIRE_FALSE(r.run.url.empty());
  CHECK(r.summarize_status == 200);
  auto body = nlohmann::json::parse(r.summarize_body, nullptr, false);
  REQUIRE(body.is_object());
  CHECK(body.contains("summary"));
  CHECK(body.value("input_tokens", 0) > 5);
  CHECK(r.run.exit_code == 0);
  CHECK(azure.maa_calls == 2);     // model key, document key
  CHECK(azure.release_calls == 2);
  CHECK(azure.identity_calls == 1);  // the token is cached between the two releases
  CHECK(r.run.err.find("\"backend\":\"azure\"") != std::string::npos);
  check_no_secrets(azure, r.run.err);
}

TEST_CASE("serve --key-release azure refuses attacks with a clear error and no secret in it") {
  AzureStandin azure = make_standin();
  const std::map<std::string, std::string> app_env = {{"IDENTITY_ENDPOINT", azure.url() + "/msi/token"},
                                                      {"IDENTITY_HEADER", azure.identity_header}};
  std::string expect;
  SECTION("tampered JWS signature") {
    azure.tamper_signature = true;
    expect = "JWS signature does not verify";
  }
  SECTION("release answer signed by a key that is not the pinned signer") {
    azure.sign_with_wrong_key = true;
    expect = "JWS signature does not verify";
  }
  SECTION("key wrapped to another RSA key") {
    azure.wrap_to_other_key = true;
    expect = "does not unwrap with this process's key";
  }
  SECTION("identity endpoint answers without a token") {
    azure.identity_answer = AzureStandin::IdentityAnswer::kNoToken;
    expect = "has no access_token";
  }
  SECTION("a token Key Vault does not accept") {
    azure.identity_answer = AzureStandin::IdentityAnswer::kOtherToken;
    expect = "answered HTTP 401";
  }
  SECTION("identity endpoint answers garbage") {
    azure.identity_answer = AzureStandin::IdentityAnswer::kGarbage;
    expect = "token answer is not a JSON object";
  }
  SECTION("identity endpoint answers too much") {
    azure.identity_answer = AzureStandin::IdentityAnswer::kTooLarge;
    expect = "larger than 65536 bytes";
  }
  ServeResult r = run_serve(azure, {}, app_env);
  INFO(r.run.err);
  CHECK(r.run.url.empty());
  CHECK(r.run.exit_code == 1);
  CHECK(r.run.err.find(expect) != std::string::npos);
  CHECK(r.run.err.find("loading the model") != std::string::npos);
  check_no_secrets(azure, r.run.err);
}

TEST_CASE("serve --key-release azure: usage errors name the missing piece") {
  AzureStandin azure = make_standin();
  SECTION("no identity environment for a forced source") {
    ServeResult r = run_serve(azure, {"--identity", "workload"}, {});
    CHECK(r.run.exit_code != 0);
    CHECK(r.run.err.find("AZURE_FEDERATED_TOKEN_FILE") != std::string::npos);
  }
  SECTION("a measurement the release policy does not allow") {
    ServeResult r = run_serve(azure, {"--imds-endpoint", azure.url()}, {}, std::string(96, 'd'));
    CHECK(r.run.exit_code == 1);
    CHECK(r.run.err.find("answered HTTP 403") != std::string::npos);
    CHECK(azure.release_calls == 1);
  }
}
