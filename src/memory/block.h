// Blocks and size classes: the layout every layer of the pool shares.
//
// Each block starts with a 64-byte Header; the caller's pointer is the byte after it, so it is
// 64-byte aligned and deallocate() finds the size without asking the caller (NumPy's free
// size cannot be trusted). While a block is cached its header also links it into free lists.
//
// Size classes: multiples of 64 up to 1 KiB, then 8 classes per power of two (at most 12.5%
// waste). Classes up to kSmallMax are "small": they come from the C heap and live in per-thread
// caches. Bigger ones come straight from mmap and are cached centrally.
#pragma once

#include <cstddef>
#include <cstdint>

namespace npfast {
namespace memory {

constexpr size_t kHeaderBytes = 64;
constexpr size_t kSmallMax = size_t{256} << 10;
// Largest request served: leaves room for the header and page rounding without overflow.
constexpr size_t kMaxRequest = size_t{1} << 52;
constexpr int kNumClasses = 16 + (52 - 10 + 1) * 8;
constexpr uint32_t kMagic = 0x6e70666bu;  // "npfk"

struct alignas(64) Header {
  uint32_t magic;
  uint32_t seq;       // when it was last handed out (big blocks; wraps): orders reuse
  size_t size;        // usable bytes (the class size, or more for a reused bigger block)
  size_t mapped;      // bytes obtained from mmap (0 for heap blocks)
  int32_t cls;        // size class index of `size`
  uint32_t freed_ms;  // when it entered the central cache (coarse clock, wraps every 49 days)
  Header* next;       // free-list links while cached
  Header* prev;
  Header* older;  // central cache LRU links (older = evicted first)
  Header* newer;
};
static_assert(sizeof(Header) == kHeaderBytes, "header must be one cache line");

inline void* user_of(Header* h) { return reinterpret_cast<char*>(h) + kHeaderBytes; }
inline Header* header_of(const void* p) {
  return reinterpret_cast<Header*>(const_cast<char*>(static_cast<const char*>(p)) - kHeaderBytes);
}

// Size class index for a request of `bytes` (<= kMaxRequest).
inline int class_index(size_t bytes) {
  if (bytes <= 1024) return bytes <= 64 ? 0 : static_cast<int>((bytes + 63) / 64) - 1;
  const size_t v = bytes - 1;
  const int m = 63 - __builtin_clzll(v);         // >= 10
  const int k = static_cast<int>(v >> (m - 3));  // 8..15
  return 16 + (m - 10) * 8 + (k - 8);
}

// Usable bytes of class `c`.
inline size_t class_size(int c) {
  if (c < 16) return static_cast<size_t>(c + 1) * 64;
  const int m = 10 + (c - 16) / 8, k = 8 + (c - 16) % 8;
  return static_cast<size_t>(k + 1) << (m - 3);
}

const int kSmallClasses = 16 + (17 - 10 + 1) * 8;  // classes up to 256 KiB
static_assert(kSmallMax == (size_t{1} << 18), "kSmallClasses assumes 256 KiB");

}  // namespace memory
}  // namespace npfast
