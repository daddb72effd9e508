// KvCache: the decoder self-attention keys and values of every row (hypothesis), all layers.
//
// Layout: each row owns a *slot*, one buffer holding [layer][k|v][capacity][width] floats, so a
// row's keys for one layer are a contiguous [length, width] matrix that attention reads in place.
// Rows refer to slots through an index (row_slot_), which makes reorder() cheap:
//   reorder(src): new row i continues old row src[i]. The first new row that continues an old row
//   takes over that row's slot (no copy); only a row that *duplicates* an already-claimed old row
//   gets a free slot and a copy of the filled part. Beam search, which keeps most beams and forks a
//   few, therefore copies only the forks; slots of dropped rows are kept for reuse.
// Capacity grows by doubling when a step would overflow it (one re-layout per doubling).
//
// Not thread-safe: owned by one DecoderSession, used by one thread at a time.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "common/status.h"
#include "engine/kernels/kernels.h"

namespace sealsum::layers {

class KvCache {
 public:
  // width = heads · head_dim; capacity_hint = expected positions (grows as needed).
  KvCache(int64_t layers, int64_t width, int64_t capacity_hint);

  int64_t rows() const { return static_cast<int64_t>(row_slot_.size()); }
  int64_t length() const { return length_; }  // positions stored in every row
  int64_t layers() const { return layers_; }
  int64_t width() const { return width_; }

  // Makes room for position length() (the one the current step writes). Call once per step, before
  // writing; pointers from k()/v() are invalidated by it and by reorder().
  void reserve_next();
  // Row r's keys / values of `layer`: [capacity, width], positions 0..length() valid (after the
  // current step writes position length()).
  float* k(int64_t layer, int64_t row) { return slot_base(layer, row, 0); }
  float* v(int64_t layer, int64_t row) { return slot_base(layer, row, 1); }
  // Ends the step: length() += 1.
  void advance() { ++length_; }

  // New row i continues old row src[i] (0 <= src[i] < rows()); rows() becomes src.size() (>= 1).
  Status reorder(std::span<const int32_t> src);

  // Copies made by reorder() so far (for tests and metrics).
  int64_t rows_copied() const { return rows_copied_; }

 private:
  float* slot_base(int64_t layer, int64_t row, int kv) {
    return slots_[static_cast<size_t>(row_slot_[static_cast<size_t>(row)])].get() +
           ((layer * 2 + kv) * capacity_) * width_;
  }
  void first_slot();  // slot 0 (row 0's) exists from the first reserve_next() or reorder() on
  void grow(int64_t new_capacity);
  size_t slot_floats() const { return static_cast<size_t>(layers_ * 2 * capacity_ * width_); }

  int64_t layers_, width_, capacity_, length_ = 0;
  std::vector<kernels::AlignedFloats> slots_;  // kernels::aligned_floats: recycled across requests
  std::vector<int32_t> row_slot_;
  int64_t rows_copied_ = 0;
};

}  // namespace sealsum::layers
