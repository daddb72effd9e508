#include "engine/decoding/topk.h"

#include <algorithm>
#include <cmath>

namespace sealsum::decoding {

void topk_torch(const float* values, int64_t n, int64_t k, std::vector<std::pair<float, int64_t>>& queue,
                std::vector<TopkEntry>& out) {
  using Elem = std::pair<float, int64_t>;
  queue.resize(static_cast<size_t>(n));
  for (int64_t j = 0; j < n; ++j) queue[static_cast<size_t>(j)] = {values[j], j};
  // torch: "we want nan to be sorted as top for numpy compatibility".
  const auto greater = [](const Elem& x, const Elem& y) {
    return (std::isnan(x.first) && !std::isnan(y.first)) || (x.first > y.first);
  };
  const auto first = queue.begin();
  if (k * 64 <= n) {
    std::partial_sort(first, first + k, queue.end(), greater);
  } else {
    std::nth_element(first, first + (k - 1), queue.end(), greater);
    std::sort(first, first + (k - 1), greater);  // torch sorts only the first k - 1 (sorted=True)
  }
  out.resize(static_cast<size_t>(k));
  for (int64_t j = 0; j < k; ++j) out[static_cast<size_t>(j)] = {queue[static_cast<size_t>(j)].first,
                                                                 queue[static_cast<size_t>(j)].second};
}

}  // namespace sealsum::decoding
