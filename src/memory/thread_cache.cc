// Per-thread caches and their registry (see thread_cache.h).
#include "src/memory/thread_cache.h"

#include <mutex>

namespace npfast {
namespace memory {
namespace {

struct Registry {
  std::mutex mu;
  ThreadCache* head = nullptr;
  int64_t hits = 0, misses = 0, in_use = 0;  // of exited threads
};

Registry& registry() {
  static Registry* r = new Registry;  // never destroyed: threads may exit after statics die
  return *r;
}

thread_local ThreadCache* t_cache = nullptr;
thread_local bool t_exiting = false;

// Owns the thread's cache; its destructor runs at thread exit.
struct Reaper {
  ThreadCache* cache = nullptr;
  ~Reaper() {
    t_exiting = true;
    t_cache = nullptr;
    if (!cache) return;
    cache->flush();
    Registry& r = registry();
    std::lock_guard<std::mutex> lk(r.mu);
    r.hits += cache->counters.hits.load(std::memory_order_relaxed);
    r.misses += cache->counters.misses.load(std::memory_order_relaxed);
    r.in_use += cache->counters.in_use.load(std::memory_order_relaxed);
    if (cache->reg_prev)
      cache->reg_prev->reg_next = cache->reg_next;
    else
      r.head = cache->reg_next;
    if (cache->reg_next) cache->reg_next->reg_prev = cache->reg_prev;
    delete cache;
  }
};

ThreadCache* create(Central* central) {
  static thread_local Reaper reaper;
  auto* c = new ThreadCache(central);
  Registry& r = registry();
  {
    std::lock_guard<std::mutex> lk(r.mu);
    c->reg_next = r.head;
    if (r.head) r.head->reg_prev = c;
    r.head = c;
  }
  reaper.cache = c;
  t_cache = c;
  return c;
}

}  // namespace

ThreadCache* existing_thread_cache() { return t_cache; }

ThreadCache* thread_cache(Central* central) {
  ThreadCache* c = t_cache;
  if (__builtin_expect(c != nullptr, 1)) {
    if (__builtin_expect(c->flush_requested.load(std::memory_order_relaxed), 0)) {
      c->flush_requested.store(false, std::memory_order_relaxed);
      c->flush();
    }
    return c;
  }
  return t_exiting ? nullptr : create(central);
}

Header* ThreadCache::take_list(int c, int n) {
  Header* first = heads_[c];
  Header* last = first;
  size_t bytes = last->size;
  for (int i = 1; i < n; ++i) {
    last = last->next;
    bytes += last->size;
  }
  heads_[c] = last->next;
  last->next = nullptr;
  counts_[c] -= n;
  bytes_ -= bytes;
  bump(counters.cached, -static_cast<int64_t>(bytes));
  return first;
}

Header* ThreadCache::refill(int c) {
  const int batch = max_count(c) / 2;
  Header* list = nullptr;
  const int got = central_->take_batch(c, batch, &list);
  if (got == 0) return nullptr;
  Header* h = list;
  list = list->next;
  for (Header* b = list; b; b = b->next) {
    bytes_ += b->size;
    bump(counters.cached, static_cast<int64_t>(b->size));
  }
  heads_[c] = list;
  counts_[c] = got - 1;
  return h;
}

void ThreadCache::spill(int c) {
  if (counts_[c] > max_count(c)) {
    central_->put_list(take_list(c, counts_[c] - max_count(c) / 2));
    return;
  }
  // Over the per-thread byte budget: halve every class.
  for (int k = 0; k < kSmallClasses; ++k)
    if (counts_[k] > 0) central_->put_list(take_list(k, (counts_[k] + 1) / 2));
}

void ThreadCache::flush() {
  for (int k = 0; k < kSmallClasses; ++k)
    if (counts_[k] > 0) central_->put_list(take_list(k, counts_[k]));
}

void sum_counters(int64_t* hits, int64_t* misses, int64_t* in_use, int64_t* cached) {
  Registry& r = registry();
  std::lock_guard<std::mutex> lk(r.mu);
  *hits = r.hits;
  *misses = r.misses;
  *in_use = r.in_use;
  *cached = 0;
  for (ThreadCache* c = r.head; c; c = c->reg_next) {
    *hits += c->counters.hits.load(std::memory_order_relaxed);
    *misses += c->counters.misses.load(std::memory_order_relaxed);
    *in_use += c->counters.in_use.load(std::memory_order_relaxed);
    *cached += c->counters.cached.load(std::memory_order_relaxed);
  }
  Counters& o = orphan_counters();
  *hits += o.hits.load(std::memory_order_relaxed);
  *misses += o.misses.load(std::memory_order_relaxed);
  *in_use += o.in_use.load(std::memory_order_relaxed);
}

Counters& orphan_counters() {
  static Counters* c = new Counters;
  return *c;
}

void request_flush_all() {
  Registry& r = registry();
  std::lock_guard<std::mutex> lk(r.mu);
  for (ThreadCache* c = r.head; c; c = c->reg_next)
    c->flush_requested.store(true, std::memory_order_relaxed);
}

}  // namespace memory
}  // namespace npfast

namespace npfast {
namespace memory {

void lock_registry() { registry().mu.lock(); }
void unlock_registry() { registry().mu.unlock(); }

}  // namespace memory
}  // namespace npfast
