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
#include <utility>

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
// allocate_zeroed() clears warm blocks at least this big with non-temporal stores; smaller
// ones with plain stores, which leave them in cache for the caller's first touch (measured:
// streaming an 18 MB block then adding 1 to it took 2-3x as long as memset + add).
constexpr size_t kStreamZeroBytes = size_t{32} << 20;

// allocate_zeroed() splits the plain-store clear of warm blocks at least this big across
// threads. Smaller ones stay on the caller: the caller's first pass then reads the ~2 MB the
// helper wrote last from the other core's cache, 0.04-0.25 ms more on the 2-core VM, which
// the split no longer pays for (1500^2 float64, 18 MB: the clear 0.58 -> 0.39 ms, the touch
// +0.19-0.25 ms with the other core idle; docs/memory.md, zclear 2026-12-05).
constexpr size_t kSplitZeroBytes = size_t{24} << 20;

// Sets `bytes` at p to zero as allocate_zeroed() clears a warm block: plain stores below
// kStreamZeroBytes, from the block's end back to its start (the block stays in cache for the
// caller's first writes, its start in L2, where a forward pass begins), split across threads
// from kSplitZeroBytes with the block's first MiB cleared last by the calling thread;
// non-temporal stores split across threads from kStreamZeroBytes (plain ones would only evict
// the cache). Threads come from parallel_for, so a busy machine's loss back-off keeps the
// clear on the calling thread.
void zero_fill(void* p, size_t bytes);

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

}  // namespace memory

// RAII workspace from the pool. Not zeroed.
template <class T>
class Buffer {
 public:
  Buffer() = default;
  explicit Buffer(size_t n) : p_(static_cast<T*>(memory::allocate(n * sizeof(T)))), n_(n) {}
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
  T* p_ = nullptr;
  size_t n_ = 0;
};

}  // namespace npfast
