#include "src/ops/alias_rows.h"

#include <algorithm>
#include <atomic>

#include "npfast/dispatch.hpp"
#include "src/kernels/elementwise/elementwise.h"

namespace npfast {
namespace ops {

namespace {

// Distances (store - load modulo 4 KiB, bytes) that ran slow with streamed stores: 0-192 at
// 2048 float32 wide (a pitch of 2 pages), sobel, maximum, uniform and correlate 3x3, 256-320
// 1.3-1.5x for sobel and correlate (Zen 3, docs/ndimage-speed.md "alias26"). Rows a few
// lines longer than whole pages (2056-2064 float32) ran slow from -64-192 on: -64 counts.
constexpr int64_t kSlowFrom = -64, kSlowTo = 320;

// Only rows whose pairs' distances all lie within this span ran slow: 2000 float32 wide
// (rows 192 bytes apart modulo 4 KiB, pairs spread over 1536 bytes) ran as fast at every
// distance, 2064 (64 bytes, a 512-byte span) 3-4x slower at the worst.
constexpr int64_t kNarrow = 512;

std::atomic<int64_t> g_aliased_rows{0};

}  // namespace

bool streamed_rows_alias(uintptr_t store, int64_t out_rs, uintptr_t load, int64_t in_rs,
                         int64_t above, int64_t below, int64_t group) {
  // Distances modulo 4 KiB as the nearest to 0: [-2048, 2048).
  auto centred = [](int64_t x) { return ((x % 4096) + 4096 + 2048) % 4096 - 2048; };
  const int64_t d = centred(static_cast<int64_t>((store - load) % 4096));
  const int64_t so = centred(out_rs), si = centred(in_rs);
  int64_t hits = 0, pairs = 0, lo = 0, hi = 0;
  for (int64_t q = 0; q < group; ++q)
    for (int64_t r = -above; r < group + below; ++r) {
      const int64_t e = q * so - r * si;  // the pair's distance less d
      lo = std::min(lo, e);
      hi = std::max(hi, e);
      const int64_t x = centred(d + e);
      hits += x >= kSlowFrom && x <= kSlowTo;
      ++pairs;
    }
  return hi - lo <= kNarrow && 3 * hits > pairs;
}

int64_t AliasedRows::bytes(int64_t group, int64_t row_bytes) {
  return group * pitch_of(row_bytes) + 4096;
}

bool streamed_rows_alias(const View& in, const View& out, int axis, int64_t above, int64_t below,
                         int64_t group) {
  return streamed_rows_alias(reinterpret_cast<uintptr_t>(out.data), out.strides[axis],
                             reinterpret_cast<uintptr_t>(in.data), in.strides[axis], above, below,
                             group);
}

AliasedRows::AliasedRows(int64_t group, int64_t row_bytes, uintptr_t load, char* mem)
    : mem_(mem ? Buffer<char>() : Buffer<char>(static_cast<size_t>(bytes(group, row_bytes)))),
      pitch_(pitch_of(row_bytes)),
      row_bytes_(row_bytes) {
  if (!mem) mem = mem_.get();
  const uintptr_t at = reinterpret_cast<uintptr_t>(mem) % 4096;
  const uintptr_t want = (load + 2048) % 4096 / 64 * 64;
  base_ = mem + (want + 4096 - at) % 4096;
}

void AliasedRows::flush(void* first, int64_t stride, int64_t m) const {
  const elementwise::CopyFn copy = kernels<elementwise::Table>().x8_copy_stream;
  for (int64_t r = 0; r < m; ++r)
    copy(static_cast<size_t>(row_bytes_), base_ + r * pitch_,
         static_cast<char*>(first) + r * stride);
  g_aliased_rows.fetch_add(m, std::memory_order_relaxed);
}

int64_t aliased_rows() { return g_aliased_rows.load(std::memory_order_relaxed); }

}  // namespace ops
}  // namespace npfast
