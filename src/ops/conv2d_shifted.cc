// The stride-1 GEMM path without im2col.
//
// With stride 1, output pixel (oy, ox) and tap (ky, kx) read padded pixel
// (oy + ky*dh, ox + kx*dw). Computing the output over the padded width wpad (and dropping the
// columns >= ow afterwards) makes that a flat index (oy*wpad + ox) + (ky*dh*wpad + kx*dw): for
// each tap, the GEMM operand is the flat padded input shifted by a constant, so GEMM reads it
// in place. With `expand` = kw, the kw shifted copies of each channel are stored one after the
// other and a kernel row becomes one GEMM of depth cg*kw; with expand = 1 each tap is a GEMM
// of depth cg. The only work outside gemm() is padding the input (1 or kw copies) and
// compacting the output (one pass, fused with bias and ReLU).
#include <algorithm>
#include <cstring>

#include "npfast/error.hpp"
#include "npfast/gemm.hpp"
#include "npfast/memory.hpp"
#include "npfast/threads.hpp"
#include "src/ops/conv2d_epilogue.h"
#include "src/ops/conv2d_layout.h"
#include "src/ops/conv2d_plan.h"

namespace npfast {
namespace conv_ops {
namespace {

// Channel `src` (h x w) into its GEMM operand layout: with expand == 1 the stride_h x stride_w
// phase planes, plane (a, b) row i column j holding padded pixel (i*sh + a, j*sw + b) (for
// stride 1 the padded plane itself), then `reach` zeros; with expand = kw (stride 1) kw copies
// of the padded plane, copy e shifted left by e*dw.
template <class T>
void build_shifted(const ShiftedPlan& pl, const T* src, T* dst) {
  const int64_t wp = pl.wpad, sh = pl.p.stride_h, sw = pl.p.stride_w, plane = pl.hq * wp;
  for (int64_t a = 0; a < sh; ++a)
    for (int64_t b = 0; b < sw; ++b) {
      T* ph = dst + (a * sw + b) * plane;
      const int64_t ix0 = b - pl.p.pad_left;
      int64_t j0, j1;
      valid_range(ix0, sw, wp, pl.w, &j0, &j1);
      for (int64_t i = 0; i < pl.hq; ++i) {
        T* d = ph + i * wp;
        const int64_t iy = i * sh + a - pl.p.pad_top;
        if (iy < 0 || iy >= pl.h) {
          std::fill(d, d + wp, T(0));
          continue;
        }
        const T* s = src + iy * pl.w + ix0;
        std::fill(d, d + j0, T(0));
        if (sw == 1)
          std::memcpy(d + j0, s + j0, (j1 - j0) * sizeof(T));
        else
          for (int64_t j = j0; j < j1; ++j) d[j] = s[j * sw];
        std::fill(d + j1, d + wp, T(0));
      }
    }
  T* d0 = dst;
  std::fill(d0 + sh * sw * plane, d0 + pl.lcopy, T(0));
  for (int64_t e = 1; e < pl.expand; ++e) {
    const int64_t s = e * pl.p.dilation_w;
    T* de = dst + e * pl.lcopy;
    std::memcpy(de, d0 + s, (pl.lcopy - s) * sizeof(T));
    std::fill(de + pl.lcopy - s, de + pl.lcopy, T(0));
  }
}

// Where tap (ky, kx) starts in a channel's operand (kx = 0 for the expanded layout, whose
// copies carry the kx shifts): phase plane of (ky*dh mod sh, kx*dw mod sw), shifted by the
// whole-stride parts.
inline int64_t tap_offset(const ShiftedPlan& pl, int64_t ky, int64_t kx) {
  const int64_t ry = ky * pl.p.dilation_h, rx = kx * pl.p.dilation_w;
  const int64_t sh = pl.p.stride_h, sw = pl.p.stride_w;
  return (((ry % sh) * sw + rx % sw) * pl.hq + ry / sh) * pl.wpad + rx / sw;
}

// Columns [p0, p0 + cols) of the wide (og x sP) result into y, dropping columns >= ow.
template <class T>
void compact(const ShiftedPlan& pl, const T* t, int64_t og, int64_t p0, int64_t cols, T* y,
             const T* bias, bool relu) {
  for (int64_t o = 0; o < og; ++o) {
    const T* tr = t + o * cols;
    T* yr = y + o * pl.P;
    int64_t p = p0;
    const int64_t p1 = p0 + cols;
    while (p < p1) {
      const int64_t oy = p / pl.wpad, ox = p % pl.wpad;
      const int64_t run = std::min(pl.wpad - ox, p1 - p);
      const int64_t keep = std::max<int64_t>(0, std::min(pl.ow - ox, run));
      bias_act(tr + (p - p0), yr + oy * pl.ow + ox, keep, bias ? bias + o : nullptr, relu);
      p += run;
    }
  }
}

}  // namespace

template <class T>
void forward_shifted(const ShiftedPlan& pl, const T* x, const T* w, const T* bias, bool relu,
                     T* y) {
  const int64_t E = pl.expand, XG = E > 1 ? 1 : pl.kw;
  // Weights as [ky][xg][o][ci][e] (kx = e when expanded, xg otherwise): one row-major A per
  // GEMM. Written in order; each read run is the kernel row of one (o, ci).
  Buffer<T> wr(static_cast<size_t>(pl.o * pl.K));
  const int64_t taps = pl.kh * pl.kw;
  for (int64_t ky = 0; ky < pl.kh; ++ky)
    for (int64_t xg = 0; xg < XG; ++xg)
      for (int64_t o = 0; o < pl.o; ++o) {
        T* __restrict dst = wr.get() + ((ky * XG + xg) * pl.o + o) * pl.sK;
        const T* __restrict src = w + o * pl.K + ky * pl.kw + xg;
        for (int64_t ci = 0; ci < pl.cg; ++ci)
          for (int64_t e = 0; e < E; ++e) dst[ci * E + e] = src[ci * taps + e];
      }
  const int64_t bimg = std::min(pl.n, pl.batch_images);
  Buffer<T> buf(static_cast<size_t>(
      checked_mul(checked_mul(bimg * pl.c, E, "shifted input"), pl.lcopy, "shifted input")));
  const double item_ns = 2.0 * static_cast<double>(pl.og) * static_cast<double>(pl.K) *
                         static_cast<double>(pl.snb) * kNsPerFlop;
  for (int64_t n0 = 0; n0 < pl.n; n0 += bimg) {
    const int64_t nimg = std::min(bimg, pl.n - n0), planes = nimg * pl.c;
    const T* xb = x + n0 * pl.c * pl.h * pl.w;
    parallel_for(planes, grain_for(planes, 0.3 * static_cast<double>(E * pl.lcopy)),
                 [&](int64_t b, int64_t e) {
                   for (int64_t i = b; i < e; ++i)
                     build_shifted(pl, xb + i * pl.h * pl.w, buf.get() + i * E * pl.lcopy);
                 });
    const int64_t items = nimg * pl.groups * pl.snblocks;
    parallel_for(items, grain_for(items, item_ns), [&](int64_t b, int64_t e) {
      Buffer<T> t(static_cast<size_t>(pl.og * pl.snb));
      for (int64_t it = b; it < e; ++it) {
        const int64_t blk = it % pl.snblocks, rest = it / pl.snblocks;
        const int64_t g = rest % pl.groups, n = rest / pl.groups;
        const int64_t p0 = blk * pl.snb, cols = std::min(pl.sP, p0 + pl.snb) - p0;
        if (cols <= 0) continue;
        const T* xg0 = buf.get() + (n * pl.c + g * pl.cg) * E * pl.lcopy + p0;
        bool first = true;
        for (int64_t ky = 0; ky < pl.kh; ++ky)
          for (int64_t xg = 0; xg < XG; ++xg) {
            const int64_t off = tap_offset(pl, ky, xg);
            const T* a = wr.get() + ((ky * XG + xg) * pl.o + g * pl.og) * pl.sK;
            gemm(false, false, pl.og, cols, pl.sK, T(1), a, pl.sK, xg0 + off, pl.lcopy,
                 first ? T(0) : T(1), t.get(), cols);
            first = false;
          }
        compact(pl, t.get(), pl.og, p0, cols, y + ((n0 + n) * pl.o + g * pl.og) * pl.P,
                bias ? bias + g * pl.og : nullptr, relu);
      }
    });
  }
}

template <class T>
void grad_weight_shifted(const ShiftedPlan& pl, const T* x, const T* gy, T* gw) {
  const int64_t wsize = pl.og * pl.K;
  if (pl.n == 0 || pl.P == 0 || wsize == 0) {
    std::fill(gw, gw + pl.groups * wsize, T(0));
    return;
  }
  const int64_t E = pl.expand, XG = E > 1 ? 1 : pl.kw;
  const int64_t planes = pl.n * pl.c, oplanes = pl.n * pl.o;
  // The whole batch's shifted copies when they fit the workspace bound; otherwise each slot
  // builds the image it is on (consecutive units share an image, so at most two slots build
  // the same one).
  const bool whole = pl.n <= pl.batch_images;
  Buffer<T> buf;
  if (whole) {
    buf = Buffer<T>(static_cast<size_t>(
        checked_mul(checked_mul(planes, E, "shifted input"), pl.lcopy, "shifted input")));
    parallel_for(planes, grain_for(planes, 0.3 * static_cast<double>(E * pl.lcopy)),
                 [&](int64_t b, int64_t e) {
                   for (int64_t i = b; i < e; ++i)
                     build_shifted(pl, x + i * pl.h * pl.w, buf.get() + i * E * pl.lcopy);
                 });
  }
  // grad_output widened to wpad columns, zero in the columns the forward drops.
  Buffer<T> gyw(static_cast<size_t>(checked_mul(oplanes, pl.sP, "grad_output")));
  parallel_for(oplanes, grain_for(oplanes, 0.3 * static_cast<double>(pl.sP)),
               [&](int64_t b, int64_t e) {
                 for (int64_t i = b; i < e; ++i)
                   for (int64_t r = 0; r < pl.oh; ++r) {
                     T* d = gyw.get() + i * pl.sP + r * pl.wpad;
                     std::memcpy(d, gy + i * pl.P + r * pl.ow, pl.ow * sizeof(T));
                     std::fill(d + pl.ow, d + pl.wpad, T(0));
                   }
               });
  const int64_t S = pl.swslots, units = pl.n * pl.snblocks;
  // Partials in the GEMM layout [ky][xg][o][ci][e], one per (group, slot).
  Buffer<T> part(static_cast<size_t>(checked_mul(pl.groups * S, wsize, "partials")));
  const double item_ns = 2.0 * static_cast<double>(wsize) * static_cast<double>(pl.snb) *
                         static_cast<double>(pl.sunits_per_slot) * kNsPerFlop;
  parallel_for(pl.groups * S, grain_for(pl.groups * S, item_ns), [&](int64_t b, int64_t e) {
    Buffer<T> local;
    if (!whole) local = Buffer<T>(static_cast<size_t>(pl.cg * E * pl.lcopy));
    for (int64_t it = b; it < e; ++it) {
      const int64_t g = it / S, s = it % S;
      T* dst = part.get() + it * wsize;
      int64_t built = -1;
      const int64_t u0 = s * pl.sunits_per_slot, u1 = std::min(units, u0 + pl.sunits_per_slot);
      bool first = true;
      for (int64_t u = u0; u < u1; ++u) {
        const int64_t n = u / pl.snblocks, blk = u % pl.snblocks;
        const int64_t p0 = blk * pl.snb, cols = std::min(pl.sP, p0 + pl.snb) - p0;
        if (cols <= 0) continue;
        const T* xg0;
        if (whole) {
          xg0 = buf.get() + (n * pl.c + g * pl.cg) * E * pl.lcopy + p0;
        } else {
          if (built != n) {
            for (int64_t ci = 0; ci < pl.cg; ++ci)
              build_shifted(pl, x + ((n * pl.c + g * pl.cg + ci) * pl.h) * pl.w,
                            local.get() + ci * E * pl.lcopy);
            built = n;
          }
          xg0 = local.get() + p0;
        }
        const T* gyb = gyw.get() + (n * pl.o + g * pl.og) * pl.sP + p0;
        for (int64_t ky = 0; ky < pl.kh; ++ky)
          for (int64_t xg = 0; xg < XG; ++xg) {
            const int64_t off = tap_offset(pl, ky, xg);
            gemm(false, true, pl.og, pl.sK, cols, T(1), gyb, pl.sP, xg0 + off, pl.lcopy,
                 first ? T(0) : T(1), dst + (ky * XG + xg) * pl.og * pl.sK, pl.sK);
          }
        first = false;
      }
      if (first) std::fill(dst, dst + wsize, T(0));
    }
  });
  // Sum the partials in slot order and reorder to (o, ci, ky, kx); one output row per item.
  const int64_t rows = pl.groups * pl.og;
  parallel_for(rows, grain_for(rows, 0.5 * static_cast<double>(S * pl.K)),
               [&](int64_t b, int64_t e) {
                 for (int64_t r = b; r < e; ++r) {
                   const int64_t g = r / pl.og, o = r % pl.og;
                   T* dst = gw + r * pl.K;
                   for (int64_t ky = 0; ky < pl.kh; ++ky)
                     for (int64_t kx = 0; kx < pl.kw; ++kx) {
                       const int64_t xg = E > 1 ? 0 : kx, ee = E > 1 ? kx : 0;
                       const T* base =
                           part.get() + g * S * wsize + ((ky * XG + xg) * pl.og + o) * pl.sK + ee;
                       for (int64_t ci = 0; ci < pl.cg; ++ci) {
                         const T* src = base + ci * E;
                         T acc = src[0];
                         for (int64_t s = 1; s < S; ++s) acc += src[s * wsize];
                         dst[(ci * pl.kh + ky) * pl.kw + kx] = acc;
                       }
                     }
                 }
               });
}

template void grad_weight_shifted<float>(const ShiftedPlan&, const float*, const float*, float*);
template void grad_weight_shifted<double>(const ShiftedPlan&, const double*, const double*,
                                          double*);

template void forward_shifted<float>(const ShiftedPlan&, const float*, const float*, const float*,
                                     bool, float*);
template void forward_shifted<double>(const ShiftedPlan&, const double*, const double*,
                                      const double*, bool, double*);

}  // namespace conv_ops
}  // namespace npfast
