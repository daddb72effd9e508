// Test helpers for the serve tests: the tiny T5 model (converted once per test process with the
// real converter, `$SEALSUM_BIN convert`), a shared Engine, and an in-process server on a random
// loopback port that records its log lines. Fixtures come only through common/fixtures.h (which
// throws when they are missing: tests fail, never skip).
#pragma once


#include <cstdlib>
#include <filesystem>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "common/fixtures.h"
#include "engine/engine.h"
#include "secure/attest/model_binding.h"
#include "secure/keyrelease/client.h"
#include "secure/keyrelease/simulated_source.h"
#include "common/encoding.h"
#include "secure/sealed.h"
#include "secure/sealed_testutil.h"
#include "server/serve.h"
#include "server/serve_verify.h"

namespace sealsum::server::testutil {

// This test process's scratch directory: made fresh by mkdtemp and removed at exit. (It was named
// by the pid and reused: a directory left by an earlier process with the same pid still held key
// files, and `sealsum keygen` refuses to overwrite one, which failed the Azure serve tests.)
inline std::filesystem::path temp_dir() {
  static const secure::testing::TempDir dir;
  return dir.path();
}

inline std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') out += "'\\''";
    else out += c;
  }
  return out + "'";
}

inline std::string tiny_t5_path() {
  static const std::string path = [] {
    const char* bin = std::getenv("SEALSUM_BIN");
    if (bin == nullptr || *bin == '\0') {
      throw std::runtime_error("SEALSUM_BIN is not set: run through ctest, or export SEALSUM_BIN=<build>/tools/cli/sealsum");
    }
    const std::string out = (temp_dir() / "tiny-t5.sealsum").string();
    const std::string cmd = shell_quote(bin) + " convert " + shell_quote(fixture("models/tiny-random-t5").string()) +
                            " -o " + shell_quote(out) + " >/dev/null";
    if (std::system(cmd.c_str()) != 0) throw std::runtime_error("converting tiny-random-t5 failed: " + cmd);
    return out;
  }();
  return path;
}

inline const engine::Engine& tiny_engine() {
  static const std::unique_ptr<engine::Engine> e = [] {
    auto r = engine::Engine::load(tiny_t5_path(), {.threads = 1});
    if (!r.ok()) throw std::runtime_error("loading the tiny T5 model failed: " + r.status().to_string());
    return std::move(r).value();
  }();
  return *e;
}

// A fixed simulated measurement so tests can name it.
inline std::array<uint8_t, 48> test_measurement() {
  std::array<uint8_t, 48> m{};
  for (size_t i = 0; i < m.size(); ++i) m[i] = static_cast<uint8_t>(0xA0 + i);
  return m;
}

inline std::unique_ptr<Attester> simulated_attester(std::optional<secure::Digest256> tls_spki = std::nullopt) {
  secure::attest::SimulatedOptions so;
  so.measurement = test_measurement();
  auto src = secure::keyrelease::SimulatedEvidenceSource::create(so);
  if (!src.ok()) throw std::runtime_error("simulated TEE: " + src.status().to_string());
  secure::attest::ModelDigests model;
  model.sha256 = tiny_engine().model_file().sha256();
  return std::make_unique<Attester>(std::move(src).value(), tls_spki, true, model);
}

// An in-process server on 127.0.0.1:<random port>, serving on a background thread.
class TestServer {
 public:
  explicit TestServer(ServeOptions options, DocumentStore* documents = nullptr,
                      const secure::TlsIdentity* tls = nullptr, std::unique_ptr<Attester> attester = nullptr)
      : attester_(attester ? std::move(attester) : simulated_attester(tls ? std::optional(tls->spki_sha256())
                                                                          : std::nullopt)) {
    options.host = "127.0.0.1";
    options.port = 0;
    auto s = Server::create(options, tiny_engine(), *attester_, documents, tls, [this](const std::string& line) {
      std::lock_guard<std::mutex> lock(mu_);
      logs_.push_back(line);
    });
    if (!s.ok()) throw std::runtime_error("Server::create: " + s.status().to_string());
    server_ = std::move(s).value();
    if (Status st = server_->bind(); !st.is_ok()) throw std::runtime_error("bind: " + st.to_string());
    thread_ = std::thread([this] { server_->run(); });
  }
  ~TestServer() { stop(); }
  void stop() {
    server_->stop();
    if (thread_.joinable()) thread_.join();
  }
  int port() const { return server_->port(); }
  Server& server() { return *server_; }
  std::vector<std::string> logs() {
    std::lock_guard<std::mutex> lock(mu_);
    return logs_;
  }

 private:
  std::unique_ptr<Attester> attester_;
  std::unique_ptr<Server> server_;
  std::thread thread_;
  std::mutex mu_;
  std::vector<std::string> logs_;
};

// An in-process HTTPS server with a TLS key of its own (bound into its simulated evidence) that
// accepts plaintext {"text"} input.
class TlsTestServer {
 public:
  TlsTestServer() : tls_(new_identity()), server_(options(), nullptr, &tls_) {}
  int port() const { return server_.port(); }
  std::string url() const { return "https://127.0.0.1:" + std::to_string(port()); }
  Server& server() { return server_.server(); }

 private:
  static secure::TlsIdentity new_identity() {
    auto t = secure::TlsIdentity::create();
    if (!t.ok()) throw std::runtime_error("TLS identity: " + t.status().to_string());
    return std::move(t).value();
  }
  static ServeOptions options() {
    ServeOptions o;
    o.allow_plaintext_input = true;
    return o;
  }
  secure::TlsIdentity tls_;  // before server_: the server keeps a pointer to it
  TestServer server_;
};

}  // namespace sealsum::server::testutil
