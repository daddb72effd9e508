// The unigram language model segmenter: vocabulary trie + Viterbi search, as sentencepiece 0.1.97's
// unigram Model::EncodeOptimized (the default encoder). See unigram_model.cpp for the algorithm.
//
// Thread safety: immutable after create(); encode() is const and safe to call concurrently.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace sealsum::tok {

enum class UnigramPieceKind : uint8_t {
  kNormal,   // takes part in segmentation with its score
  kUnknown,  // the <unk> piece (exactly one)
  kControl,  // never produced by segmentation (</s>, <pad>, added special tokens)
  kUnused,   // in the vocabulary but never produced
};

struct UnigramPiece {
  std::string text;
  float score = 0.0f;
  UnigramPieceKind kind = UnigramPieceKind::kNormal;
};

class UnigramModel {
 public:
  // Builds the trie over the kNormal pieces. Fails on empty or duplicate normal pieces, pieces
  // containing NUL, an unk_id that is not the single kUnknown piece, or no normal piece at all.
  static Result<UnigramModel> create(std::vector<UnigramPiece> pieces, int32_t unk_id);

  // Segments already-normalized text and appends the piece ids to `ids`. Characters no piece
  // covers become unk_id; a run of consecutive unknown pieces is merged into one unk_id.
  void encode(std::string_view normalized, std::vector<int32_t>* ids) const;

  const std::vector<UnigramPiece>& pieces() const { return pieces_; }
  int32_t unk_id() const { return unk_id_; }
  float unk_score() const { return unk_score_; }

 private:
  // Byte trie over the normal pieces, nodes in breadth-first order, node 0 the root. A node with
  // few children keeps them as a sorted label list; one with many has a 256-entry table.
  struct Node {
    uint32_t edge_begin = 0;  // into edge_labels_ / edge_targets_
    uint32_t edge_count = 0;
    int32_t dense = -1;       // block index into dense_, or -1
    int32_t value = -1;       // piece id ending here, or -1
    float score = 0.0f;       // that piece's score
  };
  int32_t child(const Node& node, uint8_t label) const;

  std::vector<UnigramPiece> pieces_;
  std::vector<Node> nodes_;
  std::vector<uint8_t> edge_labels_;
  std::vector<uint32_t> edge_targets_;
  std::vector<int32_t> dense_;  // 256 entries per dense node, -1 = no child
  int32_t unk_id_ = 0;
  float unk_score_ = 0.0f;
};

}  // namespace sealsum::tok
