// The central cache: blocks shared by all threads, and the only layer that calls the OS.
//
// It holds big blocks (above kSmallMax) and small blocks that per-thread caches spill. One
// mutex guards it; the hot small-block traffic never reaches it (thread caches absorb it), and
// a big block's lock hand-off costs far less than touching the block.
//
// Policy:
//   * Per class, a LIFO list (the most recently freed block is the warmest), and across all
//     classes an LRU list that decides eviction order.
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
//   * Zero-ahead: a class whose last request was a zeroed one (allocate_zeroed: npfast.zeros,
//     NumPy's calloc) has its freed blocks of kZeroAheadMin..kZeroAheadMax cleared by the zeroer thread
//     (zeroer.h) and cached on a second per-class list of known-zero blocks, so that the next
//     zeroed request gets one without clearing it on the caller. A zeroed request prefers a
//     known-zero block, a plain one a dirty block. A block the zeroer is clearing belongs to
//     nobody's list: a request meanwhile takes another block or maps a fresh one, never waits.
//     In a loop that frees a block and asks for the same class again at once, the zeroer never
//     gets at the one block there is: so a zeroed request that finds only dirty blocks maps
//     one spare block per class (fresh pages, zero; only while the cap holds 4 such blocks)
//     and leaves the dirty one to the zeroer;
//     after that it takes a dirty block and clears it itself, so a starved zeroer costs one
//     block per class (two while one is being cleared), never a mapping per call.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <mutex>

#include "npfast/memory.hpp"
#include "src/memory/block.h"

namespace npfast {
namespace memory {

class Central {
 public:
  static constexpr int kBigReuseClasses = 4;

  Central(size_t limit, uint32_t decay_ms) : limit_(limit), decay_ms_(decay_ms) {}

  // Zero-ahead's range of block sizes. A block that fits the zeroer core's L2 (2 MiB per
  // core on the development VM; 1-2 MiB on current x86 servers) stays there, and the caller's
  // touch then pulls it across from the other core: slower than clearing it itself (C,
  // 2.0 MB: 0.12 ms against 0.09 ms; 2.9 MB: 0.17 against 0.18; 3.9 MB: 0.26 against 0.33).
  // Above kStreamZeroBytes the caller clears with streaming stores on all threads and a
  // spare block would double a big working set.
  static constexpr size_t kZeroAheadMin = size_t{5} << 19;  // 2.5 MiB
  static constexpr size_t kZeroAheadMax = kStreamZeroBytes;

  // A cached block for class `c` (or a slightly bigger one when c is big); null when none.
  // `zero`: the caller will clear it, so a known-zero block (h->zero) is preferred.
  // `ahead`: the zeroer is on, so record that class c's freed blocks are worth clearing ahead
  // (and maybe return null so that the caller maps the class's spare: `*spare`).
  Header* take(int c, bool zero, bool ahead, bool* spare);
  // Moves up to `n` cached blocks of small class `c` onto the singly linked list `*list`;
  // returns how many.
  int take_batch(int c, int n, Header** list);
  // Caches the singly linked list `first` (linked by next) of dirty blocks. True when one of
  // them is worth clearing ahead (then wake the zeroer).
  bool put_list(Header* first);
  bool put(Header* h) {
    h->next = nullptr;
    return put_list(h);
  }

  // The zeroer's side: the most recently freed dirty block worth clearing ahead, unlinked
  // (null when none), and the same block cleared, cached as known zero (or released, when a
  // trim() came in between).
  Header* begin_zeroing();
  void end_zeroing(Header* h);
  bool zeroing() {
    std::lock_guard<std::mutex> lk(mu_);
    return in_flight_ != nullptr;
  }
  // In a fork() child, where the zeroer thread does not exist: its block is dropped.
  void forget_zeroing() {
    in_flight_ = nullptr;
    trimmed_in_flight_ = false;
  }

  // A new block of class `c` from the OS. Mapped blocks are zero-filled (`*zeroed`).
  // Throws MemoryError when the OS refuses.
  Header* fresh(int c, bool* zeroed, bool spare = false);
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
  void link(Header* h, uint32_t now);  // onto its class list (dirty or zero) and the LRU; mu_ held
  void unlink(Header* h);           // from its class list and the LRU; mu_ held
  Header* evict_to(size_t target);  // unlinks LRU blocks until cached_ <= target; mu_ held
  Header* evict_aged(uint32_t now, Header* list);  // unlinks blocks idle too long; mu_ held
  void release_list(Header* list) noexcept;

  std::mutex mu_;
  Header* heads_[kNumClasses] = {};       // dirty blocks
  Header* zero_heads_[kNumClasses] = {};  // known-zero blocks (big classes only)
  bool zero_ahead_[kNumClasses] = {};     // the class's last request was a zeroed one
  std::atomic<int> spares_[kNumClasses] = {};  // its spare blocks alive (0 or 1)
  Header* in_flight_ = nullptr;           // the block the zeroer is clearing
  bool trimmed_in_flight_ = false;        // trim() ran while it was: release it when done
  Header* oldest_ = nullptr;
  Header* newest_ = nullptr;
  int64_t cached_ = 0;
  std::atomic<size_t> limit_;
  std::atomic<uint32_t> decay_ms_;
  std::atomic<int64_t> reserved_{0}, os_allocs_{0}, os_frees_{0};
};

}  // namespace memory
}  // namespace npfast
