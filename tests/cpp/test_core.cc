// Core: dispatch, checked arithmetic, the thread pool.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "npfast/dispatch.hpp"
#include "npfast/error.hpp"
#include "npfast/threads.hpp"
#include "tests/cpp/scoped_threads.h"

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

// The L3 the store policies size against: unknown (0) or a plausible cache, the same each call.
TEST(Dispatch, L3CacheBytes) {
  const size_t l3 = l3_cache_bytes();
  EXPECT_TRUE(l3 == 0 || (l3 >= (size_t{256} << 10) && l3 <= (size_t{4} << 30))) << l3;
  EXPECT_EQ(l3_cache_bytes(), l3);
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
  const ScopedThreads restore;
  EXPECT_THROW(set_num_threads(0), ValueError);
  EXPECT_THROW(set_num_threads(kMaxThreads + 1), ValueError);
  set_num_threads(3);
  EXPECT_EQ(get_num_threads(), 3);
}

// Every index is visited exactly once, for any thread count and grain.
TEST(Threads, ParallelForCoversOnce) {
  const ScopedThreads restore;
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
}

// Nested parallel_for runs serially inside a worker, and several caller threads may use the
// pool at once (one gets it, the others run serially): all complete with correct results.
TEST(Threads, NestedAndConcurrentCallers) {
  const ScopedThreads restore;
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
}

TEST(Threads, GrainFor) {
  EXPECT_EQ(grain_for(100, 1.0), 100);  // tiny: one chunk
  const ScopedThreads restore;
  set_num_threads(2);
  const int64_t g = grain_for(1000000, 10.0);
  EXPECT_LT(g, 1000000);
  EXPECT_GE(g, 1);
}

// A job too small to be worth a hand-off (grain_for returns one chunk) runs on the caller.
TEST(Threads, SmallCallStaysOnCaller) {
  const ScopedThreads restore(8, 8);
  const int64_t n = 1000;
  const int64_t grain = grain_for(n, 10.0);  // 10 us in all: under two kMinChunkNs
  EXPECT_EQ(grain, n);
  const std::thread::id me = std::this_thread::get_id();
  std::atomic<int> elsewhere{0};
  parallel_for(n, grain, [&](int64_t, int64_t) {
    if (std::this_thread::get_id() != me) ++elsewhere;
  });
  EXPECT_EQ(elsewhere.load(), 0);
}

// Waits up to 5 s for `done`; whether it came.
template <class F>
bool eventually(F done) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (!done()) {
    if (std::chrono::steady_clock::now() > until) return false;
    std::this_thread::sleep_for(std::chrono::microseconds(50));
  }
  return true;
}

// Short work is not handed to a sleeping helper (it would join tens of microseconds late):
// it runs on the caller, which wakes the helpers, and once one is awake the same work is
// handed off. Long work always is.
TEST(Threads, ShortWorkSkipsSleepingHelpers) {
  const ScopedThreads restore;
  set_num_threads(2);
  if (available_threads() < 2) GTEST_SKIP() << "one usable core: nothing is handed off";
  const int64_t n = 1000;
  const double total = 0.5 * kWakeWorthNs + kMinChunkNs;    // over two kMinChunkNs
  parallel_for(n, 1, [](int64_t, int64_t) {});              // the pool exists
  ASSERT_TRUE(eventually([] { return !helper_awake(); }));  // idle workers sleep after 300 us
  // Past any spin that a preempted worker could still finish with a beat, and past this
  // thread's last burst of short calls.
  std::this_thread::sleep_for(std::chrono::milliseconds(2));
  EXPECT_EQ(grain_for(n, total / static_cast<double>(n)), n);  // a lone call: nobody woken
  EXPECT_FALSE(helper_awake());
  EXPECT_TRUE(handoff_pays(2 * kWakeWorthNs));
  // The third short call of a burst wakes the helpers; a spinning one takes the short work
  // (retried: a preempted test thread may find it asleep again, and each miss wakes it again).
  EXPECT_TRUE(eventually([&] { return grain_for(n, total / static_cast<double>(n)) < n; }));
}

// in_parallel_for() is true in every chunk, on the caller and on the pool's workers, and false
// outside (GEMM plans for one thread there).
TEST(Threads, InParallelForInsideChunksOnly) {
  const ScopedThreads restore(4, 4);
  EXPECT_FALSE(in_parallel_for());
  std::atomic<int> outside{0};
  parallel_for(64, 1, [&](int64_t, int64_t) {
    if (!in_parallel_for()) ++outside;
  });
  EXPECT_EQ(outside.load(), 0);
  EXPECT_FALSE(in_parallel_for());
}

// The cost model: the threads that get work never exceed total work / kMinChunkNs.
TEST(Threads, GrainForGivesEveryThreadEnoughWork) {
  const ScopedThreads restore(16, 16);
  for (double total_us : {50.0, 100.0, 1000.0, 100000.0}) {
    const int64_t n = 100000;
    const int64_t g = grain_for(n, total_us * 1000.0 / static_cast<double>(n));
    const int64_t chunks = (n + g - 1) / g;
    EXPECT_LE(static_cast<double>(chunks), total_us * 1000.0 / kMinChunkNs + 1) << total_us;
    EXPECT_GE(chunks, 2) << total_us;
  }
}

// Past one chunk a thread, a whole number of chunks per thread: 3 chunks on 2 threads would take
// two chunks' time where 2 take one and a half.
TEST(Threads, GrainForGivesWholeChunksPerThread) {
  for (int threads : {2, 3, 16}) {
    const ScopedThreads restore(threads, threads);
    for (double total_us : {70.0, 90.0, 150.0, 330.0, 500.0, 1300.0, 100000.0}) {
      const int64_t n = 100003;
      const int64_t g = grain_for(n, total_us * 1000.0 / static_cast<double>(n));
      const int64_t chunks = (n + g - 1) / g;
      if (chunks > threads) {
        EXPECT_EQ(chunks % threads, 0) << threads << " " << total_us;
      }
    }
  }
}

// Without the test override, a call never runs on more threads than usable cores.
TEST(Threads, NeverMoreThreadsThanCores) {
  const ScopedThreads restore;
  set_num_threads(kMaxThreads);
  EXPECT_EQ(available_threads(), usable_cores());
  std::mutex mu;
  std::set<std::thread::id> ids;
  parallel_for(4096, 1, [&](int64_t, int64_t) {
    std::lock_guard<std::mutex> lk(mu);
    ids.insert(std::this_thread::get_id());
    std::this_thread::sleep_for(std::chrono::microseconds(10));
  });
  EXPECT_LE(static_cast<int>(ids.size()), usable_cores());
}

// More threads than cores, many small jobs back to back from several callers, with nested
// calls: every index is covered once per job (TSan checks the hand-offs).
TEST(Threads, OversubscribedPoolStress) {
  const ScopedThreads restore;
  set_core_cap_for_testing(16);
  for (int threads : {3, 7, 16}) {
    set_num_threads(threads);
    std::vector<std::thread> callers;
    std::atomic<int> bad{0};
    for (int t = 0; t < 3; ++t) {
      callers.emplace_back([&, t] {
        for (int rep = 0; rep < 200; ++rep) {
          const int64_t n = 1 + (rep * 37 + t * 11) % 300;
          std::vector<int> hits(static_cast<size_t>(n), 0);
          parallel_for(n, 1 + rep % 5, [&](int64_t b, int64_t e) {
            for (int64_t i = b; i < e; ++i) hits[static_cast<size_t>(i)]++;
            if (rep % 7 == 0) parallel_for(4, 1, [](int64_t, int64_t) {});
          });
          for (int h : hits) bad += h != 1;
        }
      });
    }
    for (auto& c : callers) c.join();
    EXPECT_EQ(bad.load(), 0) << threads;
  }
}

// A chunk result depends on the partition only: the same sums for 1..16 threads.
TEST(Threads, ConcurrentResultsIndependentOfThreadCount) {
  const ScopedThreads restore;
  set_core_cap_for_testing(16);
  const int64_t n = 100000, grain = 1000;
  std::vector<float> want;
  for (int threads : {1, 2, 3, 7, 16}) {
    set_num_threads(threads);
    std::vector<float> sums(static_cast<size_t>(n / grain), 0.0f);
    parallel_for(n, grain, [&](int64_t b, int64_t e) {
      float s = 0.0f;
      for (int64_t i = b; i < e; ++i) s += 1.0f / static_cast<float>(i + 1);
      sums[static_cast<size_t>(b / grain)] = s;
    });
    if (want.empty()) want = sums;
    EXPECT_EQ(sums, want) << threads;
  }
}

}  // namespace
}  // namespace npfast
