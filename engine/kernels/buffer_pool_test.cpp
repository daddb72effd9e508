// Buffer pool tests: reuse without new mappings, wiping, carving and merging, disjoint and intact
// buffers under random and concurrent use, and aligned_floats' routing between heap and pool.
#include "engine/kernels/buffer_pool.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cstring>
#include <random>
#include <thread>
#include <vector>

#include "engine/kernels/kernels.h"

namespace {

using sealsum::kernels::aligned_floats;
using sealsum::kernels::AlignedFloats;
using sealsum::kernels::detail::pool_give;
using sealsum::kernels::detail::pool_stats;
using sealsum::kernels::detail::pool_take;

constexpr size_t kMiB = size_t{1} << 20;

bool all_zero(const unsigned char* p, size_t n) {
  return std::all_of(p, p + n, [](unsigned char c) { return c == 0; });
}

struct Block {
  unsigned char* p;
  size_t bytes;
  unsigned char tag;
};

}  // namespace

TEST_CASE("buffer pool: a returned buffer is wiped and carved again, without mapping more", "[kernels][pool]") {
  const auto before = pool_stats();
  auto* a = static_cast<unsigned char*>(pool_take(3 * kMiB + 5));
  REQUIRE(reinterpret_cast<uintptr_t>(a) % 4096 == 0);
  REQUIRE(all_zero(a, 3 * kMiB + 5));
  std::memset(a, 0xAB, 3 * kMiB + 5);  // document-derived data
  pool_give(a, 3 * kMiB + 5);
  const auto mid = pool_stats();
  CHECK(mid.idle_bytes >= 3 * kMiB);
  // The same shape again reuses memory: no new region, and it comes back zeroed.
  auto* b = static_cast<unsigned char*>(pool_take(3 * kMiB + 5));
  CHECK(pool_stats().regions_mapped == mid.regions_mapped);
  CHECK(all_zero(b, 3 * kMiB + 5));
  // Smaller buffers are carved from what a larger one left (encoder scratch -> decoder buffers).
  pool_give(b, 3 * kMiB + 5);
  auto* c = static_cast<unsigned char*>(pool_take(kMiB));
  auto* d = static_cast<unsigned char*>(pool_take(kMiB));
  CHECK(pool_stats().regions_mapped == mid.regions_mapped);
  CHECK((c + kMiB <= d || d + kMiB <= c));
  CHECK(all_zero(c, kMiB));
  CHECK(all_zero(d, kMiB));
  pool_give(c, kMiB);
  pool_give(d, kMiB);
  CHECK(pool_stats().mapped_bytes >= before.mapped_bytes);
}

TEST_CASE("buffer pool: returned neighbours merge on either side", "[kernels][pool]") {
  // 20 MiB pieces: larger than any idle range the other tests leave, so best fit carves all three
  // from the 64 MiB range.
  const size_t piece = 20 * kMiB;
  void* whole = pool_take(64 * kMiB);
  pool_give(whole, 64 * kMiB);
  for (int order = 0; order < 3; ++order) {
    auto* a = static_cast<unsigned char*>(pool_take(piece));
    auto* b = static_cast<unsigned char*>(pool_take(piece));
    auto* c = static_cast<unsigned char*>(pool_take(piece));
    // Back to back (under AddressSanitizer a poisoned redzone page follows each buffer).
    REQUIRE((b >= a + piece && b <= a + piece + 4096));
    REQUIRE((c >= b + piece && c <= b + piece + 4096));
    // Lower first (b merges with its predecessor), upper first (b merges with its successor), or
    // the middle last (both).
    unsigned char* const orders[3][3] = {{a, b, c}, {c, b, a}, {a, c, b}};
    for (unsigned char* p : orders[order]) pool_give(p, piece);
    const auto s = pool_stats();
    void* again = pool_take(64 * kMiB);
    INFO("order " << order);
    CHECK(pool_stats().regions_mapped == s.regions_mapped);
    pool_give(again, 64 * kMiB);
  }
}

TEST_CASE("buffer pool: random take/give keeps buffers disjoint, zeroed and intact; idle ranges merge",
          "[kernels][pool]") {
  // Other tests in this process may hold pooled buffers: compare with what was live before.
  const auto before = pool_stats();
  std::mt19937 rng(7);
  std::vector<Block> live;
  size_t largest = 0;
  for (int step = 0; step < 600; ++step) {
    if (!live.empty() && (rng() % 2 == 0 || live.size() > 24)) {
      const size_t i = rng() % live.size();
      const Block b = live[i];
      // Intact: nobody else wrote into this buffer while it was live.
      REQUIRE(std::all_of(b.p, b.p + b.bytes, [&](unsigned char v) { return v == b.tag; }));
      pool_give(b.p, b.bytes);
      live.erase(live.begin() + static_cast<std::ptrdiff_t>(i));
    } else {
      const size_t bytes = 4096 * (1 + rng() % 1500) - rng() % 4096;  // ragged, up to ~6 MiB
      largest = std::max(largest, bytes);
      auto* p = static_cast<unsigned char*>(pool_take(bytes));
      REQUIRE(all_zero(p, bytes));
      for (const Block& o : live) REQUIRE((p + bytes <= o.p || o.p + o.bytes <= p));
      const auto tag = static_cast<unsigned char>(1 + step % 250);
      std::memset(p, tag, bytes);
      live.push_back(Block{p, bytes, tag});
    }
  }
  for (const Block& b : live) pool_give(b.p, b.bytes);
  // With everything returned, the idle ranges merged back: the largest buffer taken fits again
  // without a new mapping (the range it was carved from is whole again), and nothing is lost.
  const auto s = pool_stats();
  CHECK(s.mapped_bytes - s.idle_bytes == before.mapped_bytes - before.idle_bytes);
  void* big = pool_take(largest);
  CHECK(pool_stats().regions_mapped == s.regions_mapped);
  pool_give(big, largest);
}

TEST_CASE("buffer pool: concurrent takers get disjoint buffers", "[kernels][pool]") {
  std::vector<std::thread> threads;
  std::vector<int> failures(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([t, &failures] {
      for (int i = 0; i < 200; ++i) {
        const size_t bytes = (size_t{256} << 10) * static_cast<size_t>(1 + (i + t) % 7);
        auto* p = static_cast<unsigned char*>(pool_take(bytes));
        const auto tag = static_cast<unsigned char>(t + 1);
        if (!all_zero(p, bytes)) ++failures[static_cast<size_t>(t)];
        std::memset(p, tag, bytes);
        std::this_thread::yield();
        if (!std::all_of(p, p + bytes, [tag](unsigned char v) { return v == tag; })) ++failures[static_cast<size_t>(t)];
        pool_give(p, bytes);
      }
    });
  }
  for (auto& th : threads) th.join();
  CHECK(failures == std::vector<int>(4, 0));
}

TEST_CASE("aligned_floats: small buffers from the heap, large ones from the pool, all zeroed", "[kernels][pool]") {
  const auto before = pool_stats();
  {
    AlignedFloats small = aligned_floats(1000);
    CHECK(reinterpret_cast<uintptr_t>(small.get()) % 64 == 0);
    CHECK(small.get_deleter().pooled_bytes == 0);
    AlignedFloats big = aligned_floats((size_t{3} << 20) / sizeof(float) + 5);
    CHECK(reinterpret_cast<uintptr_t>(big.get()) % 4096 == 0);
    CHECK(big.get_deleter().pooled_bytes == (size_t{3} << 20) + 5 * sizeof(float));
    CHECK(std::all_of(big.get(), big.get() + (size_t{3} << 20) / sizeof(float) + 5, [](float v) { return v == 0.0f; }));
    big[7] = 1.0f;
    AlignedFloats moved = std::move(big);  // the size travels with the deleter
    CHECK(moved.get_deleter().pooled_bytes > 0);
  }
  // Both pooled buffers are back and idle; taking the same size maps nothing new.
  const auto after = pool_stats();
  AlignedFloats again = aligned_floats((size_t{3} << 20) / sizeof(float) + 5);
  CHECK(pool_stats().regions_mapped == after.regions_mapped);
  CHECK(again[7] == 0.0f);
  CHECK(after.mapped_bytes >= before.mapped_bytes);
}
