// npfast's caching memory pool.
//
// Serves every npfast output and workspace: 64-byte aligned blocks, cached after free so the
// next request of a similar size gets warm memory instead of fresh pages from the OS (first
// touch of fresh pages runs at ~1 GB/s, writes to warm memory at ~30 GB/s).
//
// Thread-safe. Small blocks (<= 256 KiB) go through a per-thread cache with no lock; big ones
// through a central cache capped at cache_limit() bytes (NPFAST_POOL_LIMIT, e.g. "512M";
// default min(1 GiB, RAM/8)). Memory goes back to the OS only when the cache passes the cap
// (then down to 7/8 of it, least recently used first), when a block has sat unused in the shared
// cache for decay_ms() (10 s), or on trim(). Design: docs/memory.md.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <utility>

#include "npfast/error.hpp"

namespace npfast {
namespace memory {

constexpr size_t kAlignment = 64;

// Returns a 64-byte aligned block of at least `bytes` bytes (bytes may be 0). Throws
// MemoryError when the OS refuses.
void* allocate(size_t bytes);
// Returns a zero-filled block (warm blocks are cleared, fresh OS pages are already zero).
void* allocate_zeroed(size_t bytes);
// Gives a block back to the pool. `p` may be null.
void deallocate(void* p) noexcept;
// Usable size of a block from allocate().
size_t block_size(const void* p) noexcept;
// True when `p` looks like a live block of this pool (a debugging aid: reads the 64 bytes
// before p, so p must point into readable memory).
bool owns(const void* p) noexcept;
// allocate_zeroed() clears warm blocks at least this big with non-temporal stores unless the
// block is at most a sixth of the L3 and a timed first MiB shows it still in cache (zero_fill;
// bigger blocks are not probed); smaller ones with plain stores, which leave them in cache for
// the caller's first touch (measured: streaming an 18 MB block then adding 1 to it took 2-3x as
// long as memset + add). The rule: plain stores win while the block is still in cache when it
// is cleared and lose 1.4-1.7x when it is not (each line is first read from DRAM); non-temporal
// stores never read. Up to 32 MB a block just used was in cache in every run; from 72 MB it
// depended on the other guests sharing the L3 (3000^2 float64 plain 1.93x np.zeros in one run,
// 1.03x in the next, against 1.03-1.42x non-temporal; cold 0.98-1.02x against 1.41-1.73x;
// docs/memory.md, zeros3 2026-12-05), hence the probe (zeros5).
constexpr size_t kStreamZeroBytes = size_t{32} << 20;

// allocate_zeroed() splits the plain-store clear of warm blocks at least this big across
// threads. The rule: split when the clear time a second core saves pays for the split's fixed
// cost. A warm block clears at ~29 GB/s on one core and ~53 GB/s on two (2000^2 float64, 32 MB:
// 1.10 ms against 0.61 ms), so the split saves (1/29 - 1/53) ns per byte; its fixed cost is the
// helper's wake-up (20-45 us) plus the caller's first pass fetching the lines still in the
// helper's L2 from the other core: ~0.13 ms when that core runs another process (measured
// break-even ~8 MB), ~0.3 ms when it is idle, as on a quiet machine (18 MB: split 0.99x, one
// core 1.05x). The constant is the break-even rounded down to whole MiB (so whole 256 KiB pieces
// and any element size meet it exactly) (docs/memory.md, zclear and zeros3 2026-12-05). A busy
// machine's loss back-off (parallel_for) keeps the clear on the caller anyway. Since zeros4 the
// helper pushes its L2 out after its share, which removed most of the idle-core cost: 1500^2 (18
// MB) split then ran 1.075-1.084 ms against 1.149-1.156 on one core, quiet, which a ~0.2 ms fixed
// cost (break-even ~12.8 MB, 12 MiB) explains. zeros4 kept 18 MiB for two loaded runs (1500^2
// 0.95-1.04x np.zeros + touch against 1.05-1.06x); zeros5 measured both with the other core free:
// 1300^2 1.11-1.13x split against 1.08-1.09x, 1500^2 1.19x against 1.05-1.07x, and loaded runs
// where the very same code moved 0.54-1.19x (docs/memory.md, zeros4 and zeros5 2026-12-05). So the
// fixed cost is now 0.2 ms.
constexpr double kSplitZeroFixedNs = 200e3;
constexpr double kSplitZeroSavesNsPerByte = 1.0 / 29.0 - 1.0 / 53.0;
constexpr size_t kSplitZeroBytes =
    static_cast<size_t>(kSplitZeroFixedNs / kSplitZeroSavesNsPerByte) >> 20 << 20;

// Sets `bytes` at p to zero as allocate_zeroed() clears a warm block: plain stores below
// kStreamZeroBytes, below kSplitZeroBytes from the block's end back to its start on the calling
// thread (the block stays in cache for the caller's first writes, its start in L1D and L2, where a
// forward pass begins), split across threads in 256 KiB pieces from kSplitZeroBytes (helpers
// forward from the end of the block's first L2's worth, the caller from the block's end back and
// that first part last, each of its pieces as below kSplitZeroBytes); from kStreamZeroBytes split
// across threads in 2 MiB pieces, with plain stores where the block's first MiB cleared at cache
// speed and the block is at most a sixth of the L3 (it is still in cache), else non-temporal ones
// (plain ones would first read every line from DRAM); a block up to a third of the L3 has its end,
// the part a forward pass left in cache, probed and cleared that way and the rest streamed. Threads
// come from parallel_for, so a busy machine's loss back-off keeps the clear on the calling thread.
void zero_fill(void* p, size_t bytes);

// Tests only: 0 (default) lets zero_fill choose how it clears a block from kStreamZeroBytes; 1
// forces plain stores, 2 non-temporal stores (neither probes); 3 and 4 run the timed first MiB
// whatever the block's size and the L3, then force plain (3) or non-temporal (4) stores for the
// rest, so that the probe's path runs on machines whose L3 limit is below kStreamZeroBytes; 5
// and 6 are 3 and 4 with a block between plain_big_limit() and twice it split as 0 splits it
// (the head streamed, the timed MiB at the tail's start, then the tail plain (5) or streamed (6)).
void set_big_clear_for_testing(int how);

// The largest block from kStreamZeroBytes that zero_fill may clear with plain stores: a sixth of
// the L3 that sysconf reports (0 where it reports none), or what the test hook below set. A
// block above it and up to twice it has its end probed and cleared plain or streamed, the rest
// streamed, where the limit is at least kStreamZeroBytes.
size_t plain_big_limit();
// Tests only: bytes > 0 replaces plain_big_limit() (from kStreamZeroBytes, so that the head/tail
// split runs at a small size on any machine); 0 restores the L3's.
void set_plain_big_limit_for_testing(size_t bytes);

struct Stats {
  int64_t bytes_in_use;    // handed out and not yet freed
  int64_t bytes_cached;    // freed, kept warm for reuse
  int64_t bytes_reserved;  // obtained from the OS and not yet returned
  int64_t hits;            // requests served from the cache
  int64_t misses;          // requests that went to the OS
  int64_t os_allocs;
  int64_t os_frees;
};
// Counters are read without stopping other threads: each is exact, the set is not a snapshot.
Stats stats();
// Returns every cached block to the OS: the central cache and the calling thread's cache now;
// other threads' caches are handed to the central cache at their next allocation or free (and
// released by the next trim()).
void trim() noexcept;
// Hands the calling thread's cached blocks to the central cache: for a thread about to idle
// (the thread pool's workers before they sleep), whose cache trim() could otherwise not reach.
void flush_thread_cache() noexcept;
// Cap on cached bytes (NPFAST_POOL_LIMIT at start-up). Lowering it evicts at once.
size_t cache_limit();
void set_cache_limit(size_t bytes);
// The start-up cap: NPFAST_POOL_LIMIT (bytes, optional K/M/G suffix) or min(1 GiB, RAM/8).
size_t default_cache_limit();
// Blocks idle in the shared cache longer than this are released at its next use (0 = never;
// NPFAST_POOL_DECAY_MS at start-up, default 10000).
uint32_t decay_ms();
void set_decay_ms(uint32_t ms);
uint32_t default_decay_ms();
// Whether blocks of 4 MiB and more are advised huge pages (NPFAST_POOL_HUGEPAGES, default on).
bool huge_pages();

}  // namespace memory

// RAII workspace from the pool. Not zeroed.
template <class T>
class Buffer {
 public:
  Buffer() = default;
  // MemoryError where n elements' bytes do not fit a size_t (a wrapped product would hand out
  // a small block for a huge request).
  explicit Buffer(size_t n) : p_(static_cast<T*>(memory::allocate(bytes_of(n)))), n_(n) {}
  ~Buffer() { memory::deallocate(p_); }
  Buffer(Buffer&& o) noexcept : p_(std::exchange(o.p_, nullptr)), n_(std::exchange(o.n_, 0)) {}
  Buffer& operator=(Buffer&& o) noexcept {
    std::swap(p_, o.p_);
    std::swap(n_, o.n_);
    return *this;
  }
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;

  T* get() const { return p_; }
  size_t size() const { return n_; }
  T& operator[](size_t i) const { return p_[i]; }
  // Hands the block to the caller, who frees it with memory::deallocate.
  T* release() {
    n_ = 0;
    return std::exchange(p_, nullptr);
  }

 private:
  static size_t bytes_of(size_t n) {
    if (n > std::numeric_limits<size_t>::max() / sizeof(T))
      throw MemoryError("workspace: " + std::to_string(n) + " elements of " +
                        std::to_string(sizeof(T)) + " bytes do not fit the address space");
    return n * sizeof(T);
  }

  T* p_ = nullptr;
  size_t n_ = 0;
};

}  // namespace npfast
