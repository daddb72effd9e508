// `sealsum batch`: summarize every document of a store (a directory or a blob container,
// document_sources.h) and write each summary next to its document, sealed as the document's
// output policy says. It runs in the TEE like `serve` and reuses its pipeline: DocumentStore
// (key release per key id, authenticated opening, the output policy from the broker or the
// envelope), the Engine, and secure/output_seal.h; there is no HTTP server.
//
// Summary file "<id>.summary.json" (one JSON object, at most kMaxSummaryFileBytes):
//   {"format":"sealsum-summary-v1","document":ID,"summary":TEXT,"truncated":BOOL}
//        when the output policy is plaintext (or absent): the data owner lets whoever reads the
//        store read the summary;
//   {"format":"sealsum-summary-v1","document":ID,"sealed_summary":SEALED}
//        when it is sealed: SEALED is secure/output_seal.h's object with context "document:ID",
//        so `sealsum open-summary --key KEY --document ID FILE` opens it. Nothing else about the
//        summary (no length, token counts or truncation) is written in clear.
//
// Resumable: a document whose summary exists and passes check_summary_file is skipped without
// opening the document (no key release, no engine run). A summary that exists but fails the check
// (e.g. a partial copy made by hand) is redone and replaced. New summaries are stored with
// replace=false (atomic, never overwriting), so two runs racing on one document leave one summary
// and the loser counts it as skipped. A run killed at any point leaves only complete summaries
// under their final names; a rerun writes each missing one once.
//
// Sharding: document `id` belongs to shard shard_of(id, N) = (first 8 bytes of SHA-256(id), big
// endian) mod N, which depends on the id alone: N runs with indexes 0..N-1 partition any store.
//
// Failures: a document that cannot be fetched, opened (key release, authentication, envelope),
// summarized (e.g. over the token limit without truncate) or stored is counted as failed and
// reported through on_failure with its id and a Status whose message names files, ids and checks
// only (common/status.h), never document text; the others go on. Only a store that cannot be
// listed stops the run (the returned Status).
// Secrets: document text stays in the OpenedDocument's SecretBuffer; the summary of a sealed
// policy is wiped from memory once sealed.
// Thread safety: run_batch summarizes up to options.workers documents at once, each on its own
// thread (workers == 1: on the calling thread); with an engine built with batch_decoding their
// decoder steps are shared (engine/step_batcher.h), with identical results. Callbacks are called
// one at a time (under run_batch's lock), from whichever worker thread finished the document, and
// must not throw.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <ostream>
#include <string>
#include <string_view>

#include "common/status.h"
#include "engine/engine.h"
#include "server/serve_documents.h"

namespace sealsum::server {

inline constexpr char kSummaryFormat[] = "sealsum-summary-v1";
inline constexpr size_t kMaxSummaryFileBytes = 2u << 20;
inline constexpr uint32_t kMaxBatchWorkers = 64;

// The shard (0..count-1) of document `id`; count >= 1.
uint32_t shard_of(std::string_view id, uint32_t count);

// Builds the summary file of `id` for `summary` under `policy` (kInternal if sealing fails).
Result<std::string> make_summary_file(const std::string& id, std::string_view summary, bool truncated,
                                      const secure::OutputPolicy& policy);
// OK when `bytes` is a complete summary file of `id` as above: valid JSON, the format, the same
// document id, and either a string "summary" or a well-formed sealed object (a known alg, the
// context "document:ID", iv, tag and ciphertext of the right sizes). The sealed tag cannot be
// checked without the consumer's key. kDataLoss naming what is wrong otherwise. Bounded.
Status check_summary_file(std::string_view bytes, const std::string& id);

struct BatchOptions {
  uint32_t shard_index = 0;
  uint32_t shard_count = 1;
  bool truncate = false;  // summarize the first max_input_tokens of longer documents (else: fail)
  uint32_t workers = 1;   // documents summarized at once, 1..kMaxBatchWorkers
  decoding::GenerationParams params;  // start from engine.default_params()
};

struct BatchProgress {
  size_t total = 0;      // documents in this shard
  size_t processed = 0;  // summaries written by this run
  size_t skipped = 0;    // summaries already there
  size_t failed = 0;
  double elapsed_s = 0;
  size_t done() const { return processed + skipped + failed; }
};

struct BatchCallbacks {
  std::function<void(const BatchProgress&)> on_progress;  // after listing, and after each document
  std::function<void(const std::string& id, const Status& why)> on_failure;
  std::function<void(const std::string& id)> on_replaced;  // an invalid summary was redone
};

// Summarizes this shard's documents of `documents` (summaries read from and stored to
// documents.source()). Returns the final counts; fails only when the store cannot be listed.
Result<BatchProgress> run_batch(DocumentStore& documents, const engine::Engine& engine, const BatchOptions& options,
                                const BatchCallbacks& callbacks = {});

// Progress output for a terminal (a bar redrawn in place, at most every tty_interval) or a log
// (one line every line_interval). finish() prints the summary line. Not thread-safe.
class ProgressPrinter {
 public:
  using Clock = std::chrono::steady_clock;
  ProgressPrinter(std::ostream& out, bool tty, std::chrono::milliseconds line_interval,
                  std::function<Clock::time_point()> now = [] { return Clock::now(); });
  void update(const BatchProgress& p);
  // Ends the bar's line (tty) and prints the final summary line.
  void finish(const BatchProgress& p);
  // Prints a line that must not be overwritten by the bar (e.g. a failure).
  void note(const std::string& line);

  static std::string line(const BatchProgress& p);              // "batch: 3/10 done: ..."
  static std::string bar(const BatchProgress& p, size_t width);  // "[#####     ] 3/10 ..."
  static std::string summary(const BatchProgress& p);

 private:
  std::ostream& out_;
  bool tty_;
  std::chrono::milliseconds interval_;
  std::function<Clock::time_point()> now_;
  Clock::time_point last_{};
  bool printed_ = false;
  bool bar_open_ = false;
};

}  // namespace sealsum::server
