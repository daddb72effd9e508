// Test helpers for the batch tests: a fresh store directory, sealed documents under one data-owner
// key (one of them with an envelope sealing its summary to a consumer, one corrupt on request), a
// document store whose key provider counts releases, and the expected summaries (the tiny T5
// engine of serve_testutil.h with the same generation parameters).
#pragma once

#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "common/encoding.h"
#include "secure/output_seal.h"
#include "secure/sealed.h"
#include "server/batch.h"
#include "server/serve_testutil.h"

namespace sealsum::server::testutil {

struct BatchFixture {
  std::filesystem::path dir;
  secure::SealingKey key = std::move(secure::SealingKey::generate("batch-docs")).value();
  secure::OutputKey consumer = std::move(secure::OutputKey::generate_x25519()).value();
  std::map<std::string, std::string> texts = {
      {"memo", "The council approved the new budget for the harbour district on Tuesday evening."},
      {"cargo", "A cargo ship carrying grain arrived two days late because of a storm in the strait."},
      {"ferry", "The ferry company will add a night crossing to the island from the first of June."},
      {"museum", "The museum opened a new wing for maritime history on Sunday with free entry."},
      {"board", "Private minutes: the chair resigns on May 9th after the audit of the pension reserve."},
  };
  const std::string corrupt_text = "Unreadable: the quartermaster's ledger of the Zyxwv expedition.";
  std::atomic<int> releases{0};

  explicit BatchFixture(const std::string& name) : dir(temp_dir() / ("batch-" + name)) {
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
  }

  secure::OutputPolicy sealed_policy() const {
    auto p = secure::parse_output_policy(policy_json());
    REQUIRE(p.ok());
    return std::move(p).value();
  }
  nlohmann::json policy_json() const {
    return {{"mode", "sealed"}, {"consumer", "auditor"}, {"key", consumer.public_jwk()}};
  }

  // The sealed bytes of `text` ("board" gets an envelope whose policy seals its summary).
  std::string sealed(const std::string& id, const std::string& text) const {
    const std::string plain =
        id == "board" ? std::string(kEnvelopeMagic) + policy_json().dump() + "\n" + text : text;
    auto b = secure::seal_to_bytes(encoding::as_bytes(plain), key, {});
    REQUIRE(b.ok());
    return {b->begin(), b->end()};
  }
  void add_documents(const std::filesystem::path& to) const {
    for (const auto& [id, text] : texts) std::ofstream(to / (id + ".sealed"), std::ios::binary) << sealed(id, text);
  }
  // A document whose ciphertext has one flipped bit: its authentication fails.
  std::string corrupt() const {
    std::string s = sealed("broken", corrupt_text);
    s[s.size() - 20] = static_cast<char>(s[s.size() - 20] ^ 0x01);
    return s;
  }
  void add_corrupt(const std::filesystem::path& to, const std::string& id) const {
    std::ofstream(to / (id + ".sealed"), std::ios::binary) << corrupt();
  }

  std::unique_ptr<DocumentStore> store(std::unique_ptr<DocumentSource> source) {
    return std::make_unique<DocumentStore>(std::move(source), [this](const std::string& kid) -> Result<DocumentKey> {
      ++releases;
      if (kid != key.kid()) return not_found("no key \"" + kid + "\" at this test broker");
      SEALSUM_ASSIGN_OR_RETURN(auto k, secure::SealingKey::from_bytes(key.bytes(), kid));
      return DocumentKey{std::move(k), ""};
    });
  }

  static BatchOptions options() {
    BatchOptions o;
    o.params = tiny_engine().default_params();
    o.params.max_length = 20;
    o.params.no_repeat_ngram_size = 1;
    return o;
  }
  static std::string expected_summary(const std::string& text) {
    auto s = tiny_engine().summarize(text, options().params);
    REQUIRE(s.ok());
    return s->text;
  }
  // The summary a consumer reads from a summary file (opening a sealed one with the consumer key).
  std::string summary_of(const std::string& file, const std::string& id) const {
    const nlohmann::json j = nlohmann::json::parse(file);
    if (j.contains("summary")) return j["summary"].get<std::string>();
    auto opened = consumer.open(j["sealed_summary"], "document:" + id);
    REQUIRE(opened.ok());
    return {reinterpret_cast<const char*>(opened->data()), opened->size()};
  }
};

}  // namespace sealsum::server::testutil
