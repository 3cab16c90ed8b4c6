// Software prefetch of the input rows a streaming row-group kernel reads next (and prefetch_past,
// one line past a pointer, for the GEMM family's matrix x vector rows). Past the cache
// the hardware prefetcher alone let the new rows of each group arrive late (docs/ndimage-speed.md
// "sobuni2", docs/corr2d.md "corr3s"). Shared by the filter1d (sep3_rows, uniform2d_rows) and
// corr2d (the streamed 3x3) families. Included by a family's generic.h after the ISA header,
// with NPFAST_TARGET defined, as shift_lanes.h.
#ifndef NPFAST_KERNELS_ROW_PREFETCH_H_
#define NPFAST_KERNELS_ROW_PREFETCH_H_

#include <cstdint>

namespace npfast {
namespace NPFAST_TARGET {

// Prefetches (into L1) SpanBytes bytes at `ahead` elements past column j of each of the M input
// rows new to a group of M output rows (rows[0 .. M): the rows below those the previous group
// read). Past a row's end (`extent` columns read) the hint goes M - 1 rows further down, to the
// next group's new row at the same column, the row pitch taken from this group's last two rows
// (a guess, and a prefetch never faults): it landed in the next row, which this group reads
// already, and the next group's rows started from memory unprefetched (cold, 1 thread CPU ns/px,
// AVX-512: sobel 3000^2 0.43-0.46 -> 0.40-0.41, 4000^2 0.39-0.40 -> 0.36-0.38;
// docs/ndimage-speed.md "sobuni2"). The addresses are formed as integers: they may lie past the
// arrays, where pointer arithmetic is undefined.
// A prefetch of the line `bytes` past p, the address formed as an integer: it may lie past the
// array, where pointer arithmetic is undefined (a prefetch never faults).
inline __attribute__((always_inline)) void prefetch_past(const void* p, int64_t bytes) {
  __builtin_prefetch(reinterpret_cast<const char*>(reinterpret_cast<uintptr_t>(p) +
                                                   static_cast<uintptr_t>(bytes)));
}

template <class T, int M, int SpanBytes>
inline __attribute__((always_inline)) void prefetch_new_rows(const T* const* rows, int64_t j,
                                                             int64_t extent, int64_t ahead) {
  uintptr_t skip = 0;
  if constexpr (M > 1)
    if (j + ahead >= extent)
      skip = (reinterpret_cast<uintptr_t>(rows[M - 1]) - reinterpret_cast<uintptr_t>(rows[M - 2])) *
             (M - 1);
#pragma GCC unroll 8
  for (int r = 0; r < M; ++r) {
    const uintptr_t at =
        reinterpret_cast<uintptr_t>(rows[r]) + static_cast<uintptr_t>(j + ahead) * sizeof(T) + skip;
#pragma GCC unroll 8
    for (int b = 0; b < SpanBytes; b += 64)
      __builtin_prefetch(reinterpret_cast<const char*>(at + static_cast<uintptr_t>(b)));
  }
}

}  // namespace NPFAST_TARGET
}  // namespace npfast

#endif  // NPFAST_KERNELS_ROW_PREFETCH_H_
