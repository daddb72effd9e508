// `sealsum kbs` as a process: init, register (key file + policy file), serve on a free port,
// a simulated-TEE release through obtain_key(), SIGTERM shutdown, audit-verify. Needs the
// `sealsum` binary: ctest sets SEALSUM_BIN (the test fails, never skips, without it).
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <cstdlib>
#include <fstream>

#include "secure/keyrelease/keyrelease_testutil.h"
#include "server/kbs_client.h"

using namespace sealsum;
using namespace sealsum::secure;
using namespace sealsum::secure::keyrelease;

namespace {

std::string sealsum_bin() {
  const char* b = std::getenv("SEALSUM_BIN");
  if (!b || !*b) throw std::runtime_error("SEALSUM_BIN is not set: run this test through ctest (or set it)");
  return b;
}

int run(const std::string& cmd) {
  int rc = std::system((cmd + " >/dev/null 2>&1").c_str());
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

}  // namespace

TEST_CASE("sealsum kbs init/register/serve/audit-verify as processes") {
  const std::string bin = sealsum_bin();
  testutil::TempDir dir;
  const std::string store = (dir.path() / "store").string(), bkey = (dir.path() / "broker.key").string();
  const std::string key = (dir.path() / "doc.key").string(), policy = (dir.path() / "policy.json").string();
  REQUIRE(run(bin + " kbs init --store " + store + " --broker-key " + bkey) == 0);
  CHECK((std::filesystem::status(bkey).permissions() & std::filesystem::perms::group_all) == std::filesystem::perms::none);
  REQUIRE(run(bin + " keygen -o " + key + " --kid cli-doc-key") == 0);
  std::ofstream(policy) << testutil::policy_json(0x3C, true);
  REQUIRE(run(bin + " kbs register --store " + store + " --broker-key " + bkey + " --key " + key + " --policy " + policy) == 0);
  // A policy without measurements is a usage failure (exit 1), and nothing gets registered.
  std::ofstream(dir.path() / "weak.json") << "{\"allow_simulated\": true}";
  CHECK(run(bin + " kbs register --store " + store + " --broker-key " + bkey + " --key " + key + " --policy " +
            (dir.path() / "weak.json").string()) == 1);
  CHECK(run(bin + " kbs frobnicate") == 2);

  // serve on a free port; read the port from its first stdout line.
  int out[2];
  REQUIRE(pipe(out) == 0);
  pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    dup2(out[1], 1);
    close(out[0]);
    execl(bin.c_str(), bin.c_str(), "kbs", "serve", "--store", store.c_str(), "--broker-key", bkey.c_str(), "--port",
          "0", static_cast<char*>(nullptr));
    _exit(127);
  }
  close(out[1]);
  std::string line;
  char c;
  while (line.size() < 200 && read(out[0], &c, 1) == 1 && c != '\n') line += c;
  close(out[0]);
  INFO(line);
  size_t colon = line.rfind(':');
  REQUIRE(line.rfind("listening on http://127.0.0.1:", 0) == 0);
  std::string url = "http://127.0.0.1:" + line.substr(colon + 1);

  KeyReleaseConfig cfg;
  cfg.broker_url = url;
  cfg.key_id = "cli-doc-key";
  cfg.insecure_simulated_tee = true;
  cfg.simulated_measurement = testutil::measurement_of(0x3C);
  auto released = server::obtain_key(cfg);
  auto on_disk = load_key_file(key);
  REQUIRE(on_disk.ok());
  if (released.ok()) CHECK(ct_equal(released->key.span(), on_disk->bytes()));
  cfg.simulated_measurement = testutil::measurement_of(0x3D);
  auto refused = server::obtain_key(cfg);

  kill(pid, SIGTERM);
  int status = 0;
  waitpid(pid, &status, 0);
  REQUIRE(released.ok());
  CHECK(refused.status().code() == Code::kPermissionDenied);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  CHECK(run(bin + " kbs audit-verify --store " + store) == 0);
  auto v = verify_audit_log(std::filesystem::path(store) / "audit.log");
  REQUIRE(v.ok());
  CHECK(v->records == 2);
}
