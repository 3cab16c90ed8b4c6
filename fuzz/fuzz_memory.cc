// Fuzzes the caching pool (npfast/memory.hpp): sequences of allocate / allocate_zeroed (what
// npfast.empty / npfast.zeros and the NumPy hook call) / deallocate with sizes from 0 to past
// kMaxRequest, frees on another thread, trim and cache-limit changes. The pool reports no
// errors of its own besides MemoryError, so the harness checks its contract and traps:
// alignment, usable size, zero fill (also of warm and streamed blocks), ownership and the
// in-use counter.
#include <cstdint>
#include <cstring>
#include <thread>
#include <vector>

#include "fuzz/input.h"
#include "npfast/error.hpp"
#include "npfast/memory.hpp"
#include "src/memory/block.h"  // kMaxRequest: the largest request served

namespace {

using namespace npfast;

// A failed contract check: libFuzzer reports the trap as a crash with this input.
void require(bool ok) {
  if (!ok) __builtin_trap();
}

// Mostly small requests and size-class edges, some big ones (warm blocks of >= 16 MiB are
// cleared with streaming stores), and the occasional one the pool must refuse.
size_t request(fuzz::Input& in) {
  switch (in.take<uint8_t>() % 16) {
    case 0:
      return 0;
    case 1:  // around the largest request, and sizes whose rounding would overflow
      return in.range(0, 1) ? memory::kMaxRequest + in.range(-64, 64)
                            : SIZE_MAX - static_cast<size_t>(in.range(0, 4096));
    case 2:  // either side of a size-class or small/big boundary
      return (size_t{1} << in.range(6, 22)) + in.range(-1, 1);
    case 3:
      return static_cast<size_t>(in.range(1, 20 << 20));
    default:
      return static_cast<size_t>(in.range(1, 4096));
  }
}

// Checks a block fresh from the pool and writes its usable bytes (ASan flags a block smaller
// than it claims). Only the first and last 64 KiB of big blocks are read and written, so that
// untouched pages of big mappings stay unfaulted.
void check_block(void* p, size_t bytes, bool zeroed, uint8_t fill) {
  require(p != nullptr && reinterpret_cast<uintptr_t>(p) % memory::kAlignment == 0);
  require(memory::owns(p));
  const size_t usable = memory::block_size(p);
  require(usable >= bytes);
  auto* b = static_cast<uint8_t*>(p);
  constexpr size_t kEdge = size_t{64} << 10;
  const size_t head = bytes < kEdge ? bytes : kEdge;
  const size_t tail = bytes - head < kEdge ? bytes - head : kEdge;
  // memcmp / memset rather than byte loops: coverage hooks on every byte compare made the
  // harness ~10x slower.
  static const uint8_t zeros[kEdge] = {};
  if (zeroed) {
    require(std::memcmp(b, zeros, head) == 0);
    require(std::memcmp(b + bytes - tail, zeros, tail) == 0);
  }
  // Dirty the whole usable size of small blocks, so that a warm block handed out again as
  // zeroed must really be cleared.
  std::memset(b, fill, usable < kEdge ? usable : kEdge);
  b[usable - 1] = fill;
}

struct Live {
  void* p;
  size_t bytes;
};

int64_t in_use() { return memory::stats().bytes_in_use; }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz::Input in(data, size);
  static const size_t default_limit = memory::cache_limit();
  const int64_t base = in_use();
  std::vector<Live> live;
  int64_t held = 0;  // usable bytes of the live blocks
  for (int op = 0; op < 64 && !in.empty(); ++op) {
    switch (in.range(0, 7)) {
      case 0:
      case 1:
      case 2: {
        const size_t bytes = request(in);
        const bool zeroed = in.range(0, 1);
        void* p = nullptr;
        try {
          p = zeroed ? memory::allocate_zeroed(bytes) : memory::allocate(bytes);
        } catch (const MemoryError&) {
          break;  // the only error the pool may raise; nothing was handed out
        }
        check_block(p, bytes, zeroed, static_cast<uint8_t>(op | 1));
        live.push_back({p, bytes});
        held += static_cast<int64_t>(memory::block_size(p));
        break;
      }
      case 3:
      case 4: {
        if (live.empty()) {
          memory::deallocate(nullptr);  // a no-op
          break;
        }
        const size_t i = static_cast<size_t>(in.range(0, static_cast<int64_t>(live.size()) - 1));
        held -= static_cast<int64_t>(memory::block_size(live[i].p));
        memory::deallocate(live[i].p);
        live[i] = live.back();
        live.pop_back();
        break;
      }
      case 5: {  // a block allocated on a thread that exits before the block is freed here
        const size_t bytes = request(in);
        void* p = nullptr;
        std::thread([&] {
          try {
            p = memory::allocate_zeroed(bytes);
          } catch (const MemoryError&) {
          }
        }).join();
        if (!p) break;
        check_block(p, bytes, true, 0x5a);
        live.push_back({p, bytes});
        held += static_cast<int64_t>(memory::block_size(p));
        break;
      }
      case 6:
        memory::trim();
        break;
      default: {  // a lower cap evicts at once; never above the harness's cap (RSS limit)
        const size_t caps[] = {0, size_t{1} << 20, default_limit};
        memory::set_cache_limit(caps[in.range(0, 2)]);
        break;
      }
    }
    require(in_use() == base + held);
  }
  for (const Live& b : live) memory::deallocate(b.p);
  memory::set_cache_limit(default_limit);
  require(in_use() == base);
  return 0;
}
