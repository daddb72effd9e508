// WorkQueue (see queue.h).
#include "server/queue.h"

namespace sealsum::server {

WorkQueue::WorkQueue(size_t workers, size_t capacity) : capacity_(capacity) {
  if (workers == 0) workers = 1;
  // Workers are idle from here on, not from when their threads first wait: with capacity 0 a job
  // submitted right after construction must find one (it waits in jobs_ for the thread to start).
  idle_ = workers;
  threads_.reserve(workers);
  for (size_t i = 0; i < workers; ++i) threads_.emplace_back([this] { loop(); });
}

WorkQueue::~WorkQueue() { shutdown(); }

bool WorkQueue::submit(Job job) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    // A job may wait only if the waiting room has space; with capacity 0 it must find an idle worker.
    const size_t free_workers = idle_ > jobs_.size() ? idle_ - jobs_.size() : 0;
    if (stopping_ || (jobs_.size() >= capacity_ && free_workers == 0)) {
      ++rejected_;
      return false;
    }
    jobs_.push_back(std::move(job));
  }
  cv_.notify_one();
  return true;
}

void WorkQueue::shutdown() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_ && threads_.empty()) return;
    stopping_ = true;
  }
  cv_.notify_all();
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
  std::lock_guard<std::mutex> lock(mu_);
  threads_.clear();
}

void WorkQueue::loop() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {  // idle_ counts this worker on entry (constructor) and after each job
    cv_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
    --idle_;
    if (jobs_.empty()) return;  // stopping and drained
    Job job = std::move(jobs_.front());
    jobs_.pop_front();
    ++running_;
    lock.unlock();
    try {
      job();
    } catch (...) {
      // Contract: jobs do not throw; one that does must not take the worker down.
    }
    lock.lock();
    --running_;
    ++idle_;
  }
}

size_t WorkQueue::depth() const {
  std::lock_guard<std::mutex> lock(mu_);
  return jobs_.size();
}

size_t WorkQueue::running() const {
  std::lock_guard<std::mutex> lock(mu_);
  return running_;
}

uint64_t WorkQueue::rejected() const {
  std::lock_guard<std::mutex> lock(mu_);
  return rejected_;
}

}  // namespace sealsum::server
