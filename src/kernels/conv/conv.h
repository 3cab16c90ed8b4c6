// Convolution kernel family: the direct kernels (few input channels, depthwise), their
// per-ISA tables, and the scalar oracle.
//
// Contract of a direct kernel `<dtype>_conv_direct__<isa>` / `<dtype>_conv_depthwise__<isa>`:
// it computes output rows [oy0, oy1) (all `ow` columns) of up to `direct_ob` (its table's) or,
// for `conv_direct_4ch`, 4 output channels of one image and group, reading an input that the
// operator has already padded and split by column phase, so that every tap reads contiguous
// memory and no bounds are checked:
//   x      padded input of the group's `c` channels. Padded row r of channel ci, column j,
//          lies at x[(ci * hp + r) * (sw * wq) + (j % sw) * wq + j / sw]: each padded row is
//          stored as `sw` phases of `wq` elements. Output (oy, ox), tap (ky, kx) reads padded
//          row oy*sh + ky*dh, column ox*sw + kx*dw. wq leaves room for whole vectors past
//          the last output column (the operator zero-fills that slack).
//   w      packed weights: w[((ci * kh + ky) * kw + kx) * wstride + o] for o < ob; the direct
//          kernel uses wstride = direct_ob (4 for conv_direct_4ch; entries o >= ob are zero),
//          depthwise wstride = 1.
//   bias   ob values, or null for zero.
//   relu   apply max(v, 0) (NaN stays NaN) before storing.
//   y      output channel o, row oy, column ox at y[o * ys + oy * ow + ox].
// Kernels are pure: no allocation, no threads, no exceptions.
#pragma once

#include <cstdint>

#include "npfast/dispatch.hpp"
#include "src/core/registry.h"

namespace npfast {
namespace conv {

template <class T>
struct DirectArgs {
  const T* x;
  int64_t c, hp, wq, sw;
  const T* w;
  int64_t ob;
  int64_t kh, kw, sh, dh, dw;
  const T* bias;
  bool relu;
  T* y;
  int64_t ys, ow, oy0, oy1;
  // Direct and generic depthwise kernels: the c*kh*kw taps' input offsets in weight order,
  // relative to the first input a tile's first output reads (direct_taps fills it). The SIMD
  // kernels read it so a tap costs an indexed load, not the phase arithmetic; the scalar
  // kernels ignore it and index from the geometry, so a wrong table fails the tests.
  const int64_t* taps;
};

// Fills taps[ci * kh * kw + ky * kw + kx] for `a`'s geometry: tap (ci, ky, kx) of output
// column ox reads padded input phase (ox * sw + kx * dw) % sw, column ox + kx * dw / sw
// (integer division; the phase depends on kx only).
template <class T>
void direct_taps(const DirectArgs<T>& a, int64_t* taps) {
  const int64_t xrow = a.sw * a.wq, xplane = a.hp * xrow;
  for (int64_t ci = 0; ci < a.c; ++ci)
    for (int64_t ky = 0; ky < a.kh; ++ky)
      for (int64_t kx = 0; kx < a.kw; ++kx) {
        const int64_t j = kx * a.dw;
        *taps++ = ci * xplane + ky * a.dh * xrow + (j % a.sw) * a.wq + j / a.sw;
      }
}

template <class T>
using DirectFn = void (*)(const DirectArgs<T>& a);

// Direct convolution written channels-last `<f32|f64>_conv_direct_nhwc__<isa>` (a DirectFn):
// the padded input, a.taps and rows as for conv_direct, but all a.ob output channels of a pixel
// together: weights tap-major with stride a.ob (w[t * a.ob + o]) and
// y[(oy * a.ow + ox) * a.ys + o] for o < a.ob (a.ys >= a.ob, the pixel stride). Each output is
// the same chain as conv_direct's of the same ISA (its bias, then one FMA per tap in tap
// order on SIMD ISAs, multiply-then-add on scalar; its ReLU), so the bits are that kernel's:
// an NHWC stem writes its output without the NCHW result and its transpose.

// Depthwise weight gradient of one plane `<f32|f64>_conv_dw_grad__<isa>`: for every tap
// t = ky*kw + kx, gw[t] = sum over output rows [oy0, oy1) and columns of
// gy[oy*ow + ox] * (padded input read by that tap), with `a` describing the padded plane as for
// the direct kernels (a.c = 1; w, bias, relu, y, ys unused). Summed in a fixed order.
template <class T>
using DwGradFn = void (*)(const DirectArgs<T>& a, const T* gy, T* gw);

// Direct weight gradient `<f32|f64>_conv_direct_grad__<isa>`: for the a.ob output channels and
// every tap t = (ci * kh + ky) * kw + kx, adds to gw[o * c*kh*kw + t] the sum over `images`
// images, output rows [oy0, oy1) and columns of gy(o, oy, ox) * (padded input the
// tap reads for (oy, ox)). Image i's padded input starts at a.x + i * x_image and its
// grad_output at gy + i * gy_image (channel o's row oy at + o * a.ys + oy * a.ow); `a` and the
// input are laid out as for the direct kernels (w, bias, relu, y unused). `work` is scratch of
// direct_grad_work(c*kh*kw) bytes. The SIMD kernels take the taps' offsets from a.taps and sum
// in a fixed order (vector partials, then their lanes in order): one call's result depends on
// its arguments only.
template <class T>
using DirectGradFn = void (*)(const DirectArgs<T>& a, const T* gy, int64_t images, int64_t x_image,
                              int64_t gy_image, T* work, T* gw);
constexpr int64_t direct_grad_work(int64_t taps) { return (taps + 8) * 8 * 64; }

// Winograd F(2x2, 3x3) transforms (the stride-1 3x3 path, src/ops/conv2d_winograd.cc), on
// channels-last data and vectorized over channels, for `nt` tiles along an image row:
//   WinoIn  `<f32|f64>_conv_wino_in__<isa>`: tile j reads the 4x4 pixels
//     d(r, s) = x[j * 2 * ps + r * rs + s * ps + ch] and writes V = Bt d B as
//     v[xi * vx + j * vt + ch] = V(xi / 4, xi % 4), for ch < c.
//   WinoOut `<f32|f64>_conv_wino_out__<isa>`: tile j reads M(xi) = m[xi * mx + j * mt + ch] and
//     writes Y = At M A (+ bias[ch] unless bias is null; max(v, 0) if relu, NaN kept) as
//     y[r * yr + (2 * j + s) * yp + ch] = Y(r, s) for r, s < 2, ch < c. With a residual
//     (res not null, indexed as y) each value is (Y + res), then relu's `v < 0 ? 0 : v`: a
//     basic block's shortcut and ReLU while the output is in registers, the bits of the
//     separate pass (conv2d_epilogue.h's residual_act) over the written rows.
//   Bt = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1], At = [1 1 1 0; 0 1 -1 -1]; each is applied
//   to rows first, then to columns, in the order the reference writes (same bits on every ISA:
//   only additions and subtractions, no FMA contraction).
template <class T>
using WinoInFn = void (*)(const T* x, int64_t ps, int64_t rs, int64_t c, int64_t nt, T* v,
                          int64_t vt, int64_t vx);
// WinoInEdge `<f32|f64>_conv_wino_in_edge__<isa>`: WinoIn for tiles whose windows reach into
// the zero padding, read in place from an unpadded image: d(r, s) = x[iy * rs + ix * ps + ch]
// with iy = r0 + r, ix = c0 + 2 * j + s where 0 <= iy < h and 0 <= ix < w, else 0 (never
// read). The same V as WinoIn on the padded copy of the window (same additions, same bits).
template <class T>
using WinoInEdgeFn = void (*)(const T* x, int64_t ps, int64_t rs, int64_t h, int64_t w, int64_t r0,
                              int64_t c0, int64_t c, int64_t nt, T* v, int64_t vt, int64_t vx);
template <class T>
using WinoOutFn = void (*)(const T* m, int64_t mt, int64_t mx, int64_t c, int64_t nt, const T* bias,
                           const T* res, bool relu, T* y, int64_t yp, int64_t yr);

// Winograd F(2x2, 2x2) transforms (the 4x4 stride-2 transposed convolution on phases,
// src/ops/conv_transpose2d_winograd.cc), vectorized along tiles:
//   Wino2In `<f32|f64>_conv_wino2_in__<isa>`: B^T along one axis for `rows` rows of n tiles:
//     tile t of row r reads d_j[r * ld + t] and writes v0 = d0 - d1, v1 = d1, v2 = d2 - d1 at
//     v_j[r * vr + t] (the operator splits its inputs by column phase so that a tile's inputs
//     lie one element apart).
//   Wino2Out `<f32|f64>_conv_wino2_out__<isa>`: Y = A^T M A (+ *bias unless bias is null) of
//     th x tw tiles of np x np phases (np = 1 or 2): phase (a, b)'s tile (tm, t) reads
//     M(u, v) = m[(a * np + b) * mb + (3u + v) * ms + tm * tw + t] and writes Y(r, q) to
//     y[((2 tm + r) * np + a) * yr + (2 t + q) * np + b] (np = 2: the phases' rows and columns
//     interleaved, as the forward's output phases lie), the rows of y in order.
//   A^T = [1 1 0; 0 1 1], applied to rows first (M(0, v) + M(1, v), M(1, v) + M(2, v)), then
//   to columns, then the bias added; only additions, no FMA contraction: the same bits on
//   every ISA.
template <class T>
using Wino2InFn = void (*)(const T* d0, const T* d1, const T* d2, int64_t ld, int64_t rows,
                           int64_t n, T* v0, T* v1, T* v2, int64_t vr);
template <class T>
using Wino2OutFn = void (*)(const T* m, int64_t ms, int64_t mb, int64_t np, int64_t th, int64_t tw,
                            const T* bias, T* y, int64_t yr);

// d[j * ds + i] = s[i * ss + j] for i < rows, j < cols (pack::transpose's contract; the scalar
// ISA runs pack::transpose itself, the oracle is pack::transpose_reference): the NCHW ->
// channels-last copy of the implicit GEMM, rows a cache line of channels (ss = h * w apart),
// columns an image row's pixels (ds = C). Vector-square blocks in registers; an exact copy, so
// every ISA gives the same bits.
template <class T>
using ToChannelsLastFn = void (*)(const T* s, int64_t ss, T* d, int64_t ds, int64_t rows,
                                  int64_t cols);

// The family's kernels (kernels.inc), then its parameters. One constant per ISA, table_<isa>
// (src/core/kernels.inc), defined in reference.cc and x86_*.cc; looked up by kernels<Table>().
struct Table {
#define NPFAST_KERNEL NPFAST_KERNEL_FIELD
#include "src/kernels/conv/kernels.inc"
#undef NPFAST_KERNEL
  // Output channels one direct-kernel call computes, and so the packed weights' stride per tap:
  // as many as the ISA's vector registers hold accumulators for (generic.h). The _4ch kernels
  // compute 4, for groups of at most 4 output channels (where direct_ob = 8 would compute
  // twice the channels and drop half).
  int direct_ob;
  // Output channels per block of the direct weight-gradient kernel: work items take these.
  int grad_ob;
};

// Columns a kernel may read past `ow` + the taps' reach in a phase row: less than one vector
// of the widest ISA (row tails use the fewest vectors that cover them).
constexpr int64_t kColumnSlack = 16;

// The oracle (reference.cc): out[n][o][oy][ox] = bias[o] + sum over ci in the group, ky, kx of
// x[n][g*cg+ci][oy*sh + ky*dh - pt][ox*sw + kx*dw - pl] * w[o][ci][ky][kx], in double.
// All arrays C-contiguous.
template <class T>
void reference(const T* x, int64_t n, int64_t c, int64_t h, int64_t wd, const T* w, int64_t o,
               int64_t kh, int64_t kw, const T* bias, int64_t sh, int64_t sw, int64_t pt,
               int64_t pl, int64_t dh, int64_t dw, int64_t groups, T* y, int64_t oh, int64_t ow);

}  // namespace conv
}  // namespace npfast
