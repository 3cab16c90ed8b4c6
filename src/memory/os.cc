// OS primitives (POSIX).
#include "src/memory/os.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <cstdio>

namespace npfast {
namespace memory {
namespace os {

size_t page_size() {
  static const size_t page = [] {
    const long p = sysconf(_SC_PAGESIZE);
    return p > 0 ? static_cast<size_t>(p) : size_t{4096};
  }();
  return page;
}

namespace {
constexpr size_t kHuge = size_t{2} << 20;

bool huge_pages_wanted() {
  static const bool on = [] {
    const char* env = std::getenv("NPFAST_POOL_HUGEPAGES");
    if (!env || !*env || std::strcmp(env, "1") == 0) return true;
    if (std::strcmp(env, "0") == 0) return false;
    // Said, as the other variables are (probe19e: "yes", "2" or "-1" meant on silently).
    std::fprintf(stderr, "npfast: ignoring NPFAST_POOL_HUGEPAGES=%s (expected 0 or 1)\n", env);
    return true;
  }();
  return on;
}
}  // namespace

void* map(size_t bytes) {
  const bool huge = bytes >= kHugeMapBytes && huge_pages_wanted();
  const size_t ask = huge ? bytes + kHuge : bytes;
  void* p = mmap(nullptr, ask, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) return nullptr;
  if (!huge) return p;
  // Align to a huge page so the block can be backed by 2 MiB pages (fewer TLB misses when it
  // is streamed through); give back the slop on both sides.
  char* base = static_cast<char*>(p);
  char* aligned =
      reinterpret_cast<char*>((reinterpret_cast<uintptr_t>(base) + kHuge - 1) & ~(kHuge - 1));
  if (aligned > base) munmap(base, static_cast<size_t>(aligned - base));
  const size_t tail = static_cast<size_t>(base + ask - (aligned + bytes));
  if (tail) munmap(aligned + bytes, tail);
#ifdef MADV_HUGEPAGE
  madvise(aligned, bytes, MADV_HUGEPAGE);
#endif
  return aligned;
}

void unmap(void* p, size_t bytes) noexcept { munmap(p, bytes); }

void* heap_alloc(size_t bytes) { return std::aligned_alloc(64, (bytes + 63) & ~size_t{63}); }

void heap_free(void* p) noexcept { std::free(p); }

size_t physical_memory() {
  const long pages = sysconf(_SC_PHYS_PAGES);
  return pages > 0 ? static_cast<size_t>(pages) * page_size() : 0;
}

}  // namespace os

bool huge_pages() { return os::huge_pages_wanted(); }

}  // namespace memory
}  // namespace npfast
