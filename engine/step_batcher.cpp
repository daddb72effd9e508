#include "engine/step_batcher.h"

#include <utility>

namespace sealsum::engine {

class StepBatcher::Attached final : public models::DecoderSession {
 public:
  Attached(StepBatcher& b, models::DecoderSession& inner) : b_(b), inner_(inner) {}
  ~Attached() override { b_.detach(); }
  int64_t vocab_size() const override { return inner_.vocab_size(); }
  int64_t rows() const override { return inner_.rows(); }
  Status step(std::span<const int32_t> tokens, float* logits) override { return b_.step(inner_, tokens, logits); }
  Status reorder(std::span<const int32_t> src) override { return inner_.reorder(src); }

 private:
  StepBatcher& b_;
  models::DecoderSession& inner_;
};

std::unique_ptr<models::DecoderSession> StepBatcher::attach(models::DecoderSession& inner) {
  std::lock_guard<std::mutex> lk(mu_);
  ++attached_;
  return std::make_unique<Attached>(*this, inner);
}

void StepBatcher::detach() {
  std::lock_guard<std::mutex> lk(mu_);
  --attached_;
  cv_.notify_all();  // the others may now all be waiting
}

int64_t StepBatcher::attached() const {
  std::lock_guard<std::mutex> lk(mu_);
  return attached_;
}

int64_t StepBatcher::batches() const {
  std::lock_guard<std::mutex> lk(mu_);
  return batches_;
}

int64_t StepBatcher::steps_shared() const {
  std::lock_guard<std::mutex> lk(mu_);
  return steps_shared_;
}

double StepBatcher::mean_sessions_per_batch() const {
  std::lock_guard<std::mutex> lk(mu_);
  return batches_ > 0 ? static_cast<double>(steps_shared_) / static_cast<double>(batches_) : 0.0;
}

Status StepBatcher::step(models::DecoderSession& session, std::span<const int32_t> tokens, float* logits) {
  Request req{&session, tokens, logits, Status::ok()};
  std::unique_lock<std::mutex> lk(mu_);
  pending_.push_back(&req);
  cv_.notify_all();
  while (!req.done) {
    // Every attached session is waiting (it cannot step twice at once, so pending_ holds each at
    // most once): run them all. Whoever sees it first runs the batch; the others wait for it.
    if (!running_ && static_cast<int64_t>(pending_.size()) >= attached_) {
      run_batch(lk);
      continue;
    }
    cv_.wait(lk);
  }
  return std::move(req.status);
}

void StepBatcher::run_batch(std::unique_lock<std::mutex>& lk) {
  std::vector<Request*> batch;
  batch.swap(pending_);
  running_ = true;
  lk.unlock();
  std::vector<models::DecoderSession*> sessions;
  std::vector<std::span<const int32_t>> tokens;
  std::vector<float*> logits;
  for (const Request* r : batch) {
    sessions.push_back(r->session);
    tokens.push_back(r->tokens);
    logits.push_back(r->logits);
  }
  {
    std::lock_guard<std::mutex> pool_lock(pool_mu_);
    Status st = models::step_sessions(sessions, tokens, logits, pool_);
    if (st.is_ok() || batch.size() == 1) {
      for (Request* r : batch) r->status = st;
    } else {  // someone's step is refused: each gets its own answer (a refused step changes nothing)
      for (size_t i = 0; i < batch.size(); ++i) {
        batch[i]->status = models::step_sessions(std::span<models::DecoderSession* const>(&sessions[i], 1),
                                                 std::span<const std::span<const int32_t>>(&tokens[i], 1),
                                                 std::span<float* const>(&logits[i], 1), pool_);
      }
    }
  }
  lk.lock();
  for (Request* r : batch) r->done = true;
  running_ = false;
  ++batches_;
  steps_shared_ += static_cast<int64_t>(batch.size());
  cv_.notify_all();
}

}  // namespace sealsum::engine
