// Added-token matching (see bpe_added.h for the reference semantics).
#include "tokenizer/bpe_added.h"

#include <algorithm>
#include <map>

#include "tokenizer/unicode.h"

namespace sealsum::tok::bpe {
namespace {

bool is_space_at(std::string_view s, size_t pos, size_t* len) {
  const unicode::Decoded d = unicode::decode_utf8(s, pos);
  *len = d.len;
  return d.valid && unicode::classify(d.cp) == unicode::CpClass::kSpace;
}

// Start of the trailing White_Space run of s (Rust regex `\s*$`).
size_t trailing_space_start(std::string_view s) {
  size_t end = s.size();
  while (end > 0) {
    size_t start = end - 1;
    while (start > 0 && (static_cast<unsigned char>(s[start]) & 0xC0) == 0x80) --start;
    size_t len = 0;
    if (!is_space_at(s, start, &len) || start + len != end) break;
    end = start;
  }
  return end;
}

// Length of the leading White_Space run of s (Rust regex `^\s*`).
size_t leading_space_len(std::string_view s) {
  size_t pos = 0;
  size_t len = 0;
  while (pos < s.size() && is_space_at(s, pos, &len)) pos += len;
  return pos;
}

}  // namespace

void AddedMatcher::Trie::insert(std::string_view s, int32_t token) {
  int32_t node = 0;
  for (char ch : s) {
    const auto c = static_cast<uint8_t>(ch);
    int32_t child = -1;
    for (const auto& [byte, idx] : nodes[static_cast<size_t>(node)].children) {
      if (byte == c) child = idx;
    }
    if (child < 0) {
      child = static_cast<int32_t>(nodes.size());
      nodes[static_cast<size_t>(node)].children.emplace_back(c, child);
      nodes.emplace_back();
    }
    node = child;
  }
  nodes[static_cast<size_t>(node)].token = token;
  first_byte[static_cast<uint8_t>(s.front())] = true;
}

bool AddedMatcher::Trie::find(std::string_view text, size_t from, size_t* b, size_t* e, int32_t* token) const {
  for (size_t i = from; i < text.size(); ++i) {
    if (!first_byte[static_cast<uint8_t>(text[i])]) continue;
    int32_t node = 0;
    int32_t best = -1;
    size_t best_end = 0;
    for (size_t k = i; k < text.size(); ++k) {
      const auto c = static_cast<uint8_t>(text[k]);
      int32_t child = -1;
      for (const auto& [byte, idx] : nodes[static_cast<size_t>(node)].children) {
        if (byte == c) child = idx;
      }
      if (child < 0) break;
      node = child;
      if (nodes[static_cast<size_t>(node)].token >= 0) {
        best = nodes[static_cast<size_t>(node)].token;
        best_end = k + 1;
      }
    }
    if (best >= 0) {
      *b = i;
      *e = best_end;
      *token = best;
      return true;
    }
  }
  return false;
}

AddedMatcher::AddedMatcher(const std::vector<AddedToken>& tokens) {
  std::map<std::string, size_t> by_content;  // later duplicates replace earlier ones
  for (const AddedToken& t : tokens) {
    if (t.content.empty()) continue;
    auto [it, inserted] = by_content.emplace(t.content, tokens_.size());
    if (inserted) {
      tokens_.push_back(t);
    } else {
      tokens_[it->second] = t;
    }
  }
  for (size_t i = 0; i < tokens_.size(); ++i) {
    (tokens_[i].normalized ? normalized_ : raw_).insert(tokens_[i].content, static_cast<int32_t>(i));
  }
}

void AddedMatcher::split_pass(const Trie& trie, std::string_view text, size_t base, std::vector<Segment>& out) const {
  size_t start_offset = 0;  // end of the previous segment, relative to text; the search resumes here
  size_t b = 0, e = 0;
  int32_t t = -1;
  while (!trie.empty() && trie.find(text, start_offset, &b, &e, &t)) {
    const AddedToken& tok = tokens_[static_cast<size_t>(t)];
    size_t start = b;
    size_t stop = e;
    if (tok.lstrip) start = std::max(trailing_space_start(text.substr(0, start)), start_offset);
    if (tok.rstrip) stop += leading_space_len(text.substr(stop));
    if (start_offset < start) out.push_back({base + start_offset, base + start, -1});
    out.push_back({base + start, base + stop, tok.id});
    // The reference resumes its search at the raw match end `e`; we resume at `stop`. The two
    // differ only if an added token starts with White_Space that an rstrip token already took,
    // where the reference would emit overlapping pieces.
    start_offset = stop;
  }
  if (start_offset < text.size()) out.push_back({base + start_offset, base + text.size(), -1});
}

void AddedMatcher::split(std::string_view text, std::vector<Segment>& out) const {
  std::vector<Segment> first;
  split_pass(raw_, text, 0, first);
  for (const Segment& s : first) {
    if (s.id >= 0) {
      out.push_back(s);
    } else {
      split_pass(normalized_, text.substr(s.begin, s.end - s.begin), s.begin, out);
    }
  }
}

}  // namespace sealsum::tok::bpe
