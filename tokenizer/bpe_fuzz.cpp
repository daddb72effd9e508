// libFuzzer target for the byte-level BPE tokenizer: its two loaders (outside bytes) and, with a
// small fixed tokenizer, encode/decode of arbitrary text. The first input byte picks the mode.
// Invariants checked: loaders return a Status (never crash); encode output is framed by <s> </s>
// and every id is in the vocab; decode output is valid UTF-8; decode(encode(text)) equals the
// repaired text when the text has no special-token strings and nothing clean-up would change.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "tokenizer/bpe_model.h"
#include "tokenizer/factories.h"
#include "tokenizer/unicode.h"

namespace {

using sealsum::tok::Tokenizer;

std::string fixed_tokenizer_json() {
  std::string vocab = "{\"<s>\":0,\"<pad>\":1,\"</s>\":2,\"<unk>\":3";
  int id = 4;
  auto add = [&](const std::string& tok) {
    std::string esc;
    for (unsigned char c : tok) {
      if (c == '"' || c == '\\') esc.push_back('\\');
      esc.push_back(static_cast<char>(c));
    }
    vocab += ",\"" + esc + "\":" + std::to_string(id++);
  };
  for (int b = 0; b < 256; ++b) {
    std::string t;
    sealsum::tok::unicode::append_utf8(t, sealsum::tok::bpe::byte_to_unicode(static_cast<uint8_t>(b)));
    add(t);
  }
  for (const char* t : {"th", "the", "\xC4\xA0the", "in", "\xC4\xA0" "a", "er", "<mask>"}) add(t);
  vocab += "}";
  return R"({"added_tokens":[{"id":0,"content":"<s>","special":true},{"id":2,"content":"</s>","special":true},)"
         R"({"id":266,"content":"<mask>","lstrip":true,"special":true}],"normalizer":null,)"
         R"("pre_tokenizer":{"type":"ByteLevel","add_prefix_space":false},"decoder":{"type":"ByteLevel"},)"
         R"("post_processor":{"type":"RobertaProcessing","cls":["<s>",0],"sep":["</s>",2]},)"
         R"("model":{"type":"BPE","vocab":)" + vocab +
         R"(,"merges":["t h","th e","\u0120 the","i n","\u0120 a","e r"]}})";
}

const Tokenizer& fixed() {
  static const auto tok = [] {
    auto r = sealsum::tok::make_bpe_from_tokenizer_json(fixed_tokenizer_json());
    if (!r.ok()) {
      std::fprintf(stderr, "bpe_fuzz: fixed tokenizer failed to load: %s\n", r.status().to_string().c_str());
      std::abort();
    }
    return std::move(r).value();
  }();
  return *tok;
}

void check_text(const Tokenizer& tok, std::string_view text) {
  const auto ids = tok.encode(text);
  if (ids.size() < 2 || ids.front() != 0 || ids.back() != 2) std::abort();
  for (int32_t id : ids) {
    if (id < 0 || static_cast<size_t>(id) >= tok.vocab_size()) std::abort();
  }
  const std::string out = tok.decode(ids);
  if (!sealsum::tok::unicode::is_valid_utf8(out)) std::abort();
  const std::string repaired = sealsum::tok::unicode::to_valid_utf8(text);
  const bool plain = repaired.find('<') == std::string::npos && repaired.find(" .") == std::string::npos &&
                     repaired.find(" ?") == std::string::npos && repaired.find(" !") == std::string::npos &&
                     repaired.find(" ,") == std::string::npos && repaired.find(" '") == std::string::npos &&
                     repaired.find(" n't") == std::string::npos;
  if (plain && out != repaired) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 3) {
    case 0: {
      auto r = sealsum::tok::make_bpe_from_tokenizer_json(in);
      if (r.ok()) (void)r.value()->decode(r.value()->encode("a b"));
      break;
    }
    case 1: {
      const size_t nul = in.find('\0');
      const std::string_view vocab = in.substr(0, nul);
      const std::string_view merges = nul == std::string_view::npos ? std::string_view() : in.substr(nul + 1);
      auto r = sealsum::tok::make_bpe_from_vocab_merges(vocab, merges);
      if (r.ok()) (void)r.value()->decode(r.value()->encode("a b"));
      break;
    }
    default:
      check_text(fixed(), in);
      break;
  }
  return 0;
}
