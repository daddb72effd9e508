// Float32 score arithmetic and logits processors with transformers 4.36 / torch 1.13 semantics.
//
// Why the care: beam search ranks float32 sums of log-probs, so the *rounding* of each step decides
// which hypotheses survive. log_softmax follows torch's CPU kernel operation by operation:
// max, then s = sum(exp(x - max)) in float32 (interleaved lanes as the vector kernel adds them),
// then out = (x - max) - log(s) — two roundings, in that order (x - (max + log s) would differ).
// exp and log come from the C library (correctly rounded in practice; exp through its SIMD twins in
// kernels::exp_lane_sums, same bits); torch uses SLEEF (<= 1 ulp),
// so the sum can still differ from torch in its last bit on rare rows. That is the only known
// source of disagreement for identical logits.
#include "engine/decoding/logits_process.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <limits>

#include "engine/kernels/vecmath.h"

namespace sealsum::decoding {

namespace {
constexpr int kLanes = 8;  // AVX2 float lanes of torch's Vectorized<float>, as kernels::exp_lane_sums adds them
constexpr float kNegInf = -std::numeric_limits<float>::infinity();
}  // namespace

namespace {

// std::max scanning left to right: the row's largest value, and when that is zero, the sign of its
// first occurrence (std::max keeps the earlier of equal values). In kLanes running maxima that the
// compiler keeps in a vector register; only a zero maximum (whose sign the lanes may pick
// differently) is rescanned in order. The caller guarantees no NaN (infinities are fine).
float row_max(const float* in, int64_t n) {
  std::array<float, kLanes> lane;
  lane.fill(in[0]);
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    for (int l = 0; l < kLanes; ++l) {
      const float v = in[i + l];
      lane[static_cast<size_t>(l)] = lane[static_cast<size_t>(l)] < v ? v : lane[static_cast<size_t>(l)];
    }
  }
  float mx = lane[0];
  for (int l = 1; l < kLanes; ++l) mx = std::max(mx, lane[static_cast<size_t>(l)]);
  for (; i < n; ++i) mx = std::max(mx, in[i]);
  if (mx == 0.0f) {
    mx = in[0];
    for (int64_t j = 1; j < n; ++j) mx = std::max(mx, in[j]);
  }
  return mx;
}

// The first i < n with pred(row[i]), or n. Blocks of 64 are tested with a branch-free OR (which the
// compiler vectorizes; a whole vocabulary row costs a few microseconds) and only the block that
// holds a hit is scanned in order.
template <class Pred>
int64_t first_index(const float* row, int64_t n, Pred pred) {
  constexpr int64_t kBlock = 64;
  int64_t b = 0;
  for (; b + kBlock <= n; b += kBlock) {
    uint32_t any = 0;
    for (int64_t i = 0; i < kBlock; ++i) any |= static_cast<uint32_t>(pred(row[b + i]));
    if (any != 0) break;
  }
  for (; b < n; ++b) {
    if (pred(row[b])) return b;
  }
  return n;
}

// out[j] = (in[j] - mx) - lse, in and out distinct or equal. Blocks of 16 go through a local copy,
// so the fixed-size loop vectorizes whether or not out aliases in.
void shift_row(const float* in, float* out, int64_t n, float mx, float lse) {
  constexpr int64_t kBlock = 16;
  int64_t j = 0;
  for (; j + kBlock <= n; j += kBlock) {
    std::array<float, kBlock> v;
    for (int64_t l = 0; l < kBlock; ++l) v[static_cast<size_t>(l)] = (in[j + l] - mx) - lse;
    std::memcpy(out + j, v.data(), sizeof v);
  }
  for (; j < n; ++j) out[j] = (in[j] - mx) - lse;
}

}  // namespace

void log_softmax_row(const float* in, float* out, int64_t n) {
  const float mx = row_max(in, n);
  // Lane l sums exp(in[i] - mx) for i = l, l + kLanes, ... in increasing i, with the C library's
  // exp bit for bit (kernels::exp_lane_sums runs it 8 or 16 wide).
  std::array<float, kLanes> lane{};
  kernels::exp_lane_sums(in, n, mx, lane.data());
  // Lanes at or beyond n (rows shorter than a vector) hold 0 and are not added.
  float sum = lane[0];
  for (int64_t l = 1; l < kLanes && l < n; ++l) sum += lane[static_cast<size_t>(l)];
  shift_row(in, out, n, mx, std::log(sum));
}

// torch.argmax's answer in vectorizable passes (a scalar scan keeping the best index waits on each
// compare: ~135 us per 32k-entry vocabulary row, a tenth of a greedy int8 t5-small step): the first
// NaN if there is one, else the first index equal to the maximum (== treats -0 and +0 as equal,
// as the scan's > does, so the maximum's sign does not matter).
int64_t argmax_row(const float* row, int64_t n) {
  const int64_t nan_at = first_index(row, n, [](float v) { return v != v; });
  if (nan_at < n) return nan_at;
  const float mx = row_max(row, n);
  return first_index(row, n, [mx](float v) { return v == mx; });  // mx is an element: found
}

bool all_finite(const float* row, int64_t n) {
  // A float is finite iff its exponent bits are not all ones.
  constexpr uint32_t kExp = 0x7F800000u;
  return first_index(row, n, [](float v) {
           uint32_t bits;
           std::memcpy(&bits, &v, sizeof bits);
           return (bits & kExp) == kExp;
         }) == n;
}

LogitsProcessors::LogitsProcessors(const GenerationParams& p)
    : repetition_active_(p.repetition_penalty != 1.0),
      repetition_penalty_(static_cast<float>(p.repetition_penalty)),
      no_repeat_ngram_size_(p.no_repeat_ngram_size),
      min_length_(p.min_length),
      max_length_(effective_max_length(p)),
      eos_token_ids_(p.eos_token_ids),
      forced_bos_token_id_(p.forced_bos_token_id),
      forced_eos_token_id_(p.forced_eos_token_id) {}

bool LogitsProcessors::any_active() const {
  return repetition_active_ || no_repeat_ngram_size_ > 0 || (min_length_ > 0 && !eos_token_ids_.empty()) ||
         forced_bos_token_id_.has_value() || forced_eos_token_id_.has_value();
}

void LogitsProcessors::apply(std::span<const int32_t> seq, float* row, int64_t vocab_size) const {
  const size_t cur_len = seq.size();
  if (repetition_active_) repetition_penalty(seq, row);
  if (no_repeat_ngram_size_ > 0) no_repeat_ngram(seq, row);
  // MinLengthLogitsProcessor: EOS impossible while cur_len < min_length.
  if (min_length_ > 0 && cur_len < static_cast<size_t>(min_length_)) {
    for (int32_t e : eos_token_ids_) row[e] = kNegInf;
  }
  // ForcedBOSTokenLogitsProcessor: the first generated token (cur_len == 1) is forced.
  if (forced_bos_token_id_ && cur_len == 1) {
    std::fill(row, row + vocab_size, kNegInf);
    row[*forced_bos_token_id_] = 0.0f;
  }
  // ForcedEOSTokenLogitsProcessor: the last token (cur_len == max_length - 1) is forced to EOS.
  if (forced_eos_token_id_ && static_cast<int64_t>(cur_len) == static_cast<int64_t>(max_length_) - 1) {
    std::fill(row, row + vocab_size, kNegInf);
    row[*forced_eos_token_id_] = 0.0f;
  }
}

// RepetitionPenaltyLogitsProcessor: every token present in seq (the start token included) gets
// s < 0 ? s * penalty : s / penalty, in float32 (torch casts the Python scalar to the tensor dtype).
// torch gathers all values first and scatters them back, so a repeated id is penalized once.
void LogitsProcessors::repetition_penalty(std::span<const int32_t> seq, float* row) const {
  std::vector<int32_t> ids(seq.begin(), seq.end());
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  for (int32_t t : ids) {
    const float s = row[t];
    row[t] = s < 0.0f ? s * repetition_penalty_ : s / repetition_penalty_;
  }
}

// NoRepeatNGramLogitsProcessor: with n = no_repeat_ngram_size and seq of length L, once L + 1 >= n
// every token that would complete an n-gram already present in seq (start token included) is
// banned: for each earlier position i with seq[i..i+n-2] == seq[L-n+1..L-1], seq[i+n-1] gets -inf.
void LogitsProcessors::no_repeat_ngram(std::span<const int32_t> seq, float* row) const {
  const size_t n = static_cast<size_t>(no_repeat_ngram_size_);
  const size_t len = seq.size();
  if (len + 1 < n) return;
  // The (n-1)-token suffix that the next token would extend; empty for n == 1 (bans every seen id).
  const auto suffix = seq.subspan(len + 1 - n, n - 1);
  for (size_t i = 0; i + n <= len; ++i) {
    if (std::equal(suffix.begin(), suffix.end(), seq.begin() + static_cast<std::ptrdiff_t>(i))) {
      row[seq[i + n - 1]] = kNegInf;
    }
  }
}

}  // namespace sealsum::decoding
