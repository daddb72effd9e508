// WorkQueue: a bounded FIFO of jobs run by a small, fixed pool of worker threads.
//
// The HTTP front end (many connection threads) hands each summarization to submit(); at most
// `capacity` jobs wait, and `workers` run at once. When the queue is full submit() refuses at once
// (the server answers 503 + Retry-After) instead of letting latency and memory grow without bound.
// Two workers keep two cores busy: while one request is in the engine's serialized compute
// section, the other tokenizes / detokenizes / serializes.
//
// Contract: a submitted job runs exactly once, on a worker thread, unless shutdown() is called
// first, in which case queued jobs are still run (drained) before the workers exit; jobs submitted
// after shutdown() are refused. Jobs must not throw (an escaping exception is swallowed and
// counted). The destructor calls shutdown() and joins.
// Thread safety: every member may be called from any thread.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace sealsum::server {

class WorkQueue {
 public:
  using Job = std::function<void()>;
  // workers >= 1, capacity >= 0 (0: a job is accepted only if a worker is idle).
  WorkQueue(size_t workers, size_t capacity);
  ~WorkQueue();
  WorkQueue(const WorkQueue&) = delete;
  WorkQueue& operator=(const WorkQueue&) = delete;

  // True when accepted; false when the queue is full or shut down (the job is not run).
  bool submit(Job job);
  // Stops accepting, runs what is queued, joins the workers. Idempotent.
  void shutdown();

  size_t depth() const;    // jobs waiting (not yet started)
  size_t running() const;  // jobs on a worker now
  size_t capacity() const { return capacity_; }
  size_t workers() const { return threads_.size(); }
  uint64_t rejected() const;

 private:
  void loop();
  const size_t capacity_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Job> jobs_;
  size_t running_ = 0;
  size_t idle_ = 0;
  uint64_t rejected_ = 0;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace sealsum::server
