// The central cache: blocks shared by all threads, and the only layer that calls the OS.
//
// It holds big blocks (above kSmallMax) and small blocks that per-thread caches spill. One
// mutex guards it; the hot small-block traffic never reaches it (thread caches absorb it), and
// a big block's lock hand-off costs far less than touching the block.
//
// Policy:
//   * Per class, a list taken from its head, and across all classes an LRU list that decides
//     eviction order. A freed block goes to the head (LIFO: the most recently freed block is
//     the warmest), except that big blocks freed since the class's last take (its "run", up to
//     kMaxRun; further ones go after it) are kept in the order they were allocated, so a loop
//     that allocates the same
//     blocks again gets each in the role it had: `t = a.astype(f64); t / 255` frees t before
//     the result, and LIFO would swap the two 72 MB buffers' roles on every call, which runs
//     ~4-5 % slower than fixed roles (docs/memory.md, zeros4 2026-12-05).
//   * A request for a big class may take a block up to kBigReuseClasses classes larger (at
//     most ~1.5x; the unused tail of a mapped block is never touched, so costs no RAM).
//   * Cached bytes are capped by limit(); going over it evicts the least recently used blocks
//     down to 7/8 of the limit (hysteresis: a loop hovering at the cap does not unmap on every
//     free).
//   * Decay: a block idle in the central cache for longer than decay_ms() (NPFAST_POOL_DECAY_MS,
//     default 10 s; 0 = never) is released at the next central-cache operation. Blocks in use
//     in a loop are reused long before they age, so a hot loop never unmaps; a one-off big
//     temporary does not stay resident for ever. There is no background thread: an idle
//     process keeps its cache until it next allocates (or calls trim()).
//   Nothing else releases memory to the OS.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <mutex>

#include "src/memory/block.h"

namespace npfast {
namespace memory {

class Central {
 public:
  static constexpr int kBigReuseClasses = 4;

  Central(size_t limit, uint32_t decay_ms) : limit_(limit), decay_ms_(decay_ms) {}

  // A cached block for class `c` (or a slightly bigger one when c is big); null when none.
  Header* take(int c);
  // Moves up to `n` cached blocks of small class `c` onto the singly linked list `*list`;
  // returns how many.
  int take_batch(int c, int n, Header** list);
  // Caches the singly linked list `first` (linked by next) of `count` blocks, `bytes` usable.
  void put_list(Header* first);
  void put(Header* h) {
    h->next = nullptr;
    put_list(h);
  }

  // A new block of class `c` from the OS. Mapped blocks are zero-filled (`*zeroed`).
  // Throws MemoryError when the OS refuses.
  Header* fresh(int c, bool* zeroed);
  // Returns a block to the OS.
  void release(Header* h) noexcept;

  // Returns every centrally cached block to the OS.
  void trim() noexcept;
  size_t limit() const { return limit_.load(std::memory_order_relaxed); }
  void set_limit(size_t bytes) noexcept;
  uint32_t decay_ms() const { return decay_ms_.load(std::memory_order_relaxed); }
  void set_decay_ms(uint32_t ms) noexcept { decay_ms_.store(ms, std::memory_order_relaxed); }

  // Held across fork() (see pool.cc) so that the child never inherits a locked mutex.
  void lock() { mu_.lock(); }
  void unlock() { mu_.unlock(); }

  int64_t cached() {
    std::lock_guard<std::mutex> lk(mu_);
    return cached_;
  }
  int64_t reserved() const { return reserved_.load(std::memory_order_relaxed); }
  int64_t os_allocs() const { return os_allocs_.load(std::memory_order_relaxed); }
  int64_t os_frees() const { return os_frees_.load(std::memory_order_relaxed); }

 private:
  static constexpr int kMaxRun = 16;

  void link_in_class(Header* h);    // into its class list (see the policy); mu_ held
  void unlink(Header* h);           // from its class list and the LRU; mu_ held
  Header* evict_to(size_t target);  // unlinks LRU blocks until cached_ <= target; mu_ held
  Header* evict_aged(uint32_t now, Header* list);  // unlinks blocks idle too long; mu_ held
  void release_list(Header* list) noexcept;

  std::mutex mu_;
  Header* heads_[kNumClasses] = {};
  // Blocks at the head of each class list freed since its last take (reset by take() and
  // take_batch() only: eviction leaves the count as it is, at worst one too high per evicted
  // run block until the next take, so a loop's later frees stay sorted, not at the head).
  int run_[kNumClasses] = {};
  std::atomic<uint32_t> next_seq_{0};
  Header* oldest_ = nullptr;
  Header* newest_ = nullptr;
  int64_t cached_ = 0;
  std::atomic<size_t> limit_;
  std::atomic<uint32_t> decay_ms_;
  std::atomic<int64_t> reserved_{0}, os_allocs_{0}, os_frees_{0};
};

}  // namespace memory
}  // namespace npfast
