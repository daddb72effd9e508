// libFuzzer target: arbitrary text through the real T5 tokenizer (spiece.model from the fixtures:
// $SEALSUM_FIXTURES, else ../shared relative to the working directory; aborts loudly if absent).
// Checks: every id is in the vocabulary, the ids end with </s> (1), decode never fails.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include "tokenizer/factories.h"

namespace {

const sealsum::tok::Tokenizer& t5() {
  static const std::unique_ptr<sealsum::tok::Tokenizer> tok = [] {
    const char* env = std::getenv("SEALSUM_FIXTURES");
    const std::string path = std::string(env != nullptr ? env : "../shared") + "/models/t5/spiece.model";
    std::ifstream in(path, std::ios::binary);
    if (!in) {
      std::fprintf(stderr, "unigram_encode_fuzz: cannot open %s; set SEALSUM_FIXTURES\n", path.c_str());
      std::abort();
    }
    std::ostringstream ss;
    ss << in.rdbuf();
    auto r = sealsum::tok::make_unigram_from_spm(ss.str());
    if (!r.ok()) {
      std::fprintf(stderr, "unigram_encode_fuzz: %s\n", r.status().to_string().c_str());
      std::abort();
    }
    return std::move(r).value();
  }();
  return *tok;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto& tok = t5();
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto ids = tok.encode(text);
  if (ids.empty() || ids.back() != 1) std::abort();
  for (int32_t id : ids) {
    if (id < 0 || static_cast<size_t>(id) >= tok.vocab_size()) std::abort();
  }
  (void)tok.decode(ids);
  return 0;
}
