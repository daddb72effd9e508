// Added (special) tokens matched inside the text before pre-tokenization, as the Hugging Face
// `tokenizers` AddedVocabulary does (tokenizer/added_vocabulary.rs).
//
// Matching: non-overlapping, leftmost-longest (Aho-Corasick MatchKind::LeftmostLongest) over the
// bytes. Two passes: first the tokens with normalized=false over the whole text, then the tokens
// with normalized=true over the pieces left between matches (there is no normalizer here, so the
// normalized text is the text). A token with lstrip=true also takes the White_Space before it (but
// not into a previous match); rstrip=true takes the White_Space after it. single_word is not
// supported (the loader rejects it) because it needs Unicode \w, which this build has no table for.
//
// Thread safety: immutable after construction; split() is const and re-entrant.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace sealsum::tok::bpe {

struct AddedToken {
  std::string content;  // non-empty
  int32_t id = -1;
  bool lstrip = false;
  bool rstrip = false;
  bool normalized = true;
  bool special = false;
};

// One piece of the text: an added token (id >= 0) or plain text to pre-tokenize (id == -1).
struct Segment {
  size_t begin;
  size_t end;
  int32_t id;
};

class AddedMatcher {
 public:
  AddedMatcher() = default;
  // Tokens with an empty content are ignored; a later duplicate content replaces an earlier one.
  explicit AddedMatcher(const std::vector<AddedToken>& tokens);

  // Appends the segments of `text` (valid UTF-8); they tile it, none is empty.
  void split(std::string_view text, std::vector<Segment>& out) const;

 private:
  // A byte trie of one pass's token contents.
  struct Trie {
    struct Node {
      std::vector<std::pair<uint8_t, int32_t>> children;  // (byte, node index), unsorted
      int32_t token = -1;                                  // index into tokens_ when a content ends here
    };
    std::vector<Node> nodes{Node{}};
    bool first_byte[256] = {};
    bool empty() const { return nodes.size() == 1; }
    void insert(std::string_view s, int32_t token);
    // Leftmost-longest match in text[from, end): sets *b, *e, *token; false if none.
    bool find(std::string_view text, size_t from, size_t* b, size_t* e, int32_t* token) const;
  };

  void split_pass(const Trie& trie, std::string_view text, size_t base, std::vector<Segment>& out) const;

  std::vector<AddedToken> tokens_;
  Trie raw_;         // normalized == false
  Trie normalized_;  // normalized == true
};

}  // namespace sealsum::tok::bpe
