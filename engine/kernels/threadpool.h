// A small fixed-size thread pool for data-parallel loops.
//
// Contract: parallel_for blocks until every chunk has run; chunks are contiguous ranges whose
// boundaries depend only on (n, grain, size()), so results are deterministic for a given pool
// size. Calls from inside a running chunk run inline (no nested parallelism, no deadlock).
// One caller at a time per pool (the engine owns one pool per model instance).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>

namespace sealsum::kernels {

class ThreadPool {
 public:
  // threads <= 0 means "one per available CPU" (sched_getaffinity).
  explicit ThreadPool(int threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const;
  void parallel_for(int64_t n, int64_t grain, const std::function<void(int64_t begin, int64_t end)>& fn);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

int available_cpus();

}  // namespace sealsum::kernels
