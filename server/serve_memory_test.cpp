// Issue 12 item 5 / issue 10 item 5: after `sealsum serve --dev` (the real binary, SEALSUM_BIN)
// summarized a sealed document, none of the document's words is left in the server's memory
// outside secret buffers. The model is the tiny T5 with t5-small's "summarize: " prefix, so the
// engine builds prefix + text as it does for t5-small. The document holds 8 random marker words
// made for this run, each twice; it is sealed
// under a key an in-process broker releases to the server's simulated TEE; two summaries are asked
// for (one answered in plaintext, one sealed to a consumer by the document's envelope). Then every
// readable mapping of the server that is not excluded from dumps (no `dd` in /proc/PID/smaps
// VmFlags: secret buffers carry it) is read through /proc/PID/mem and searched for each marker.
// A failure names the marker's index, the mapping's kind and address, never more document text.
//
// The server is non-dumpable (secure/process_hardening.h), so reading its memory takes
// CAP_SYS_PTRACE (root in the build container): without it this test fails and says so (tests never
// skip). A positive control (the random key id the server keeps in its key cache, ordinary memory)
// must be found, so a scan that reads nothing cannot pass. The no-leak check itself needs the
// wiping operator delete (secure/wipe_on_free.h): sanitizer builds, which have none, check the rest.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <httplib.h>

#include <catch2/catch.hpp>
#include <cstring>
#include <fstream>
#include <random>
#include <thread>
#include <sstream>

#include <nlohmann/json.hpp>

#include "secure/broker/broker.h"
#include "common/encoding.h"
#include "secure/keyrelease/keyrelease_testutil.h"
#include "secure/output_seal.h"
#include "secure/wipe_on_free.h"
#include "common/fixtures.h"
#include "server/kbs_server.h"
#include "server/serve_testutil.h"

namespace {

using json = nlohmann::json;
using namespace sealsum;
using namespace sealsum::server;

std::string random_word(std::mt19937_64& rng, size_t len) {
  std::uniform_int_distribution<int> letter('a', 'z');
  std::string w;
  for (size_t i = 0; i < len; ++i) w.push_back(static_cast<char>(letter(rng)));
  return w;
}

// A `sealsum serve` child process; its stdout's first line is its URL. Killed on destruction.
class ServeProcess {
 public:
  explicit ServeProcess(const std::vector<std::string>& args) {
    int out[2];
    REQUIRE(pipe(out) == 0);
    pid_ = fork();
    REQUIRE(pid_ >= 0);
    if (pid_ == 0) {
      dup2(out[1], 1);
      const int null = open("/dev/null", O_WRONLY);
      if (null >= 0) dup2(null, 2);
      close(out[0]);
      std::vector<char*> argv;
      for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
      argv.push_back(nullptr);
      execv(argv[0], argv.data());
      _exit(127);
    }
    close(out[1]);
    char c;
    while (url_.size() < 200 && read(out[0], &c, 1) == 1 && c != '\n') url_ += c;
    close(out[0]);
  }
  ~ServeProcess() {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      int status = 0;
      waitpid(pid_, &status, 0);
    }
  }
  pid_t pid() const { return pid_; }
  const std::string& url() const { return url_; }

 private:
  pid_t pid_ = -1;
  std::string url_;
};

struct Mapping {
  uint64_t begin = 0, end = 0;
  std::string perms, path, flags;
  std::string kind() const {
    if (path.empty()) return "anonymous";
    if (path[0] == '[') return path;
    return "file " + std::filesystem::path(path).filename().string();
  }
};

std::vector<Mapping> read_smaps(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/smaps");
  REQUIRE(in.good());
  std::vector<Mapping> maps;
  std::string line;
  while (std::getline(in, line)) {
    const auto dash = line.find('-');
    const auto space = line.find(' ');
    if (dash != std::string::npos && space != std::string::npos && dash < space &&
        line.find_first_not_of("0123456789abcdef") == dash) {
      Mapping m;
      m.begin = std::stoull(line.substr(0, dash), nullptr, 16);
      m.end = std::stoull(line.substr(dash + 1, space - dash - 1), nullptr, 16);
      std::istringstream fields(line.substr(space + 1));
      std::string offset, dev, inode;
      fields >> m.perms >> offset >> dev >> inode;
      std::getline(fields >> std::ws, m.path);
      maps.push_back(m);
    } else if (line.rfind("VmFlags:", 0) == 0 && !maps.empty()) {
      maps.back().flags = line.substr(8);
    }
  }
  return maps;
}

bool has_flag(const std::string& flags, const std::string& flag) {
  std::istringstream in(flags);
  std::string f;
  while (in >> f) {
    if (f == flag) return true;
  }
  return false;
}

struct ScanResult {
  std::vector<std::string> hits;  // "marker N in KIND at ADDR" (no document text)
  size_t bytes = 0;
  size_t dd_mappings = 0;
};

// Reads every readable, dumpable mapping of `pid` and finds each needle in it.
ScanResult scan(pid_t pid, const std::vector<std::string>& needles) {
  ScanResult r;
  const std::string mem_path = "/proc/" + std::to_string(pid) + "/mem";
  const int fd = open(mem_path.c_str(), O_RDONLY);
  if (fd < 0) {
    FAIL("cannot open " << mem_path << " (" << std::strerror(errno)
                        << "): reading a non-dumpable server's memory needs CAP_SYS_PTRACE; run this test as root");
  }
  size_t longest = 0;
  for (const auto& n : needles) longest = std::max(longest, n.size());
  constexpr size_t kChunk = 1u << 20;
  std::vector<char> buf(kChunk + longest);
  for (const Mapping& m : read_smaps(pid)) {
    if (has_flag(m.flags, "dd")) {
      ++r.dd_mappings;
      continue;
    }
    if (m.perms.empty() || m.perms[0] != 'r' || m.path == "[vvar]" || m.path == "[vsyscall]") continue;
    std::vector<bool> found(needles.size(), false);
    size_t carry = 0;  // bytes kept from the previous chunk, for needles across the boundary
    for (uint64_t at = m.begin; at < m.end;) {
      const size_t want = static_cast<size_t>(std::min<uint64_t>(kChunk, m.end - at));
      const ssize_t got = pread(fd, buf.data() + carry, want, static_cast<off_t>(at));
      if (got <= 0) break;  // e.g. an unreadable guard page
      r.bytes += static_cast<size_t>(got);
      const std::string_view hay(buf.data(), carry + static_cast<size_t>(got));
      for (size_t i = 0; i < needles.size(); ++i) {
        if (!found[i] && hay.find(needles[i]) != std::string_view::npos) {
          found[i] = true;
          std::ostringstream hit;
          hit << "marker " << i << " in " << m.kind() << " " << m.perms << " at 0x" << std::hex << m.begin;
          r.hits.push_back(hit.str());
        }
      }
      carry = std::min(hay.size(), longest - 1);
      std::memmove(buf.data(), hay.data() + hay.size() - carry, carry);
      at += static_cast<uint64_t>(got);
    }
  }
  close(fd);
  return r;
}

// RLIMIT_CORE of `pid` as "soft hard" (from /proc/PID/limits), or "" when absent.
std::string core_limits(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/limits");
  std::string line;
  const std::string name = "Max core file size";
  while (std::getline(in, line)) {
    if (line.rfind(name, 0) != 0) continue;
    std::istringstream fields(line.substr(name.size()));
    std::string soft, hard;
    fields >> soft >> hard;
    return soft + " " + hard;
  }
  return "";
}

// The tiny T5 fixture with t5-small's summarization prefix ("summarize: "), converted with the real
// converter: the engine then builds prefix + text, as it does for t5-small (the copy issue 10 names).
std::string prefixed_tiny_t5(const std::string& bin, const std::filesystem::path& dir) {
  const auto src = fixture("models/tiny-random-t5");
  const auto hf = dir / "tiny-t5-prefixed";
  std::filesystem::create_directories(hf);
  for (const auto& e : std::filesystem::directory_iterator(src)) {
    std::filesystem::copy_file(e.path(), hf / e.path().filename());
  }
  std::ifstream in(hf / "config.json");
  json config = json::parse(in, nullptr, false);
  REQUIRE(config.is_object());
  config["task_specific_params"] = {{"summarization", {{"prefix", "summarize: "}}}};
  std::ofstream(hf / "config.json", std::ios::trunc) << config.dump();
  const std::string out = (dir / "tiny-t5-prefixed.sealsum").string();
  const std::string cmd = testutil::shell_quote(bin) + " convert " + testutil::shell_quote(hf.string()) + " -o " +
                          testutil::shell_quote(out) + " >/dev/null 2>&1";
  REQUIRE(std::system(cmd.c_str()) == 0);
  return out;
}

}  // namespace

TEST_CASE("serve: no word of a sealed document stays in the server's memory outside secret buffers",
          "[serve][sealed][memory]") {
  const char* bin = std::getenv("SEALSUM_BIN");
  REQUIRE(bin != nullptr);
  secure::keyrelease::testutil::TempDir dir;
  const std::string model = prefixed_tiny_t5(bin, dir.path());

  std::mt19937_64 rng(std::random_device{}());
  std::vector<std::string> markers;
  for (size_t i = 0; i < 8; ++i) markers.push_back(random_word(rng, 7 + i));  // 7..14 letters
  // About 700 bytes (about 400 of the 512 tokens), as a short memo: the markers spread through ordinary sentences.
  std::string text = "Minutes of the board meeting.";
  for (const auto& m : markers) {
    text += " The committee discussed " + m + " and asked for a report on " + m + ".";
  }

  // The data owner: one key, two documents (plaintext answer; answer sealed to a consumer).
  const std::string kid = "memtest-" + random_word(rng, 16);
  auto key = secure::SealingKey::generate(kid);
  REQUIRE(key.ok());
  const auto docs = dir.path() / "docs";
  std::filesystem::create_directories(docs);
  auto seal = [&](const std::string& id, const std::string& plaintext) {
    REQUIRE(secure::seal_memory(encoding::as_bytes(plaintext), docs / (id + ".sealed"), *key, {}).is_ok());
  };
  seal("memo", text);
  auto consumer = secure::OutputKey::generate_x25519();
  REQUIRE(consumer.ok());
  const json out_policy = {{"mode", "sealed"}, {"consumer", "auditor"}, {"key", consumer->public_jwk()}};
  seal("board", std::string(kEnvelopeMagic) + out_policy.dump() + "\n" + text);

  // The broker, in this process, releasing the key to the server's simulated measurement.
  const std::string measurement = secure::to_hex(testutil::test_measurement());
  const auto store_dir = dir.path() / "store", broker_key = dir.path() / "broker.key";
  REQUIRE(secure::keyrelease::KeyStore::init(store_dir, broker_key).is_ok());
  auto store = secure::keyrelease::KeyStore::open(store_dir, broker_key);
  REQUIRE(store.ok());
  REQUIRE(store->register_key(*key, "{\"measurements\":[\"" + measurement + "\"],\"allow_simulated\":true}").is_ok());
  auto audit = secure::keyrelease::AuditLog::open(store->audit_log_path());
  REQUIRE(audit.ok());
  secure::keyrelease::Broker broker(std::move(store).value(), std::move(audit).value());
  KbsServerOptions ko;
  ko.log_requests = false;
  KbsServer kbs(broker, ko);
  REQUIRE(kbs.start().is_ok());

  ServeProcess serve({bin, "serve", "--dev", "--model", model, "--kbs", "http://127.0.0.1:" + std::to_string(kbs.port()),
                      "--documents", docs.string(), "--simulated-measurement", measurement, "--port", "0"});
  REQUIRE(serve.url().rfind("http://127.0.0.1:", 0) == 0);
  const int port = std::stoi(serve.url().substr(serve.url().rfind(':') + 1));
  {
    httplib::Client c("127.0.0.1", port);
    c.set_read_timeout(60, 0);
    auto plain = c.Post("/v1/summarize", R"({"document":"memo","no_repeat_ngram_size":1,"max_length":20,"truncate":false})",
                        "application/json");
    REQUIRE(plain);
    REQUIRE(plain->status == 200);
    CHECK(json::parse(plain->body).contains("summary"));
    auto sealed = c.Post("/v1/summarize", R"({"document":"board","no_repeat_ngram_size":1,"max_length":20,"truncate":false})",
                         "application/json");
    REQUIRE(sealed);
    REQUIRE(sealed->status == 200);
    REQUIRE(json::parse(sealed->body).contains("sealed_summary"));
  }
  // The answers are in; let the connection threads finish with them.
  std::this_thread::sleep_for(std::chrono::milliseconds(300));

  // No core files: the hard limit is 0 too.
  CHECK(core_limits(serve.pid()) == "0 0");

  std::vector<std::string> needles = markers;
  needles.push_back(kid);  // the positive control (index 8): ordinary memory, must be found
  const ScanResult r = scan(serve.pid(), needles);
  INFO("scanned " << r.bytes << " bytes; skipped " << r.dd_mappings << " mappings excluded from dumps");
  CHECK(r.dd_mappings > 0);  // the model and the document keys live in secret buffers
  bool control = false;
  std::vector<std::string> leaks;
  for (const auto& h : r.hits) {
    if (h.rfind("marker 8 ", 0) == 0) {
      control = true;
    } else {
      leaks.push_back(h);
    }
  }
  CHECK(control);  // the scan reads the server's ordinary memory
  std::string report;
  for (const auto& l : leaks) report += "\n  " + l;
  INFO("document words found outside secret buffers:" << report);
  if (secure::wipe_on_free_covers_operator_delete()) {
    CHECK(leaks.empty());
  } else {
    // A sanitizer build (tools/sanitize.sh; the server binary is built with the same flags as this
    // test) keeps AddressSanitizer's operator delete, which neither wipes a block nor reuses it at
    // once (quarantine): the document's freed temporaries stay readable by construction, so the
    // no-leak check cannot hold there. What still holds, and is checked above: the answers, the
    // core limits, the secret buffers' mappings excluded from dumps and the positive control.
    WARN("sanitizer build: operator delete does not wipe, the no-leak check runs only in release builds ("
         << leaks.size() << " of " << markers.size() << " markers found in freed or live memory)");
  }
}
