// torch.topk(largest=True, sorted=True) over one float32 row, with torch 1.13's CPU tie order.
//
// torch's CPU kernel (topk_impl_loop) fills a queue of (value, index) pairs in index order and runs
// std::partial_sort when k * 64 <= n, otherwise std::nth_element followed by std::sort of the first
// k - 1, with the comparator "a is NaN and b is not, or a > b". Equal values are therefore ordered
// by what the standard library's algorithm does, not by index. This file runs the very same calls
// with the same comparator on the same queue, so with libstdc++ (whose heap-select, introselect and
// introsort have been the same for many releases, including the GCC that built torch 1.13 wheels)
// the order of equal values matches torch. Cost: one pass over the row plus O(m log k) for the m
// entries that enter the running top k (the partial_sort path hands libstdc++ only those, which
// gives the same result, see topk.cpp) — a partial selection, never a full sort of the row.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

namespace sealsum::decoding {

struct TopkEntry {
  float value;
  int64_t index;
};

// The k largest of values[0..n) in torch order, best first. Requires 1 <= k <= n. `queue` is scratch
// space reused across calls (resized to n); the result is written to `out` (resized to k).
void topk_torch(const float* values, int64_t n, int64_t k, std::vector<std::pair<float, int64_t>>& queue,
                std::vector<TopkEntry>& out);

}  // namespace sealsum::decoding
