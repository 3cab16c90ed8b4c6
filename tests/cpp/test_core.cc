// Core: dispatch, checked arithmetic, the thread pool.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "npfast/dispatch.hpp"
#include "npfast/error.hpp"
#include "npfast/threads.hpp"

namespace npfast {
namespace {

TEST(Dispatch, ScalarAlwaysAvailable) {
  ASSERT_FALSE(isas_available().empty());
  EXPECT_EQ(isas_available().front(), Isa::scalar);
}

TEST(Dispatch, CapAndRestore) {
  const Isa before = active_isa();
  set_active_isa(Isa::scalar);
  EXPECT_EQ(active_isa(), Isa::scalar);
  set_active_isa(before);
  EXPECT_EQ(active_isa(), before);
  EXPECT_THROW(parse_isa("sse9", "NPFAST_ISA"), ValueError);
}

TEST(Checked, Overflow) {
  EXPECT_EQ(checked_mul(1 << 20, 1 << 20, "x"), int64_t{1} << 40);
  EXPECT_THROW(checked_mul(int64_t{1} << 31, int64_t{1} << 33, "x"), MemoryError);
  EXPECT_THROW(checked_add(INT64_MAX, 1, "x"), MemoryError);
  EXPECT_EQ(floor_div(-7, 2), -4);
  EXPECT_EQ(floor_div(7, 2), 3);
  EXPECT_EQ(floor_div(-6, 2), -3);
}

TEST(Threads, SetGet) {
  const int before = get_num_threads();
  EXPECT_THROW(set_num_threads(0), ValueError);
  EXPECT_THROW(set_num_threads(kMaxThreads + 1), ValueError);
  set_num_threads(3);
  EXPECT_EQ(get_num_threads(), 3);
  set_num_threads(before);
}

// Every index is visited exactly once, for any thread count and grain.
TEST(Threads, ParallelForCoversOnce) {
  const int before = get_num_threads();
  for (int threads : {1, 2, 4, 7}) {
    set_num_threads(threads);
    for (int64_t n : {0, 1, 5, 1000, 12345}) {
      for (int64_t grain : {1, 3, 64, 100000}) {
        std::vector<std::atomic<int>> hits(static_cast<size_t>(n));
        parallel_for(n, grain, [&](int64_t b, int64_t e) {
          ASSERT_LE(e - b, grain);
          for (int64_t i = b; i < e; ++i) hits[static_cast<size_t>(i)]++;
        });
        for (auto& h : hits) ASSERT_EQ(h.load(), 1);
      }
    }
  }
  set_num_threads(before);
}

// Nested parallel_for runs serially inside a worker, and several caller threads may use the
// pool at once (one gets it, the others run serially): all complete with correct results.
TEST(Threads, NestedAndConcurrentCallers) {
  const int before = get_num_threads();
  set_num_threads(4);
  std::vector<std::thread> callers;
  std::atomic<int64_t> total{0};
  for (int t = 0; t < 4; ++t) {
    callers.emplace_back([&] {
      for (int rep = 0; rep < 50; ++rep) {
        parallel_for(8, 1, [&](int64_t b, int64_t e) {
          for (int64_t i = b; i < e; ++i)
            parallel_for(10, 2, [&](int64_t bb, int64_t ee) { total += ee - bb; });
        });
      }
    });
  }
  for (auto& c : callers) c.join();
  EXPECT_EQ(total.load(), 4 * 50 * 8 * 10);
  set_num_threads(before);
}

TEST(Threads, GrainFor) {
  EXPECT_EQ(grain_for(100, 1.0), 100);  // tiny: one chunk
  const int before = get_num_threads();
  set_num_threads(2);
  const int64_t g = grain_for(1000000, 10.0);
  EXPECT_LT(g, 1000000);
  EXPECT_GE(g, 1);
  set_num_threads(before);
}

}  // namespace
}  // namespace npfast
