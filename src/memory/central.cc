// The central cache (see central.h for the policy).
#include "src/memory/central.h"

#include <algorithm>
#include <chrono>
#include <string>

#include "npfast/error.hpp"
#include "src/memory/os.h"

namespace npfast {
namespace memory {
namespace {

uint32_t now_ms() {
  using namespace std::chrono;
  return static_cast<uint32_t>(
      duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count());
}

// Where a mapped block's header sits in its mapping: half a page in, so the caller's data starts
// at page offset 2112 (2048 + the header). glibc's mmap'd chunks, NumPy's big arrays among them,
// start 16 bytes into a page; with the header at the mapping's start, a pool output began 48
// bytes past such an input modulo 4 KiB, and a kernel that stores a row and then loads the
// input near the same page offset (the 4 KiB alias the core's store-to-load check compares)
// waits on those stores: correlate2d 3x3 2000^2 float32 from a NumPy image, 1-thread CPU 0.82-0.88
// ms -> 0.70-0.72 (1000^2 0.19 -> 0.16; docs/corr2d.md "corr6"). Pool-to-pool calls keep the same
// distance (0) as before.
constexpr size_t kMappedOffset = 2048;

Header* mapped_header(void* base) {
  return base ? reinterpret_cast<Header*>(static_cast<char*>(base) + kMappedOffset) : nullptr;
}

}  // namespace

Header* Central::evict_aged(uint32_t now, Header* list) {
  const uint32_t decay = decay_ms();
  if (decay == 0) return list;
  // The LRU is ordered by freed_ms, so only its old end needs looking at.
  while (oldest_ && now - oldest_->freed_ms > decay) {
    Header* h = oldest_;
    unlink(h);
    h->next = list;
    list = h;
  }
  return list;
}

void Central::unlink(Header* h) {
  if (h->prev)
    h->prev->next = h->next;
  else
    heads_[h->cls] = h->next;
  if (h->next) h->next->prev = h->prev;
  if (h->older)
    h->older->newer = h->newer;
  else
    oldest_ = h->newer;
  if (h->newer)
    h->newer->older = h->older;
  else
    newest_ = h->older;
  cached_ -= static_cast<int64_t>(h->size);
}

void Central::link_in_class(Header* h) {
  const int c = h->cls;
  // Small classes (a thread cache's spill): plain LIFO. Big ones: sorted into the run; a run
  // full (kMaxRun, too long to sort cheaply) takes h after its blocks, not at the head, where
  // every role in a loop of more blocks than that would rotate.
  Header* before = nullptr;  // the run's last block allocated before h, if any
  if (c >= kSmallClasses) {
    Header* x = heads_[c];
    for (int i = 0; i < run_[c] && x; ++i, x = x->next) {
      if (static_cast<int32_t>(x->seq - h->seq) > 0) break;
      before = x;
    }
  }
  Header* after = before ? before->next : heads_[c];
  h->prev = before;
  h->next = after;
  if (after) after->prev = h;
  if (before)
    before->next = h;
  else
    heads_[c] = h;
  run_[c] = run_[c] < kMaxRun ? run_[c] + 1 : kMaxRun;
}

Header* Central::take(int c) {
  Header* aged;
  Header* found = nullptr;
  {
    std::lock_guard<std::mutex> lk(mu_);
    const int last = c < kSmallClasses ? c : std::min(c + kBigReuseClasses, kNumClasses - 1);
    for (int k = c; k <= last && !found; ++k) {
      if (Header* h = heads_[k]) {
        unlink(h);
        run_[k] = 0;
        h->seq = next_seq_.fetch_add(1, std::memory_order_relaxed);
        found = h;
      }
    }
    aged = oldest_ ? evict_aged(now_ms(), nullptr) : nullptr;
  }
  release_list(aged);
  return found;
}

int Central::take_batch(int c, int n, Header** list) {
  std::lock_guard<std::mutex> lk(mu_);
  int got = 0;
  while (got < n && heads_[c]) {
    Header* h = heads_[c];
    unlink(h);
    run_[c] = 0;
    h->next = *list;
    *list = h;
    ++got;
  }
  return got;
}

void Central::put_list(Header* first) {
  Header* evicted;
  const uint32_t now = now_ms();
  {
    std::lock_guard<std::mutex> lk(mu_);
    for (Header* h = first; h;) {
      Header* following = h->next;
      link_in_class(h);
      h->older = newest_;
      h->newer = nullptr;
      if (newest_)
        newest_->newer = h;
      else
        oldest_ = h;
      newest_ = h;
      cached_ += static_cast<int64_t>(h->size);
      h->freed_ms = now;
      h = following;
    }
    const size_t lim = limit();
    evicted = static_cast<size_t>(cached_) > lim ? evict_to(lim - lim / 8) : nullptr;
    evicted = evict_aged(now, evicted);
  }
  release_list(evicted);
}

Header* Central::evict_to(size_t target) {
  Header* list = nullptr;
  while (oldest_ && static_cast<size_t>(cached_) > target) {
    Header* h = oldest_;
    unlink(h);
    h->next = list;
    list = h;
  }
  return list;
}

void Central::release_list(Header* list) noexcept {
  while (list) {
    Header* following = list->next;
    release(list);
    list = following;
  }
}

Header* Central::fresh(int c, bool* zeroed) {
  const size_t size = class_size(c);
  Header* h;
  size_t mapped = 0;
  if (size <= kSmallMax) {
    h = static_cast<Header*>(os::heap_alloc(size + kHeaderBytes));
    *zeroed = false;
  } else {
    const size_t page = os::page_size();
    mapped = (size + kHeaderBytes + kMappedOffset + page - 1) & ~(page - 1);
    h = mapped_header(os::map(mapped));
    *zeroed = true;
  }
  if (!h && static_cast<size_t>(cached()) >= size) {
    // The cache may be what is in the way: give it back and try once more. (Not for requests
    // bigger than the whole cache: those would fail anyway, and trimming would only cool it.)
    trim();
    if (size <= kSmallMax)
      h = static_cast<Header*>(os::heap_alloc(size + kHeaderBytes));
    else
      h = mapped_header(os::map(mapped));
  }
  if (!h) throw MemoryError("out of memory: the OS refused " + std::to_string(size) + " bytes");
  h->magic = kMagic;
  h->seq = next_seq_.fetch_add(1, std::memory_order_relaxed);
  h->size = size;
  h->mapped = mapped;
  h->cls = c;
  reserved_.fetch_add(static_cast<int64_t>(size), std::memory_order_relaxed);
  os_allocs_.fetch_add(1, std::memory_order_relaxed);
  return h;
}

void Central::release(Header* h) noexcept {
  reserved_.fetch_sub(static_cast<int64_t>(h->size), std::memory_order_relaxed);
  os_frees_.fetch_add(1, std::memory_order_relaxed);
  h->magic = 0;
  if (h->mapped)
    os::unmap(reinterpret_cast<char*>(h) - kMappedOffset, h->mapped);
  else
    os::heap_free(h);
}

void Central::trim() noexcept {
  Header* list;
  {
    std::lock_guard<std::mutex> lk(mu_);
    list = evict_to(0);
  }
  release_list(list);
}

void Central::set_limit(size_t bytes) noexcept {
  limit_.store(bytes, std::memory_order_relaxed);
  Header* list;
  {
    std::lock_guard<std::mutex> lk(mu_);
    list = static_cast<size_t>(cached_) > bytes ? evict_to(bytes - bytes / 8) : nullptr;
  }
  release_list(list);
}

}  // namespace memory
}  // namespace npfast
