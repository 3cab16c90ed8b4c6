// Per-thread caches of small blocks: the lock-free fast path.
//
// Each thread owns one cache (created on its first allocation) holding, per small class, a
// short LIFO list of freed blocks. Only the owner touches the lists, so pop/push take no
// lock and no atomic read-modify-write. A list that grows past max_count() spills half of
// itself to the central cache; an empty list refills a small batch from it. When the thread
// exits its blocks go to the central cache and its counters are folded into the totals.
//
// Counters are atomics written only by their owner (plain load + store, no lock prefix) so
// that stats() can read them from another thread.
#pragma once

#include <atomic>
#include <cstdint>

#include "src/memory/block.h"
#include "src/memory/central.h"

namespace npfast {
namespace memory {

constexpr size_t kThreadCacheBytes = size_t{4} << 20;

inline void bump(std::atomic<int64_t>& c, int64_t v) {
  c.store(c.load(std::memory_order_relaxed) + v, std::memory_order_relaxed);
}

struct Counters {
  std::atomic<int64_t> hits{0}, misses{0}, in_use{0}, cached{0};
};

class ThreadCache {
 public:
  explicit ThreadCache(Central* central) : central_(central) {}

  // A cached block of small class c, or null.
  Header* pop(int c) {
    Header* h = heads_[c];
    if (__builtin_expect(h == nullptr, 0)) return refill(c);
    heads_[c] = h->next;
    --counts_[c];
    bytes_ -= h->size;
    bump(counters.cached, -static_cast<int64_t>(h->size));
    return h;
  }
  void push(Header* h) {
    const int c = h->cls;
    h->next = heads_[c];
    heads_[c] = h;
    bytes_ += h->size;
    bump(counters.cached, static_cast<int64_t>(h->size));
    if (__builtin_expect(++counts_[c] > max_count(c) || bytes_ > kThreadCacheBytes, 0)) spill(c);
  }
  // Gives every cached block to the central cache.
  void flush();

  Counters counters;
  std::atomic<bool> flush_requested{false};
  ThreadCache* reg_prev = nullptr;  // links in the registry of live caches
  ThreadCache* reg_next = nullptr;

 private:
  static int max_count(int c) {
    const size_t n = (size_t{1} << 20) / class_size(c);
    return static_cast<int>(n < 4 ? 4 : n > 64 ? 64 : n);
  }
  Header* refill(int c);
  void spill(int c);
  Header* take_list(int c, int n);  // unlinks the first n blocks of class c

  Central* central_;
  Header* heads_[kSmallClasses] = {};
  int counts_[kSmallClasses] = {};
  size_t bytes_ = 0;
};

// The calling thread's cache, or null while its thread is exiting (callers then go to the
// central cache directly).
ThreadCache* thread_cache(Central* central);
// The calling thread's cache if it has one (never creates it).
ThreadCache* existing_thread_cache();

// Sums the counters of every live thread cache plus those of exited threads.
void sum_counters(int64_t* hits, int64_t* misses, int64_t* in_use, int64_t* cached);
// Counters for threads without a cache (exiting).
Counters& orphan_counters();
// Asks every thread cache to flush on its owner's next allocation or free.
void request_flush_all();
// The registry's mutex, held across fork().
void lock_registry();
void unlock_registry();

}  // namespace memory
}  // namespace npfast
