#include "engine/layers/kv_cache.h"

#include <algorithm>
#include <cstring>
#include <string>

namespace sealsum::layers {

KvCache::KvCache(int64_t layers, int64_t width, int64_t capacity_hint)
    : layers_(layers), width_(width), capacity_(std::max<int64_t>(capacity_hint, 1)) {
  row_slot_.push_back(0);
}

void KvCache::first_slot() {
  // Allocated on first use, not at construction: a session's cross-attention buffers are taken
  // from the buffer pool first, and the slots then fit in what they leave (taken the other way
  // round, a 3 MiB slot split the range the next request's 8 MiB buffers fit: +8 MiB peak RSS over
  // repeated distilbart requests).
  if (slots_.empty()) slots_.push_back(kernels::aligned_floats(slot_floats()));
}

void KvCache::reserve_next() {
  first_slot();
  if (length_ < capacity_) return;
  grow(capacity_ * 2);
}

void KvCache::grow(int64_t new_capacity) {
  const size_t block = static_cast<size_t>(length_ * width_);
  for (auto& slot : slots_) {
    kernels::AlignedFloats bigger = kernels::aligned_floats(static_cast<size_t>(layers_ * 2 * new_capacity * width_));
    for (int64_t b = 0; b < layers_ * 2; ++b) {
      std::memcpy(bigger.get() + b * new_capacity * width_, slot.get() + b * capacity_ * width_,
                  block * sizeof(float));
    }
    slot = std::move(bigger);
  }
  capacity_ = new_capacity;
}

Status KvCache::reorder(std::span<const int32_t> src) {
  if (src.empty()) return invalid_argument("KvCache::reorder: no rows given; a session needs at least one row");
  first_slot();
  const int32_t old_rows = static_cast<int32_t>(rows());
  for (size_t i = 0; i < src.size(); ++i) {
    if (src[i] < 0 || src[i] >= old_rows) {
      return invalid_argument("KvCache::reorder: source row " + std::to_string(src[i]) + " at index " +
                              std::to_string(i) + " is outside 0.." + std::to_string(old_rows - 1));
    }
  }
  std::vector<char> taken(slots_.size(), 0);
  std::vector<int32_t> new_slot(src.size(), -1);
  for (size_t i = 0; i < src.size(); ++i) {
    const int32_t s = row_slot_[static_cast<size_t>(src[i])];
    if (!taken[static_cast<size_t>(s)]) {
      taken[static_cast<size_t>(s)] = 1;
      new_slot[i] = s;
    }
  }
  // Forks: copy the filled part of the source slot into a slot no new row uses.
  size_t next_free = 0;
  const size_t block = static_cast<size_t>(length_ * width_);
  for (size_t i = 0; i < src.size(); ++i) {
    if (new_slot[i] >= 0) continue;
    while (next_free < slots_.size() && taken[next_free]) ++next_free;
    if (next_free == slots_.size()) {
      slots_.push_back(kernels::aligned_floats(slot_floats()));
      taken.push_back(0);
    }
    const size_t f = next_free;
    taken[f] = 1;
    const float* from = slots_[static_cast<size_t>(row_slot_[static_cast<size_t>(src[i])])].get();
    float* to = slots_[f].get();
    for (int64_t b = 0; b < layers_ * 2; ++b) {
      std::memcpy(to + b * capacity_ * width_, from + b * capacity_ * width_, block * sizeof(float));
    }
    new_slot[i] = static_cast<int32_t>(f);
    ++rows_copied_;
  }
  row_slot_ = std::move(new_slot);
  return Status::ok();
}

}  // namespace sealsum::layers
