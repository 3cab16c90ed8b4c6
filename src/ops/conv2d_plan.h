// conv2d internals shared by the forward and backward operators: the plan (algorithm and
// blocking chosen once per problem and cached), and the data-movement helpers.
#pragma once

#include <cstdint>

#include "npfast/conv.hpp"
#include "npfast/view.hpp"
#include "src/kernels/conv/conv.h"

namespace npfast {
namespace conv_ops {

enum class Algo : int {
  depthwise = 0,
  direct = 1,
  gemm_1x1 = 2,
  im2col_gemm = 3,
  shifted_gemm = 4,
  implicit_gemm = 5,
  winograd = 6
};
const char* algo_name(Algo a);

// A convolution problem: (N, C, H, W) input, (O, C/groups, kH, kW) weight.
struct Problem {
  int64_t n, c, h, w, o, kh, kw;
  Conv2dParams p;
  DType dtype;
};

struct Plan {
  Algo algo;
  int64_t n, c, h, w, o, kh, kw, groups, cg, og, oh, ow;
  Conv2dParams p;
  int64_t P;  // output pixels per channel, oh * ow
  int64_t K;  // GEMM depth, cg * kh * kw
  // direct / depthwise: the padded, phase-split input (conv.h), and the work split
  int64_t hp, wq, xrow, plane;  // plane = hp * xrow elements per channel
  int64_t ocb;                  // direct: output channels per kernel call (the ISA table's)
  int64_t nob;                  // output-channel blocks per group
  int64_t rows_per_item, row_items;
  double item_ns;  // estimated cost of one work item, for grain_for
  // GEMM paths: output pixels per column block and blocks per image
  int64_t nb, nblocks;
  // shifted_gemm: the output is computed over a wide row of wpad = ow + reach columns (those
  // >= ow are discarded), so each tap's GEMM operand is the (phase-split) padded input shifted
  // by a constant (conv2d_shifted.cc). Per channel: stride_h*stride_w phase planes of hq x wpad,
  // or, for stride 1, `expand` = kw shifted copies of the padded plane (one GEMM per kernel row
  // with depth cg*kw); `lcopy` elements per copy; column blocks of snb pixels.
  int64_t wpad, hq, lcopy, expand, sK, sP, snb, snblocks;
  int64_t swslots, sunits_per_slot;  // grad_weight partials of the shifted path
  // Images per batch of the direct / shifted workspaces (bounded in bytes, so a large batch
  // does not need a padded copy of all of it at once).
  int64_t batch_images;
  // backward grad_weight: fixed partial sums per group, units (image, block) per partial
  int64_t wslots, units_per_slot;
};

// The plan for a problem, from a small thread-safe LRU cache keyed by the problem and the
// active ISA. Assumes the problem passed conv2d_check.
Plan get_plan(const Problem& pr);

// Bound on the padded-input workspaces (bytes; default 32 MiB); clears the plan cache. For
// tests, which use a tiny bound to exercise batching. Returns the previous bound.
int64_t set_workspace_limit(int64_t bytes);

// y = act(conv(x, w) + bias) with all arrays C-contiguous; bias may be null.
template <class T>
void forward(const Plan& pl, const T* x, const T* w, const T* bias, bool relu, T* y);

// The stride-1 GEMM path (conv2d_shifted.cc): no im2col, one GEMM per kernel row or tap.
template <class T>
void forward_shifted(const Plan& pl, const T* x, const T* w, const T* bias, bool relu, T* y);

// The stride-1 implicit GEMM over a padded channels-last copy (conv2d_implicit.cc).
template <class T>
void forward_implicit(const Plan& pl, const T* x, const T* w, const T* bias, bool relu, T* y);

// Winograd F(2x2, 3x3) for 3x3, stride 1, undilated, ungrouped (conv2d_winograd.cc).
template <class T>
void forward_winograd(const Plan& pl, const T* x, const T* w, const T* bias, bool relu, T* y);

// Row r of the padded channels-last copy of image `x` (C x h x w): `width` pixels of C
// channels, padded row r holding image row r - pad_top and pixel j image column j - pad_left,
// zeros outside the image.
template <class T>
void channels_last_row(const Plan& pl, const T* x, int64_t r, int64_t width, T* d);

// grad_weight of the shifted path: gW = sum over (image, block) of gY_wide * shifted_x^T, with
// the same fixed-order partial sums as the im2col path.
template <class T>
void grad_weight_shifted(const Plan& pl, const T* x, const T* gy, T* gw);

// One input plane (h x w) into the padded, stride-phase-split layout of the direct kernels
// (src/kernels/conv/conv.h): pl.hp rows of pl.xrow elements, zeros outside the image.
template <class T>
void pad_plane(const Plan& pl, const T* src, T* dst);
// Padded rows [rb, re) of that plane only.
template <class T>
void pad_rows(const Plan& pl, const T* src, T* dst, int64_t rb, int64_t re);
// `planes` consecutive input planes into consecutive padded planes of pl.plane elements, in
// parallel by blocks of rows (RGB's 3 planes would split 2:1 over two threads).
template <class T>
void pad_planes(const Plan& pl, const T* src, int64_t planes, T* dst);

// The direct kernels' arguments every item of a plan shares; `taps` (pl.K offsets, conv.h) is
// filled here. Per item: x, w, ob, bias, y, oy0, oy1.
template <class T>
conv::DirectArgs<T> direct_args(const Plan& pl, const T* bias, bool relu, int64_t* taps);

// Column block [p0, p1) of the im2col matrix of one image and group: `x` points at the
// group's first channel; col is K x (p1 - p0), row (ci, ky, kx).
template <class T>
void im2col(const Plan& pl, const T* x, int64_t p0, int64_t p1, T* col);
// The adjoint: adds the column block back into `x` (image n, group's first channel).
template <class T>
void col2im_add(const Plan& pl, const T* col, int64_t p0, int64_t p1, T* x);

// Range [j0, j1) of the j in [0, run) with 0 <= ix0 + j * s < w (the columns a run of output
// pixels reads inside the image).
inline void valid_range(int64_t ix0, int64_t s, int64_t run, int64_t w, int64_t* j0, int64_t* j1) {
  const int64_t lo = ix0 >= 0 ? 0 : (-ix0 + s - 1) / s;
  const int64_t hi = ix0 >= w ? 0 : (w - 1 - ix0) / s + 1;
  *j0 = lo < run ? lo : run;
  const int64_t e = hi < run ? hi : run;
  *j1 = e > *j0 ? e : *j0;
}

}  // namespace conv_ops
}  // namespace npfast
