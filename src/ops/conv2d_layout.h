// conv2d's data movement: the padded direct-kernel layout, im2col / col2im, channels-last rows.
// Pure copies (no arithmetic but col2im's additions), shared by the forward and backward
// algorithms.
#pragma once

#include <algorithm>
#include <cstdint>

#include "npfast/memory.hpp"
#include "npfast/threads.hpp"
#include "src/core/views.h"
#include "src/kernels/conv/conv.h"
#include "src/kernels/pack/pack.h"
#include "src/ops/conv2d_plan.h"

namespace npfast {
namespace conv_ops {

// A 4-d (N, H, W, C) view seen as (N, C, H, W): the same memory, axes permuted (no copy).
// Reading it C-contiguously (views::contiguous) is the NCHW transpose; writing a contiguous
// NCHW result through it (views::copy_from_contiguous) transposes back.
inline View nchw_of_nhwc(const View& v) {
  View r = v;
  const int from[4] = {0, 3, 1, 2};
  for (int i = 0; i < 4 && i < v.ndim; ++i) {
    r.shape[i] = v.shape[from[i]];
    r.strides[i] = v.strides[from[i]];
  }
  return r;
}

// pack::transpose (d[j * ds + i] = s[i * ss + j]) a cache line of rows at a time, so each
// destination line is written whole in one sweep over the columns: between NCHW planes and
// channels-last rows, the plain sweep wrote every line in 16-byte pieces from passes far apart
// (in float64, the transposes of a stride-2 layer took as long as a third of its GEMM).
template <class T>
inline void transpose_by_lines(const T* s, int64_t ss, T* d, int64_t ds, int64_t rows,
                               int64_t cols) {
  constexpr int64_t kLine = 64 / sizeof(T);
  for (int64_t i = 0; i < rows; i += kLine)
    pack::transpose(s + i * ss, ss, d + i, ds, rows - i < kLine ? rows - i : kLine, cols);
}

// pack::transpose into NCHW planes (ds, the plane size, far apart): four planes at a time,
// each written along the whole run of rows. Sweeping every plane per 4-row block kept O store
// streams open at once (16 to 64 on the ResNet layers); four measured 1.4x faster on the
// 16-channel Winograd layer (3.6 -> 2.6 ms at batch 64, one thread).
template <class T>
inline void transpose_to_planes(const T* s, int64_t ss, T* d, int64_t ds, int64_t rows,
                                int64_t cols) {
  for (int64_t j = 0; j < cols; j += 4)
    pack::transpose(s + j, ss, d + j * ds, ds, rows, cols - j < 4 ? cols - j : 4);
}

// The NCHW view of an operand given in layout `l`.
inline View logical_nchw(const View& v, Layout l) {
  return l == Layout::nhwc && v.ndim == 4 ? nchw_of_nhwc(v) : v;
}

// Between (N, H, W, C) and (N, C, H, W), both C-contiguous: image by image, blocks of pixels;
// into planes four at a time (transpose_to_planes: the planes of a 32x32 image are 4 KiB apart,
// so a cache line of all 16 planes at once kept 16 stores to one L1 set in flight: the NHWC
// stem's grad_output transpose took longer than its weight-gradient kernel), out of planes a
// cache line of channels at a time. For NHWC operands of the backward, which runs on NCHW:
// views::contiguous of the permuted view copies element by element (a fifth of a 3x3 layer's
// NHWC backward; most of an NHWC call of the direct kernel).
template <class T>
inline void transpose_images(const T* src, int64_t n, int64_t pixels, int64_t c, bool to_nchw,
                             T* dst) {
  constexpr int64_t kBlock = 256;  // pixels per work item
  const int64_t blocks = (pixels + kBlock - 1) / kBlock, items = n * blocks;
  parallel_for(items, grain_for(items, 0.5 * static_cast<double>(kBlock * c)),
               [&](int64_t b, int64_t e) {
                 for (int64_t it = b; it < e; ++it) {
                   const int64_t img = it / blocks, p0 = it % blocks * kBlock;
                   const int64_t np = std::min(kBlock, pixels - p0);
                   const T* s = src + img * pixels * c;
                   T* d = dst + img * pixels * c;
                   if (to_nchw)
                     transpose_to_planes(s + p0 * c, c, d + p0, pixels, np, c);
                   else
                     transpose_by_lines(s + p0, pixels, d + p0 * c, c, c, np);
                 }
               });
}

// An NCHW view of the (N, H, W, C) view v: a transposed copy in `keep` when v is C-contiguous,
// else the permuted view itself (views::contiguous copies it).
template <class T>
inline View nchw_operand(const View& v, Buffer<T>* keep) {
  const View l = nchw_of_nhwc(v);
  if (!v.c_contiguous() || v.empty()) return l;
  *keep = Buffer<T>(static_cast<size_t>(v.size()));
  transpose_images(v.ptr<T>(), v.shape[0], v.shape[1] * v.shape[2], v.shape[3], true, keep->get());
  View r = l;
  r.data = keep->get();
  views::set_c_strides(&r);
  return r;
}

// Range [j0, j1) of the j in [0, run) with 0 <= ix0 + j * s < w (the columns a run of output
// pixels reads inside the image).
inline void valid_range(int64_t ix0, int64_t s, int64_t run, int64_t w, int64_t* j0, int64_t* j1) {
  const int64_t lo = ix0 >= 0 ? 0 : (-ix0 + s - 1) / s;
  const int64_t hi = ix0 >= w ? 0 : (w - 1 - ix0) / s + 1;
  *j0 = lo < run ? lo : run;
  const int64_t e = hi < run ? hi : run;
  *j1 = e > *j0 ? e : *j0;
}

// One input plane (h x w) into the padded, stride-phase-split layout of the direct kernels
// (src/kernels/conv/conv.h): pl.hp rows of pl.xrow elements, zeros outside the image.
template <class T>
void pad_plane(const DirectPlan& pl, const T* src, T* dst);
// Padded rows [rb, re) of that plane only, row r at dst + (r - dst_row0) * pl.xrow (a band of
// rows in a buffer of its own: dst_row0 = its first row).
template <class T>
void pad_rows(const DirectPlan& pl, const T* src, T* dst, int64_t rb, int64_t re,
              int64_t dst_row0 = 0);
// `planes` consecutive input planes into consecutive padded planes of pl.plane elements, in
// parallel by blocks of rows (RGB's 3 planes would split 2:1 over two threads).
template <class T>
void pad_planes(const DirectPlan& pl, const T* src, int64_t planes, T* dst);

// The direct kernels' arguments every item of a plan shares; `taps` (pl.K offsets, conv.h) is
// filled here. Per item: x, w, ob, bias, y, oy0, oy1.
template <class T>
conv::DirectArgs<T> direct_args(const DirectPlan& pl, const T* bias, bool relu, int64_t* taps);

// Column block [p0, p1) of the im2col matrix of one image and group: `x` points at the
// group's first channel; col is K x (p1 - p0), row (ci, ky, kx).
template <class T>
void im2col(const Geometry& g, const T* x, int64_t p0, int64_t p1, T* col);
// The adjoint: adds the column block back into `x` (image n, group's first channel).
template <class T>
void col2im_add(const Geometry& g, const T* col, int64_t p0, int64_t p1, T* x);

// The GEMM operand (K x (p1 - p0), row stride *ld) of column block [p0, p1) of one image and
// group, `xg` pointing at the group's first channel: the input itself for 1x1 (pl.pointwise),
// else the block's im2col matrix, built in `col` (K x (p1 - p0) elements).
template <class T>
const T* gemm_operand(const GemmPlan& pl, const T* xg, int64_t p0, int64_t p1, T* col,
                      int64_t* ld) {
  if (pl.pointwise) {
    *ld = pl.P;
    return xg + p0;
  }
  im2col(pl, xg, p0, p1, col);
  *ld = p1 - p0;
  return col;
}

// Row r of the padded channels-last copy of image `x` (C x h x w, or h x w x C when
// g.p.layout is NHWC): `width` pixels of C channels, padded row r holding image row
// r - pad_top and pixel j padded column col0 + j * step (image column that - pad_left),
// zeros outside the image.
template <class T>
void channels_last_row(const Geometry& g, const T* x, int64_t r, int64_t width, T* d,
                       int64_t col0 = 0, int64_t step = 1);
// Channels [c0, c1) of that row only (the other channels of d untouched). Copying an NCHW
// image a block of channels at a time, all rows in order, reads each plane as one stream:
// a whole row of all C planes at once is C streams of a few hundred bytes, which the
// prefetchers do not follow (float64 stride 2: 17% of the layer, against 5% for the memcpy
// of an NHWC input).
template <class T>
void channels_last_block(const Geometry& g, const T* x, int64_t r, int64_t width, T* d,
                         int64_t col0, int64_t step, int64_t c0, int64_t c1);

}  // namespace conv_ops
}  // namespace npfast
