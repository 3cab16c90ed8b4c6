// Elementwise kernel family: types, the table, and its entries by dtype.
//
// Contract of a convert kernel `<src>_<dst>_convert__<isa>`:
//   n       number of elements (>= 0)
//   x       n contiguous source elements (any alignment)
//   y       n contiguous destination elements (any alignment; must not overlap x unless x == y
//           and both types have the same size)
//   scale, offset
//           y[i] = cast(fma(double(x[i]), scale, offset)); the cast to float rounds to nearest,
//           the cast to uint8 rounds half to even and saturates, NaN -> 0.
// A `convert_stream` kernel computes the same values but writes y with non-temporal stores
// (the lines bypass the cache: for outputs far bigger than the cache, where normal stores would
// first read every destination line); y must be aligned to its element size. Streaming stores
// are weakly ordered: the caller runs stream_fence() after its last streaming kernel call and
// before anything else (another thread) reads y. Kernels do not fence themselves, so an op may
// call them on short pieces without draining the write-combining buffers each time.
//
// Contract of a normalize kernel `u8_<dst>_normalize__<isa>` (per-channel affine of uint8):
//   n       number of elements (>= 0); x: n contiguous uint8; y: n contiguous dst elements
//   scale, offset
//           tables of channels + 8 doubles, entry j holding the value of channel j % channels
//           (the tail lets a vector read its lanes without wrapping)
//   channels >= 1; phase in [0, channels): element i belongs to channel (phase + i) % channels
//   stream  write y with non-temporal stores (y aligned to its element size)
//   y[i] = cast(fma(double(x[i]), scale[c], offset[c])), c = (phase + i) % channels.
//
// Contract of a gather kernel `u8_<dst>_gather__<isa>` (one channel of an interleaved image):
//   y[i] = cast(fma(double(x[i * sx]), scale, offset)) for i < n, y contiguous (dst f32/f64);
//   1 <= sx and (n - 1) * sx < 2^31; reads only bytes x[0 .. (n - 1) sx]; stream as above.
//
// Contract of a trunc kernel `f64_<dst>_trunc__<isa>` (dst u8, i8, u16, i16, i32): y[i] = x[i]
// cast as C casts a double to dst on x86-64 (trunc_from_f64, cast.h: toward zero into int32,
// INT32_MIN for NaN and anything outside int32, then dst's low bits) for n contiguous doubles x
// and n contiguous y (any alignment). SciPy's line buffers go back into integer arrays so: the
// ndimage filters' integer outputs (src/ops/ndimage_line.h, store_lanes).
//
// Contract of an absmax kernel `<f32|f64>_absmax__<isa>`: returns the largest |x[i]| of n
// contiguous elements (any alignment) when all are finite, a NaN when one is +-inf or NaN, 0
// for n = 0. Exact, so the same for any split of the elements (a caller may reduce blocks in
// parallel). The check that Winograd's transforms stay finite (conv2d_winograd.cc).
//
// Contract of a finite kernel `<f32|f64>_finite__<isa>`: returns whether every element of the
// `rows` rows x[r][0 .. n) (contiguous, any alignment) is finite; true when rows or n is 0. The
// check the corr2d operator runs on the rows its kernels have just read, several rows a call:
// absmax's per-call reduction, one call a row, was most of that check's cost.
//
// Contract of a zero kernel `x8_zero_stream__<isa>`: sets n bytes at p (any alignment) to zero
// with non-temporal stores, and fences them (it is called on large blocks).
//
// Contract of a copy kernel `x8_copy_stream__<isa>`: copies n bytes from x to y (any
// alignment, not overlapping), the whole 64-byte lines of y with non-temporal stores; no fence
// (as convert_stream: the caller fences once after its last call). Rows made in a scratch
// because storing them in place would meet the 4 KiB alias of the rows being read
// (src/ops/alias_rows.h) go out through it.
//
// Kernels are pure: no allocation, no threads, no exceptions.
#pragma once

#include <cstddef>
#include <cstdint>

#include "npfast/dispatch.hpp"
#include "npfast/view.hpp"
#include "src/core/registry.h"

namespace npfast {
namespace elementwise {

using ConvertFn = void (*)(int64_t n, const void* x, void* y, double scale, double offset);
using NormalizeFn = void (*)(int64_t n, const uint8_t* x, void* y, const double* scale,
                             const double* offset, int64_t channels, int64_t phase, bool stream);
using TruncFn = void (*)(int64_t n, const double* x, void* y);
using ZeroFn = void (*)(size_t n, void* p);
using CopyFn = void (*)(size_t n, const void* x, void* y);
using GatherFn = void (*)(int64_t n, const uint8_t* x, int64_t sx, void* y, double scale,
                          double offset, bool stream);
template <class T>
using AbsMaxFn = T (*)(int64_t n, const T* x);
template <class T>
using FiniteFn = bool (*)(int64_t rows, int64_t n, const T* const* x);

// Source and destination dtypes the kernels cover.
constexpr DType kConvertSources[] = {DType::u8,  DType::i8,  DType::u16, DType::i16,
                                     DType::i32, DType::i64, DType::f32, DType::f64};
constexpr DType kConvertDests[] = {DType::f32, DType::f64, DType::u8};
constexpr DType kTruncDests[] = {DType::u8, DType::i8, DType::u16, DType::i16, DType::i32};

// Operators switch to the streaming kernels for outputs at least this big (half the L3 of the
// machine the defaults were measured on: smaller outputs are better left in cache for the next
// operation, bigger ones would only evict it).
constexpr size_t kStreamOutputBytes = size_t{16} << 20;
// ...and split across threads only from the same size: below it the data sits in L3, where one
// core already converts at ~50 GB/s effective, and waking a helper costs more than it saves
// (on a busy machine a helper that is not scheduled stalls the whole call for milliseconds).
constexpr size_t kParallelOutputBytes = size_t{16} << 20;

// Tables indexed by dtype: convert [index in kConvertSources][index in kConvertDests],
// normalize and gather [f32, f64].
using ConvertTable = ConvertFn[8][3];
using NormalizeTable = NormalizeFn[2];
using GatherTable = GatherFn[2];
using TruncTable = TruncFn[5];  // [index in kTruncDests]

// The family's kernels (kernels.inc). One constant per ISA, table_<isa> (src/core/kernels.inc),
// defined in reference.cc and x86_*.cc; looked up by kernels<Table>().
struct Table {
#define NPFAST_KERNEL NPFAST_KERNEL_FIELD
#include "src/kernels/elementwise/kernels.inc"
#undef NPFAST_KERNEL
};

inline int dtype_index(DType t, const DType* list, int n) {
  for (int i = 0; i < n; ++i)
    if (list[i] == t) return i;
  return -1;
}

// The entries of table `t` by dtype, null for a pair the kernels do not cover.
inline ConvertFn convert_kernel(const Table& t, DType src, DType dst, bool stream = false) {
  const int s = dtype_index(src, kConvertSources, 8), d = dtype_index(dst, kConvertDests, 3);
  return (s < 0 || d < 0) ? nullptr : (*(stream ? t.any_convert_stream : t.any_convert))[s][d];
}
inline NormalizeFn normalize_kernel(const Table& t, DType dst) {
  return dst == DType::f32   ? (*t.u8_normalize)[0]
         : dst == DType::f64 ? (*t.u8_normalize)[1]
                             : nullptr;
}
inline GatherFn gather_kernel(const Table& t, DType dst) {
  return dst == DType::f32 ? (*t.u8_gather)[0] : dst == DType::f64 ? (*t.u8_gather)[1] : nullptr;
}

inline TruncFn trunc_kernel(const Table& t, DType dst) {
  const int d = dtype_index(dst, kTruncDests, 5);
  return d < 0 ? nullptr : (*t.f64_trunc)[d];
}

// Orders earlier streaming stores before later stores (sfence); a no-op off x86.
inline void stream_fence() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_sfence();
#endif
}

}  // namespace elementwise
}  // namespace npfast
