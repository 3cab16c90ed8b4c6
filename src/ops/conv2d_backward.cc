// conv2d backward: grad_bias as a sum, grad_weight as GEMMs reduced in a fixed order,
// grad_input as a transposed convolution (stride 1) or GEMM + col2im.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "npfast/conv.hpp"
#include "npfast/error.hpp"
#include "npfast/gemm.hpp"
#include "npfast/memory.hpp"
#include "npfast/norm.hpp"
#include "npfast/threads.hpp"
#include "src/core/views.h"
#include "src/kernels/conv/conv.h"
#include "src/ops/conv2d_layout.h"
#include "src/ops/conv2d_plan.h"

namespace npfast {
namespace {

using conv_ops::DirectPlan;
using conv_ops::GemmPlan;
using conv_ops::Geometry;
using conv_ops::kNsPerFlop;
using conv_ops::nchw_operand;
using conv_ops::Plan;
using conv_ops::transpose_images;

using views::OutPtr;

template <class T>
void grad_bias(const Geometry& pl, const T* gy, T* gb) {
  const double per = 0.5 * static_cast<double>(pl.n * pl.P);
  parallel_for(pl.o, grain_for(pl.o, per), [&](int64_t b, int64_t e) {
    for (int64_t o = b; o < e; ++o) {
      double s = 0.0;
      for (int64_t n = 0; n < pl.n; ++n) {
        const T* g = gy + (n * pl.o + o) * pl.P;
        for (int64_t i = 0; i < pl.P; ++i) s += static_cast<double>(g[i]);
      }
      gb[o] = static_cast<T>(s);
    }
  });
}

// gW_g = sum over (image, column block) units of gY_blk * col_blk^T. The units of a group are
// split into pl.wslots fixed ranges, each summed into its own partial by one thread, and the
// partials are added in slot order: the same arithmetic for any thread count.
template <class T>
void grad_weight(const GemmPlan& pl, const T* x, const T* gy, T* gw) {
  const int64_t wsize = pl.og * pl.K;
  if (pl.n == 0 || pl.P == 0 || wsize == 0) {
    std::fill(gw, gw + pl.groups * wsize, T(0));
    return;
  }
  const bool pointwise = pl.pointwise;
  const int64_t S = pl.wslots, units = pl.n * pl.nblocks;
  Buffer<T> part;
  if (S > 1) part = Buffer<T>(static_cast<size_t>(checked_mul(pl.groups * S, wsize, "partials")));
  const int64_t items = pl.groups * S;
  const double item_ns = 2.0 * static_cast<double>(wsize) * static_cast<double>(pl.nb) *
                         static_cast<double>(pl.units_per_slot) * kNsPerFlop;
  parallel_for(items, grain_for(items, item_ns), [&](int64_t b, int64_t e) {
    Buffer<T> col;
    if (!pointwise) col = Buffer<T>(static_cast<size_t>(pl.K * pl.nb));
    for (int64_t it = b; it < e; ++it) {
      const int64_t g = it / S, s = it % S;
      T* dst = S > 1 ? part.get() + it * wsize : gw + g * wsize;
      const int64_t u0 = s * pl.units_per_slot, u1 = std::min(units, u0 + pl.units_per_slot);
      bool first = true;
      for (int64_t u = u0; u < u1; ++u) {
        const int64_t n = u / pl.nblocks, blk = u % pl.nblocks;
        const int64_t p0 = blk * pl.nb, p1 = std::min(pl.P, p0 + pl.nb), cols = p1 - p0;
        if (cols <= 0) continue;
        int64_t ldb;
        const T* bm = conv_ops::gemm_operand(pl, x + (n * pl.c + g * pl.cg) * pl.h * pl.w, p0, p1,
                                             col.get(), &ldb);
        gemm(false, true, pl.og, pl.K, cols, T(1), gy + (n * pl.o + g * pl.og) * pl.P + p0, pl.P,
             bm, ldb, first ? T(0) : T(1), dst, pl.K);
        first = false;
      }
      if (first) std::fill(dst, dst + wsize, T(0));
    }
  });
  if (S == 1) return;
  const int64_t total = pl.groups * wsize;
  parallel_for(total, grain_for(total, 0.3 * static_cast<double>(S)), [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      const int64_t g = i / wsize, j = i % wsize;
      const T* src = part.get() + g * S * wsize + j;
      T acc = src[0];
      for (int64_t s = 1; s < S; ++s) acc += src[s * wsize];
      gw[i] = acc;
    }
  });
}

// Direct plans (few input channels): the direct weight-gradient kernel over the padded input
// the forward builds. A work item is one block of the kernel's output channels (grad_ob) of
// one group; it adds the images in order, so every element's sum has one order for any
// thread count. The GEMM path (im2col, then gY * col^T) ran 9-27 of its 32 lanes here
// (K = C*kh*kw) and repacked gY for each image.
template <class T>
void grad_weight_direct(const DirectPlan& pl, const T* x, const T* gy, T* gw) {
  std::fill(gw, gw + pl.o * pl.K, T(0));
  if (pl.n == 0 || pl.P == 0) return;
  const conv::Table& kt = kernels<conv::Table>();
  const conv::DirectGradFn<T> kernel = of<T>(kt.f32_conv_direct_grad, kt.f64_conv_direct_grad);
  const int64_t kGradChannels = kt.grad_ob;
  Buffer<int64_t> taps(static_cast<size_t>(pl.K));
  const conv::DirectArgs<T> shared = conv_ops::direct_args<T>(pl, nullptr, false, taps.get());
  const int64_t bimg = std::min(pl.n, pl.batch_images);
  Buffer<T> xp(static_cast<size_t>(checked_mul(bimg * pl.c, pl.plane, "padded input")));
  const int64_t blocks = (pl.og + kGradChannels - 1) / kGradChannels, items = pl.groups * blocks;
  for (int64_t n0 = 0; n0 < pl.n; n0 += bimg) {
    const int64_t nimg = std::min(bimg, pl.n - n0);
    conv_ops::pad_planes(pl, x + n0 * pl.c * pl.h * pl.w, nimg * pl.c, xp.get());
    const double item_ns =
        2.0 * static_cast<double>(nimg * pl.P * pl.K * kGradChannels) * kNsPerFlop;
    parallel_for(items, grain_for(items, item_ns, 16), [&](int64_t b, int64_t e) {
      conv::DirectArgs<T> a = shared;
      Buffer<T> work(static_cast<size_t>(conv::direct_grad_work(pl.K)) / sizeof(T));
      for (int64_t it = b; it < e; ++it) {
        const int64_t g = it / blocks, oc0 = g * pl.og + it % blocks * kGradChannels;
        a.ob = std::min(kGradChannels, (g + 1) * pl.og - oc0);
        a.x = xp.get() + g * pl.cg * pl.plane;
        kernel(a, gy + (n0 * pl.o + oc0) * pl.P, nimg, pl.c * pl.plane, pl.o * pl.P, work.get(),
               gw + oc0 * pl.K);
      }
    });
  }
}

// Depthwise: per channel, the dedicated kernel on each image's padded plane, images added in
// order (one channel per thread).
template <class T>
void grad_weight_depthwise(const DirectPlan& pl, const T* x, const T* gy, T* gw) {
  const conv::Table& kt = kernels<conv::Table>();
  const conv::DwGradFn<T> kernel = of<T>(kt.f32_conv_dw_grad, kt.f64_conv_dw_grad);
  const int64_t taps = pl.kh * pl.kw;
  const double per = 2.0 * static_cast<double>(pl.n * pl.P * taps) * kNsPerFlop;
  Buffer<int64_t> offs(static_cast<size_t>(pl.K));
  const conv::DirectArgs<T> shared = conv_ops::direct_args<T>(pl, nullptr, false, offs.get());
  parallel_for(pl.c, grain_for(pl.c, per), [&](int64_t b, int64_t e) {
    Buffer<T> xp(static_cast<size_t>(pl.plane));
    Buffer<T> part(static_cast<size_t>(taps));
    conv::DirectArgs<T> a = shared;
    a.x = xp.get();
    for (int64_t c = b; c < e; ++c) {
      T* g = gw + c * taps;
      std::fill(g, g + taps, T(0));
      for (int64_t n = 0; n < pl.n; ++n) {
        conv_ops::pad_plane(pl, x + (n * pl.c + c) * pl.h * pl.w, xp.get());
        kernel(a, gy + (n * pl.o + c) * pl.P, part.get());
        for (int64_t t = 0; t < taps; ++t) g[t] += part[t];
      }
    }
  });
}

// Stride 1 with padding no larger than the dilated kernel: grad_input is the forward
// convolution of grad_output with the flipped, transposed weights (run by the planner, so it
// gets the depthwise / 1x1 / im2col paths too).
bool transposable(const Geometry& pl) {
  const Conv2dParams& p = pl.p;
  const int64_t eh = p.dilation_h * (pl.kh - 1), ew = p.dilation_w * (pl.kw - 1);
  return p.stride_h == 1 && p.stride_w == 1 && p.pad_top <= eh && p.pad_bottom <= eh &&
         p.pad_left <= ew && p.pad_right <= ew;
}

// With NHWC operands (pl.p.layout) gy and gx are channels-last and the convolution runs only
// on a plan that reads them natively: false (nothing done) otherwise. False too for
// non-finite weights (seen as they are flipped): the convolution multiplies grad_output's
// padding, zeros, by them, 0 * inf = NaN where PyTorch's grad_input (and col2im's: W^T gy
// scattered to the input's pixels) has an inf. gx_v is the output; res (contiguous in gx's
// layout, or null) is added in the convolution's residual epilogue.
template <class T>
bool grad_input_transposed(const Geometry& pl, const T* gy, const T* w, const View* gx_v,
                           const T* res) {
  Conv2dParams q;
  q.dilation_h = pl.p.dilation_h;
  q.dilation_w = pl.p.dilation_w;
  q.groups = pl.groups;
  q.layout = pl.p.layout;
  q.pad_top = pl.p.dilation_h * (pl.kh - 1) - pl.p.pad_top;
  q.pad_bottom = pl.p.dilation_h * (pl.kh - 1) - pl.p.pad_bottom;
  q.pad_left = pl.p.dilation_w * (pl.kw - 1) - pl.p.pad_left;
  q.pad_right = pl.p.dilation_w * (pl.kw - 1) - pl.p.pad_right;
  const conv_ops::Problem pr{pl.n, pl.o, pl.oh, pl.ow, pl.c, pl.kh, pl.kw, q, dtype_of<T>()};
  const Plan tp = conv_ops::get_plan(pr);
  if (q.layout == Layout::nhwc && !conv_ops::native_nhwc(tp.algo)) return false;
  const int64_t taps = pl.kh * pl.kw;
  Buffer<T> wt(static_cast<size_t>(checked_mul(pl.o, pl.K, "weight size")));
  bool finite = true;
  for (int64_t g = 0; g < pl.groups; ++g)
    for (int64_t o = 0; o < pl.og; ++o)
      for (int64_t c = 0; c < pl.cg; ++c) {
        const T* src = w + ((g * pl.og + o) * pl.cg + c) * taps;
        T* dst = wt.get() + ((g * pl.cg + c) * pl.og + o) * taps;
        for (int64_t t = 0; t < taps; ++t) {
          dst[taps - 1 - t] = src[t];
          finite &= std::isfinite(src[t]);
        }
      }
  if (!finite) return false;
  OutPtr<T> o(gx_v);
  conv_ops::forward<T>(tp, gy, wt.get(), nullptr, false, o.p, res);
  o.finish();
  return true;
}

// General case: per (image, group), column blocks in order: gcol = W_g^T gY_blk, then
// scattered back with col2im. Each (image, group) belongs to one thread.
template <class T>
void grad_input_col2im(const GemmPlan& pl, const T* gy, const T* w, T* gx) {
  const int64_t items = pl.n * pl.groups, plane = pl.h * pl.w;
  const double item_ns =
      2.0 * static_cast<double>(pl.og * pl.K) * static_cast<double>(pl.P) * kNsPerFlop;
  parallel_for(items, grain_for(items, item_ns), [&](int64_t b, int64_t e) {
    Buffer<T> col(static_cast<size_t>(pl.K * pl.nb));
    for (int64_t it = b; it < e; ++it) {
      const int64_t g = it % pl.groups, n = it / pl.groups;
      T* xg = gx + (n * pl.c + g * pl.cg) * plane;
      std::fill(xg, xg + pl.cg * plane, T(0));
      if (pl.og == 0) continue;
      for (int64_t blk = 0; blk < pl.nblocks; ++blk) {
        const int64_t p0 = blk * pl.nb, p1 = std::min(pl.P, p0 + pl.nb), cols = p1 - p0;
        if (cols <= 0) continue;
        gemm(true, false, pl.K, cols, pl.og, T(1), w + g * pl.og * pl.K, pl.K,
             gy + (n * pl.o + g * pl.og) * pl.P + p0, pl.P, T(0), col.get(), cols);
        conv_ops::col2im_add(pl, col.get(), p0, p1, xg);
      }
    }
  });
}

// Whether input x suits the weight gradients over wide rows (the implicit and shifted GEMMs,
// which the Winograd plans use too): those multiply grad_output's discarded columns, zeros,
// by the input pixels the taps reach past a row's end, 0 * inf = NaN where the direct sum
// has no such term. A non-finite input takes im2col's (one pass over x to find out, next to
// the 18 * O flops per input element of the gradient). True for the other plans.
template <class T>
bool finite_for_wide_rows(const Plan& pl, const T* x) {
  if (pl.algo != conv_ops::Algo::implicit_gemm && pl.algo != conv_ops::Algo::winograd &&
      pl.algo != conv_ops::Algo::shifted_gemm)
    return true;
  return std::isfinite(double(conv_ops::max_abs(x, pl.n * pl.c * pl.h * pl.w)));
}

// res: the residual to add to grad_input (contiguous, NCHW), or null. Returns whether it was
// added (fused into the algorithm); the caller adds it otherwise.
template <class T>
bool backward_t(const View& gy_v, const View& x_v, const View& w_v, const Conv2dParams& p,
                const View* gx_v, const View* gw_v, const View* gb_v, const T* res) {
  const conv_ops::Problem pr{x_v.shape[0], x_v.shape[1], x_v.shape[2], x_v.shape[3],
                             w_v.shape[0], w_v.shape[2], w_v.shape[3], p,
                             x_v.dtype};
  const Plan pl = conv_ops::get_plan(pr);
  Buffer<char> gk, xk, wk;
  const T* gy = views::contiguous<T>(gy_v, &gk);
  if (gb_v && !gb_v->empty()) {
    OutPtr<T> o(gb_v);
    grad_bias(pl, gy, o.p);
    o.finish();
  }
  if (gw_v && !gw_v->empty()) {
    const T* x = views::contiguous<T>(x_v, &xk);
    OutPtr<T> o(gw_v);
    switch (finite_for_wide_rows(pl, x) ? pl.algo : conv_ops::Algo::im2col_gemm) {
      case conv_ops::Algo::implicit_gemm:
      case conv_ops::Algo::winograd:
        if (const conv_ops::ImplicitPlan ip = conv_ops::plan_implicit(pl);
            conv_ops::implicit_grad_weight_fits(ip)) {
          conv_ops::grad_weight_implicit(ip, x, gy, o.p);
          break;
        }
        [[fallthrough]];
      case conv_ops::Algo::shifted_gemm:
        conv_ops::grad_weight_shifted(conv_ops::plan_shifted(pl), x, gy, o.p);
        break;
      case conv_ops::Algo::depthwise:
        grad_weight_depthwise(conv_ops::plan_direct(pl), x, gy, o.p);
        break;
      case conv_ops::Algo::direct:
        grad_weight_direct(conv_ops::plan_direct(pl), x, gy, o.p);
        break;
      case conv_ops::Algo::gemm_1x1:
      case conv_ops::Algo::im2col_gemm:
        grad_weight(conv_ops::plan_gemm(pl), x, gy, o.p);
        break;
    }
    o.finish();
  }
  if (gx_v && !gx_v->empty()) {
    const T* w = views::contiguous<T>(w_v, &wk);
    if (transposable(pl) && grad_input_transposed(pl, gy, w, gx_v, res)) return true;
    OutPtr<T> o(gx_v);
    grad_input_col2im(conv_ops::plan_gemm(pl), gy, w, o.p);
    o.finish();
  }
  return false;
}

// grad_bias of channels-last grad_output (rows of O): each channel's sum in the NCHW order
// (image by image, pixel by pixel), so the same bits as grad_bias on the NCHW array.
template <class T>
void grad_bias_nhwc(const Geometry& pl, const T* gy, T* gb) {
  const int64_t rows = pl.n * pl.P;
  parallel_for(pl.o, grain_for(pl.o, 0.5 * static_cast<double>(rows)), [&](int64_t b, int64_t e) {
    Buffer<double> acc(static_cast<size_t>(e - b));
    std::fill(acc.get(), acc.get() + (e - b), 0.0);
    for (int64_t r = 0; r < rows; ++r) {
      const T* g = gy + r * pl.o;
      for (int64_t o = b; o < e; ++o) acc[o - b] += static_cast<double>(g[o]);
    }
    for (int64_t o = b; o < e; ++o) gb[o] = static_cast<T>(acc[o - b]);
  });
}

// A strided 1x1 kernel without padding on NHWC: grad_input is W^T gy at the pixels the stride
// reads (row sh*i, column sw*j), zero elsewhere: one GEMM over all output pixels of the batch
// (gy as it is), its rows then placed image by image with the zeros. conv_transpose2d's phases
// took 1.2x longer (three of the four phases computing nothing), a GEMM per output row written
// straight into the strided pixels 1.3-1.5x. With res, the images start as res's and the rows
// are added (a ResNet downsample's shortcut gradient joining the block's: no separate pass).
template <class T>
void grad_input_1x1_nhwc(const Geometry& pl, const T* gy, const T* w, const T* res, T* gx) {
  const int64_t sh = pl.p.stride_h, sw = pl.p.stride_w, C = pl.c, P = pl.oh * pl.ow;
  const int64_t image = pl.h * pl.w * C;
  Buffer<T> tmp(static_cast<size_t>(checked_mul(pl.n * P, C, "grad_input")));
  gemm(false, false, pl.n * P, C, pl.o, T(1), gy, pl.o, w, C, T(0), tmp.get(), C);
  parallel_for(pl.n, grain_for(pl.n, 0.2 * static_cast<double>(image)), [&](int64_t b, int64_t e) {
    for (int64_t n = b; n < e; ++n) {
      T* g = gx + n * image;
      if (res)
        std::copy(res + n * image, res + (n + 1) * image, g);
      else
        std::fill(g, g + image, T(0));
      for (int64_t i = 0; i < pl.oh; ++i)
        for (int64_t j = 0; j < pl.ow; ++j) {
          T* dst = g + (i * sh * pl.w + j * sw) * C;
          const T* src = tmp.get() + ((n * pl.oh + i) * pl.ow + j) * C;
          if (res)
            for (int64_t c = 0; c < C; ++c) dst[c] += src[c];
          else
            std::memcpy(dst, src, C * sizeof(T));
        }
    }
  });
}

// NHWC operands: the algorithms that read channels-last data run on them as they are (the
// implicit GEMM's weight gradient; grad_input as a stride-1 convolution on an NHWC-native
// plan, or, strided, as conv_transpose2d's NHWC phases); the others on NCHW copies, made only
// when one of them needs them. A ResNet trained channels-last otherwise transposed x and
// grad_output for each layer (and grad_input back), more than the NCHW backward's own copies.
template <class T>
bool backward_nhwc(const View& gy_v, const View& x_v, const View& w_v, const Conv2dParams& p,
                   const View* gx_v, const View* gw_v, const View* gb_v, const T* res) {
  const View xl = conv_ops::nchw_of_nhwc(x_v);
  const conv_ops::Problem pr{xl.shape[0],  xl.shape[1],  xl.shape[2], xl.shape[3], w_v.shape[0],
                             w_v.shape[2], w_v.shape[3], p,           x_v.dtype};
  const Plan pl = conv_ops::get_plan(pr);
  Conv2dParams q = p;
  q.layout = Layout::nchw;
  Buffer<T> gyk, xk;
  View gyn, xn;  // the NCHW copies, made on first use
  auto gy_nchw = [&]() -> const View& {
    if (!gyn.data) gyn = nchw_operand(gy_v, &gyk);
    return gyn;
  };
  Buffer<char> gk, xck, wk;
  const T* gy = views::contiguous<T>(gy_v, &gk);
  if (gb_v && !gb_v->empty()) {
    OutPtr<T> o(gb_v);
    grad_bias_nhwc(pl, gy, o.p);
    o.finish();
  }
  if (gw_v && !gw_v->empty()) {
    const conv_ops::ImplicitPlan ip = conv_ops::plan_implicit(pl);
    // x in C order only where the implicit grad_weight may read it (the else copies its own).
    const bool implicit =
        (pl.algo == conv_ops::Algo::implicit_gemm || pl.algo == conv_ops::Algo::winograd) &&
        conv_ops::implicit_grad_weight_fits(ip);
    const T* xc = implicit ? views::contiguous<T>(x_v, &xck) : nullptr;
    if (implicit && finite_for_wide_rows(pl, xc)) {
      OutPtr<T> o(gw_v);
      conv_ops::grad_weight_implicit(ip, xc, gy, o.p);
      o.finish();
    } else {
      xn = nchw_operand(x_v, &xk);
      backward_t<T>(gy_nchw(), xn, w_v, q, nullptr, gw_v, nullptr, nullptr);
    }
  }
  if (!gx_v || gx_v->empty()) return false;
  const int64_t dh = p.dilation_h * (pl.kh - 1), dw = p.dilation_w * (pl.kw - 1);
  const int64_t oph = pl.h + p.pad_top + p.pad_bottom - dh - 1 - (pl.oh - 1) * p.stride_h;
  const int64_t opw = pl.w + p.pad_left + p.pad_right - dw - 1 - (pl.ow - 1) * p.stride_w;
  // w in C order for the two branches that read it as a pointer.
  auto wc = [&] { return views::contiguous<T>(w_v, &wk); };
  if (transposable(pl)) {
    if (grad_input_transposed(pl, gy, wc(), gx_v, res)) return true;
  } else if (pl.kh == 1 && pl.kw == 1 && pl.groups == 1 && p.pad_top == 0 && p.pad_bottom == 0 &&
             p.pad_left == 0 && p.pad_right == 0) {
    OutPtr<T> o(gx_v);
    grad_input_1x1_nhwc(pl, gy, wc(), res, o.p);
    o.finish();
    return true;
  } else if (p.pad_top == p.pad_bottom && p.pad_left == p.pad_right &&
             (p.stride_h > 1 || p.stride_w > 1) && oph < std::max(p.stride_h, p.dilation_h) &&
             opw < std::max(p.stride_w, p.dilation_w) &&
             std::isfinite(double(conv_ops::max_abs(wc(), w_v.size())))) {
    // conv2d's input gradient is the transposed convolution of grad_output with the same
    // weight, output_padding restoring the rows and columns the stride dropped. Not with a
    // non-finite weight: the phases multiply zeros by it (conv_transpose2d's docstring), NaN
    // where PyTorch's grad_input has a finite value (probe18c); the NCHW path below scatters.
    conv_transpose2d(gy_v, w_v, nullptr, p, oph, opw, *gx_v);
    return false;
  }
  // grad_input into an NCHW buffer, then transposed into the caller's NHWC array.
  View gx = conv_ops::nchw_of_nhwc(*gx_v);
  Buffer<T> gxk(static_cast<size_t>(gx.size()));
  gx.data = gxk.get();
  views::set_c_strides(&gx);
  backward_t<T>(gy_nchw(), xl, w_v, q, &gx, nullptr, nullptr, nullptr);
  if (gx_v->c_contiguous())
    transpose_images(gxk.get(), gx.shape[0], gx.shape[2] * gx.shape[3], gx.shape[1], false,
                     gx_v->ptr<T>());
  else
    views::copy_from_contiguous(gxk.get(), conv_ops::nchw_of_nhwc(*gx_v));
  return false;
}

// grad_input += residual where the algorithm did not add it (the same rounding: one addition).
template <class T>
void add_residual(const View& gx, const View& res) {
  if (gx.c_contiguous()) return relu_grad_add(res, nullptr, gx);
  Buffer<T> acc(static_cast<size_t>(gx.size()));
  Buffer<char> rk;
  views::copy_to_contiguous(gx, acc.get());
  const T* r = views::contiguous<T>(res, &rk);
  for (int64_t i = 0; i < gx.size(); ++i) acc[i] += r[i];
  views::copy_from_contiguous(acc.get(), gx);
}

template <class T>
void backward_any(const View& gy, const View& x, const View& w, const Conv2dParams& p,
                  const View* gx, const View* gw, const View* gb, const View* residual) {
  Buffer<char> rk;
  const T* res = residual && gx ? views::contiguous<T>(*residual, &rk) : nullptr;
  const bool added =
      (p.layout == Layout::nhwc ? backward_nhwc<T> : backward_t<T>)(gy, x, w, p, gx, gw, gb, res);
  if (res && !added && !gx->empty()) add_residual<T>(*gx, *residual);
}

}  // namespace

void conv2d_backward(const View& grad_output, const View& input, const View& weight,
                     const Conv2dParams& p, const View* grad_input, const View* grad_weight,
                     const View* grad_bias, const View* residual) {
  const DType t = input.dtype;
  views::check_out(grad_output, t, conv2d_shape(input, weight, nullptr, p), "grad_output");
  if (grad_input) views::check_out(*grad_input, t, shape_of(input), "grad_input");
  if (grad_weight) views::check_out(*grad_weight, t, shape_of(weight), "grad_weight");
  if (grad_bias) views::check_out(*grad_bias, t, Shape{1, {weight.shape[0]}}, "grad_bias");
  if (residual) views::check_out(*residual, t, shape_of(input), "residual");
  conv_ops::naming_workspace("conv2d_backward", input, p, [&] {
    if (input.dtype == DType::f32)
      backward_any<float>(grad_output, input, weight, p, grad_input, grad_weight, grad_bias,
                          residual);
    else
      backward_any<double>(grad_output, input, weight, p, grad_input, grad_weight, grad_bias,
                           residual);
  });
}

}  // namespace npfast
