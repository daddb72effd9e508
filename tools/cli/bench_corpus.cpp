#include "tools/cli/bench_corpus.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "secure/bounded_json.h"

namespace sealsum::cli {

Status parse_corpus_lines(std::string_view text, const std::string& what, std::vector<std::string>& out) {
  secure::JsonLimits limits;
  limits.max_bytes = 4u << 20;
  limits.max_depth = 4;
  limits.max_elements = 4096;
  limits.max_string_bytes = 4u << 20;
  size_t line_no = 0;
  while (!text.empty()) {
    const size_t eol = text.find('\n');
    std::string_view line = text.substr(0, eol);
    text = eol == std::string_view::npos ? std::string_view() : text.substr(eol + 1);
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.find_first_not_of(" \t") == std::string_view::npos) continue;
    const std::string at = what + ", line " + std::to_string(line_no);
    auto j = secure::parse_bounded_json(line, limits, "a corpus line");
    if (!j.ok()) return j.status().with_context(at);
    if (!j->is_object()) return invalid_argument(at + ": not a JSON object; expected {\"document\": TEXT, ...}");
    auto doc = j->find("document");
    if (doc == j->end() || !doc->is_string()) return invalid_argument(at + ": no string member \"document\"");
    if (out.size() >= kMaxCorpusDocuments) {
      return resource_exhausted(at + ": more than " + std::to_string(kMaxCorpusDocuments) + " documents");
    }
    out.push_back(doc->get<std::string>());
  }
  return Status::ok();
}

Result<std::vector<std::string>> read_corpus(const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    return not_found("corpus directory '" + dir + "' is missing: pass --corpus DIR or set SEALSUM_FIXTURES");
  }
  std::vector<fs::path> files;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->path().extension() == ".jsonl" && it->is_regular_file(ec)) files.push_back(it->path());
    if (files.size() > kMaxCorpusFiles) {
      return resource_exhausted("corpus directory '" + dir + "' has more than " + std::to_string(kMaxCorpusFiles) +
                                " .jsonl files");
    }
  }
  if (ec) return invalid_argument("cannot list corpus directory '" + dir + "': " + ec.message());
  std::sort(files.begin(), files.end());
  std::vector<std::string> docs;
  for (const auto& f : files) {
    const auto size = fs::file_size(f, ec);
    if (ec || size > kMaxCorpusFileBytes) {
      return resource_exhausted("corpus file '" + f.string() + "' is unreadable or larger than 64 MiB");
    }
    std::ifstream in(f, std::ios::binary);
    std::string text(size_t(size), '\0');
    if (!in.read(text.data(), std::streamsize(size))) return invalid_argument("cannot read corpus file '" + f.string() + "'");
    SEALSUM_RETURN_IF_ERROR(parse_corpus_lines(text, "corpus file '" + f.string() + "'", docs));
  }
  if (docs.empty()) return not_found("corpus directory '" + dir + "' holds no documents (*.jsonl lines with \"document\")");
  return docs;
}

std::string default_corpus_dir() {
  const char* env = std::getenv("SEALSUM_FIXTURES");
  const std::string root = (env != nullptr && *env != '\0') ? env : "../shared";
  return root + "/corpus";
}

}  // namespace sealsum::cli
