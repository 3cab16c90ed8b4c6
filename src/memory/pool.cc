// The caching pool (first version: one lock, size classes, a cache cap).
//
// Each block carries a 64-byte header in front of the user pointer recording its size class,
// so deallocate() needs no size from the caller (NumPy's free size cannot be trusted).
#include <sys/mman.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "npfast/error.hpp"
#include "npfast/memory.hpp"

namespace npfast {
namespace memory {
namespace {

constexpr size_t kHeader = kAlignment;
constexpr size_t kMmapThreshold = size_t{1} << 20;  // large blocks straight from mmap

struct Header {
  size_t size;  // usable bytes
};

// Rounds up to a size class: multiples of 64 up to 1 KiB, then 8 classes per power of two
// (at most 12.5% waste).
size_t class_size(size_t bytes) {
  if (bytes <= 1024) return std::max<size_t>(64, (bytes + 63) & ~size_t{63});
  const int msb = 63 - __builtin_clzll(bytes - 1);
  const size_t step = size_t{1} << (msb - 3);
  return (bytes + step - 1) & ~(step - 1);
}

size_t env_limit() {
  if (const char* env = std::getenv("NPFAST_POOL_LIMIT"); env && *env) {
    char* end = nullptr;
    unsigned long long v = std::strtoull(env, &end, 10);
    if (end && *end == '\0') return static_cast<size_t>(v);
  }
  return size_t{1} << 30;  // 1 GiB
}

class Pool {
 public:
  void* allocate(size_t bytes, bool zero) {
    if (bytes > (size_t{1} << 62))
      throw MemoryError("allocate: cannot allocate " + std::to_string(bytes) + " bytes");
    const size_t size = class_size(bytes);
    {
      std::lock_guard<std::mutex> lk(mu_);
      auto it = free_.find(size);
      if (it != free_.end() && !it->second.empty()) {
        char* user = it->second.back();
        it->second.pop_back();
        cached_ -= size;
        in_use_ += size;
        ++hits_;
        if (zero) std::memset(user, 0, bytes);
        return user;
      }
      ++misses_;
    }
    char* user = os_alloc(size);  // fresh pages: already zero when from mmap
    if (zero && size + kHeader < kMmapThreshold) std::memset(user, 0, bytes);
    std::lock_guard<std::mutex> lk(mu_);
    in_use_ += size;
    reserved_ += size;
    ++os_allocs_;
    return user;
  }

  void deallocate(void* p) {
    if (!p) return;
    char* user = static_cast<char*>(p);
    const size_t size = header(user)->size;
    std::unique_lock<std::mutex> lk(mu_);
    in_use_ -= size;
    if (cached_ + size > limit_) {
      reserved_ -= size;
      ++os_frees_;
      lk.unlock();
      os_free(user);
      return;
    }
    free_[size].push_back(user);
    cached_ += size;
  }

  void trim() {
    std::vector<char*> blocks;
    {
      std::lock_guard<std::mutex> lk(mu_);
      for (auto& [size, list] : free_) {
        blocks.insert(blocks.end(), list.begin(), list.end());
        reserved_ -= static_cast<int64_t>(size * list.size());
        os_frees_ += static_cast<int64_t>(list.size());
        list.clear();
      }
      cached_ = 0;
    }
    for (char* b : blocks) os_free(b);
  }

  Stats stats() {
    std::lock_guard<std::mutex> lk(mu_);
    return {in_use_, cached_, reserved_, hits_, misses_, os_allocs_, os_frees_};
  }

  size_t limit() {
    std::lock_guard<std::mutex> lk(mu_);
    return limit_;
  }
  void set_limit(size_t bytes) {
    {
      std::lock_guard<std::mutex> lk(mu_);
      limit_ = bytes;
      if (static_cast<size_t>(cached_) <= limit_) return;
    }
    trim();
  }

  static Header* header(char* user) { return reinterpret_cast<Header*>(user - kHeader); }

 private:
  static char* os_alloc(size_t size) {
    const size_t total = size + kHeader;
    void* base;
    if (total >= kMmapThreshold) {
      base = mmap(nullptr, total, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      if (base == MAP_FAILED) base = nullptr;
    } else {
      base = std::aligned_alloc(kAlignment, total);
    }
    if (!base) throw MemoryError("allocate: out of memory for " + std::to_string(size) + " bytes");
    char* user = static_cast<char*>(base) + kHeader;
    header(user)->size = size;
    return user;
  }

  static void os_free(char* user) {
    const size_t total = header(user)->size + kHeader;
    if (total >= kMmapThreshold) munmap(user - kHeader, total);
    else std::free(user - kHeader);
  }

  std::mutex mu_;
  std::unordered_map<size_t, std::vector<char*>> free_;
  int64_t in_use_ = 0, cached_ = 0, reserved_ = 0, hits_ = 0, misses_ = 0;
  int64_t os_allocs_ = 0, os_frees_ = 0;
  size_t limit_ = env_limit();
};

Pool& pool() {
  static Pool* p = new Pool;  // never destroyed: arrays may outlive static destruction
  return *p;
}

}  // namespace

void* allocate(size_t bytes) { return pool().allocate(bytes, false); }
void* allocate_zeroed(size_t bytes) { return pool().allocate(bytes, true); }
void deallocate(void* p) noexcept { pool().deallocate(p); }
size_t block_size(const void* p) noexcept {
  return Pool::header(static_cast<char*>(const_cast<void*>(p)))->size;
}
Stats stats() { return pool().stats(); }
void trim() noexcept { pool().trim(); }
size_t cache_limit() { return pool().limit(); }
void set_cache_limit(size_t bytes) { pool().set_limit(bytes); }

}  // namespace memory
}  // namespace npfast
