// The caching pool: size classes, alignment, reuse, zeroing, the cap and its hysteresis, trim,
// misuse detection, and multi-threaded stress (run it under -DNPFAST_SANITIZE=thread too).
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <limits>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

#include "npfast/error.hpp"
#include "npfast/memory.hpp"
#include "npfast/threads.hpp"
#include "src/memory/block.h"
#include "tests/cpp/scoped_threads.h"

namespace npfast {
namespace {

// Restores the cache limit a test changes.
struct LimitGuard {
  size_t saved = memory::cache_limit();
  ~LimitGuard() { memory::set_cache_limit(saved); }
};

TEST(PoolClasses, CoverEveryRequestWithBoundedWaste) {
  int last = -1;
  for (size_t b = 0; b < (size_t{1} << 22); b += 1 + b / 97) {
    const int c = memory::class_index(b);
    const size_t s = memory::class_size(c);
    ASSERT_GE(s, b) << b;
    ASSERT_LE(s, b + b / 8 + 64) << b;  // at most 12.5% (or one 64-byte step) wasted
    ASSERT_EQ(s % 64, 0u);
    ASSERT_GE(c, last);                    // monotonic
    ASSERT_EQ(memory::class_index(s), c);  // a class size maps to itself
    last = c;
  }
  EXPECT_LT(memory::class_index(memory::kMaxRequest), memory::kNumClasses);
  EXPECT_EQ(memory::class_index(memory::kSmallMax), memory::kSmallClasses - 1);
  EXPECT_EQ(memory::class_index(memory::kSmallMax + 1), memory::kSmallClasses);
}

// A request whose byte count does not fit a size_t raises, rather than wrapping to a small block
// (a line filter of size 2^61 over doubles asked for 2^64 + 40 bytes).
TEST(Pool, BufferBytesThatOverflowRaise) {
  EXPECT_THROW(Buffer<double>(size_t{1} << 61), MemoryError);
  EXPECT_THROW(Buffer<int64_t>(std::numeric_limits<size_t>::max() / 8 + 1), MemoryError);
  Buffer<double> ok(16);
  EXPECT_EQ(ok.size(), 16u);
}

TEST(Pool, AlignedAndUsable) {
  for (size_t n :
       {size_t{0}, size_t{1}, size_t{63}, size_t{64}, size_t{65}, size_t{1000}, size_t{1025},
        size_t{256} << 10, (size_t{256} << 10) + 1, size_t{5} << 20, size_t{33} << 20}) {
    void* p = memory::allocate(n);
    ASSERT_NE(p, nullptr);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(p) % memory::kAlignment, 0u);
    EXPECT_GE(memory::block_size(p), n);
    EXPECT_TRUE(memory::owns(p));
    std::memset(p, 0xab, n);
    memory::deallocate(p);
    EXPECT_FALSE(memory::owns(p));  // cached blocks are marked free
  }
  memory::deallocate(nullptr);
}

TEST(Pool, ReuseIsAHit) {
  for (size_t n : {size_t{100}, size_t{100} << 10, size_t{3} << 20}) {
    void* p = memory::allocate(n);
    memory::deallocate(p);
    const auto before = memory::stats();
    void* q = memory::allocate(n);
    const auto after = memory::stats();
    EXPECT_EQ(p, q) << n;
    EXPECT_EQ(after.hits, before.hits + 1) << n;
    EXPECT_EQ(after.os_allocs, before.os_allocs) << n;
    memory::deallocate(q);
  }
}

TEST(Pool, HotLoopNeverCallsTheOs) {
  // The pattern of `t = a.astype(f64); return t / 255`: two big blocks alive at once.
  for (int i = 0; i < 3; ++i) {  // warm up
    void* a = memory::allocate(8 << 20);
    void* b = memory::allocate(8 << 20);
    memory::deallocate(a);
    memory::deallocate(b);
  }
  const auto before = memory::stats();
  for (int i = 0; i < 200; ++i) {
    void* a = memory::allocate(8 << 20);
    void* b = memory::allocate((8 << 20) - 4096 * (i % 3));  // same class, other sizes
    static_cast<char*>(a)[0] = 1;
    memory::deallocate(a);
    memory::deallocate(b);
  }
  const auto after = memory::stats();
  EXPECT_EQ(after.os_allocs, before.os_allocs);
  EXPECT_EQ(after.os_frees, before.os_frees);
  EXPECT_EQ(after.hits, before.hits + 400);
}

TEST(Pool, BigBlocksKeepTheirRolesAcrossALoop) {
  // `t = a.astype(f64); return t / 255` frees its first block (t) before its second (the
  // result): the next call gets them back in allocation order, whatever order they were freed
  // in, so each keeps its role (LIFO would swap them every call).
  memory::trim();
  constexpr size_t n = size_t{8} << 20;
  void* a = memory::allocate(n);
  void* b = memory::allocate(n);
  for (int i = 0; i < 4; ++i) {
    if (i % 2) {
      memory::deallocate(b);  // nested: the reverse order gives the same roles
      memory::deallocate(a);
    } else {
      memory::deallocate(a);
      memory::deallocate(b);
    }
    void* a2 = memory::allocate(n);
    void* b2 = memory::allocate(n);
    EXPECT_EQ(a2, a) << i;
    EXPECT_EQ(b2, b) << i;
  }
  // After a take, a freed block goes in front of the blocks freed before that take: a loop
  // reusing one block keeps getting that block, not each cached block of its class in turn.
  memory::deallocate(a);
  memory::deallocate(b);
  void* first = memory::allocate(n);
  for (int i = 0; i < 4; ++i) {
    memory::deallocate(first);
    EXPECT_EQ(memory::allocate(n), first) << i;
  }
  void* second = memory::allocate(n);
  EXPECT_NE(second, first);
  memory::deallocate(first);
  memory::deallocate(second);
  // Small blocks stay LIFO (thread caches).
  void* s1 = memory::allocate(1000);
  void* s2 = memory::allocate(1000);
  memory::deallocate(s1);
  memory::deallocate(s2);
  EXPECT_EQ(memory::allocate(1000), s2);
  EXPECT_EQ(memory::allocate(1000), s1);
  memory::deallocate(s1);
  memory::deallocate(s2);
}

TEST(Pool, LongLoopsAndEvictionKeepBlockRoles) {
  // A loop of more big blocks than a run sorts (kMaxRun, 16) keeps the first 16 roles (its
  // further frees go after the run, not to the head, where every role rotated), and all of
  // them up to 16, freed in either order.
  memory::trim();
  const size_t saved_limit = memory::cache_limit();
  memory::set_cache_limit(size_t{1} << 30);
  constexpr size_t n = size_t{8} << 20;
  for (int k : {10, 16, 20}) {
    std::vector<void*> r(k);
    for (auto& p : r) p = memory::allocate(n);
    for (int it = 0; it < 3; ++it) {
      for (int i = 0; i < k; ++i) memory::deallocate(r[it % 2 ? k - 1 - i : i]);
      int kept = 0;
      for (int i = 0; i < k; ++i) {
        void* p = memory::allocate(n);
        kept += p == r[i];
        r[i] = p;
      }
      EXPECT_GE(kept, std::min(k, 16)) << "k=" << k << " iteration " << it;
    }
    for (void* p : r) memory::deallocate(p);
    memory::trim();
  }
  // Evicting a block of the class (here the oldest, by a lower cap) does not end the run:
  // the next free still goes in allocation order, not to the head.
  void* x = memory::allocate(n);
  void* a = memory::allocate(n);
  void* b = memory::allocate(n);
  void* c = memory::allocate(n);
  const size_t s = memory::block_size(a);
  memory::deallocate(x);
  memory::deallocate(a);
  memory::deallocate(b);
  memory::set_cache_limit(s * 5 / 2);  // evicts x, the least recently used
  memory::set_cache_limit(size_t{1} << 30);
  memory::deallocate(c);
  EXPECT_EQ(memory::allocate(n), a);
  EXPECT_EQ(memory::allocate(n), b);
  EXPECT_EQ(memory::allocate(n), c);
  memory::deallocate(a);
  memory::deallocate(b);
  memory::deallocate(c);
  memory::set_cache_limit(saved_limit);
  memory::trim();
}

TEST(Pool, BigRequestReusesSlightlyBiggerBlock) {
  memory::trim();
  void* p = memory::allocate(10 << 20);
  memory::deallocate(p);
  void* q = memory::allocate(9 << 20);  // a smaller class, within the reuse window
  EXPECT_EQ(p, q);
  EXPECT_GE(memory::block_size(q), size_t{10} << 20);
  memory::deallocate(q);
}

TEST(Pool, ZeroedIsZero) {
  for (size_t n : {size_t{1} << 16, size_t{6} << 20}) {  // every threshold: below
    void* p = memory::allocate(n);
    std::memset(p, 0xff, n);
    memory::deallocate(p);
    auto* z = static_cast<unsigned char*>(memory::allocate_zeroed(n - 3));
    EXPECT_EQ(static_cast<void*>(z), p);  // warm block, cleared
    for (size_t i = 0; i < n - 3; ++i) ASSERT_EQ(z[i], 0) << i;
    memory::deallocate(z);
  }
  memory::trim();
  auto* f = static_cast<unsigned char*>(memory::allocate_zeroed(5 << 20));  // fresh pages
  for (size_t i = 0; i < (5u << 20); i += 4093) ASSERT_EQ(f[i], 0);
  memory::deallocate(f);
}

// Restores the thread count, the core cap and zero_fill's test hook on any way out of a test
// (an ASSERT returns early).
struct ZeroFillSettingsGuard {
  const ScopedThreads threads;
  ZeroFillSettingsGuard() = default;
  ZeroFillSettingsGuard(const ZeroFillSettingsGuard&) = delete;
  ZeroFillSettingsGuard& operator=(const ZeroFillSettingsGuard&) = delete;
  ~ZeroFillSettingsGuard() {
    memory::set_big_clear_for_testing(0);
    memory::set_plain_big_limit_for_testing(0);
  }
};

// Calls check(threads, n) on 1, 2 and 3 threads (3 beyond this machine's cores too) for each length
// around zero_fill's ways: plain stores on the caller, plain stores split across threads from
// kSplitZeroBytes (256 KiB pieces, helpers' forward after the caller's reserve at the block's
// start, the caller's from the end back and then the reserve), from kStreamZeroBytes a timed plain
// first MiB and then plain or non-temporal stores split across threads (each way forced as well as
// chosen, and the timed MiB run whatever the L3 with each way after it); with a partial last piece.
template <class F>
void for_zero_fill_cases(F check) {
  const ZeroFillSettingsGuard restore;
  set_core_cap_for_testing(3);
  for (int threads : {1, 2, 3}) {
    set_num_threads(threads);
    memory::set_big_clear_for_testing(0);
    for (size_t n : {size_t{1}, size_t{4097}, (size_t{768} << 10) + 5, memory::kSplitZeroBytes - 1,
                     memory::kSplitZeroBytes, memory::kSplitZeroBytes + (size_t{64} << 10) + 7,
                     size_t{32000000},  // 2000^2 float64
                     memory::kStreamZeroBytes - 1})
      check(threads, n);
    for (int how : {0, 1, 2, 3, 4}) {
      memory::set_big_clear_for_testing(how);
      check(threads, memory::kStreamZeroBytes + 12345);
    }
  }
}

// At odd offsets and lengths, touching nothing outside the range.
TEST(Pool, ZeroFillClearsExactlyTheRange) {
  for_zero_fill_cases([](int threads, size_t n) {
    std::vector<unsigned char> v(n + 64, 0xab);
    memory::zero_fill(v.data() + 7, n);
    EXPECT_EQ(v[6], 0xab) << n << " on " << threads;
    EXPECT_EQ(v[7 + n], 0xab) << n << " on " << threads;
    for (size_t i = 7; i < 7 + n; i += 1 + i / 64)
      ASSERT_EQ(v[i], 0) << n << " at " << i << " on " << threads;
    EXPECT_EQ(v[7 + n - 1], 0) << n << " on " << threads;
  });
}

// A warm block reused dirty comes back all zero.
TEST(Pool, ZeroedReusedDirtyBlockIsZero) {
  for_zero_fill_cases([](int threads, size_t n) {
    void* p = memory::allocate(n);
    std::memset(p, 0xff, memory::block_size(p));
    memory::deallocate(p);
    auto* z = static_cast<unsigned char*>(memory::allocate_zeroed(n));
    EXPECT_EQ(static_cast<void*>(z), p) << n;  // the same warm block
    size_t i = 0;
    while (i < n && z[i] == 0) ++i;
    EXPECT_EQ(i, n) << n << " bytes on " << threads << " threads: byte " << i << " not cleared";
    memory::deallocate(z);
  });
}

// A limit of plain stores just above kStreamZeroBytes, odd so that the tail (four fifths of it)
// and the head end inside a 2 MiB piece: the head/tail split runs at ~33-67 MiB on any machine,
// whatever its L3 (sysconf's sixth of it is 80 MiB here, under kStreamZeroBytes on most).
constexpr size_t kTestPlainBigLimit = memory::kStreamZeroBytes + (size_t{1} << 20) + 12345;

// zero_fill(v + 1, n) on a v of 0xab with set_big_clear_for_testing(how) in force: every byte of
// the range zero, the bytes either side not. The overlapping memcmp checks that each byte equals
// the one before it, fast also under ASan.
void expect_cleared_exactly(std::vector<unsigned char>& v, size_t n, int how, int threads) {
  const char* what = how == 0 ? "chosen" : how == 5 ? "tail plain" : "tail streamed";
  ASSERT_GE(v.size(), n + 2);
  std::memset(v.data(), 0xab, n + 2);
  memory::zero_fill(v.data() + 1, n);
  EXPECT_EQ(v[0], 0xab) << n << " " << what << " on " << threads;
  EXPECT_EQ(v[n + 1], 0xab) << n << " " << what << " on " << threads;
  EXPECT_TRUE(v[1] == 0 && std::memcmp(v.data() + 1, v.data() + 2, n - 1) == 0)
      << n << " " << what << " on " << threads << ": not all zero";
}

// A block bigger than the limit of plain stores and up to twice it: the head streamed, the timed
// MiB at the tail's start and the tail plain or streamed as the probe chooses (0) or forced (5,
// 6), all zero, on 1 and 2 threads (zeros6b).
TEST(Pool, ZeroFillBigBlockHeadAndTail) {
  const ZeroFillSettingsGuard restore;
  memory::set_plain_big_limit_for_testing(kTestPlainBigLimit);
  ASSERT_EQ(memory::plain_big_limit(), kTestPlainBigLimit);
  const size_t n = memory::plain_big_limit() + 4097;
  std::vector<unsigned char> v(n + 2);
  for (int threads : {1, 2}) {
    set_num_threads(threads);
    for (int how : {0, 5, 6}) {
      memory::set_big_clear_for_testing(how);
      expect_cleared_exactly(v, n, how, threads);
    }
  }
}

// Around the limit of plain stores and twice it (where the head/tail split starts and stops),
// each way clear_big() may take there: all zero and nothing outside touched, on 1 and 2 threads.
TEST(Pool, ZeroFillAroundThePlainBigLimit) {
  const ZeroFillSettingsGuard restore;
  memory::set_plain_big_limit_for_testing(kTestPlainBigLimit);
  const size_t limit = memory::plain_big_limit();
  std::vector<unsigned char> v(2 * limit + 3);
  for (int threads : {1, 2}) {
    set_num_threads(threads);
    for (size_t n :
         {limit - 1, limit, limit + 1, limit + 4097, 2 * limit - 1, 2 * limit, 2 * limit + 1})
      for (int how : {0, 5, 6}) {
        memory::set_big_clear_for_testing(how);
        expect_cleared_exactly(v, n, how, threads);
      }
  }
}

// A split clear called from inside a parallel_for chunk runs serially on that thread: the
// caller's pieces from the block's end back, then its share at the block's start (zeros6).
TEST(Pool, ZeroFillSplitInsideParallelForIsSerialAndWhole) {
  const ScopedThreads threads(2, 2);
  const size_t n = size_t{32000000} + 4097;  // 2000^2 float64 and a partial last piece
  std::vector<unsigned char> v(n + 2, 0xcd);
  parallel_for(2, 1, [&](int64_t b, int64_t) {
    if (b == 0) memory::zero_fill(v.data() + 1, n);
  });
  EXPECT_EQ(v[0], 0xcd);
  EXPECT_EQ(v[n + 1], 0xcd);
  EXPECT_EQ(std::count(v.begin() + 1, v.begin() + 1 + static_cast<std::ptrdiff_t>(n), 0),
            static_cast<std::ptrdiff_t>(n));
}

// Threads that clear at once: one gets the thread pool, the others clear on their own thread.
// The fourth clears blocks from kStreamZeroBytes (the timed first MiB, then plain or
// non-temporal stores).
TEST(Pool, ZeroedConcurrentSplitClears) {
  std::vector<std::thread> threads;
  std::atomic<int> bad{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&bad, t] {
      const size_t n = t == 3
                           ? memory::kStreamZeroBytes + 4097
                           : memory::kSplitZeroBytes + (size_t{1} << 20) * static_cast<size_t>(t);
      for (int i = 0; i < 8; ++i) {
        void* p = memory::allocate(n);
        std::memset(p, 0x5a, n);
        memory::deallocate(p);
        const auto* z = static_cast<const unsigned char*>(memory::allocate_zeroed(n));
        for (size_t j = 0; j < n; j += 61)
          if (z[j] != 0) bad.fetch_add(1);
        if (z[n - 1] != 0) bad.fetch_add(1);
        memory::deallocate(const_cast<unsigned char*>(z));
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(bad.load(), 0);
}

TEST(Pool, StatsTrackUse) {
  memory::trim();
  const auto s0 = memory::stats();
  void* p = memory::allocate(3 << 20);
  const auto s1 = memory::stats();
  EXPECT_EQ(s1.bytes_in_use - s0.bytes_in_use, static_cast<int64_t>(memory::block_size(p)));
  EXPECT_EQ(s1.misses, s0.misses + 1);
  EXPECT_EQ(s1.os_allocs, s0.os_allocs + 1);
  memory::deallocate(p);
  const auto s2 = memory::stats();
  EXPECT_EQ(s2.bytes_in_use, s0.bytes_in_use);
  EXPECT_EQ(s2.bytes_cached - s0.bytes_cached, static_cast<int64_t>(memory::block_size(p)));
  EXPECT_EQ(s2.bytes_reserved, s1.bytes_reserved);
}

TEST(Pool, TrimReturnsCache) {
  void* p = memory::allocate(2 << 20);
  void* q = memory::allocate(1000);
  memory::deallocate(p);
  memory::deallocate(q);
  EXPECT_GT(memory::stats().bytes_cached, 0);
  const auto before = memory::stats();
  memory::trim();
  const auto after = memory::stats();
  EXPECT_EQ(after.bytes_cached, 0);
  EXPECT_LT(after.bytes_reserved, before.bytes_reserved);
  EXPECT_GT(after.os_frees, before.os_frees);
}

TEST(Pool, CapEvictsOldestWithHysteresis) {
  LimitGuard guard;
  memory::trim();
  memory::set_cache_limit(size_t{16} << 20);
  std::vector<void*> blocks;
  for (int i = 0; i < 6; ++i) blocks.push_back(memory::allocate(4 << 20));
  const auto before = memory::stats();
  for (void* p : blocks) memory::deallocate(p);
  const auto after = memory::stats();
  // 6 x 4 MiB freed under a 16 MiB cap: the 5th free passes the cap and evicts down to 7/8
  // of it (14 MiB, so two blocks go), the 6th then fits.
  EXPECT_LE(after.bytes_cached, int64_t{16} << 20);
  EXPECT_EQ(after.os_frees - before.os_frees, 2);
  // The four most recently freed blocks are still cached (LRU evicts the oldest), handed out
  // in allocation order (all freed since the class's last take; the eviction does not end
  // that run).
  void* again[4];
  for (int i = 0; i < 4; ++i) {
    again[i] = memory::allocate(4 << 20);
    EXPECT_EQ(again[i], blocks[2 + i]) << i;
  }
  for (void* p : again) memory::deallocate(p);
  // Lowering the cap evicts at once.
  memory::set_cache_limit(size_t{4} << 20);
  EXPECT_LE(memory::stats().bytes_cached, int64_t{4} << 20);
}

TEST(Pool, IdleBlocksDecay) {
  const uint32_t saved = memory::decay_ms();
  memory::trim();
  memory::set_decay_ms(30);
  void* p = memory::allocate(3 << 20);
  memory::deallocate(p);
  const auto before = memory::stats();
  void* q = memory::allocate(3 << 20);  // reused at once: no decay
  memory::deallocate(q);
  EXPECT_EQ(memory::stats().os_frees, before.os_frees);
  std::this_thread::sleep_for(std::chrono::milliseconds(80));
  void* r = memory::allocate(5 << 20);  // any central operation releases aged blocks
  const auto after = memory::stats();
  EXPECT_EQ(after.os_frees, before.os_frees + 1);
  memory::deallocate(r);
  memory::set_decay_ms(0);  // never
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  memory::deallocate(memory::allocate(6 << 20));
  EXPECT_EQ(memory::stats().os_frees, after.os_frees);
  memory::set_decay_ms(saved);
}

TEST(Pool, LimitFromEnvironment) {
  // default_cache_limit() reads NPFAST_POOL_LIMIT (bytes or K/M/G).
  setenv("NPFAST_POOL_LIMIT", "512M", 1);
  EXPECT_EQ(memory::default_cache_limit(), size_t{512} << 20);
  setenv("NPFAST_POOL_LIMIT", "12345", 1);
  EXPECT_EQ(memory::default_cache_limit(), size_t{12345});
  unsetenv("NPFAST_POOL_LIMIT");
  EXPECT_GT(memory::default_cache_limit(), size_t{0});
  setenv("NPFAST_POOL_DECAY_MS", "250", 1);
  EXPECT_EQ(memory::default_decay_ms(), 250u);
  unsetenv("NPFAST_POOL_DECAY_MS");
  EXPECT_EQ(memory::default_decay_ms(), 10000u);
}

TEST(Pool, RejectsImpossibleSizes) {
  EXPECT_THROW(memory::allocate(size_t{1} << 60), MemoryError);
  EXPECT_THROW(memory::allocate_zeroed(~size_t{0}), MemoryError);
  memory::deallocate(memory::allocate(3 << 20));
  const int64_t cached = memory::stats().bytes_cached;
  EXPECT_THROW(memory::allocate(size_t{1} << 50), MemoryError);  // the OS refuses a PiB
  EXPECT_EQ(memory::stats().bytes_cached, cached);  // ...and the warm cache is left alone
}

TEST(PoolDeathTest, DoubleFreeAborts) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        void* p = memory::allocate(100);
        memory::deallocate(p);
        memory::deallocate(p);
      },
      "double free");
}

TEST(Pool, ThreadStress) {
  const auto before = memory::stats();
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([t] {
      std::mt19937 rng(t);
      std::vector<std::pair<unsigned char*, size_t>> live;
      for (int i = 0; i < 20000; ++i) {
        if (live.size() < 32 && (rng() & 1)) {
          // Mostly small, some medium and big blocks.
          const uint32_t r = rng();
          const size_t n = r % 16 == 0 ? r % (3 << 20) : r % 16 < 4 ? r % 300000 : r % 5000;
          auto* p = static_cast<unsigned char*>(memory::allocate(n));
          if (n) p[0] = p[n - 1] = static_cast<unsigned char>(t);
          live.emplace_back(p, n);
        } else if (!live.empty()) {
          auto [p, n] = live.back();
          live.pop_back();
          if (n) {
            ASSERT_EQ(p[0], static_cast<unsigned char>(t));
            ASSERT_EQ(p[n - 1], static_cast<unsigned char>(t));
          }
          memory::deallocate(p);
        }
      }
      for (auto& [p, n] : live) memory::deallocate(p);
    });
  }
  for (auto& th : threads) th.join();
  // Exited threads' caches went to the central cache and their counters into the totals.
  const auto after = memory::stats();
  EXPECT_EQ(after.bytes_in_use, before.bytes_in_use);
  EXPECT_EQ(after.bytes_reserved - after.bytes_cached - after.bytes_in_use,
            before.bytes_reserved - before.bytes_cached - before.bytes_in_use);
}

TEST(Pool, CrossThreadFrees) {
  // Producers allocate, consumers free: blocks migrate between thread caches.
  std::mutex mu;
  std::vector<void*> queue;
  std::atomic<int> produced{0};
  constexpr int kItems = 20000;
  const auto before = memory::stats();
  std::thread producer([&] {
    std::mt19937 rng(7);
    for (int i = 0; i < kItems; ++i) {
      const size_t n = 1 + rng() % 70000;
      auto* p = static_cast<unsigned char*>(memory::allocate(n));
      p[0] = 0x5a;
      std::lock_guard<std::mutex> lk(mu);
      queue.push_back(p);
      produced.fetch_add(1);
    }
  });
  std::thread consumer([&] {
    int freed = 0;
    while (freed < kItems) {
      std::vector<void*> batch;
      {
        std::lock_guard<std::mutex> lk(mu);
        batch.swap(queue);
      }
      for (void* p : batch) {
        ASSERT_EQ(static_cast<unsigned char*>(p)[0], 0x5a);
        memory::deallocate(p);
        ++freed;
      }
      if (batch.empty()) std::this_thread::yield();
    }
  });
  producer.join();
  consumer.join();
  EXPECT_EQ(memory::stats().bytes_in_use, before.bytes_in_use);
  memory::trim();
}

}  // namespace
}  // namespace npfast
