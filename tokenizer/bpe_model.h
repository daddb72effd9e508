// Byte-level BPE model: the GPT-2 byte<->unicode alphabet, the vocabulary, ranked merges, and the
// merge loop that turns one pre-token into ids (Hugging Face `tokenizers` models/bpe semantics).
//
// Contract: a BpeModel is immutable after build() except for its word cache, which is internally
// synchronised (a shared mutex; writers never block: a busy or full cache just skips the insert),
// so encode_word() may be called from many threads at once. The cache is bounded: at most
// `cache_capacity` words of fewer than kMaxCachedWordBytes bytes each. Security note: the cache
// keeps words of past inputs in memory and makes repeated words faster; build with capacity 0
// where that is unwanted (e.g. several tenants in one process).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/status.h"

namespace sealsum::tok::bpe {

// GPT-2's reversible map from bytes to printable code points (bytes 0x21-0x7E, 0xA1-0xAC and
// 0xAE-0xFF map to themselves; the other 68 bytes to U+0100.. in byte order).
char32_t byte_to_unicode(uint8_t b);
// Inverse of byte_to_unicode; -1 for code points that are not in the alphabet.
int byte_from_unicode(char32_t cp);
// UTF-8 of the byte-level form of raw bytes ("hi there" -> "hiĠthere").
std::string bytes_to_token_text(std::string_view bytes);

struct BpeOptions {
  std::optional<std::string> unk_token;  // none: characters missing from the vocab are dropped
  bool fuse_unk = false;
  bool ignore_merges = false;             // a word found whole in the vocab is one token
  // Off by default: a cache shared across requests would keep words of one tenant's document in
  // memory and let another tenant time whether a word was seen. Enable only for single-tenant
  // batch use (tokenizing ~5 KB costs ~0.5 ms without it).
  size_t cache_capacity = 0;              // words; 0 disables the cache
};

class BpeModel {
 public:
  static constexpr size_t kMaxCachedWordBytes = 256;
  static constexpr int32_t kMaxId = (1 << 24) - 1;  // bounds the dense id->token table

  // vocab: (token, id) pairs, ids in [0, kMaxId], tokens unique (a later duplicate is an error).
  // merges: ranked pairs (rank = index). Fails when a merge's parts or its concatenation are not
  // in the vocab, or the unk token is set but absent. A later duplicate merge overrides the rank.
  static Result<std::unique_ptr<BpeModel>> build(std::vector<std::pair<std::string, int32_t>> vocab,
                                                 const std::vector<std::pair<std::string, std::string>>& merges,
                                                 BpeOptions options);

  BpeModel(const BpeModel&) = delete;
  BpeModel& operator=(const BpeModel&) = delete;

  // Appends the ids of one pre-token given as raw bytes (it is mapped to the byte alphabet here).
  void encode_word(std::string_view bytes, std::vector<int32_t>& out) const;

  std::optional<int32_t> token_to_id(std::string_view token) const;
  // The token text (in byte-alphabet form), or nullptr for an id not in the vocab.
  const std::string* id_to_token(int32_t id) const;
  size_t size() const { return vocab_.size(); }
  int32_t max_id() const { return static_cast<int32_t>(id_to_token_.size()) - 1; }

  // Number of cached words (for tests).
  size_t cache_size() const;

 private:
  BpeModel() = default;
  void merge(std::string_view bytes, std::vector<int32_t>& out) const;

  struct Merge {
    uint32_t rank;
    int32_t new_id;
  };
  static uint64_t pair_key(int32_t a, int32_t b) {
    return (static_cast<uint64_t>(static_cast<uint32_t>(a)) << 32) | static_cast<uint32_t>(b);
  }

  BpeOptions options_;
  std::unordered_map<std::string, int32_t> vocab_;
  std::vector<std::optional<std::string>> id_to_token_;
  std::unordered_map<uint64_t, Merge> merges_;
  int32_t byte_ids_[256] = {};  // id of each byte's one-character token, -1 if absent
  int32_t unk_id_ = -1;

  mutable std::shared_mutex cache_mu_;
  mutable std::unordered_map<std::string, std::vector<int32_t>> cache_;
};

}  // namespace sealsum::tok::bpe
