// `sealsum batch` core (see batch.h).
#include "server/batch.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "secure/digest.h"
#include "common/encoding.h"
#include "secure/secret_buffer.h"

namespace sealsum::server {
namespace {

using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

std::string context_for(const std::string& id) { return "document:" + id; }

// The decoded size of base64url member `name` of `obj`, checked against [min, max].
Status check_b64_member(const json& obj, const char* name, size_t min, size_t max) {
  auto it = obj.find(name);
  if (it == obj.end() || !it->is_string()) return data_loss(std::string("sealed_summary has no \"") + name + "\"");
  auto bytes = encoding::base64_decode(it->get_ref<const std::string&>(), name);
  if (!bytes.ok()) return data_loss(std::string("sealed_summary \"") + name + "\" is not base64url");
  if (bytes->size() < min || bytes->size() > max) {
    return data_loss(std::string("sealed_summary \"") + name + "\" has " + std::to_string(bytes->size()) + " bytes");
  }
  return Status::ok();
}

std::string rate(const BatchProgress& p) {
  char buf[32];
  const double r = p.elapsed_s > 0 ? static_cast<double>(p.done()) / p.elapsed_s : 0.0;
  std::snprintf(buf, sizeof buf, "%.2f docs/s", r);
  return buf;
}

}  // namespace

uint32_t shard_of(std::string_view id, uint32_t count) {
  if (count <= 1) return 0;
  const secure::Digest256 d = secure::sha256(encoding::as_bytes(id));
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | d[static_cast<size_t>(i)];
  return static_cast<uint32_t>(v % count);
}

Result<std::string> make_summary_file(const std::string& id, std::string_view summary, bool truncated,
                                      const secure::OutputPolicy& policy) {
  json out = {{"format", kSummaryFormat}, {"document", id}};
  if (policy.sealed) {
    auto sealed = secure::seal_output(policy, encoding::as_bytes(summary), context_for(id));
    if (!sealed.ok()) return sealed.status().with_context("sealing the summary of \"" + id + "\"");
    out["sealed_summary"] = std::move(sealed).value();
  } else {
    out["summary"] = std::string(summary);
    out["truncated"] = truncated;
  }
  std::string text = out.dump(-1, ' ', false, json::error_handler_t::replace);
  text += '\n';
  if (text.size() > kMaxSummaryFileBytes) return internal_error("the summary of \"" + id + "\" exceeds the file limit");
  return text;
}

Status check_summary_file(std::string_view bytes, const std::string& id) {
  if (bytes.size() > kMaxSummaryFileBytes) return data_loss("the summary file is larger than the limit");
  const json j = json::parse(bytes, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return data_loss("the summary file is not complete JSON");
  auto str = [&j](const char* name) -> const std::string* {
    auto it = j.find(name);
    return it != j.end() && it->is_string() ? &it->get_ref<const std::string&>() : nullptr;
  };
  if (const std::string* f = str("format"); f == nullptr || *f != kSummaryFormat) {
    return data_loss("the summary file has no \"format\":\"" + std::string(kSummaryFormat) + "\"");
  }
  if (const std::string* d = str("document"); d == nullptr || *d != id) {
    return data_loss("the summary file names another document");
  }
  if (j.contains("summary")) {
    if (!j["summary"].is_string()) return data_loss("the summary file's \"summary\" is not a string");
    return Status::ok();
  }
  auto s = j.find("sealed_summary");
  if (s == j.end() || !s->is_object()) return data_loss("the summary file has neither \"summary\" nor \"sealed_summary\"");
  auto member = [&s](const char* name) -> std::string {
    auto it = s->find(name);
    return it != s->end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  const std::string alg = member("alg");
  if (alg != secure::kOutputAlgX25519 && alg != secure::kOutputAlgRsa) {
    return data_loss("sealed_summary has an unknown \"alg\"");
  }
  if (member("context") != context_for(id)) return data_loss("sealed_summary is bound to another context");
  if (member("consumer").empty()) return data_loss("sealed_summary names no consumer");
  SEALSUM_RETURN_IF_ERROR(check_b64_member(*s, "iv", 12, 12));
  SEALSUM_RETURN_IF_ERROR(check_b64_member(*s, "tag", 16, 16));
  SEALSUM_RETURN_IF_ERROR(check_b64_member(*s, "ciphertext", 1, secure::kMaxSealedOutputBytes));
  if (alg == secure::kOutputAlgX25519) return check_b64_member(*s, "epk", 32, 32);
  return check_b64_member(*s, "encrypted_key", 256, 1024);
}

namespace {

enum class Outcome { kWritten, kReplaced, kSkipped };

// One document: written (kReplaced: over an invalid summary), skipped, or the reason it failed.
Result<Outcome> process_one(DocumentStore& documents, const engine::Engine& engine, const BatchOptions& o,
                            const std::string& id) {
  const DocumentSource& store = documents.source();
  SEALSUM_ASSIGN_OR_RETURN(std::optional<std::string> existing, store.fetch_summary(id, kMaxSummaryFileBytes));
  bool replace = false;
  if (existing) {
    if (check_summary_file(*existing, id).is_ok()) return Outcome::kSkipped;
    replace = true;
  }
  SEALSUM_ASSIGN_OR_RETURN(OpenedDocument doc, documents.open(id));
  bool truncated = false;
  engine.prepare_input(doc.text(), &truncated);
  if (truncated && !o.truncate) {
    return invalid_argument("document \"" + id + "\" has more than " + std::to_string(engine.max_input_tokens()) +
                            " tokens (rerun with --truncate to summarize its beginning)");
  }
  auto s = engine.summarize(doc.text(), o.params);
  if (!s.ok()) return s.status().with_context("summarizing document \"" + id + "\"");
  auto file = make_summary_file(id, s->text, s->truncated, doc.output);
  secure::wipe(s->text.data(), s->text.size());
  if (!file.ok()) return file.status();
  auto stored = store.store_summary(id, *file, replace);
  if (!doc.output.sealed) secure::wipe(file->data(), file->size());
  if (!stored.ok()) return stored.status();
  if (!*stored) return Outcome::kSkipped;  // another run stored it first
  return replace ? Outcome::kReplaced : Outcome::kWritten;
}

}  // namespace

Result<BatchProgress> run_batch(DocumentStore& documents, const engine::Engine& engine, const BatchOptions& o,
                                const BatchCallbacks& cb) {
  if (o.shard_count == 0 || o.shard_index >= o.shard_count) {
    return invalid_argument("shard index " + std::to_string(o.shard_index) + " is not below the shard count " +
                            std::to_string(o.shard_count));
  }
  if (o.workers == 0 || o.workers > kMaxBatchWorkers) {
    return invalid_argument("workers must be 1.." + std::to_string(kMaxBatchWorkers) + ", not " +
                            std::to_string(o.workers));
  }
  const auto start = Clock::now();
  auto listed = documents.list();
  if (!listed.ok()) return listed.status().with_context("listing " + documents.source().describe());
  std::vector<std::string> mine;
  for (const std::string& id : *listed) {
    if (shard_of(id, o.shard_count) == o.shard_index) mine.push_back(id);
  }
  BatchProgress p;
  p.total = mine.size();
  std::mutex mu;  // guards p, next and every callback
  size_t next = 0;
  auto tick = [&] {
    p.elapsed_s = std::chrono::duration<double>(Clock::now() - start).count();
    if (cb.on_progress) cb.on_progress(p);
  };
  tick();
  // Each worker takes the next document until none is left; the counts and callbacks of a finished
  // document are applied under `mu`.
  auto work = [&] {
    for (;;) {
      size_t i = 0;
      {
        std::lock_guard<std::mutex> lock(mu);
        if (next == mine.size()) return;
        i = next++;
      }
      const std::string& id = mine[i];
      Result<Outcome> r = internal_error("document \"" + id + "\" failed unexpectedly");
      try {
        r = process_one(documents, engine, o, id);
      } catch (const std::exception&) {
        // r keeps its generic message: exception texts are not vetted to be free of document text.
      }
      std::lock_guard<std::mutex> lock(mu);
      if (!r.ok()) {
        ++p.failed;
        if (cb.on_failure) cb.on_failure(id, r.status());
      } else if (*r == Outcome::kSkipped) {
        ++p.skipped;
      } else {
        ++p.processed;
        if (*r == Outcome::kReplaced && cb.on_replaced) cb.on_replaced(id);
      }
      tick();
    }
  };
  const size_t n = std::min<size_t>(o.workers, mine.size());
  if (n <= 1) {
    work();
  } else {
    std::vector<std::thread> threads;
    threads.reserve(n);
    for (size_t w = 0; w < n; ++w) threads.emplace_back(work);
    for (auto& t : threads) t.join();
  }
  return p;
}

ProgressPrinter::ProgressPrinter(std::ostream& out, bool tty, std::chrono::milliseconds line_interval,
                                 std::function<Clock::time_point()> now)
    : out_(out), tty_(tty), interval_(line_interval), now_(std::move(now)) {}

std::string ProgressPrinter::line(const BatchProgress& p) {
  return "batch: " + std::to_string(p.done()) + "/" + std::to_string(p.total) + " done: " +
         std::to_string(p.processed) + " processed, " + std::to_string(p.skipped) + " skipped, " +
         std::to_string(p.failed) + " failed, " + rate(p);
}

std::string ProgressPrinter::bar(const BatchProgress& p, size_t width) {
  const size_t filled = p.total == 0 ? width : std::min(width, p.done() * width / p.total);
  return "[" + std::string(filled, '#') + std::string(width - filled, ' ') + "] " + std::to_string(p.done()) + "/" +
         std::to_string(p.total) + " (" + std::to_string(p.processed) + " new, " + std::to_string(p.skipped) +
         " skipped, " + std::to_string(p.failed) + " failed) " + rate(p);
}

std::string ProgressPrinter::summary(const BatchProgress& p) {
  char secs[32];
  std::snprintf(secs, sizeof secs, "%.1f", p.elapsed_s);
  return "batch: finished: " + std::to_string(p.processed) + " processed, " + std::to_string(p.skipped) +
         " skipped, " + std::to_string(p.failed) + " failed, " + std::to_string(p.total) + " total in " + secs +
         " s (" + rate(p) + ")";
}

void ProgressPrinter::update(const BatchProgress& p) {
  const auto t = now_();
  // A terminal is redrawn at most every 100 ms; a log gets a line per interval (and the first).
  const auto every = tty_ ? std::chrono::milliseconds(100) : interval_;
  const bool last_document = p.done() == p.total;
  if (printed_ && t - last_ < every && !(tty_ && last_document)) return;
  last_ = t;
  printed_ = true;
  if (tty_) {
    out_ << '\r' << bar(p, 30) << "\x1b[K" << std::flush;
    bar_open_ = true;
  } else {
    out_ << line(p) << '\n' << std::flush;
  }
}

void ProgressPrinter::note(const std::string& text) {
  if (bar_open_) out_ << "\r\x1b[K";
  out_ << text << '\n' << std::flush;
  if (bar_open_) printed_ = false;  // redraw the bar at the next update
}

void ProgressPrinter::finish(const BatchProgress& p) {
  if (tty_) {
    out_ << '\r' << bar(p, 30) << "\x1b[K\n";
    bar_open_ = false;
  }
  out_ << summary(p) << '\n' << std::flush;
}

}  // namespace sealsum::server
