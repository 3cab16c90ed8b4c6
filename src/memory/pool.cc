// The pool's public API (npfast/memory.hpp): thread cache first, then the central cache, then
// the OS. Layers, one concern per file:
//   os.{h,cc}            mmap / C heap primitives
//   block.h              block header and size classes
//   central.{h,cc}       shared cache, the cap and its hysteresis, eviction, trim
//   thread_cache.{h,cc}  lock-free per-thread caches of small blocks
//   pool.cc              allocate / deallocate / stats, zero-filling policy
#include <pthread.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cerrno>
#include <limits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "npfast/error.hpp"
#include "npfast/memory.hpp"
#include "npfast/threads.hpp"
#include "src/kernels/elementwise/elementwise.h"
#include "src/memory/central.h"
#include "src/memory/os.h"
#include "src/memory/thread_cache.h"

namespace npfast {
namespace memory {
namespace {

constexpr uint32_t kMagicFree = 0x6e706672u;  // "npfr": cached, not in use

Central* g_central = nullptr;

Central& central() {
  static Central* c = [] {
    g_central = new Central(default_cache_limit(), default_decay_ms());  // never destroyed
    // fork() copies only the calling thread: hold the pool's mutexes across it so the child
    // never starts with one locked by a thread it does not have. (The child keeps the other
    // threads' cached small blocks unused; their memory is simply not reused.)
    pthread_atfork(
        [] {
          lock_registry();
          g_central->lock();
        },
        [] {
          g_central->unlock();
          unlock_registry();
        },
        [] {
          g_central->unlock();
          unlock_registry();
        });
    return g_central;
  }();
  return *c;
}

[[noreturn]] void bad_free(const void* p, const char* what) {
  std::fprintf(stderr, "npfast: deallocate(%p): %s\n", p, what);
  std::abort();
}

void* allocate_impl(size_t bytes, bool zero) {
  if (__builtin_expect(bytes > kMaxRequest, 0))
    throw MemoryError("out of memory: cannot allocate " + std::to_string(bytes) + " bytes");
  const int c = class_index(bytes);
  Central& cen = central();
  ThreadCache* tc = thread_cache(&cen);
  Header* h = nullptr;
  if (c < kSmallClasses && tc)
    h = tc->pop(c);
  else
    h = cen.take(c);
  bool zeroed = false;
  if (h) {
    if (tc)
      bump(tc->counters.hits, 1);
    else
      orphan_counters().hits.fetch_add(1, std::memory_order_relaxed);
  } else {
    h = cen.fresh(c, &zeroed);
    if (tc)
      bump(tc->counters.misses, 1);
    else
      orphan_counters().misses.fetch_add(1, std::memory_order_relaxed);
  }
  h->magic = kMagic;
  if (tc)
    bump(tc->counters.in_use, static_cast<int64_t>(h->size));
  else
    orphan_counters().in_use.fetch_add(static_cast<int64_t>(h->size), std::memory_order_relaxed);
  void* p = user_of(h);
  if (zero && !zeroed) zero_fill(p, bytes);
  return p;
}

// `p` past any spaces (the pool's variables take them around their values, as
// NPFAST_NUM_THREADS does; probe23b).
template <class C>
C* skip_spaces(C* p) {
  while (*p == ' ' || *p == '\t' || *p == '\n') ++p;
  return p;
}

}  // namespace

size_t default_cache_limit() {
  if (const char* env = std::getenv("NPFAST_POOL_LIMIT"); env && *env) {
    // Digits only (strtoull would take "-1" as 2^64 - 1), and at most INT64_MAX bytes after
    // the unit, the range set_cache_limit takes back (probe19e: -1, 2^64 and an overflowing
    // "G" gave limits of 2^64 - 1 or 0 without a word).
    const char* at = skip_spaces(env);
    char* end = nullptr;
    errno = 0;
    const unsigned long long v = *at >= '0' && *at <= '9' ? std::strtoull(at, &end, 10) : 0;
    const bool digits = end && end != at && errno == 0;
    unsigned long long unit = 1;
    if (digits && (*end == 'k' || *end == 'K'))
      unit = 1ull << 10, ++end;
    else if (digits && (*end == 'm' || *end == 'M'))
      unit = 1ull << 20, ++end;
    else if (digits && (*end == 'g' || *end == 'G'))
      unit = 1ull << 30, ++end;
    if (digits) end = skip_spaces(end);
    constexpr unsigned long long kMax = std::numeric_limits<int64_t>::max();
    if (digits && *end == '\0' && v <= kMax / unit) return static_cast<size_t>(v * unit);
    std::fprintf(stderr,
                 "npfast: ignoring NPFAST_POOL_LIMIT=%s (expected bytes up to 2^63 - 1, e.g. "
                 "512M)\n",
                 env);
  }
  const size_t gib = size_t{1} << 30, phys = os::physical_memory();
  return phys && phys / 8 < gib ? phys / 8 : gib;
}

uint32_t default_decay_ms() {
  if (const char* env = std::getenv("NPFAST_POOL_DECAY_MS"); env && *env) {
    char* end = nullptr;
    const unsigned long v = std::strtoul(env, &end, 10);  // leading spaces skipped
    if (end != env) end = skip_spaces(end);
    if (end != env && *end == '\0' && v <= 0xffffffffu / 2) return static_cast<uint32_t>(v);
    std::fprintf(stderr, "npfast: ignoring NPFAST_POOL_DECAY_MS=%s (expected milliseconds)\n", env);
  }
  return 10000;
}

uint32_t decay_ms() { return central().decay_ms(); }
void set_decay_ms(uint32_t ms) { central().set_decay_ms(ms > 0x7fffffffu ? 0x7fffffffu : ms); }

namespace {

// memset over 16 KiB pieces from the range's end back to its start: the lines written last
// are the range's start, where the caller's first pass over the array begins, still in L2
// (docs/memory.md, zeros 2026-12-05), and the last piece, a third of a 48 KiB L1D, still in
// L1D. A piece bigger than L1D evicts its own start from L1D before it returns: 100^2 float64
// (80 KB) clear + touch took 2.85 us with 64-256 KiB pieces, 1.55-1.65 us with 2-16 KiB;
// equal from 720 KB to 32 MB (docs/memory.md, zeros3 2026-12-05).
void clear_backward(char* base, size_t bytes) {
  constexpr size_t kPiece = size_t{16} << 10;
  for (size_t end = bytes; end > 0;) {
    const size_t n = std::min(end, kPiece);
    end -= n;
    std::memset(base + end, 0, n);
  }
}

// Clears the block in `chunk`-byte pieces claimed from its start, split across threads
// (parallel_for; on a busy machine its loss back-off keeps them on the caller).
template <class Clear>
void clear_chunks(char* base, size_t bytes, size_t chunk, Clear clear) {
  const int64_t chunks = static_cast<int64_t>((bytes + chunk - 1) / chunk);
  parallel_for(chunks, 1, [&](int64_t b, int64_t e) {
    for (int64_t c = b; c < e; ++c) {
      const size_t off = static_cast<size_t>(c) * chunk;
      clear(base + off, std::min(chunk, bytes - off));
    }
  });
}

// Bytes a helper reads after its share of a split clear (see clear_split): the L2 of one core,
// from sysconf where the C library knows it.
size_t l2_bytes() {
  static const size_t b = [] {
    const long v = sysconf(_SC_LEVEL2_CACHE_SIZE);
    const size_t lo = size_t{256} << 10, hi = size_t{4} << 20;
    return v > 0 ? std::clamp(static_cast<size_t>(v), lo, hi) : size_t{2} << 20;
  }();
  return b;
}

// Bytes of push_lines()'s buffer once it is mapped: stats() counts them as reserved.
std::atomic<int64_t> g_push_bytes{0};

// The clean lines a helper reads to push its dirty ones out (an L2's worth, written once so
// that it has pages of its own), mapped by the first split clear's caller before any helper
// runs, and kept for the process (trim() does not return it; 2 MiB here); nullptr where the OS
// refused it (then no push).
const char* push_lines() {
  static const char* lines = [] {
    char* p = static_cast<char*>(os::map(l2_bytes()));
    if (!p) return static_cast<const char*>(nullptr);
    std::memset(p, 1, l2_bytes());
    g_push_bytes.store(static_cast<int64_t>(l2_bytes()), std::memory_order_relaxed);
    return static_cast<const char*>(p);
  }();
  return lines;
}

// Fills the calling core's L2 with the clean lines of push_lines(), pushing the dirty lines it
// holds out to the shared L3.
void push_l2_out(const char* lines) {
  if (!lines) return;
  uint64_t acc = 0;
  for (size_t i = 0; i < l2_bytes(); i += 64)
    acc += *reinterpret_cast<const volatile uint64_t*>(lines + i);
  asm volatile("" : : "r"(acc));
}

// Whether a helper claimed pieces of the current split clear and has not pushed yet, kept
// across its chunks.
struct HelperState {
  uint64_t call = 0;  // the clear_split call it belongs to
  bool claimed = false;
};
thread_local HelperState t_helper;
std::atomic<uint64_t> g_split_calls{0};

// The plain-store clear on two cores (blocks of kSplitZeroBytes up to kStreamZeroBytes), in
// 256 KiB pieces. The block's first L2's worth (kept for the caller) is cleared last, by the
// caller, from its end back to the block's start; the rest is split: helpers claim pieces from
// the reserve's end forward, the caller from the block's end back (each piece by
// clear_backward). So where parallel_for runs serially (the loss back-off on a busy machine, a
// nested call) the caller clears the whole block from the end back in 16 KiB pieces, as below
// kSplitZeroBytes (forward pieces made 2000^2 float64 read 0.98x np.zeros + touch that way, from
// the end back 1.03x: docs/memory.md, zeros4 2026-12-05), and where it splits, the caller's
// first pass over the array begins on the lines the caller wrote last, in its own L2.
//
// A helper that runs out of pieces pushes the block's lines still in its L2 out to the shared
// L3 (push_l2_out) while the caller clears the reserve. Without it, the helper's core goes idle
// during the caller's first pass over the array with ~2 MB of the block dirty in its L2, and
// that pass took 1.35-1.39 ms at 2000^2 float64 against 1.07-1.12 ms after a one-core clear:
// the extra 0.25-0.3 ms that kept zeros + touch at ~1.1x np.zeros + touch on a quiet machine.
// It was not there when the helper's core stayed busy (spinning through the caller's pass, or
// another process on it), and reserving pieces without the push did not remove it; pushing the
// lines out (reading an L2's worth of other lines, or cldemote after the clear) did: pass
// 1.07-1.16 ms. The read costs the helper ~0.07 ms, as long as the caller's reserve takes;
// cldemote of its last 2 MiB cost it ~0.15 ms, more than it saved (docs/memory.md, zeros4 and
// revfix3 2026-12-05).
//
// Until zeros6 the pieces were 1 MiB and the reserve the two pieces where the two ends met, in
// the block's middle: the caller's pass then began on lines in the L3, and the last pieces'
// coarse grain left the caller clearing 20-35 us after the helper had pushed. With the reserve
// at the block's start and 256 KiB pieces, 2000^2 float64 zeros + touch ran 1.68-1.75 ms against
// 1.73-1.84 ms on a quiet machine (1.27-1.30x np.zeros + touch against 1.21-1.25x; the pass
// 1.06-1.11 against 1.10-1.17 ms, no slower than the pass over a block nobody cleared). What is
// left above the clear-only loop's time is the helper's wake-up: it slept through the caller's
// pass (docs/memory.md, zeros6 2026-12-05).
void clear_split(char* base, size_t bytes) {
  if (available_threads() < 2) return clear_backward(base, bytes);
  constexpr size_t kPiece = size_t{256} << 10;
  const uint64_t pieces = (bytes + kPiece - 1) / kPiece;
  // The caller's reserve: pieces [0, reserve), as many as the push reads lines, so that the
  // caller clears them in about the time a helper pushes. Only the caller touches it.
  uint64_t reserve = std::min<uint64_t>(std::max<size_t>(l2_bytes() / kPiece, 1), pieces);
  // The unclaimed pieces [front, back) above the reserve: front in the low half, back in the
  // high half.
  std::atomic<uint64_t> ends{(pieces << 32) | reserve};
  // The caller's pieces go from their end back in clear_backward's 16 KiB pieces, so a split
  // run serially is the clear below kSplitZeroBytes; a helper's, forward in one memset.
  const auto clear = [&](uint64_t k, bool backward) {
    const size_t off = k * kPiece, n = std::min(kPiece, bytes - off);
    if (backward)
      clear_backward(base + off, n);
    else
      std::memset(base + off, 0, n);
  };
  // Claims and clears up to `most` pieces from the back, the reserve's last (from its end back).
  const auto from_back = [&](uint64_t most) {
    for (uint64_t e = ends.load(std::memory_order_relaxed); most > 0;) {
      const uint64_t front = e & 0xffffffffu, back = e >> 32;
      if (back <= front) {
        for (; most > 0 && reserve > 0; --most) clear(--reserve, true);
        return;
      }
      if (!ends.compare_exchange_weak(e, ((back - 1) << 32) | front, std::memory_order_relaxed))
        continue;
      clear(back - 1, true);
      --most;
      e = ends.load(std::memory_order_relaxed);
    }
  };
  // One parallel_for chunk per piece, each claiming exactly one (the caller's from the back, a
  // helper's from the front): the loss back-off judges the split on the caller's time per
  // piece, so a helper preempted inside its piece shows.
  const uint64_t call = g_split_calls.fetch_add(1, std::memory_order_relaxed) + 1;
  const char* lines = push_lines();  // mapped here, on the caller, before helpers run
  const auto from_front = [&] {
    HelperState& t = t_helper;
    if (t.call != call) t.call = call, t.claimed = false;
    for (uint64_t e = ends.load(std::memory_order_relaxed);;) {
      const uint64_t front = e & 0xffffffffu, back = e >> 32;
      if (back > front) {
        if (!ends.compare_exchange_weak(e, (back << 32) | (front + 1), std::memory_order_relaxed))
          continue;
        clear(front, false);
        t.claimed = true;
        // More to claim in its next chunk, unless the caller came this far meanwhile (then
        // there may be no next chunk for it).
        e = ends.load(std::memory_order_relaxed);
        if ((e >> 32) > front + 1) return;
      }
      // This helper stops claiming: push its lines out, once.
      if (t.claimed) push_l2_out(lines);
      t.claimed = false;
      return;
    }
  };
  const pthread_t caller = pthread_self();
  parallel_for(static_cast<int64_t>(pieces), 1, [&](int64_t, int64_t) {
    if (pthread_equal(pthread_self(), caller))
      from_back(1);
    else
      from_front();
  });
  from_back(pieces);  // the reserve and any piece whose chunk a helper skipped
}

// The part of a block bigger than plain_big_limit() that clear_big() may clear with plain
// stores: its end, which a forward pass over the block used last and left partly in the L3, the
// rest being streamed. The plain stores overwrite the previous pass's dirty lines there instead
// of writing them back to DRAM and streaming over them, and leave the tail for the next pass.
// Four fifths of the limit (64 MB here): the pure_numba(4000) loop (128 MB) ran 10.4-11.3 ms
// against 11.9-12.0 ms streamed whole (best 50 ms sample per process, quiet starts, loaded
// machine); with the tail plain unprobed 40 MB read 11.2-11.6, 64 MB 10.3-11.4, 72-80 MB
// 10.8-11.0 (docs/memory.md, zeros6b 2026-12-05). 0 where the limit is below kStreamZeroBytes
// (an L3 of under ~200 MB): blocks there are streamed as before.
size_t big_tail_bytes() {
  const size_t limit = plain_big_limit();
  return limit >= kStreamZeroBytes ? limit / 5 * 4 : 0;
}

std::atomic<int> g_big_clear_for_testing{0};
std::atomic<size_t> g_plain_big_limit_for_testing{0};  // 0: the L3 sysconf reports

// True where the clock that times clear_big()'s probe resolves 1 us or better: the cut is 44 us
// and a cached MiB clears in ~33 us, so a coarser clock (a tick of several ms on some VMs and
// kernels) reads the probe as 0 or as a whole tick and cannot tell the two apart. steady_clock
// is CLOCK_MONOTONIC on Linux.
bool probe_clock_resolves() {
  static const bool fine = [] {
    timespec r{};
    return clock_getres(CLOCK_MONOTONIC, &r) == 0 && r.tv_sec == 0 && r.tv_nsec <= 1000;
  }();
  return fine;
}

// Blocks from kStreamZeroBytes, split across threads in 2 MiB pieces. Where the block is still
// in cache (a loop that used it last call), plain stores win: they overwrite the cached lines
// and leave the block there for the caller's pass, while non-temporal stores first write the
// dirty lines back, then evict them, and the pass reads the block back from DRAM. Where it is
// not, plain stores read every line from DRAM first and take ~2x as long. So, up to
// plain_big_limit(), the caller clears the block's first MiB (the part a forward pass used
// longest ago, the first to leave the cache) with plain stores and times it: at cache speed
// the rest gets plain stores too, else non-temporal ones. Here the first MiB took 31-36 us in a
// loop that kept the block in cache, 90-100 us from DRAM, and 53-70 us when other processes'
// traffic had evicted part of the block (plain stores then cleared 3000^2 float64 in 13.5 ms
// against 6.6 ms streamed), so the cut is 44 us. A preempted probe only means the
// non-temporal clear. Measured with the other core free, 2 threads, 3000^2 float64
// (docs/memory.md, zeros5 2026-12-05): npfast.zeros + touch 4.0-4.2 ms against 7.1-7.3 ms
// streamed. (Probing the block's last MiB instead, the part a forward pass used last, chose
// plain stores for blocks whose body had left the cache: pure_numba(4000) 14.7 against
// 12.2 ms.) A probe that reads 0 ns, or a clock coarser than 1 us, counts as cold: plain stores
// chosen on a clock that cannot time the MiB would take ~2x as long for every block from DRAM.
// A block bigger than the limit is probed the same way at the start of its last
// big_tail_bytes() (the oldest part of what a forward pass left in cache), which with the rest
// of that tail is cleared plain or streamed as the probe says; its head is always streamed
// (zeros6b: 4000^2 float64 used to be streamed whole, without a probe).
void clear_big(char* base, size_t bytes) {
  constexpr size_t kChunk = size_t{2} << 20, kProbe = size_t{1} << 20;
  constexpr double kWarmBytesPerNs = 24.0;  // 44 us per MiB
  // A big block's tail is partly in cache where a forward pass left it: its first MiB took
  // 51-99 us (mostly 57-80) in the pure_numba(4000) loop, 90-104 us after other traffic, and
  // plain stores over the tail still beat streaming there (zeros6b), so the cut is 87 us.
  constexpr double kWarmTailBytesPerNs = 12.0;
  const int forced = g_big_clear_for_testing.load(std::memory_order_relaxed);
  // Bytes at the block's start that are streamed whatever the probe says: those before the
  // part that may still be in cache (big_tail_bytes()). Only up to twice the limit: at 6000^2
  // float64 (288 MB, the tail under a quarter) pure_numba's loop ran 1.5-5 % slower with it.
  const size_t limit = plain_big_limit(), tail = big_tail_bytes();
  const bool split = forced == 0 || forced >= 5;  // the head/tail split as chosen, or forced
  const size_t head = split && tail > 0 && bytes > limit && bytes <= 2 * limit ? bytes - tail : 0;
  bool plain = forced == 1;
  size_t from = 0;  // [from, bytes) is cleared plain or streamed as `plain` says
  if ((forced == 0 && (bytes <= limit || head > 0)) || forced >= 3) {
    const auto t0 = std::chrono::steady_clock::now();
    std::memset(base + head, 0, kProbe);
    const std::chrono::duration<double, std::nano> ns = std::chrono::steady_clock::now() - t0;
    plain = forced == 3 || forced == 5 ||
            (forced == 0 && ns.count() > 0 && probe_clock_resolves() &&
             ns.count() * (head > 0 ? kWarmTailBytesPerNs : kWarmBytesPerNs) <
                 static_cast<double>(kProbe));
    from = head + kProbe;
  }
  const elementwise::ZeroFn k = kernels<elementwise::Table>().x8_zero_stream;
  const auto stream = [k](char* q, size_t n) { k(n, q); };
  const auto plain_stores = [](char* q, size_t n) { std::memset(q, 0, n); };
  if (plain)
    clear_chunks(base + from, bytes - from, kChunk, plain_stores);
  else
    clear_chunks(base + from, bytes - from, kChunk, stream);
  if (head > 0) clear_chunks(base, head, kChunk, stream);
}

}  // namespace

// The largest block that clear_big() may clear with plain stores: a sixth of the last-level
// cache that sysconf reports (unless set_plain_big_limit_for_testing() set another), 0 where it
// reports none (then every block from kStreamZeroBytes is streamed). This VM reports 480 MiB, of
// which a block just used keeps ~72 MB but not 128 MB: a clear-only loop at 4000^2 float64 (128 MB)
// took 5.8-6.1 ms plain against 2.7-2.8 ms streamed, where 3000^2 (72 MB) took 1.3-1.5 ms either
// way (docs/memory.md, zeros5 2026-12-05). On a machine with a few tens of MB of L3 the limit is
// below kStreamZeroBytes and nothing changes there.
size_t plain_big_limit() {
  static const size_t b = [] {
    const long v = sysconf(_SC_LEVEL3_CACHE_SIZE);
    return v > 0 ? static_cast<size_t>(v) / 6 : size_t{0};
  }();
  const size_t forced = g_plain_big_limit_for_testing.load(std::memory_order_relaxed);
  return forced > 0 ? forced : b;
}

void set_plain_big_limit_for_testing(size_t bytes) {
  g_plain_big_limit_for_testing.store(bytes, std::memory_order_relaxed);
}

void zero_fill(void* p, size_t bytes) {
  char* base = static_cast<char*>(p);
  if (bytes < kSplitZeroBytes) return clear_backward(base, bytes);
  if (bytes < kStreamZeroBytes) return clear_split(base, bytes);
  clear_big(base, bytes);
}

void set_big_clear_for_testing(int how) {
  g_big_clear_for_testing.store(how, std::memory_order_relaxed);
}

void* allocate(size_t bytes) { return allocate_impl(bytes, false); }
void* allocate_zeroed(size_t bytes) { return allocate_impl(bytes, true); }

void deallocate(void* p) noexcept {
  if (!p) return;
  Header* h = header_of(p);
  if (__builtin_expect(h->magic != kMagic, 0))
    bad_free(p, h->magic == kMagicFree ? "double free" : "not a block from the npfast pool");
  h->magic = kMagicFree;
  Central& cen = central();
  ThreadCache* tc = thread_cache(&cen);
  if (tc)
    bump(tc->counters.in_use, -static_cast<int64_t>(h->size));
  else
    orphan_counters().in_use.fetch_sub(static_cast<int64_t>(h->size), std::memory_order_relaxed);
  if (h->cls < kSmallClasses && tc)
    tc->push(h);
  else
    cen.put(h);
}

size_t block_size(const void* p) noexcept { return header_of(p)->size; }

bool owns(const void* p) noexcept {
  return p && (reinterpret_cast<uintptr_t>(p) % kAlignment) == 0 && header_of(p)->magic == kMagic;
}

Stats stats() {
  Stats s{};
  int64_t thread_cached = 0;
  sum_counters(&s.hits, &s.misses, &s.bytes_in_use, &thread_cached);
  Central& cen = central();
  s.bytes_cached = cen.cached() + thread_cached;
  s.bytes_reserved = cen.reserved() + g_push_bytes.load(std::memory_order_relaxed);
  s.os_allocs = cen.os_allocs();
  s.os_frees = cen.os_frees();
  return s;
}

void trim() noexcept {
  Central& cen = central();
  request_flush_all();
  if (ThreadCache* tc = thread_cache(&cen)) {
    tc->flush_requested.store(false, std::memory_order_relaxed);
    tc->flush();
  }
  cen.trim();
}

void flush_thread_cache() noexcept {
  if (ThreadCache* tc = existing_thread_cache()) tc->flush();
}

size_t cache_limit() { return central().limit(); }
void set_cache_limit(size_t bytes) { central().set_limit(bytes); }

}  // namespace memory
}  // namespace npfast
