// The bench corpus reader (bench_corpus.h): documents in order, blank lines skipped, malformed and
// oversized lines refused naming the file and line without echoing the text, directories read in
// name order, missing or empty corpora refused.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "tools/cli/bench_corpus.h"

using sealsum::Code;
using sealsum::cli::parse_corpus_lines;
using sealsum::cli::read_corpus;

TEST_CASE("corpus lines: documents in order, other members ignored, blank lines skipped", "[bench_corpus]") {
  std::vector<std::string> docs;
  REQUIRE(parse_corpus_lines("{\"id\": 1, \"document\": \"first\"}\n\n  \r\n{\"document\": \"se\\ncond\", \"summary\": \"s\"}\r\n",
                             "c.jsonl", docs).is_ok());
  REQUIRE(docs.size() == 2);
  CHECK(docs[0] == "first");
  CHECK(docs[1] == "se\ncond");
  REQUIRE(parse_corpus_lines("{\"document\": \"third\"}", "d.jsonl", docs).is_ok());  // no final newline
  CHECK(docs.size() == 3);
}

TEST_CASE("corpus lines: malformed lines are refused by file and line", "[bench_corpus]") {
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"{\"document\": \"ok\"}\n{\"document\": \"secret text\"", "line 2"},
      {"[\"secret text\"]", "not a JSON object"},
      {"{\"text\": \"secret text\"}", "no string member"},
      {"{\"document\": 5}", "no string member"},
      {"{\"document\": \"x\", \"n\": [[[[[1]]]]]}", "line 1"},
      {std::string("{\"document\": \"") + std::string(5u << 20, 'a') + "\"}", "line 1"},
  };
  for (const auto& [text, fragment] : bad) {
    std::vector<std::string> docs;
    const auto st = parse_corpus_lines(text, "corpus file 'c.jsonl'", docs);
    INFO(st.to_string().substr(0, 200));
    REQUIRE_FALSE(st.is_ok());
    CHECK_THAT(st.message(), Catch::Contains("c.jsonl"));
    CHECK_THAT(st.message(), Catch::Contains(fragment));
    CHECK(st.message().find("secret text") == std::string::npos);
  }
}

TEST_CASE("corpus directory: *.jsonl files in name order; missing or empty refused", "[bench_corpus]") {
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / ("sealsum-corpus-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  CHECK(read_corpus(dir.string()).status().code() == Code::kNotFound);
  fs::create_directories(dir);
  CHECK(read_corpus(dir.string()).status().code() == Code::kNotFound);
  std::ofstream(dir / "b.jsonl") << "{\"document\": \"b1\"}\n";
  std::ofstream(dir / "a.jsonl") << "{\"document\": \"a1\"}\n{\"document\": \"a2\"}\n";
  std::ofstream(dir / "notes.txt") << "not a corpus file";
  auto docs = read_corpus(dir.string());
  REQUIRE(docs.ok());
  CHECK(*docs == std::vector<std::string>{"a1", "a2", "b1"});
  std::ofstream(dir / "c.jsonl") << "{\"document\": 1}\n";
  auto bad = read_corpus(dir.string());
  REQUIRE_FALSE(bad.ok());
  CHECK_THAT(bad.status().message(), Catch::Contains("c.jsonl"));
  fs::remove_all(dir);
}
