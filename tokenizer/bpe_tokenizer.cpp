// BpeTokenizer: encode/decode pipeline (see bpe_tokenizer.h).
#include "tokenizer/bpe_tokenizer.h"

#include <algorithm>
#include <unordered_set>

#include "tokenizer/bpe_pretokenize.h"
#include "tokenizer/unicode.h"

namespace sealsum::tok::bpe {
namespace {

// Python str.replace(from, to): all non-overlapping occurrences, scanning left to right.
void replace_all(std::string& s, std::string_view from, std::string_view to) {
  std::string out;
  size_t pos = 0;
  bool changed = false;
  for (size_t hit; (hit = s.find(from, pos)) != std::string::npos; pos = hit + from.size()) {
    out.append(s, pos, hit - pos);
    out.append(to);
    changed = true;
  }
  if (!changed) return;
  out.append(s, pos, std::string::npos);
  s = std::move(out);
}

// The ByteLevel decoder's bytes for one token: each character mapped back to its byte; a token
// with any character outside the byte alphabet contributes its own UTF-8 instead.
std::string token_bytes(const std::string& token) {
  std::string out;
  for (size_t i = 0; i < token.size();) {
    const unicode::Decoded d = unicode::decode_utf8(token, i);
    const int b = d.valid ? byte_from_unicode(d.cp) : -1;
    if (b < 0) return token;
    out.push_back(static_cast<char>(b));
    i += d.len;
  }
  return out;
}

}  // namespace

std::string clean_up_tokenization(std::string text) {
  static constexpr std::pair<std::string_view, std::string_view> kRules[] = {
      {" .", "."},   {" ?", "?"},     {" !", "!"},     {" ,", ","},     {" ' ", "'"},
      {" n't", "n't"}, {" 'm", "'m"}, {" 's", "'s"}, {" 've", "'ve"}, {" 're", "'re"},
  };
  for (const auto& [from, to] : kRules) replace_all(text, from, to);
  return text;
}

BpeTokenizer::BpeTokenizer(BpeConfig config) : cfg_(std::move(config)), matcher_(cfg_.added) {
  std::unordered_set<std::string> special;
  int32_t max_id = cfg_.model->max_id();
  for (const AddedToken& t : cfg_.added) {
    if (t.content.empty()) continue;
    if (t.special) special.insert(t.content);
    added_by_content_[t.content] = t.id;
    added_by_id_[t.id] = t.content;
    max_id = std::max(max_id, t.id);
  }
  const size_t n = static_cast<size_t>(max_id + 1);
  decoded_bytes_.resize(n);
  skip_.assign(n, 1);
  for (size_t id = 0; id < n; ++id) {
    auto added = added_by_id_.find(static_cast<int32_t>(id));
    const std::string* tok = added != added_by_id_.end() ? &added->second
                                                         : cfg_.model->id_to_token(static_cast<int32_t>(id));
    if (tok == nullptr || special.count(*tok) != 0) continue;
    decoded_bytes_[id] = token_bytes(*tok);
    skip_[id] = 0;
  }
}

void BpeTokenizer::encode_text(std::string_view piece, std::vector<int32_t>& out) const {
  std::string prefixed;
  if (cfg_.add_prefix_space && piece.front() != ' ') {
    prefixed.reserve(piece.size() + 1);
    prefixed.push_back(' ');
    prefixed.append(piece);
    piece = prefixed;
  }
  if (!cfg_.use_regex) {
    cfg_.model->encode_word(piece, out);
    return;
  }
  std::vector<std::string_view> words;
  split_gpt2(piece, words);
  for (std::string_view w : words) cfg_.model->encode_word(w, out);
}

std::vector<int32_t> BpeTokenizer::encode(std::string_view text) const {
  std::string repaired;
  if (!unicode::is_valid_utf8(text)) {
    repaired = unicode::to_valid_utf8(text);
    text = repaired;
  }
  std::vector<int32_t> ids(cfg_.prefix_ids);
  ids.reserve(text.size() / 3 + cfg_.prefix_ids.size() + cfg_.suffix_ids.size() + 4);
  std::vector<Segment> segments;
  matcher_.split(text, segments);
  for (const Segment& s : segments) {
    if (s.id >= 0) {
      ids.push_back(s.id);
    } else {
      encode_text(text.substr(s.begin, s.end - s.begin), ids);
    }
  }
  ids.insert(ids.end(), cfg_.suffix_ids.begin(), cfg_.suffix_ids.end());
  return ids;
}

std::string BpeTokenizer::decode(std::span<const int32_t> ids) const {
  std::string bytes;
  for (int32_t id : ids) {
    if (id < 0 || static_cast<size_t>(id) >= skip_.size() || skip_[static_cast<size_t>(id)]) continue;
    bytes.append(decoded_bytes_[static_cast<size_t>(id)]);
  }
  std::string text = unicode::to_valid_utf8(bytes);
  if (cfg_.clean_up_spaces) text = clean_up_tokenization(std::move(text));
  return text;
}

size_t BpeTokenizer::vocab_size() const { return skip_.size(); }

std::optional<int32_t> BpeTokenizer::token_to_id(std::string_view token) const {
  auto it = added_by_content_.find(std::string(token));
  if (it != added_by_content_.end()) return it->second;
  return cfg_.model->token_to_id(token);
}

std::optional<std::string> BpeTokenizer::id_to_token(int32_t id) const {
  auto it = added_by_id_.find(id);
  if (it != added_by_id_.end()) return it->second;
  if (const std::string* t = cfg_.model->id_to_token(id)) return *t;
  return std::nullopt;
}

}  // namespace sealsum::tok::bpe
