#include "engine/decoding/topk.h"

#include <algorithm>
#include <cmath>
#include <functional>

namespace sealsum::decoding {

namespace {

using Elem = std::pair<float, int64_t>;

// torch: "we want nan to be sorted as top for numpy compatibility".
bool greater(const Elem& x, const Elem& y) {
  return (std::isnan(x.first) && !std::isnan(y.first)) || (x.first > y.first);
}

// The first j in [from, n) with !(values[j] <= kth) (above kth, or NaN); n if none. Blocks of 16
// are tested at once (the compiler vectorizes the block test): almost every entry is skipped.
int64_t next_above(const float* values, int64_t from, int64_t n, float kth) {
  int64_t j = from;
  for (; j + 16 <= n; j += 16) {
    int hit = 0;
    for (int l = 0; l < 16; ++l) hit |= static_cast<int>(!(values[j + l] <= kth));
    if (hit != 0) break;
  }
  for (; j < n; ++j) {
    if (!(values[j] <= kth)) return j;
  }
  return n;
}

// The partial_sort path without materializing n pairs. std::partial_sort (libstdc++) heap-selects:
// it heapifies the first k entries, then for each later entry e replaces the heap's top (its
// smallest) with e iff greater(e, top), and finally sorts the heap. The heap always holds the k
// largest values seen so far, so its top's value is the k-th largest value of the prefix; an entry
// not above it leaves the heap untouched. Keeping only the first k entries and the entries above
// that running k-th largest value (tracked here in a min-heap of values) therefore hands
// std::partial_sort exactly the entries that change its heap, in the same order: the same result,
// ties included. Returns false (queue unspecified) when the row holds a NaN: the caller then runs
// the plain path, whose NaN order this filter does not model.
bool filtered_partial_sort(const float* values, int64_t n, int64_t k, std::vector<Elem>& queue) {
  queue.clear();
  std::vector<float> low;  // min-heap of the k largest values so far
  low.reserve(static_cast<size_t>(k));
  for (int64_t j = 0; j < k; ++j) {
    if (std::isnan(values[j])) return false;
    queue.emplace_back(values[j], j);
    low.push_back(values[j]);
  }
  const auto above = std::greater<float>();
  std::make_heap(low.begin(), low.end(), above);
  float kth = low.front();
  for (int64_t j = next_above(values, k, n, kth); j < n; j = next_above(values, j + 1, n, kth)) {
    const float v = values[j];
    if (std::isnan(v)) return false;
    queue.emplace_back(v, j);
    std::pop_heap(low.begin(), low.end(), above);
    low.back() = v;
    std::push_heap(low.begin(), low.end(), above);
    kth = low.front();
  }
  std::partial_sort(queue.begin(), queue.begin() + k, queue.end(), greater);
  return true;
}

}  // namespace

void topk_torch(const float* values, int64_t n, int64_t k, std::vector<std::pair<float, int64_t>>& queue,
                std::vector<TopkEntry>& out) {
  if (k * 64 <= n && filtered_partial_sort(values, n, k, queue)) {
    // queue's first k entries are the result.
  } else {
    queue.resize(static_cast<size_t>(n));
    for (int64_t j = 0; j < n; ++j) queue[static_cast<size_t>(j)] = {values[j], j};
    if (k * 64 <= n) {
      std::partial_sort(queue.begin(), queue.begin() + k, queue.end(), greater);
    } else {
      std::nth_element(queue.begin(), queue.begin() + (k - 1), queue.end(), greater);
      std::sort(queue.begin(), queue.begin() + (k - 1), greater);  // torch sorts only the first k - 1 (sorted=True)
    }
  }
  out.resize(static_cast<size_t>(k));
  for (int64_t j = 0; j < k; ++j) out[static_cast<size_t>(j)] = {queue[static_cast<size_t>(j)].first,
                                                                 queue[static_cast<size_t>(j)].second};
}

}  // namespace sealsum::decoding
