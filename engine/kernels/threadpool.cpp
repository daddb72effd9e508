// ThreadPool: size()-1 worker threads plus the calling thread.
//
// parallel_for(n, grain, fn) splits [0, n) into c = min(size(), ceil(n / grain)) contiguous chunks
// of near-equal length (chunk i = [i*n/c, (i+1)*n/c)); chunk 0 runs on the caller and chunk i on
// worker i-1. Boundaries and chunk-to-thread assignment depend only on (n, grain, size()), so the
// work each thread does is reproducible. A job is published by bumping a generation counter under
// a mutex; workers spin briefly (decoder steps issue many small jobs back to back) and then block
// on a condition variable. The caller waits for a countdown of finished chunks. An exception thrown
// by fn is captured (the first one wins) and rethrown in the caller after all chunks finished.
#include "engine/kernels/threadpool.h"

#include <sched.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace sealsum::kernels {
namespace {
thread_local bool t_in_parallel = false;  // set while this thread runs a chunk
constexpr int kSpinIterations = 2000;
}  // namespace

int available_cpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) == 0) {
    int c = CPU_COUNT(&set);
    if (c > 0) return c;
  }
  unsigned h = std::thread::hardware_concurrency();
  return h > 0 ? static_cast<int>(h) : 1;
}

struct ThreadPool::Impl {
  int size = 1;
  std::vector<std::thread> workers;

  std::mutex mu;
  std::condition_variable wake;       // workers wait here for a new generation
  std::condition_variable done_cv;    // the caller waits here for pending == 0
  std::atomic<uint64_t> generation{0};
  std::atomic<bool> stop{false};

  // The current job, written by the caller under `mu` (valid while pending > 0).
  const std::function<void(int64_t, int64_t)>* fn = nullptr;
  int64_t n = 0;
  int chunks = 0;
  std::atomic<int> pending{0};
  std::exception_ptr error;
  std::mutex error_mu;

  // Runs chunk i of a job over [0, n) cut into `chunks` pieces.
  void run_chunk(const std::function<void(int64_t, int64_t)>& f, int64_t total, int parts, int i) {
    const int64_t b = static_cast<int64_t>(i) * total / parts;
    const int64_t e = static_cast<int64_t>(i + 1) * total / parts;
    t_in_parallel = true;
    try {
      if (b < e) f(b, e);
    } catch (...) {
      std::lock_guard<std::mutex> lk(error_mu);
      if (!error) error = std::current_exception();
    }
    t_in_parallel = false;
  }

  void worker_main(int index) {  // index >= 1: runs chunk `index` of each job that has one
    uint64_t seen = 0;
    for (;;) {
      for (int s = 0; generation.load(std::memory_order_acquire) == seen && s < kSpinIterations; ++s) {
        std::this_thread::yield();
      }
      // Snapshot the job under the mutex the caller publishes it with, so that generation and
      // parameters always belong to the same job (a worker that sat out one job may wake up only
      // after the next one was published; it then serves that one).
      const std::function<void(int64_t, int64_t)>* job_fn = nullptr;
      int64_t job_n = 0;
      int job_chunks = 0;
      {
        std::unique_lock<std::mutex> lk(mu);
        wake.wait(lk, [&] {
          return stop.load(std::memory_order_acquire) || generation.load(std::memory_order_acquire) != seen;
        });
        if (stop.load(std::memory_order_acquire)) return;
        seen = generation.load(std::memory_order_acquire);
        job_fn = fn;
        job_n = n;
        job_chunks = chunks;
      }
      if (index < job_chunks) {
        run_chunk(*job_fn, job_n, job_chunks, index);
        if (pending.fetch_sub(1, std::memory_order_acq_rel) == 1) {
          std::lock_guard<std::mutex> lk(mu);
          done_cv.notify_one();
        }
      }
    }
  }
};

ThreadPool::ThreadPool(int threads) : impl_(std::make_unique<Impl>()) {
  impl_->size = threads <= 0 ? available_cpus() : threads;
  impl_->workers.reserve(static_cast<size_t>(impl_->size - 1));
  for (int i = 1; i < impl_->size; ++i) {
    impl_->workers.emplace_back([this, i] { impl_->worker_main(i); });
  }
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lk(impl_->mu);
    impl_->stop.store(true, std::memory_order_release);
    impl_->generation.fetch_add(1, std::memory_order_acq_rel);
  }
  impl_->wake.notify_all();
  for (auto& t : impl_->workers) t.join();
}

int ThreadPool::size() const { return impl_->size; }

void ThreadPool::parallel_for(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn) {
  if (n <= 0) return;
  grain = std::max<int64_t>(grain, 1);
  const int64_t want = (n + grain - 1) / grain;
  const int chunks = static_cast<int>(std::min<int64_t>(impl_->size, want));
  if (chunks <= 1 || t_in_parallel) {
    fn(0, n);  // inline: single chunk, or nested call from inside a running chunk
    return;
  }
  Impl& s = *impl_;
  {
    std::lock_guard<std::mutex> lk(s.mu);
    s.fn = &fn;
    s.n = n;
    s.chunks = chunks;
    s.error = nullptr;
    s.pending.store(chunks - 1, std::memory_order_relaxed);
    s.generation.fetch_add(1, std::memory_order_acq_rel);
  }
  s.wake.notify_all();
  s.run_chunk(fn, n, chunks, 0);
  for (int spin = 0; s.pending.load(std::memory_order_acquire) != 0 && spin < kSpinIterations; ++spin) {
    std::this_thread::yield();
  }
  if (s.pending.load(std::memory_order_acquire) != 0) {
    std::unique_lock<std::mutex> lk(s.mu);
    s.done_cv.wait(lk, [&] { return s.pending.load(std::memory_order_acquire) == 0; });
  }
  if (s.error) std::rethrow_exception(s.error);
}

}  // namespace sealsum::kernels
