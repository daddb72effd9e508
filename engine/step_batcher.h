// StepBatcher: the decode scheduler that lets concurrent requests share decoder steps.
//
// Each request runs its own search (greedy or beam, engine/decoding) on its own thread, through a
// session attach() returns. A step() of an attached session waits until every attached session
// has asked for its next step, then one of the waiting threads runs all of them as one
// models::step_sessions call: every weight matrix is read once for all rows of all requests, while
// attention runs per request against its own caches and encoder output (its own input length and
// position). So a request joins at the next step after it attaches (its encoder ran before, while
// the others decoded), leaves when its search ends (the attached session is destroyed), and gets
// exactly the logits it would get alone: results are bit-identical to running alone.
//
// Failure: a batch that step_sessions refuses (e.g. one request's token is out of the vocabulary)
// is rerun session by session, so each request gets its own step()'s error and the others go on.
//
// Thread safety: attach(), the attached sessions' step() (each session from one thread at a time,
// as any DecoderSession) and the counters may be called from any thread. The batcher must outlive
// the sessions attach() returns; an attached session must keep stepping or be destroyed (a thread
// that holds one without stepping stalls the others' steps). The pool runs one batch at a time,
// under `pool_mu` (shared with whoever else uses the pool, e.g. encoders).
#pragma once

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <vector>

#include "common/status.h"
#include "engine/kernels/threadpool.h"
#include "engine/models/seq2seq.h"

namespace sealsum::engine {

class StepBatcher {
 public:
  // pool: the compute threads batches run on (nullptr: the stepping thread alone); pool_mu is held
  // while a batch runs on it. Both must outlive the batcher.
  StepBatcher(kernels::ThreadPool* pool, std::mutex& pool_mu) : pool_(pool), pool_mu_(pool_mu) {}
  StepBatcher(const StepBatcher&) = delete;
  StepBatcher& operator=(const StepBatcher&) = delete;

  // `inner` (a model's decoder session, which must outlive the result) stepping through this
  // batcher; rows(), vocab_size() and reorder() are inner's. Attached until the result is destroyed.
  std::unique_ptr<models::DecoderSession> attach(models::DecoderSession& inner);

  int64_t attached() const;
  // Batches run, and session-steps run in them.
  int64_t batches() const;
  int64_t steps_shared() const;
  // steps_shared() / batches() from one snapshot of the two counters (0 before the first batch).
  double mean_sessions_per_batch() const;

 private:
  class Attached;
  struct Request {
    models::DecoderSession* session;
    std::span<const int32_t> tokens;
    float* logits;
    Status status;
    bool done = false;
  };
  Status step(models::DecoderSession& session, std::span<const int32_t> tokens, float* logits);
  void detach();
  // Runs pending_ (called with lk held, by a waiting thread; unlocks while computing).
  void run_batch(std::unique_lock<std::mutex>& lk);

  kernels::ThreadPool* pool_;
  std::mutex& pool_mu_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Request*> pending_;
  int64_t attached_ = 0;
  bool running_ = false;
  int64_t batches_ = 0, steps_shared_ = 0;
};

}  // namespace sealsum::engine
