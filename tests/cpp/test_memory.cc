// The caching pool: alignment, reuse, stats, trim, and a multi-threaded stress run.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <random>
#include <thread>
#include <vector>

#include "npfast/memory.hpp"

namespace npfast {
namespace {

TEST(Pool, AlignedAndUsable) {
  for (size_t n : {size_t{0}, size_t{1}, size_t{63}, size_t{64}, size_t{1000}, size_t{5} << 20}) {
    void* p = memory::allocate(n);
    ASSERT_NE(p, nullptr);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(p) % memory::kAlignment, 0u);
    EXPECT_GE(memory::block_size(p), n);
    std::memset(p, 0xab, n);
    memory::deallocate(p);
  }
}

TEST(Pool, ReuseIsAHit) {
  void* p = memory::allocate(3 << 20);
  memory::deallocate(p);
  const auto before = memory::stats();
  void* q = memory::allocate(3 << 20);
  const auto after = memory::stats();
  EXPECT_EQ(p, q);
  EXPECT_EQ(after.hits, before.hits + 1);
  memory::deallocate(q);
}

TEST(Pool, ZeroedIsZero) {
  void* p = memory::allocate(1 << 16);
  std::memset(p, 0xff, 1 << 16);
  memory::deallocate(p);
  auto* z = static_cast<unsigned char*>(memory::allocate_zeroed(1 << 16));
  for (int i = 0; i < (1 << 16); ++i) ASSERT_EQ(z[i], 0);
  memory::deallocate(z);
}

TEST(Pool, TrimReturnsCache) {
  void* p = memory::allocate(2 << 20);
  memory::deallocate(p);
  EXPECT_GT(memory::stats().bytes_cached, 0);
  memory::trim();
  EXPECT_EQ(memory::stats().bytes_cached, 0);
}

TEST(Pool, ThreadStress) {
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([t] {
      std::mt19937 rng(t);
      std::vector<std::pair<unsigned char*, size_t>> live;
      for (int i = 0; i < 20000; ++i) {
        if (live.size() < 32 && (rng() & 1)) {
          const size_t n = rng() % 100000;
          auto* p = static_cast<unsigned char*>(memory::allocate(n));
          if (n) p[0] = p[n - 1] = static_cast<unsigned char>(t);
          live.emplace_back(p, n);
        } else if (!live.empty()) {
          auto [p, n] = live.back();
          live.pop_back();
          if (n) {
            ASSERT_EQ(p[0], static_cast<unsigned char>(t));
          }
          memory::deallocate(p);
        }
      }
      for (auto& [p, n] : live) memory::deallocate(p);
    });
  }
  for (auto& th : threads) th.join();
}

}  // namespace
}  // namespace npfast
