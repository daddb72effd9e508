// ThreadPool tests: coverage of every index exactly once, deterministic chunk boundaries, inline
// nested calls, exception propagation, sizing from the CPU affinity mask.
#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>
#include <utility>
#include <vector>

#include "engine/kernels/threadpool.h"

using sealsum::kernels::ThreadPool;

namespace {
std::vector<std::pair<int64_t, int64_t>> chunks_of(ThreadPool& pool, int64_t n, int64_t grain) {
  std::mutex mu;
  std::vector<std::pair<int64_t, int64_t>> out;
  pool.parallel_for(n, grain, [&](int64_t b, int64_t e) {
    std::lock_guard<std::mutex> lk(mu);
    out.emplace_back(b, e);
  });
  std::sort(out.begin(), out.end());
  return out;
}
}  // namespace

TEST_CASE("parallel_for covers each index once in contiguous, deterministic chunks", "[threadpool]") {
  for (int threads : {1, 2, 3, 5}) {
    ThreadPool pool(threads);
    REQUIRE(pool.size() == threads);
    for (int64_t n : {1, 2, 3, 7, 64, 1000}) {
      for (int64_t grain : {0, 1, 3, 100}) {
        std::vector<std::atomic<int>> hits(static_cast<size_t>(n));
        pool.parallel_for(n, grain, [&](int64_t b, int64_t e) {
          for (int64_t i = b; i < e; ++i) hits[static_cast<size_t>(i)]++;
        });
        for (int64_t i = 0; i < n; ++i) REQUIRE(hits[static_cast<size_t>(i)].load() == 1);
        const auto c1 = chunks_of(pool, n, grain);
        const auto c2 = chunks_of(pool, n, grain);
        REQUIRE(c1 == c2);
        // Contiguous cover of [0, n), at most size() chunks, none smaller than grain unless n is.
        REQUIRE(c1.front().first == 0);
        REQUIRE(c1.back().second == n);
        for (size_t i = 1; i < c1.size(); ++i) REQUIRE(c1[i].first == c1[i - 1].second);
        REQUIRE(static_cast<int>(c1.size()) <= threads);
        const int64_t g = std::max<int64_t>(grain, 1);
        if (c1.size() > 1) {
          for (auto& c : c1) REQUIRE(c.second - c.first >= std::min<int64_t>(g, n) / 2);
        }
      }
    }
  }
}

TEST_CASE("parallel_for uses several threads and n <= 0 calls nothing", "[threadpool]") {
  ThreadPool pool(2);
  std::mutex mu;
  std::set<std::thread::id> ids;
  pool.parallel_for(2, 1, [&](int64_t, int64_t) {
    std::lock_guard<std::mutex> lk(mu);
    ids.insert(std::this_thread::get_id());
  });
  CHECK(ids.size() == 2);
  int calls = 0;
  pool.parallel_for(0, 1, [&](int64_t, int64_t) { ++calls; });
  pool.parallel_for(-5, 1, [&](int64_t, int64_t) { ++calls; });
  CHECK(calls == 0);
}

TEST_CASE("nested parallel_for runs inline on the calling thread", "[threadpool]") {
  ThreadPool pool(2);
  std::atomic<int> total{0};
  std::atomic<bool> nested_on_other_thread{false};
  pool.parallel_for(2, 1, [&](int64_t b, int64_t e) {
    const auto me = std::this_thread::get_id();
    for (int64_t i = b; i < e; ++i) {
      pool.parallel_for(10, 1, [&](int64_t bb, int64_t ee) {
        if (std::this_thread::get_id() != me) nested_on_other_thread = true;
        if (bb != 0 || ee != 10) nested_on_other_thread = true;  // one inline chunk
        total += static_cast<int>(ee - bb);
      });
    }
  });
  CHECK(total.load() == 20);
  CHECK_FALSE(nested_on_other_thread.load());
}

TEST_CASE("an exception in a chunk reaches the caller and the pool stays usable", "[threadpool]") {
  ThreadPool pool(2);
  CHECK_THROWS_AS(pool.parallel_for(4, 1, [&](int64_t b, int64_t) {
                    if (b >= 2) throw std::runtime_error("chunk failed");
                  }),
                  std::runtime_error);
  std::atomic<int64_t> sum{0};
  pool.parallel_for(100, 1, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) sum += i;
  });
  CHECK(sum.load() == 4950);
}

TEST_CASE("threads <= 0 means one per available CPU", "[threadpool]") {
  CHECK(sealsum::kernels::available_cpus() >= 1);
  ThreadPool a(0), b(-3);
  CHECK(a.size() == sealsum::kernels::available_cpus());
  CHECK(b.size() == sealsum::kernels::available_cpus());
}

TEST_CASE("many back-to-back small jobs complete", "[threadpool]") {
  ThreadPool pool(2);
  int64_t total = 0;
  for (int rep = 0; rep < 2000; ++rep) {
    std::atomic<int64_t> s{0};
    pool.parallel_for(2, 1, [&](int64_t b, int64_t e) { s += e - b; });
    total += s.load();
  }
  CHECK(total == 4000);
}

TEST_CASE("jobs that alternate how many workers take part never run a chunk twice", "[threadpool]") {
  ThreadPool pool(4);
  for (int rep = 0; rep < 3000; ++rep) {
    const int64_t n = 1 + rep % 4;  // 1..4 chunks: some workers sit out some jobs
    std::vector<std::atomic<int>> hits(static_cast<size_t>(n));
    pool.parallel_for(n, 1, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) hits[static_cast<size_t>(i)]++;
    });
    for (int64_t i = 0; i < n; ++i) REQUIRE(hits[static_cast<size_t>(i)].load() == 1);
  }
}
