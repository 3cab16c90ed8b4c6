// OS primitives for the pool: the only file that talks to mmap and the C heap.
//
// Contract:
//   map(bytes)       fresh, zero-filled, page-aligned pages (lazily faulted in by the kernel);
//                    null when the OS refuses. `bytes` must be a multiple of page_size().
//   unmap(p, bytes)  returns pages from map() to the OS.
//   heap_alloc(b)    a 64-byte aligned block from the C heap (not zeroed); null on failure.
//   heap_free(p)     returns a heap_alloc() block.
// Small blocks come from the C heap because it already packs them densely and keeps them
// warm; big blocks come from mmap so that a trim really gives the pages back.
#pragma once

#include <cstddef>

namespace npfast {
namespace memory {
namespace os {

// Mappings at least this big are aligned to 2 MiB and advised MADV_HUGEPAGE (unless
// NPFAST_POOL_HUGEPAGES=0): warm huge-page memory streams faster (fewer TLB misses).
constexpr size_t kHugeMapBytes = size_t{4} << 20;

size_t page_size();
void* map(size_t bytes);
void unmap(void* p, size_t bytes) noexcept;
void* heap_alloc(size_t bytes);
void heap_free(void* p) noexcept;
// Physical memory of the machine in bytes (0 if unknown), for the default cache limit.
size_t physical_memory();

}  // namespace os
}  // namespace memory
}  // namespace npfast
