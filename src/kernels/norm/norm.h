// Normalisation kernel family: the per-channel passes of batch normalisation
// (src/ops/batch_norm.cc).
//
// Two data layouts. A "run" kernel works on n contiguous elements of one channel (NCHW: a block
// of one (image, channel) plane); a "rows" kernel on `rows` contiguous rows of c channels each
// (NHWC: channels last), vectorised across the channels, with per-channel parameter arrays.
//
// Reductions sum in double and write (never accumulate into) their results; the operator adds
// the blocks' partial sums in one fixed order, so results do not depend on the thread count.
// Their order within a block differs per ISA (vector partial sums): SIMD sums match the
// reference to rounding, not bitwise. The element-wise kernels compute every element with the
// same fused operations as the reference: bitwise equal on every ISA.
//
//   stats       (x, n, shift, sum)          sum[0] = S(x - shift), sum[1] = S((x - shift)^2)
//   stats_rows  (x, rows, c, shift, sum)    sum[j] = S_r(x[r c + j] - shift[j]),
//                                           sum[c + j] = S_r(x[r c + j] - shift[j])^2
//   grad_sums   (dy, x, y, n, mean, sum)    sum[0] = S g, sum[1] = S g (x - mean), with
//                                           g = dy where y is null or not y <= 0, else 0 (the fused
//                                           ReLU's mask, from its output y; NaN passes, as torch;
//                                           a masked g still multiplies: 0 * inf is NaN)
//   grad_sums_rows (dy, x, y, rows, c, mean, sum)   the same per channel, sum[j], sum[c + j]
//   apply       (x, n, p, relu, y)          y = fma(x - p.mean, p.scale, p.shift), then
//                                           max(y, 0) when relu (NaN stays NaN)
//   apply_rows  (x, rows, c, p, relu, y)    the same with p.mean[j], p.scale[j], p.shift[j]
//   grad_apply  (dy, x, y, n, p, dx)        dx = fma(p.a, g, fma(p.k, x - p.mean, p.b)), g as in
//                                           grad_sums; x null: dx = p.a * g (eval's gradient,
//                                           which an inf or NaN x must not reach)
//   grad_apply_rows (dy, x, y, rows, c, p, dx)   the same per channel
//
// `shift` is any value near the channel's data (the operator passes its first element): the
// squares are of x - shift, so a large mean does not cancel the variance away. x, y, dy, dx
// are contiguous; y, dx may not alias x or dy except dx == dy, and dx == x for grad_apply
// (relu_grad_add in src/ops/batch_norm.cc accumulates in place). Kernels are pure: no
// allocation, no threads, no exceptions.
#pragma once

#include <cstdint>

#include "npfast/dispatch.hpp"
#include "src/core/registry.h"

namespace npfast {
namespace norm {

// Per-channel constants of an element-wise pass: scalars for a run, arrays (c) for rows.
template <class T>
struct Affine {
  T mean, scale, shift;
};
template <class T>
struct AffineRows {
  const T *mean, *scale, *shift;
};
template <class T>
struct GradAffine {
  T mean, a, k, b;
};
template <class T>
struct GradAffineRows {
  const T *mean, *a, *k, *b;
};

template <class T>
using StatsFn = void (*)(const T* x, int64_t n, double shift, double* sum);
template <class T>
using StatsRowsFn = void (*)(const T* x, int64_t rows, int64_t c, const double* shift, double* sum);
template <class T>
using GradSumsFn = void (*)(const T* dy, const T* x, const T* y, int64_t n, double mean,
                            double* sum);
template <class T>
using GradSumsRowsFn = void (*)(const T* dy, const T* x, const T* y, int64_t rows, int64_t c,
                                const double* mean, double* sum);
template <class T>
using ApplyFn = void (*)(const T* x, int64_t n, const Affine<T>& p, bool relu, T* y);
template <class T>
using ApplyRowsFn = void (*)(const T* x, int64_t rows, int64_t c, const AffineRows<T>& p, bool relu,
                             T* y);
template <class T>
using GradApplyFn = void (*)(const T* dy, const T* x, const T* y, int64_t n, const GradAffine<T>& p,
                             T* dx);
template <class T>
using GradApplyRowsFn = void (*)(const T* dy, const T* x, const T* y, int64_t rows, int64_t c,
                                 const GradAffineRows<T>& p, T* dx);

// The family's kernels (kernels.inc). One constant per ISA, table_<isa> (src/core/kernels.inc),
// defined in reference.cc and x86_*.cc; looked up by kernels<Table>().
struct Table {
#define NPFAST_KERNEL NPFAST_KERNEL_FIELD
#include "src/kernels/norm/kernels.inc"
#undef NPFAST_KERNEL
};

}  // namespace norm
}  // namespace npfast
