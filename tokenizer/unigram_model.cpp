// Unigram Viterbi segmentation: see unigram_model.h.
//
// The algorithm (sentencepiece 0.1.97, unigram_model.cc, Model::EncodeOptimized). The normalized
// text is a byte string; `best[e]` holds the best segmentation of bytes [0, e): its score (float),
// the start of its last piece and that piece's id. Positions are visited at UTF-8 character starts
// s = 0, mblen(0), ... in increasing order; from each s the vocabulary trie is walked byte by byte
// and every piece p = text[s, e) relaxes best[e] with cand = score(p) + best[s].score. Because
// every predecessor of e starts before e, best[s] is final when s is visited.
//
// Exactness matters in three places, which are where naive implementations differ from the
// reference on inputs like "!!!!!!" or "ababab...":
//   1. Arithmetic: sentencepiece computes the candidate in double (its user-defined-symbol branch
//      makes the conditional expression double), i.e. cand = double(score) + double(best[s]),
//      compares it with the stored float promoted to double, and stores it rounded to float.
//      (Measured: all-float arithmetic reproduces only 2968 of the 3,000 golden T5 lines.)
//   2. Ties: a candidate replaces best[e] only when strictly greater, so among equal scores the
//      earliest start wins, and for one start the shortest piece (the trie reports prefixes in
//      increasing length). (Replacing on >= reproduces 2998 of 3,000.)
//   3. Unknowns: when no piece of exactly one character starts at s, an unknown piece of one
//      character with score min(normal scores) - 10 relaxes best[s + mblen] the same way.
// The path is recovered backwards from the end; consecutive unknown pieces are then merged into
// one <unk> (sentencepiece does this when it builds the SentencePieceText).
#include "tokenizer/unigram_model.h"

#include <algorithm>
#include <cfloat>
#include <utility>

#include "tokenizer/utf8.h"

namespace sealsum::tok {
namespace {
constexpr uint32_t kMaxSparseEdges = 8;  // nodes with more children get a dense 256-entry table
}  // namespace

Result<UnigramModel> UnigramModel::create(std::vector<UnigramPiece> pieces, int32_t unk_id) {
  if (pieces.empty()) return data_loss("unigram vocabulary is empty");
  if (pieces.size() > (1u << 24)) return resource_exhausted("unigram vocabulary has more than 2^24 pieces");
  if (unk_id < 0 || static_cast<size_t>(unk_id) >= pieces.size()) {
    return data_loss("unk id " + std::to_string(unk_id) + " is outside the vocabulary of " +
                     std::to_string(pieces.size()));
  }
  UnigramModel m;
  m.unk_id_ = unk_id;
  float min_score = FLT_MAX;
  std::vector<std::pair<std::string_view, int32_t>> keys;
  keys.reserve(pieces.size());
  for (size_t i = 0; i < pieces.size(); ++i) {
    const UnigramPiece& p = pieces[i];
    if (p.text.empty()) return data_loss("vocabulary piece " + std::to_string(i) + " is empty");
    if (p.text.find('\0') != std::string::npos) {
      return data_loss("vocabulary piece " + std::to_string(i) + " contains a NUL byte");
    }
    if ((p.kind == UnigramPieceKind::kUnknown) != (static_cast<int32_t>(i) == unk_id)) {
      return data_loss("vocabulary piece " + std::to_string(i) +
                       (p.kind == UnigramPieceKind::kUnknown ? " is a second unknown piece" : " is the unk id but not unknown"));
    }
    if (p.kind == UnigramPieceKind::kNormal) {
      min_score = std::min(min_score, p.score);
      keys.emplace_back(p.text, static_cast<int32_t>(i));
    }
  }
  if (keys.empty()) return data_loss("unigram vocabulary has no normal pieces");
  m.unk_score_ = min_score - 10.0f;  // sentencepiece's kUnkPenalty

  // Build the trie breadth-first from the sorted keys: the keys below a node form a contiguous
  // range, grouped by their next byte; a key that ends at the node sorts first in its range.
  std::sort(keys.begin(), keys.end());
  struct Task {
    size_t lo, hi, depth;
    uint32_t node;
  };
  size_t max_nodes = 1;  // one node per key byte at most, plus the root
  for (const auto& k : keys) max_nodes += k.first.size();
  std::vector<Task> tasks;
  tasks.reserve(max_nodes);
  tasks.push_back({0, keys.size(), 0, 0});
  m.nodes_.reserve(max_nodes);
  m.edge_labels_.reserve(max_nodes);
  m.edge_targets_.reserve(max_nodes);
  m.nodes_.emplace_back();
  for (size_t head = 0; head < tasks.size(); ++head) {
    const Task t = tasks[head];
    size_t lo = t.lo;
    if (keys[lo].first.size() == t.depth) {
      if (lo + 1 < t.hi && keys[lo + 1].first.size() == t.depth) {
        return data_loss("vocabulary piece " + std::to_string(keys[lo + 1].second) + " is defined twice");
      }
      m.nodes_[t.node].value = keys[lo].second;
      m.nodes_[t.node].score = pieces[static_cast<size_t>(keys[lo].second)].score;
      ++lo;
    }
    const uint32_t edge_begin = static_cast<uint32_t>(m.edge_labels_.size());
    for (size_t i = lo; i < t.hi;) {
      const uint8_t c = static_cast<uint8_t>(keys[i].first[t.depth]);
      size_t j = i + 1;
      while (j < t.hi && static_cast<uint8_t>(keys[j].first[t.depth]) == c) ++j;
      const uint32_t kid = static_cast<uint32_t>(m.nodes_.size());
      m.nodes_.emplace_back();
      m.edge_labels_.push_back(c);
      m.edge_targets_.push_back(kid);
      tasks.push_back({i, j, t.depth + 1, kid});
      i = j;
    }
    Node& node = m.nodes_[t.node];
    node.edge_begin = edge_begin;
    node.edge_count = static_cast<uint32_t>(m.edge_labels_.size()) - edge_begin;
    if (node.edge_count > kMaxSparseEdges || t.node == 0) {
      node.dense = static_cast<int32_t>(m.dense_.size() / 256);
      m.dense_.resize(m.dense_.size() + 256, -1);
      for (uint32_t e = node.edge_begin; e < node.edge_begin + node.edge_count; ++e) {
        m.dense_[static_cast<size_t>(node.dense) * 256 + m.edge_labels_[e]] = static_cast<int32_t>(m.edge_targets_[e]);
      }
    }
  }
  m.pieces_ = std::move(pieces);
  return m;
}

int32_t UnigramModel::child(const Node& n, uint8_t label) const {
  if (n.dense >= 0) return dense_[static_cast<size_t>(n.dense) * 256 + label];
  const uint8_t* labels = edge_labels_.data() + n.edge_begin;
  for (uint32_t k = 0; k < n.edge_count; ++k) {
    if (labels[k] == label) return static_cast<int32_t>(edge_targets_[n.edge_begin + k]);
  }
  return -1;
}

void UnigramModel::encode(std::string_view text, std::vector<int32_t>* ids) const {
  if (text.empty()) return;
  struct Best {
    float score = 0.0f;
    int32_t start = -1;
    int32_t id = -1;
  };
  const size_t size = text.size();
  std::vector<Best> best(size + 1);
  const auto relax = [&](size_t end, float piece_score, size_t start, int32_t id) {
    Best& target = best[end];
    const double cand = static_cast<double>(piece_score) + static_cast<double>(best[start].score);
    if (target.start == -1 || cand > static_cast<double>(target.score)) {
      target.score = static_cast<float>(cand);
      target.start = static_cast<int32_t>(start);
      target.id = id;
    }
  };

  size_t start = 0;
  while (start < size) {
    const size_t mblen = std::min(utf8::one_char_len(static_cast<uint8_t>(text[start])), size - start);
    bool has_single = false;
    const Node* node = &nodes_[0];
    for (size_t pos = start; pos < size; ++pos) {
      const int32_t next = child(*node, static_cast<uint8_t>(text[pos]));
      if (next < 0) break;
      node = &nodes_[static_cast<size_t>(next)];
      const int32_t id = node->value;
      if (id < 0) continue;
      const size_t length = pos + 1 - start;
      relax(pos + 1, node->score, start, id);
      if (length == mblen) has_single = true;
    }
    if (!has_single) relax(start + mblen, unk_score_, start, unk_id_);
    start += mblen;
  }

  // Backtrack, then emit in order with unknown runs merged.
  std::vector<int32_t> path;
  for (size_t end = size; end > 0;) {
    const Best& b = best[end];
    // Every character start is reachable, so b.start is set and < end; stay safe regardless.
    if (b.start < 0 || static_cast<size_t>(b.start) >= end) break;
    path.push_back(b.id);
    end = static_cast<size_t>(b.start);
  }
  bool prev_unk = false;
  for (auto it = path.rbegin(); it != path.rend(); ++it) {
    const bool is_unk = *it == unk_id_;
    if (!(is_unk && prev_unk)) ids->push_back(*it);
    prev_unk = is_unk;
  }
}

}  // namespace sealsum::tok
