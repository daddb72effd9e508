// Metrics: the server's counters, rendered in the Prometheus text exposition format (v0.0.4).
//
// Exposed series (all names prefixed sealsum_):
//   http_requests_total{route,code}          counter, every answered request
//   request_duration_seconds{route}          histogram (buckets kLatencyBuckets, +Inf, _sum, _count)
//   input_tokens_total, generated_tokens_total, generation_seconds_total   counters (summaries only)
//   tokens_per_second                        gauge: generated tokens / generation seconds of the
//                                            most recent summaries (exponentially weighted)
//   queue_depth, queue_capacity, requests_in_flight   gauges (read from the queue at render time)
//   queue_rejected_total                     counter (503 answers because the queue was full)
// Labels carry only route templates ("/v1/summarize") and status codes, never request content.
// Thread safety: every member may be called concurrently (one mutex; updates are tiny).
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>

namespace sealsum::server {

inline constexpr std::array<double, 12> kLatencyBuckets = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                                           0.5,   1.0,  2.5,   5.0,  10.0, 30.0};

struct QueueGauges {
  size_t depth = 0, capacity = 0, running = 0;
  uint64_t rejected = 0;
};

class Metrics {
 public:
  // One answered request. `route` must be a fixed route name (not the raw path).
  void observe_request(const std::string& route, int status, double seconds);
  // One completed summary.
  void observe_generation(int64_t input_tokens, int64_t generated_tokens, double generation_seconds);

  std::string render(const QueueGauges& queue) const;

  uint64_t requests(const std::string& route, int status) const;

 private:
  struct Histogram {
    std::array<uint64_t, kLatencyBuckets.size()> buckets{};  // non-cumulative counts
    uint64_t count = 0;
    double sum = 0;
  };
  mutable std::mutex mu_;
  std::map<std::pair<std::string, int>, uint64_t> requests_;
  std::map<std::string, Histogram> latency_;
  uint64_t input_tokens_ = 0, generated_tokens_ = 0;
  double generation_seconds_ = 0;
  double tokens_per_second_ = 0;
};

}  // namespace sealsum::server
