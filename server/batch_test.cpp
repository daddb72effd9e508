// `sealsum batch` core (batch.h): shard assignment, the summary file and its completeness check,
// resumable runs over a directory store (no summary rewritten), a corrupt document failing alone,
// sharded runs partitioning the store, several workers sharing decoder steps, atomic summary writes, and the progress output. The blob
// container runs are in batch_blob_test.cpp.
#include "server/batch.h"

#include <sys/stat.h>

#include <catch2/catch.hpp>

#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "common/encoding.h"
#include "secure/sealed.h"
#include "server/batch_testutil.h"
#include "server/serve_testutil.h"

using namespace sealsum;
using namespace sealsum::server;
using namespace sealsum::server::testutil;
using json = nlohmann::json;
namespace fs = std::filesystem;

namespace {

struct FileId {
  ino_t ino;
  struct timespec mtime;
  bool operator==(const FileId& o) const {
    return ino == o.ino && mtime.tv_sec == o.mtime.tv_sec && mtime.tv_nsec == o.mtime.tv_nsec;
  }
};
FileId file_id(const fs::path& p) {
  struct stat st {};
  REQUIRE(::stat(p.c_str(), &st) == 0);
  return {st.st_ino, st.st_mtim};
}

std::string read_all(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

}  // namespace

TEST_CASE("batch: shard_of is SHA-256 based, stable, and partitions any set of ids", "[batch]") {
  // Reference values from Python: int.from_bytes(sha256(id).digest()[:8], "big") % n.
  CHECK(shard_of("memo", 1000) == 831);
  CHECK(shard_of("board", 1000) == 957);
  CHECK(shard_of("contract-7", 97) == 16);
  CHECK(shard_of("doc-17", 1000) == 519);
  CHECK(shard_of("anything", 1) == 0);
  for (uint32_t n : {2u, 3u, 5u}) {
    std::vector<size_t> per(n, 0);
    for (int i = 0; i < 300; ++i) {
      const uint32_t s = shard_of("doc-" + std::to_string(i), n);
      REQUIRE(s < n);
      ++per[s];
    }
    for (size_t c : per) CHECK(c > 300 / n / 2);  // every shard gets a fair part
  }
}

TEST_CASE("batch: summary files are checked for completeness; sealed ones open for the consumer", "[batch]") {
  BatchFixture f("summary-files");
  auto plain = make_summary_file("memo", "a short summary", false, {});
  REQUIRE(plain.ok());
  CHECK(check_summary_file(*plain, "memo").is_ok());
  CHECK(check_summary_file(*plain, "board").code() == Code::kDataLoss);
  auto sealed = make_summary_file("board", "the board summary", false, f.sealed_policy());
  REQUIRE(sealed.ok());
  CHECK(sealed->find("the board summary") == std::string::npos);
  CHECK(sealed->find("truncated") == std::string::npos);
  CHECK(check_summary_file(*sealed, "board").is_ok());
  CHECK(check_summary_file(*sealed, "memo").code() == Code::kDataLoss);
  auto opened = f.consumer.open(json::parse(*sealed)["sealed_summary"], "document:board");
  REQUIRE(opened.ok());
  CHECK(std::string(reinterpret_cast<const char*>(opened->data()), opened->size()) == "the board summary");
  // Every strict prefix (a partial copy) is refused.
  for (const std::string* file : {&*plain, &*sealed}) {
    const std::string trimmed = file->substr(0, file->size() - 1);  // without the final newline
    for (size_t n = 0; n < trimmed.size(); ++n) {
      INFO(n);
      CHECK(!check_summary_file(trimmed.substr(0, n), file == &*plain ? "memo" : "board").is_ok());
    }
  }
  json bad = json::parse(*sealed);
  bad["sealed_summary"]["tag"] = "AAAA";
  CHECK(!check_summary_file(bad.dump(), "board").is_ok());
  bad = json::parse(*sealed);
  bad["sealed_summary"]["context"] = "document:other";
  CHECK(!check_summary_file(bad.dump(), "board").is_ok());
  bad = json::parse(*sealed);
  bad["format"] = "other";
  CHECK(!check_summary_file(bad.dump(), "board").is_ok());
  CHECK(!check_summary_file(R"({"format":"sealsum-summary-v1","document":"memo","summary":7})", "memo").is_ok());
  CHECK(!check_summary_file(std::string(kMaxSummaryFileBytes + 1, ' '), "memo").is_ok());
}

TEST_CASE("batch: a directory store is summarized once; reruns skip; a corrupt document fails alone", "[batch]") {
  BatchFixture f("dir-run");
  f.add_documents(f.dir);
  f.add_corrupt(f.dir, "broken");
  std::vector<std::pair<std::string, Status>> failures;
  BatchCallbacks cb;
  cb.on_failure = [&](const std::string& id, const Status& st) { failures.emplace_back(id, st); };
  auto store = f.store(directory_source(f.dir));
  auto r = run_batch(*store, tiny_engine(), f.options(), cb);
  REQUIRE(r.ok());
  CHECK(r->total == f.texts.size() + 1);
  CHECK(r->processed == f.texts.size());
  CHECK(r->skipped == 0);
  CHECK(r->failed == 1);
  REQUIRE(failures.size() == 1);
  CHECK(failures[0].first == "broken");
  const std::string why = failures[0].second.to_string();
  CHECK(why.find("broken") != std::string::npos);
  CHECK(why.find("authentic") != std::string::npos);
  CHECK(why.find(f.corrupt_text) == std::string::npos);
  CHECK(!fs::exists(f.dir / ("broken" + std::string(kSummarySuffix))));
  std::map<std::string, FileId> ids;
  for (const auto& [id, text] : f.texts) {
    const fs::path p = f.dir / (id + kSummarySuffix);
    const std::string file = read_all(p);
    CHECK(check_summary_file(file, id).is_ok());
    CHECK(f.summary_of(file, id) == f.expected_summary(text));
    if (id == "board") CHECK(file.find("sealed_summary") != std::string::npos);
    ids[id] = file_id(p);
  }
  for (const auto& e : fs::directory_iterator(f.dir)) CHECK(e.path().filename().string().find(".tmp-") == std::string::npos);

  // Rerun: nothing rewritten. A partial summary (a prefix) is redone; a leftover temp file is ignored.
  const fs::path memo = f.dir / (std::string("memo") + kSummarySuffix);
  const std::string good = read_all(memo);
  std::ofstream(memo, std::ios::trunc) << good.substr(0, good.size() / 2);
  std::ofstream(f.dir / ".cargo.summary.json.tmp-1-0") << "{\"format\"";
  std::vector<std::string> replaced;
  cb.on_replaced = [&](const std::string& id) { replaced.push_back(id); };
  failures.clear();
  auto again = f.store(directory_source(f.dir));
  auto r2 = run_batch(*again, tiny_engine(), f.options(), cb);
  REQUIRE(r2.ok());
  CHECK(r2->processed == 1);
  CHECK(r2->skipped == f.texts.size() - 1);
  CHECK(r2->failed == 1);
  CHECK(replaced == std::vector<std::string>{"memo"});
  CHECK(check_summary_file(read_all(memo), "memo").is_ok());
  for (const auto& [id, fid] : ids) {
    if (id != "memo") CHECK(file_id(f.dir / (id + kSummarySuffix)) == fid);
  }
  CHECK(f.releases.load() > 0);
}

TEST_CASE("batch: shards 0..N-1 summarize every document exactly once", "[batch]") {
  BatchFixture f("shards");
  f.add_documents(f.dir);
  BatchOptions o = f.options();
  o.shard_count = 3;
  size_t processed = 0;
  std::set<std::string> seen;
  for (uint32_t i = 0; i < o.shard_count; ++i) {
    o.shard_index = i;
    auto store = f.store(directory_source(f.dir));
    const auto before = std::set<fs::path>(fs::directory_iterator(f.dir), fs::directory_iterator());
    auto r = run_batch(*store, tiny_engine(), o);
    REQUIRE(r.ok());
    CHECK(r->skipped == 0);
    CHECK(r->failed == 0);
    processed += r->processed;
    for (const auto& e : fs::directory_iterator(f.dir)) {
      if (before.count(e.path()) == 0) {
        const std::string name = e.path().filename().string();
        const std::string id = name.substr(0, name.size() - std::string(kSummarySuffix).size());
        CHECK(shard_of(id, o.shard_count) == i);
        CHECK(seen.insert(id).second);
      }
    }
  }
  CHECK(processed == f.texts.size());
  CHECK(seen.size() == f.texts.size());
  o.shard_index = 3;
  auto store = f.store(directory_source(f.dir));
  CHECK(run_batch(*store, tiny_engine(), o).status().code() == Code::kInvalidArgument);
}

TEST_CASE("batch: several workers share decoder steps and write the same summaries as one", "[batch]") {
  BatchFixture f("workers");
  f.add_documents(f.dir);
  f.add_corrupt(f.dir, "broken");
  auto loaded = engine::Engine::load(tiny_t5_path(), {.threads = 1, .batch_decoding = true});
  REQUIRE(loaded.ok());
  const engine::Engine& batching = **loaded;
  BatchOptions o = f.options();
  o.workers = 3;
  o.params.min_length = o.params.max_length = 120;  // long enough searches that they overlap
  o.params.no_repeat_ngram_size = 0;
  std::vector<size_t> done;  // progress callbacks, in call order
  std::vector<std::string> failures;
  BatchCallbacks cb;
  cb.on_progress = [&](const BatchProgress& p) { done.push_back(p.done()); };
  cb.on_failure = [&](const std::string& id, const Status&) { failures.push_back(id); };
  auto store = f.store(directory_source(f.dir));
  auto r = run_batch(*store, batching, o, cb);
  REQUIRE(r.ok());
  CHECK(r->processed == f.texts.size());
  CHECK(r->failed == 1);
  CHECK(failures == std::vector<std::string>{"broken"});
  // One callback after listing and one per document, never two at once: the counts go 0, 1, ..., N.
  REQUIRE(done.size() == f.texts.size() + 2);
  for (size_t i = 0; i < done.size(); ++i) CHECK(done[i] == i);
  for (const auto& [id, text] : f.texts) {
    auto alone = tiny_engine().summarize(text, o.params);  // one at a time, no batcher
    REQUIRE(alone.ok());
    CHECK(f.summary_of(read_all(f.dir / (id + kSummarySuffix)), id) == alone->text);
  }
  REQUIRE(batching.batcher() != nullptr);
  CHECK(batching.batcher()->batches() > 0);  // the steps went through the step batcher
  INFO("mean sessions per shared step: " << batching.batcher()->mean_sessions_per_batch());

  o.workers = 0;
  CHECK(run_batch(*store, batching, o).status().code() == Code::kInvalidArgument);
  o.workers = kMaxBatchWorkers + 1;
  CHECK(run_batch(*store, batching, o).status().code() == Code::kInvalidArgument);
}

TEST_CASE("batch: directory summaries are stored atomically, never overwriting unless told", "[batch]") {
  BatchFixture f("store-summary");
  auto src = directory_source(f.dir);
  auto absent = src->fetch_summary("x", 1024);
  REQUIRE(absent.ok());
  CHECK(!absent->has_value());
  auto w = src->store_summary("x", "first", false);
  REQUIRE(w.ok());
  CHECK(*w);
  auto w2 = src->store_summary("x", "second", false);
  REQUIRE(w2.ok());
  CHECK(!*w2);
  CHECK(read_all(f.dir / "x.summary.json") == "first");
  auto w3 = src->store_summary("x", "third", true);
  REQUIRE(w3.ok());
  CHECK(*w3);
  auto got = src->fetch_summary("x", 1024);
  REQUIRE(got.ok());
  CHECK(got->value() == "third");
  CHECK(src->fetch_summary("x", 3).status().code() == Code::kResourceExhausted);
  CHECK(src->store_summary("../x", "no", false).status().code() == Code::kInvalidArgument);
  size_t files = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(f.dir)) ++files;
  CHECK(files == 1);  // no temporary file left behind
  auto gone = directory_source(f.dir / "missing")->store_summary("x", "y", false);
  CHECK(gone.status().code() == Code::kUnavailable);
}

TEST_CASE("batch: progress is a bar on a terminal, periodic lines otherwise, and a summary", "[batch]") {
  ProgressPrinter::Clock::time_point t{};
  std::ostringstream log;
  ProgressPrinter lines(log, false, std::chrono::seconds(10), [&] { return t; });
  BatchProgress p;
  p.total = 4;
  lines.update(p);
  p.processed = 1;
  t += std::chrono::seconds(5);
  lines.update(p);  // within the interval: nothing
  p.skipped = 1;
  p.elapsed_s = 12;
  t += std::chrono::seconds(6);
  lines.update(p);
  lines.note("batch: FAILED \"x\": data_loss: bad");
  p.failed = 2;
  p.elapsed_s = 16;
  lines.finish(p);
  CHECK(log.str() == "batch: 0/4 done: 0 processed, 0 skipped, 0 failed, 0.00 docs/s\n"
                     "batch: 2/4 done: 1 processed, 1 skipped, 0 failed, 0.17 docs/s\n"
                     "batch: FAILED \"x\": data_loss: bad\n"
                     "batch: finished: 1 processed, 1 skipped, 2 failed, 4 total in 16.0 s (0.25 docs/s)\n");
  CHECK(log.str().find('\r') == std::string::npos);

  std::ostringstream tty;
  ProgressPrinter bar(tty, true, std::chrono::seconds(10), [&] { return t; });
  bar.update(p);
  CHECK(tty.str().rfind("\r[##############################] 4/4 (1 new, 1 skipped, 2 failed)", 0) == 0);
  CHECK(ProgressPrinter::bar(BatchProgress{10, 3, 2, 0, 1.0}, 10) == "[#####     ] 5/10 (3 new, 2 skipped, 0 failed) 5.00 docs/s");
}
