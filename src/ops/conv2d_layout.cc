// conv2d's data movement (conv2d_layout.h): padding, im2col / col2im, channels-last rows.
#include "src/ops/conv2d_layout.h"

#include <algorithm>
#include <cstring>

#include "npfast/threads.hpp"
#include "src/kernels/conv/conv.h"
#include "src/kernels/pack/pack.h"

namespace npfast {
namespace conv_ops {
namespace {

// Walks the output pixels [p0, p1) of tap (ky, kx) row by row: fn(dst_offset, run, iy, ix0)
// with iy the input row (may be out of range) and ix0 the input column of the first pixel.
template <class F>
inline void for_runs(const Geometry& pl, int64_t ky, int64_t kx, int64_t p0, int64_t p1, F&& fn) {
  int64_t p = p0;
  int64_t oy = p0 / pl.ow, ox = p0 % pl.ow;
  while (p < p1) {
    const int64_t run = std::min(pl.ow - ox, p1 - p);
    const int64_t iy = oy * pl.p.stride_h + ky * pl.p.dilation_h - pl.p.pad_top;
    const int64_t ix0 = ox * pl.p.stride_w + kx * pl.p.dilation_w - pl.p.pad_left;
    fn(p - p0, run, iy, ix0);
    p += run;
    ox = 0;
    ++oy;
  }
}

template <class T>
void gather_stride(const T* __restrict s, int64_t stride, T* __restrict d, int64_t n) {
  if (stride == 2) {
    for (int64_t j = 0; j < n; ++j) d[j] = s[2 * j];
    return;
  }
  for (int64_t j = 0; j < n; ++j) d[j] = s[j * stride];
}

}  // namespace

template <class T>
void im2col(const Geometry& pl, const T* x, int64_t p0, int64_t p1, T* col) {
  const int64_t cols = p1 - p0, s = pl.p.stride_w;
  for (int64_t ci = 0; ci < pl.cg; ++ci) {
    const T* src = x + ci * pl.h * pl.w;
    for (int64_t ky = 0; ky < pl.kh; ++ky)
      for (int64_t kx = 0; kx < pl.kw; ++kx) {
        T* dst = col + ((ci * pl.kh + ky) * pl.kw + kx) * cols;
        for_runs(pl, ky, kx, p0, p1, [&](int64_t off, int64_t run, int64_t iy, int64_t ix0) {
          T* d = dst + off;
          if (iy < 0 || iy >= pl.h) {
            std::fill(d, d + run, T(0));
            return;
          }
          const T* row = src + iy * pl.w;
          int64_t j0, j1;
          valid_range(ix0, s, run, pl.w, &j0, &j1);
          std::fill(d, d + j0, T(0));
          if (s == 1)
            std::memcpy(d + j0, row + ix0 + j0, (j1 - j0) * sizeof(T));
          else
            gather_stride(row + ix0 + j0 * s, s, d + j0, j1 - j0);
          std::fill(d + j1, d + run, T(0));
        });
      }
  }
}

template <class T>
void col2im_add(const Geometry& pl, const T* col, int64_t p0, int64_t p1, T* x) {
  const int64_t cols = p1 - p0, s = pl.p.stride_w;
  for (int64_t ci = 0; ci < pl.cg; ++ci) {
    T* dstp = x + ci * pl.h * pl.w;
    for (int64_t ky = 0; ky < pl.kh; ++ky)
      for (int64_t kx = 0; kx < pl.kw; ++kx) {
        const T* src = col + ((ci * pl.kh + ky) * pl.kw + kx) * cols;
        for_runs(pl, ky, kx, p0, p1, [&](int64_t off, int64_t run, int64_t iy, int64_t ix0) {
          if (iy < 0 || iy >= pl.h) return;
          T* row = dstp + iy * pl.w;
          int64_t j0, j1;
          valid_range(ix0, s, run, pl.w, &j0, &j1);
          for (int64_t j = j0; j < j1; ++j) row[ix0 + j * s] += src[off + j];
        });
      }
  }
}

// Rows [rb, re) of one padded, phase-split plane (conv.h): zeros outside the image. Row by
// row, all phases of a row at once, so each source row is read from L1 for its later phases.
template <class T>
void pad_rows(const DirectPlan& pl, const T* src, T* dst, int64_t rb, int64_t re,
              int64_t dst_row0) {
  const int64_t sw = pl.p.stride_w;
  for (int64_t r = rb; r < re; ++r) {
    T* d = dst + (r - dst_row0) * pl.xrow;
    const int64_t iy = r - pl.p.pad_top;
    if (iy < 0 || iy >= pl.h) {
      std::fill(d, d + pl.xrow, T(0));
      continue;
    }
    const T* srow = src + iy * pl.w;
    for (int64_t q = 0; q < sw; ++q, d += pl.wq) {
      const int64_t ix0 = q - pl.p.pad_left;
      int64_t j0, j1;
      valid_range(ix0, sw, pl.wq, pl.w, &j0, &j1);
      std::fill(d, d + j0, T(0));
      if (sw == 1)
        std::memcpy(d + j0, srow + ix0 + j0, (j1 - j0) * sizeof(T));
      else
        gather_stride(srow + ix0 + j0 * sw, sw, d + j0, j1 - j0);
      std::fill(d + j1, d + pl.wq, T(0));
    }
  }
}

template <class T>
void pad_plane(const DirectPlan& pl, const T* src, T* dst) {
  pad_rows(pl, src, dst, 0, pl.hp);
}

template <class T>
void pad_planes(const DirectPlan& pl, const T* src, int64_t planes, T* dst) {
  constexpr int64_t kPadRows = 16;
  const int64_t row_blocks = (pl.hp + kPadRows - 1) / kPadRows, items = planes * row_blocks;
  parallel_for(items, grain_for(items, 0.3 * static_cast<double>(kPadRows * pl.xrow), 16),
               [&](int64_t b, int64_t e) {
                 for (int64_t i = b; i < e; ++i) {
                   const int64_t plane = i / row_blocks, r0 = i % row_blocks * kPadRows;
                   pad_rows(pl, src + plane * pl.h * pl.w, dst + plane * pl.plane, r0,
                            std::min(pl.hp, r0 + kPadRows));
                 }
               });
}

template <class T>
conv::DirectArgs<T> direct_args(const DirectPlan& pl, const T* bias, bool relu, int64_t* taps) {
  conv::DirectArgs<T> a{};
  a.c = pl.cg;
  a.hp = pl.hp;
  a.wq = pl.wq;
  a.sw = pl.p.stride_w;
  a.kh = pl.kh;
  a.kw = pl.kw;
  a.sh = pl.p.stride_h;
  a.dh = pl.p.dilation_h;
  a.dw = pl.p.dilation_w;
  a.bias = bias;
  a.relu = relu;
  a.ys = pl.P;
  a.ow = pl.ow;
  a.oy0 = 0;
  a.oy1 = pl.oh;
  conv::direct_taps(a, taps);
  a.taps = taps;
  return a;
}

template <class T>
void channels_last_block(const Geometry& pl, const T* x, int64_t r, int64_t width, T* d,
                         int64_t col0, int64_t step, int64_t c0, int64_t c1) {
  const int64_t C = pl.c, nc = c1 - c0;
  const int64_t iy = r - pl.p.pad_top;
  // Pixels [j0, j1) lie inside the image, from image column ix0 + j * step.
  const int64_t ix0 = col0 - pl.p.pad_left;
  int64_t j0 = 0, j1 = 0;
  if (iy >= 0 && iy < pl.h) valid_range(ix0, step, width, pl.w, &j0, &j1);
  auto zero = [&](int64_t a, int64_t b) {
    if (nc == C) {
      std::fill(d + a * C, d + b * C, T(0));
      return;
    }
    for (int64_t j = a; j < b; ++j) std::fill(d + j * C + c0, d + j * C + c1, T(0));
  };
  zero(0, j0);
  zero(j1, width);
  if (j1 == j0) return;
  if (pl.p.layout == Layout::nhwc) {
    const T* src = x + (iy * pl.w + ix0) * C;
    if (step == 1 && nc == C) {
      std::memcpy(d + j0 * C, src + j0 * C, (j1 - j0) * C * sizeof(T));
    } else {
      for (int64_t j = j0; j < j1; ++j)
        std::memcpy(d + j * C + c0, src + j * step * C + c0, nc * sizeof(T));
    }
  } else if (step == 1) {
    const conv::Table& t = kernels<conv::Table>();
    of<T>(t.f32_conv_to_channels_last, t.f64_conv_to_channels_last)(
        x + c0 * pl.h * pl.w + iy * pl.w + ix0 + j0, pl.h * pl.w, d + j0 * C + c0, C, nc, j1 - j0);
  } else {
    // The dilation phases' columns: each channel's strided pixels gathered into the rows of a
    // small block, then one register transpose (element by element into the channels-last row,
    // the copy took 10% of a dilation-2 layer).
    constexpr int64_t kC = 8, kJ = 64;
    T blk[kC * kJ];
    for (int64_t cb = c0; cb < c1; cb += kC) {
      const int64_t ncb = std::min(kC, c1 - cb);
      for (int64_t jb = j0; jb < j1; jb += kJ) {
        const int64_t nj = std::min(kJ, j1 - jb);
        for (int64_t c = 0; c < ncb; ++c)
          gather_stride(x + (cb + c) * pl.h * pl.w + iy * pl.w + ix0 + jb * step, step,
                        blk + c * kJ, nj);
        pack::transpose(blk, kJ, d + jb * C + cb, C, ncb, nj);
      }
    }
  }
}

template <class T>
void channels_last_row(const Geometry& pl, const T* x, int64_t r, int64_t width, T* d, int64_t col0,
                       int64_t step) {
  channels_last_block(pl, x, r, width, d, col0, step, 0, pl.c);
}

#define NPFAST_INSTANTIATE(T)                                                                    \
  template void im2col<T>(const Geometry&, const T*, int64_t, int64_t, T*);                      \
  template void col2im_add<T>(const Geometry&, const T*, int64_t, int64_t, T*);                  \
  template void pad_plane<T>(const DirectPlan&, const T*, T*);                                   \
  template void pad_rows<T>(const DirectPlan&, const T*, T*, int64_t, int64_t, int64_t);         \
  template void pad_planes<T>(const DirectPlan&, const T*, int64_t, T*);                         \
  template conv::DirectArgs<T> direct_args<T>(const DirectPlan&, const T*, bool, int64_t*);      \
  template void channels_last_row<T>(const Geometry&, const T*, int64_t, int64_t, T*, int64_t,   \
                                     int64_t);                                                   \
  template void channels_last_block<T>(const Geometry&, const T*, int64_t, int64_t, T*, int64_t, \
                                       int64_t, int64_t, int64_t);
NPFAST_INSTANTIATE(float)
NPFAST_INSTANTIATE(double)
#undef NPFAST_INSTANTIATE

}  // namespace conv_ops
}  // namespace npfast
