// OS primitives (POSIX).
#include "src/memory/os.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cstdlib>

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

void* map(size_t bytes) {
  void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  return p == MAP_FAILED ? nullptr : p;
}

void unmap(void* p, size_t bytes) noexcept { munmap(p, bytes); }

void* heap_alloc(size_t bytes) { return std::aligned_alloc(64, (bytes + 63) & ~size_t{63}); }

void heap_free(void* p) noexcept { std::free(p); }

size_t physical_memory() {
  const long pages = sysconf(_SC_PHYS_PAGES);
  return pages > 0 ? static_cast<size_t>(pages) * page_size() : 0;
}

}  // namespace os
}  // namespace memory
}  // namespace npfast
