// 2-D correlation kernel family: the row kernel type, the per-ISA tables and the selector.
//
// Contract of a rows kernel `corr2d_<shape>_<t>__<isa>` (shape 3x3, 5x5, 7x7 or general):
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
// Kernels are pure: no allocation, no threads, no exceptions.
#pragma once

#include <cstdint>

#include "npfast/dispatch.hpp"

namespace npfast {
namespace corr2d {

constexpr int kMaxRows = 4;

template <class T>
using RowsFn = void (*)(const T* const* in, T* const* out, int nrows, int64_t n, const T* taps,
                        int kh, int kw);

// Kernels specialised for a shape; kGeneral takes any kh, kw.
enum Shape : int { k3x3 = 0, k5x5 = 1, k7x7 = 2, kGeneral = 3, kNumShapes = 4 };
Shape shape_of(int kh, int kw);
const char* shape_name(Shape s);

struct Table {
  RowsFn<float> f32[kNumShapes];
  RowsFn<double> f64[kNumShapes];
};

// Per-ISA tables, defined in reference.cc and x86_*.cc.
extern const Table table_reference;
extern const Table& table_avx2;
extern const Table& table_avx512;

// The table of `isa`, or null when this build has none.
const Table* table_for(Isa isa);
// The kernel the dispatcher uses now for a kh x kw kernel (active ISA or the nearest narrower).
RowsFn<float> rows_kernel_f32(int kh, int kw);
RowsFn<double> rows_kernel_f64(int kh, int kw);
// "corr2d_3x3_f32__avx2": the kernel rows_kernel_* returns now.
const char* kernel_name(bool f64, int kh, int kw);

}  // namespace corr2d
}  // namespace npfast
