// Pooling kernel family: 2-D max and average pooling over one plane, PyTorch's semantics.
//
// Geometry (all counts >= 1, checked by the operator, see src/ops/pool.cc): an H x W plane, a
// kH x kW window moved by (sH, sW), dilated by (dH, dW), with (pH, pW) implicit padding on each
// side; output OH x OW. Output (oh, ow) looks at rows oh*sH - pH + i*dH (i < kH) and columns
// ow*sW - pW + j*dW (j < kW); taps outside the plane are skipped (max) or count as zero (avg).
//
// Contract of a max kernel `<dtype>_max_pool__<isa>(g, in, in_row, out, idx, oh0, oh1)`:
//   g       geometry
//   in      the plane: element (ih, iw) at in[ih * in_row + iw] (unit column stride)
//   in_row  row stride of `in`, in elements (>= W)
//   out     OH x OW contiguous outputs; rows [oh0, oh1) are written
//   idx     null, or OH x OW contiguous int64 argmax indices ih * W + iw (PyTorch's): the scan
//           goes row by row, column by column, and an element replaces the running max when it
//           is greater or NaN; the running max starts at -inf with the first in-plane tap's
//           index (for a window with no tap in the plane: -inf and PyTorch's out-of-plane index).
//   Values and indices are bitwise those of the reference for every ISA.
//
// Contract of an avg kernel `<dtype>_avg_pool__<isa>(g, a, in, in_row, out, oh0, oh1)`: same plane
// and output layout (no dilation: g.dH == g.dW == 1); out = sum / divisor, where the sum runs
// over the in-plane taps in scan order and the divisor is `a.divisor_override` when nonzero,
// else the window clipped to the padded plane (count_include_pad) or to the plane itself. SIMD
// kernels sum in T, like PyTorch; the reference sums in double.
//
// Channels-last kernels `<dtype>_max_pool_nhwc__<isa>(g, C, in, out, idx, oh0, oh1)` and
// `<dtype>_avg_pool_nhwc__<isa>(g, a, C, in, out, oh0, oh1)`: the same windows and results
// over one C-contiguous (H, W, C) image into (OH, OW, C) outputs (and int64 indices, the
// plane's ih * W + iw per channel), output rows [oh0, oh1); the channels of a pixel are the
// vector lanes, so every window is whole vectors whatever the stride. Each element is the
// same scan as the plane kernels' (values and indices bitwise those of the reference; the
// SIMD avg sums in T in scan order like the SIMD plane kernels, the scalar one in double).
//
// Global average pool kernels (adaptive_avg_pool2d to 1 x 1):
//   `<dtype>_plane_means__<isa>(x, planes, ps, h, w, rs, out)`: out[q] = the mean of plane q
//     for q < planes: h rows of w contiguous elements, rows rs apart, planes ps apart (strides
//     in elements, any sign). A C-contiguous plane is best passed as one row: h = 1, w = H W.
//   `<dtype>_plane_means_nhwc__<isa>(x, hw, c, ld, out)`: out[j] = S_p x[p ld + j] / hw for
//     j < c: hw pixels ld elements apart, c channels contiguous in each (a channels-last image,
//     or a slice of its channels).
// Both sum in double and round the mean once (sum / n in double, then to T). The reference
// sums in index order; the SIMD kernels in vector partial sums (plane_means: each row's vectors
// across two accumulators, their lanes added by lane_sums' tree; nhwc: even and odd pixels),
// so within rounding of the reference, not bitwise. A plane's or channel's order depends only
// on (h, w) (hw) and the ISA, never on `planes`, `c` or where it sits in a call: an operator
// may split the work anywhere and get the same bits.
//
// Kernels are pure: no allocation, no threads, no exceptions.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>

#include "npfast/dispatch.hpp"
#include "src/core/registry.h"

namespace npfast {
namespace pool {

struct Geom {
  int64_t H, W;    // input plane
  int64_t OH, OW;  // output plane
  int64_t kH, kW, sH, sW, pH, pW, dH, dW;
};

struct AvgOpts {
  bool count_include_pad;
  int64_t divisor_override;  // 0: none
};

template <class T>
using MaxPoolFn = void (*)(const Geom& g, const T* in, int64_t in_row, T* out, int64_t* idx,
                           int64_t oh0, int64_t oh1);
template <class T>
using AvgPoolFn = void (*)(const Geom& g, const AvgOpts& a, const T* in, int64_t in_row, T* out,
                           int64_t oh0, int64_t oh1);
template <class T>
using MaxPoolNhwcFn = void (*)(const Geom& g, int64_t C, const T* in, T* out, int64_t* idx,
                               int64_t oh0, int64_t oh1);
template <class T>
using PlaneMeansFn = void (*)(const T* x, int64_t planes, int64_t ps, int64_t h, int64_t w,
                              int64_t rs, T* out);
template <class T>
using PlaneMeansNhwcFn = void (*)(const T* x, int64_t hw, int64_t c, int64_t ld, T* out);
template <class T>
using AvgPoolNhwcFn = void (*)(const Geom& g, const AvgOpts& a, int64_t C, const T* in, T* out,
                               int64_t oh0, int64_t oh1);

// The divisor of an average window with in-plane taps [h0, h1) x [w0, w1) and padded extents
// hp x wp (PyTorch's rule).
inline int64_t avg_divisor(const AvgOpts& a, int64_t h0, int64_t h1, int64_t hp, int64_t w0,
                           int64_t w1, int64_t wp) {
  return a.divisor_override    ? a.divisor_override
         : a.count_include_pad ? hp * wp
                               : (h1 - h0) * (w1 - w0);
}

// The argmax scan over one window for the C channels of a pixel, channels-last: m[c] and
// mi[c] start at -inf and the first tap's index, and a tap replaces them when greater or NaN.
// mi may be null (values only). The scalar kernel, and the SIMD ones' path for windows whose
// tap offsets exceed int32 (they hold them as int32 bits).
template <class T>
inline void max_scan_nhwc(const Geom& g, int64_t C, const T* in, int64_t h0, int64_t h1, int64_t w0,
                          int64_t w1, T* m, int64_t* mi) {
  for (int64_t c = 0; c < C; ++c) {
    m[c] = -std::numeric_limits<T>::infinity();
    if (mi) mi[c] = h0 * g.W + w0;
  }
  for (int64_t ih = h0; ih < h1; ih += g.dH)
    for (int64_t iw = w0; iw < w1; iw += g.dW) {
      const T* p = in + (ih * g.W + iw) * C;
      const int64_t t = ih * g.W + iw;
      for (int64_t c = 0; c < C; ++c)
        if (p[c] > m[c] || std::isnan(p[c])) {
          m[c] = p[c];
          if (mi) mi[c] = t;
        }
    }
}

// The family's kernels (kernels.inc), then its parameters. One constant per ISA, table_<isa>
// (src/core/kernels.inc), defined in reference.cc and x86_*.cc; looked up by kernels<Table>().
struct Table {
#define NPFAST_KERNEL NPFAST_KERNEL_FIELD
#include "src/kernels/pool/kernels.inc"
#undef NPFAST_KERNEL
  // Output columns per vector: a plane whose interior is narrower takes the kernel's scalar
  // path, so the operator picks a narrower ISA's table for it (fitting_table).
  int lanes_f32, lanes_f64;
};

// Policy, not lookup: the widest table at or below the one in use whose vectors fit `cols`
// interior output columns (MNIST's 28 x 28 planes pooled 2 x 2 have 14: AVX-512's 16 float
// lanes do not fit, AVX2's 8 do); the table in use when none does. x86 only (avx512 > avx2 in
// the enum, narrower vectors below), and never down to the reference: a SIMD kernel's own
// scalar path is the faster one on planes narrower than every vector.
inline const Table& fitting_table(int64_t cols, bool f64) {
  const Isa top = kernels_isa<Table>();
  const Table* t = &kernels<Table>();
  if (top != Isa::avx512 && top != Isa::avx2) return *t;
  for (int i = static_cast<int>(top) - 1; i > static_cast<int>(Isa::scalar); --i) {
    if ((f64 ? t->lanes_f64 : t->lanes_f32) <= cols) break;
    if (const Table* narrower = kernels<Table>(static_cast<Isa>(i))) t = narrower;
  }
  return *t;
}

// Interior output columns [*a, *b) of geometry g: every tap column ow*sW - pW + j*dW (j < kW,
// dW = 1 for average pooling, `dilated` false) lies in [0, W).
inline void interior(const Geom& g, bool dilated, int64_t* a, int64_t* b) {
  const int64_t span = (g.kW - 1) * (dilated ? g.dW : 1) + 1;
  const int64_t last = g.W - span + g.pW;  // ow*sW may be at most this
  *b = last < 0 ? 0 : last / g.sW + 1;
  if (*b > g.OW) *b = g.OW;
  *a = (g.pW + g.sW - 1) / g.sW;
  if (*a > *b) *a = *b;
}

// PyTorch's window bounds along one axis for output o (max pooling): the first in-plane tap
// position `lo` (may be >= n for an empty window) and the end `hi` (exclusive, <= n).
inline void max_window(int64_t o, int64_t s, int64_t p, int64_t k, int64_t d, int64_t n,
                       int64_t* lo, int64_t* hi) {
  int64_t start = o * s - p;
  const int64_t end = start + (k - 1) * d + 1;
  *hi = end < n ? end : n;
  if (start < 0) start += (-start + d - 1) / d * d;  // the first tap at or after 0
  *lo = start;
}

// Average pooling along one axis: the clipped tap range [lo, hi) and the padded extent (the
// window clipped to the padded plane, PyTorch's pool_size factor).
inline void avg_window(int64_t o, int64_t s, int64_t p, int64_t k, int64_t n, int64_t* lo,
                       int64_t* hi, int64_t* padded) {
  const int64_t start = o * s - p;
  int64_t end = start + k;
  if (end > n + p) end = n + p;
  *padded = end - start;
  *lo = start < 0 ? 0 : start;
  *hi = end < n ? end : n;
}

}  // namespace pool
}  // namespace npfast
