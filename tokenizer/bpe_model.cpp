// Byte-level BPE merges.
//
// The merge loop is the one of Hugging Face `tokenizers` (models/bpe/word.rs), which gives the
// same result as GPT-2's original "merge the lowest-ranked adjacent pair, everywhere, repeat":
// symbols form a doubly linked list over the word; a min-heap holds candidate merges ordered by
// (rank, position). Popping the best candidate, we check it is still current (its left symbol is
// alive, has a right neighbour, and that pair still merges into the same new id), fuse the right
// symbol into the left one, and push the two pairs the fused symbol now forms with its
// neighbours. Stale heap entries are skipped lazily. Each merge removes one symbol, so a word of
// n bytes costs O(n log n), not the O(n^2) of rescanning for the best pair (words of 500+
// characters occur in real input).
#include "tokenizer/bpe_model.h"

#include <array>
#include <mutex>
#include <queue>

#include "tokenizer/unicode.h"

namespace sealsum::tok::bpe {
namespace {

constexpr std::array<char32_t, 256> make_byte_to_unicode() {
  std::array<char32_t, 256> t{};
  char32_t next = 256;
  for (int b = 0; b < 256; ++b) {
    const bool printable = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
    t[b] = printable ? static_cast<char32_t>(b) : next++;
  }
  return t;
}
constexpr std::array<char32_t, 256> kByteToUnicode = make_byte_to_unicode();

constexpr std::array<int16_t, 512> make_unicode_to_byte() {
  std::array<int16_t, 512> t{};
  for (auto& v : t) v = -1;
  for (int b = 0; b < 256; ++b) t[kByteToUnicode[b]] = static_cast<int16_t>(b);
  return t;
}
constexpr std::array<int16_t, 512> kUnicodeToByte = make_unicode_to_byte();

struct Candidate {
  uint32_t rank;
  uint32_t pos;
  int32_t new_id;
  // std::priority_queue is a max-heap: "less" means lower priority = higher (rank, pos).
  bool operator<(const Candidate& o) const { return rank != o.rank ? rank > o.rank : pos > o.pos; }
};

struct Symbol {
  int32_t id;
  int32_t prev;
  int32_t next;
  bool alive;
};

}  // namespace

char32_t byte_to_unicode(uint8_t b) { return kByteToUnicode[b]; }

int byte_from_unicode(char32_t cp) { return cp < 512 ? kUnicodeToByte[cp] : -1; }

std::string bytes_to_token_text(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size() * 2);
  for (char c : bytes) unicode::append_utf8(out, kByteToUnicode[static_cast<uint8_t>(c)]);
  return out;
}

Result<std::unique_ptr<BpeModel>> BpeModel::build(std::vector<std::pair<std::string, int32_t>> vocab,
                                                  const std::vector<std::pair<std::string, std::string>>& merges,
                                                  BpeOptions options) {
  std::unique_ptr<BpeModel> m(new BpeModel());
  m->options_ = std::move(options);
  int32_t max_id = -1;
  for (const auto& [tok, id] : vocab) {
    if (id < 0 || id > kMaxId) {
      return data_loss("BPE vocab: token id " + std::to_string(id) + " is outside [0, 2^24)");
    }
    max_id = std::max(max_id, id);
  }
  m->id_to_token_.resize(static_cast<size_t>(max_id + 1));
  m->vocab_.reserve(vocab.size());
  for (auto& [tok, id] : vocab) {
    if (m->id_to_token_[static_cast<size_t>(id)].has_value()) {
      return data_loss("BPE vocab: id " + std::to_string(id) + " is assigned to two tokens");
    }
    m->id_to_token_[static_cast<size_t>(id)] = tok;
    if (!m->vocab_.emplace(std::move(tok), id).second) {
      return data_loss("BPE vocab: a token appears twice (id " + std::to_string(id) + ")");
    }
  }
  for (int b = 0; b < 256; ++b) {
    std::string s;
    unicode::append_utf8(s, kByteToUnicode[b]);
    auto it = m->vocab_.find(s);
    m->byte_ids_[b] = it == m->vocab_.end() ? -1 : it->second;
  }
  m->merges_.reserve(merges.size());
  for (size_t rank = 0; rank < merges.size(); ++rank) {
    const auto& [a, b] = merges[rank];
    auto ia = m->vocab_.find(a);
    auto ib = m->vocab_.find(b);
    auto inew = m->vocab_.find(a + b);
    if (ia == m->vocab_.end() || ib == m->vocab_.end() || inew == m->vocab_.end()) {
      return data_loss("BPE merges: merge #" + std::to_string(rank + 1) +
                       " uses a token that is not in the vocab (or its result is not); the vocab and "
                       "merges files do not belong together");
    }
    m->merges_[pair_key(ia->second, ib->second)] = Merge{static_cast<uint32_t>(rank), inew->second};
  }
  if (m->options_.unk_token) {
    auto it = m->vocab_.find(*m->options_.unk_token);
    if (it == m->vocab_.end()) return data_loss("BPE model: the unk_token is not in the vocab");
    m->unk_id_ = it->second;
  }
  return m;
}

std::optional<int32_t> BpeModel::token_to_id(std::string_view token) const {
  auto it = vocab_.find(std::string(token));
  if (it == vocab_.end()) return std::nullopt;
  return it->second;
}

const std::string* BpeModel::id_to_token(int32_t id) const {
  if (id < 0 || static_cast<size_t>(id) >= id_to_token_.size()) return nullptr;
  const auto& t = id_to_token_[static_cast<size_t>(id)];
  return t ? &*t : nullptr;
}

size_t BpeModel::cache_size() const {
  std::shared_lock lock(cache_mu_);
  return cache_.size();
}

void BpeModel::encode_word(std::string_view bytes, std::vector<int32_t>& out) const {
  if (bytes.empty()) return;
  const bool cacheable = options_.cache_capacity > 0 && bytes.size() < kMaxCachedWordBytes;
  std::string key;
  if (cacheable) {
    key.assign(bytes);
    std::shared_lock lock(cache_mu_);
    auto it = cache_.find(key);
    if (it != cache_.end()) {
      out.insert(out.end(), it->second.begin(), it->second.end());
      return;
    }
  }
  const size_t start = out.size();
  merge(bytes, out);
  if (cacheable) {
    std::unique_lock lock(cache_mu_, std::try_to_lock);
    if (lock.owns_lock() && cache_.size() < options_.cache_capacity) {
      cache_.emplace(std::move(key), std::vector<int32_t>(out.begin() + static_cast<std::ptrdiff_t>(start), out.end()));
    }
  }
}

void BpeModel::merge(std::string_view bytes, std::vector<int32_t>& out) const {
  if (options_.ignore_merges) {
    auto it = vocab_.find(bytes_to_token_text(bytes));
    if (it != vocab_.end()) {
      out.push_back(it->second);
      return;
    }
  }
  // Initial symbols: one per byte; bytes missing from the vocab become <unk> (fused if asked) or
  // are dropped when there is no unk token, as the reference does.
  std::vector<Symbol> sym;
  sym.reserve(bytes.size());
  bool pending_unk = false;
  auto add = [&sym](int32_t id) {
    const auto n = static_cast<int32_t>(sym.size());
    sym.push_back({id, n - 1, -1, true});
    if (n > 0) sym[static_cast<size_t>(n - 1)].next = n;
  };
  for (char c : bytes) {
    const int32_t id = byte_ids_[static_cast<uint8_t>(c)];
    if (id >= 0) {
      if (pending_unk) add(unk_id_);
      pending_unk = false;
      add(id);
    } else if (unk_id_ >= 0) {
      if (pending_unk && !options_.fuse_unk) add(unk_id_);
      pending_unk = true;
    }
  }
  if (pending_unk) add(unk_id_);

  std::priority_queue<Candidate> heap;
  auto find = [this](int32_t a, int32_t b) -> const Merge* {
    auto it = merges_.find(pair_key(a, b));
    return it == merges_.end() ? nullptr : &it->second;
  };
  for (size_t i = 0; i + 1 < sym.size(); ++i) {
    if (const Merge* m = find(sym[i].id, sym[i + 1].id)) {
      heap.push({m->rank, static_cast<uint32_t>(i), m->new_id});
    }
  }
  while (!heap.empty()) {
    const Candidate top = heap.top();
    heap.pop();
    Symbol& left = sym[top.pos];
    if (!left.alive || left.next < 0) continue;
    Symbol& right = sym[static_cast<size_t>(left.next)];
    const Merge* cur = find(left.id, right.id);
    if (cur == nullptr || cur->new_id != top.new_id) continue;  // stale candidate
    left.id = top.new_id;
    right.alive = false;
    left.next = right.next;
    if (right.next >= 0) sym[static_cast<size_t>(right.next)].prev = static_cast<int32_t>(top.pos);
    if (left.prev >= 0) {
      if (const Merge* m = find(sym[static_cast<size_t>(left.prev)].id, left.id)) {
        heap.push({m->rank, static_cast<uint32_t>(left.prev), m->new_id});
      }
    }
    if (left.next >= 0) {
      if (const Merge* m = find(left.id, sym[static_cast<size_t>(left.next)].id)) {
        heap.push({m->rank, top.pos, m->new_id});
      }
    }
  }
  for (int32_t i = sym.empty() ? -1 : 0; i >= 0; i = sym[static_cast<size_t>(i)].next) {
    out.push_back(sym[static_cast<size_t>(i)].id);
  }
}

}  // namespace sealsum::tok::bpe
