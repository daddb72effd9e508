// Test helpers for secure/keyrelease tests: temporary directories, a shared ephemeral key, a
// simulated-TEE release request builder, and an in-process HttpTransport that routes to a Broker
// (the real broker code, minus sockets). Test-only: included by *_test.cpp files.
#pragma once

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <string>

#include "secure/digest.h"
#include "secure/broker/broker.h"
#include "secure/keyrelease/client.h"
#include "secure/keyrelease/simulated_source.h"
#include "common/encoding.h"
#include "secure/keyrelease/protocol.h"
#include "secure/keyrelease/rsa.h"

namespace sealsum::secure::keyrelease::testutil {

// A fresh directory under the system temp dir, removed on destruction.
class TempDir {
 public:
  TempDir() {
    std::random_device rd;
    path_ = std::filesystem::temp_directory_path() /
            ("sealsum-kbs-test-" + std::to_string(::getpid()) + "-" + std::to_string(rd()));
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

inline std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

inline bool contains_bytes(const std::string& hay, std::span<const uint8_t> needle) {
  return std::search(hay.begin(), hay.end(), needle.begin(), needle.end()) != hay.end();
}

// RSA key generation is slow; tests share one 3072-bit ephemeral key.
inline const RsaPrivateKey& ephemeral_key() {
  static RsaPrivateKey* key = [] {
    auto k = RsaPrivateKey::generate(kEphemeralRsaBits);
    if (!k.ok()) throw std::runtime_error("RSA key generation failed");
    return new RsaPrivateKey(std::move(k).value());
  }();
  return *key;
}

inline std::array<uint8_t, 48> measurement_of(uint8_t fill) {
  std::array<uint8_t, 48> m{};
  m.fill(fill);
  return m;
}

inline std::string policy_json(uint8_t measurement_fill, bool allow_simulated) {
  return std::string("{\"measurements\": [\"") + to_hex(measurement_of(measurement_fill)) +
         "\"], \"allow_simulated\": " + (allow_simulated ? "true" : "false") + "}";
}

// A /v1/release body for `key_id` with simulated evidence binding `nonce` and the shared key.
// `bind_runtime_data` = false puts a report over a *different* runtime data (another key) in.
inline std::string simulated_release_body(SimulatedEvidenceSource& tee, const std::string& key_id,
                                          const std::string& nonce, bool bind_runtime_data = true) {
  auto pub = ephemeral_key().public_key();
  ReleaseRequest req;
  req.key_id = key_id;
  req.runtime_data = make_runtime_data(*pub, nonce);
  std::string bound = req.runtime_data;
  if (!bind_runtime_data) {
    auto other = RsaPrivateKey::generate(2048);
    bound = make_runtime_data(*other->public_key(), nonce);
  }
  auto ev = tee.collect(attest::report_data_for_runtime_data(encoding::as_bytes(bound)));
  if (!ev.ok()) throw std::runtime_error("simulated evidence failed");
  req.evidence = std::move(ev).value();
  return encode_release_request(req);
}

inline std::string nonce_of(const HttpReply& challenge) {
  return nlohmann::json::parse(challenge.body).at("nonce").get<std::string>();
}

// HttpTransport that calls a Broker in-process (the same handlers the HTTP shell calls).
class InProcessTransport : public HttpTransport {
 public:
  explicit InProcessTransport(Broker& b) : broker_(b) {}
  Result<HttpResponse> post(const std::string& url, const std::string& body, const HttpHeaders&) override {
    HttpReply r;
    if (url.ends_with("/v1/challenge")) r = broker_.challenge();
    else if (url.ends_with("/v1/release")) r = broker_.release(body);
    else r = {404, "{}"};
    HttpResponse out;
    out.status = r.status;
    out.body = r.body;
    return out;
  }

 private:
  Broker& broker_;
};

}  // namespace sealsum::secure::keyrelease::testutil
