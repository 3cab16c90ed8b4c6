// 2-D correlation kernel family: the row kernel type and the table of row kernels.
//
// Contract of a rows kernel `<t>_corr2d_<shape>__<isa>` (shape 3x3, 5x5, 7x7 or general):
//   in     nrows + kh - 1 row pointers; row r holds at least n + kw - 1 readable elements
//          (any alignment). Rows may alias each other (a border row repeated).
//   out    nrows output row pointers, each n contiguous writable elements, not overlapping in.
//   nrows  output rows computed by this call, 1 <= nrows <= kMaxRows.
//   n      output columns, n >= 1.
//   taps   kh * kw taps, row-major, in correlation order.
//   kh, kw kernel shape (>= 1); a fixed-shape kernel ignores them.
// computes, for o < nrows and j < n,
//   out[o][j] = sum over a < kh, then b < kw, of taps[a * kw + b] * in[o + a][j + b]
// with fused multiply-adds in that order, starting from zero, in the type T (the reference
// accumulates in double). Every output column is computed the same way whatever n, so a
// column range split into pieces gives bitwise the same results.
// A `_stream` kernel computes the same bits but writes the full vectors of its column blocks
// that fall vector-aligned with non-temporal stores (no read of the destination lines first; for
// outputs far bigger than the cache); on AVX-512 a call of 4 rows streams every row's full
// lines, a row off a line through shifted registers (its first and last few outputs stored
// plainly). It also prefetches the input rows past their n + kw - 1 elements (a hint: nothing
// there is read). Those stores are weakly ordered: the caller runs elementwise::stream_fence()
// after its last call and before the output is read elsewhere.
// A `_reverse` kernel computes the same bits visiting its full column blocks right to left: its
// loads then trail its recent stores instead of leading them, which moves the 4 KiB alias to the
// opposite distances (src/ops/corr2d.cc, alias_hits).
// `f64_corr2d_scipy` (any shape) computes SciPy's sums instead (scipy.ndimage's NI_Correlate,
// whose results integer outputs truncate, so that a last-bit difference becomes a unit one):
//   out[o][j] = ((0.0 + in[..] * taps[t0]) + in[..] * taps[t1]) + ...
// over the taps with |taps[t]| > DBL_EPSILON in row-major order, each product rounded before
// its add (no fused multiply-add): SciPy's result bit for bit.
// Kernels are pure: no allocation, no threads, no exceptions.
#pragma once

#include <cstdint>

#include "npfast/dispatch.hpp"
#include "src/core/registry.h"

namespace npfast {
namespace corr2d {

constexpr int kMaxRows = 4;

template <class T>
using RowsFn = void (*)(const T* const* in, T* const* out, int nrows, int64_t n, const T* taps,
                        int kh, int kw);

// The family's kernels (kernels.inc). One constant per ISA, table_<isa> (src/core/kernels.inc),
// defined in reference.cc and x86_*.cc; looked up by kernels<Table>().
struct Table {
#define NPFAST_KERNEL NPFAST_KERNEL_FIELD
#include "src/kernels/corr2d/kernels.inc"
#undef NPFAST_KERNEL
};

// The row kernel of `t` for a kh x kw kernel: the one specialised for that shape, or general.
template <class T>
RowsFn<T> rows_kernel(const Table& t, int kh, int kw) {
  if (kh == 3 && kw == 3) return of<T>(t.f32_corr2d_3x3, t.f64_corr2d_3x3);
  if (kh == 5 && kw == 5) return of<T>(t.f32_corr2d_5x5, t.f64_corr2d_5x5);
  if (kh == 7 && kw == 7) return of<T>(t.f32_corr2d_7x7, t.f64_corr2d_7x7);
  return of<T>(t.f32_corr2d_general, t.f64_corr2d_general);
}

// The streaming variant for a kh x kw kernel, or null where there is none: only 3x3, the kernel
// bound by memory past the cache (7x7 is bound by its FMAs and measured 3-5% slower streamed).
template <class T>
RowsFn<T> stream_kernel(const Table& t, int kh, int kw) {
  if (kh == 3 && kw == 3) return of<T>(t.f32_corr2d_3x3_stream, t.f64_corr2d_3x3_stream);
  return nullptr;
}

// The right-to-left variant for a kh x kw kernel, or null where there is none: only 3x3, the
// kernel whose speed the 4 KiB alias moves (docs/threads.md "outalias").
template <class T>
RowsFn<T> reverse_kernel(const Table& t, int kh, int kw) {
  if (kh == 3 && kw == 3) return of<T>(t.f32_corr2d_3x3_reverse, t.f64_corr2d_3x3_reverse);
  return nullptr;
}

}  // namespace corr2d
}  // namespace npfast
