// Metrics (see metrics.h).
#include "server/metrics.h"

#include <cstdio>
#include <sstream>

namespace sealsum::server {
namespace {

// Prometheus floats: shortest round-trippable-enough form, no locale.
std::string num(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}

}  // namespace

void Metrics::observe_request(const std::string& route, int status, double seconds) {
  std::lock_guard<std::mutex> lock(mu_);
  ++requests_[{route, status}];
  Histogram& h = latency_[route];
  for (size_t i = 0; i < kLatencyBuckets.size(); ++i) {
    if (seconds <= kLatencyBuckets[i]) {
      ++h.buckets[i];
      break;
    }
  }
  ++h.count;
  h.sum += seconds;
}

void Metrics::observe_generation(int64_t input_tokens, int64_t generated_tokens, double generation_seconds) {
  std::lock_guard<std::mutex> lock(mu_);
  input_tokens_ += static_cast<uint64_t>(input_tokens > 0 ? input_tokens : 0);
  generated_tokens_ += static_cast<uint64_t>(generated_tokens > 0 ? generated_tokens : 0);
  generation_seconds_ += generation_seconds;
  if (generation_seconds > 0) {
    const double rate = static_cast<double>(generated_tokens) / generation_seconds;
    tokens_per_second_ = tokens_per_second_ == 0 ? rate : 0.8 * tokens_per_second_ + 0.2 * rate;
  }
}

uint64_t Metrics::requests(const std::string& route, int status) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = requests_.find({route, status});
  return it == requests_.end() ? 0 : it->second;
}

std::string Metrics::render(const QueueGauges& queue) const {
  std::lock_guard<std::mutex> lock(mu_);
  std::ostringstream o;
  o << "# HELP sealsum_http_requests_total HTTP requests answered, by route and status code.\n"
    << "# TYPE sealsum_http_requests_total counter\n";
  for (const auto& [key, n] : requests_) {
    o << "sealsum_http_requests_total{route=\"" << key.first << "\",code=\"" << key.second << "\"} " << n << "\n";
  }
  o << "# HELP sealsum_request_duration_seconds Time from request parsed to response ready.\n"
    << "# TYPE sealsum_request_duration_seconds histogram\n";
  for (const auto& [route, h] : latency_) {
    uint64_t cumulative = 0;
    for (size_t i = 0; i < kLatencyBuckets.size(); ++i) {
      cumulative += h.buckets[i];
      o << "sealsum_request_duration_seconds_bucket{route=\"" << route << "\",le=\"" << num(kLatencyBuckets[i])
        << "\"} " << cumulative << "\n";
    }
    o << "sealsum_request_duration_seconds_bucket{route=\"" << route << "\",le=\"+Inf\"} " << h.count << "\n"
      << "sealsum_request_duration_seconds_sum{route=\"" << route << "\"} " << num(h.sum) << "\n"
      << "sealsum_request_duration_seconds_count{route=\"" << route << "\"} " << h.count << "\n";
  }
  o << "# HELP sealsum_input_tokens_total Input tokens of completed summaries.\n"
    << "# TYPE sealsum_input_tokens_total counter\n"
    << "sealsum_input_tokens_total " << input_tokens_ << "\n"
    << "# HELP sealsum_generated_tokens_total Generated tokens of completed summaries.\n"
    << "# TYPE sealsum_generated_tokens_total counter\n"
    << "sealsum_generated_tokens_total " << generated_tokens_ << "\n"
    << "# HELP sealsum_generation_seconds_total Engine time of completed summaries.\n"
    << "# TYPE sealsum_generation_seconds_total counter\n"
    << "sealsum_generation_seconds_total " << num(generation_seconds_) << "\n"
    << "# HELP sealsum_tokens_per_second Generated tokens per engine second (recent summaries).\n"
    << "# TYPE sealsum_tokens_per_second gauge\n"
    << "sealsum_tokens_per_second " << num(tokens_per_second_) << "\n"
    << "# HELP sealsum_queue_depth Summaries waiting for a worker.\n"
    << "# TYPE sealsum_queue_depth gauge\n"
    << "sealsum_queue_depth " << queue.depth << "\n"
    << "# HELP sealsum_queue_capacity Most summaries that may wait.\n"
    << "# TYPE sealsum_queue_capacity gauge\n"
    << "sealsum_queue_capacity " << queue.capacity << "\n"
    << "# HELP sealsum_requests_in_flight Summaries running on a worker.\n"
    << "# TYPE sealsum_requests_in_flight gauge\n"
    << "sealsum_requests_in_flight " << queue.running << "\n"
    << "# HELP sealsum_queue_rejected_total Summaries refused with 503 because the queue was full.\n"
    << "# TYPE sealsum_queue_rejected_total counter\n"
    << "sealsum_queue_rejected_total " << queue.rejected << "\n";
  return o.str();
}

}  // namespace sealsum::server
