// libFuzzer target: parse_corpus_lines (the bench corpus reader) on arbitrary bytes must never
// crash, and every document it returns came from a line of the input.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "tools/cli/bench_corpus.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  std::vector<std::string> docs;
  const auto st = sealsum::cli::parse_corpus_lines(text, "fuzz", docs);
  if (st.is_ok() && docs.size() > size) std::abort();  // at most one document per line
  return 0;
}
