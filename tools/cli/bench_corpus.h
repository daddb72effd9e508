// The documents `sealsum bench --concurrency N` summarizes: a corpus directory of JSON-lines files
// (../shared/corpus: cnn-articles.jsonl, xsum-sample.jsonl), one object per line with a string
// member "document" (other members are ignored; blank lines are skipped).
//
// Bounded: at most kMaxCorpusFiles files of at most kMaxCorpusFileBytes each, kMaxCorpusDocuments
// documents, each line parsed by secure::parse_bounded_json (depth 4, 4 MiB). Failures are
// kInvalidArgument / kResourceExhausted naming the file and line, never echoing its text; a
// directory with no *.jsonl file or no document is kNotFound. Thread safety: reentrant.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace sealsum::cli {

inline constexpr size_t kMaxCorpusFiles = 256;
inline constexpr size_t kMaxCorpusFileBytes = size_t{64} << 20;
inline constexpr size_t kMaxCorpusDocuments = 100000;

// Appends the documents of one JSON-lines text to `out`; `what` names it in errors.
Status parse_corpus_lines(std::string_view text, const std::string& what, std::vector<std::string>& out);

// Every *.jsonl file of `dir` in name order, parsed with parse_corpus_lines.
Result<std::vector<std::string>> read_corpus(const std::string& dir);

// The default corpus: $SEALSUM_FIXTURES/corpus, else ../shared/corpus (the fixtures convention of
// common/fixtures.h, which the CLI does not link).
std::string default_corpus_dir();

}  // namespace sealsum::cli
