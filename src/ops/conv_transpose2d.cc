// conv_transpose2d: the adjoint of conv2d.
//
// A transposed convolution with weight (C_in, C_out/g, kH, kW) is exactly the input gradient of
// the conv2d that maps (N, C_out, OH, OW) to (N, C_in, H, W) with the same weight, stride,
// padding, dilation and groups. So:
//   forward      = conv2d_backward's grad_input (grad_output := input),
//   grad_input   = conv2d(grad_output, weight),
//   grad_weight  = conv2d_backward's grad_weight (input := grad_output, grad_output := input),
//   grad_bias    = the sum of grad_output over N and space.
// The forward and grad_weight of NHWC layers and of NCHW layers with >= 16 input channels a
// group run on the output phases instead (conv_transpose2d_phase.h): the GEMM + col2im of
// conv2d's input gradient wrote and re-read a kh*kw times input-sized column matrix, and its
// grad_weight an im2col of grad_output (0.80x and 0.76x torch on the 4x4 stride-2 layer of
// issue 19). grad_input stays conv2d (its implicit GEMM reads row-phase planes in place).
// output_padding on the conv2d route: the transposed output is the full scatter cropped by ph
// at the top and by ph - oph at the bottom, so the conv has padding (ph, ph - oph); when
// oph > ph it runs on the first OH - (oph - ph) rows with no bottom padding, and the last rows,
// which no input pixel reaches, get the bias alone.
#include <algorithm>
#include <cmath>
#include <string>

#include "npfast/conv.hpp"
#include "npfast/error.hpp"
#include "npfast/gemm.hpp"
#include "npfast/memory.hpp"
#include "npfast/threads.hpp"
#include "src/core/views.h"
#include "src/ops/conv2d_layout.h"
#include "src/ops/conv2d_plan.h"
#include "src/ops/conv_transpose2d_phase.h"
#include "src/ops/conv_transpose2d_winograd.h"

namespace npfast {
namespace {

using conv_ops::pair_str;

void check_dtype_like(const View& v, const View& input, const char* arg) {
  if (v.dtype != input.dtype)
    throw TypeError(std::string(arg) + ": dtype " + dtype_name(v.dtype) +
                    " does not match input dtype " + dtype_name(input.dtype));
}

// The rows (cols) of the output the conv covers: all of them unless op > pad, none when the
// output padding reaches past all of them (every output pixel then meets no tap: the output is
// the bias, the gradients of input and weight zero, as PyTorch's).
int64_t conv_extent(int64_t out, int64_t op, int64_t pad) {
  return std::max<int64_t>(out - std::max<int64_t>(op - pad, 0), 0);
}

// `v` (4-d, in layout l) cut to its first h rows and w columns (same data and strides).
View top_left(const View& v, int64_t h, int64_t w, Layout l) {
  View r = v;
  const int ax = l == Layout::nhwc ? 1 : 2;
  r.shape[ax] = h;
  r.shape[ax + 1] = w;
  return r;
}

// A data-less (N, C, H, W) view of dtype t: the conv's input when only its shape is read.
View shape_view(DType t, int64_t n, int64_t c, int64_t h, int64_t w, void* data) {
  View r;
  r.data = data;
  r.dtype = t;
  r.ndim = 4;
  r.shape[0] = n, r.shape[1] = c, r.shape[2] = h, r.shape[3] = w;
  views::set_c_strides(&r);
  return r;
}

// out[n, c] += bias[c] over every plane (any strides), or zero first when `zero`.
template <class T>
void fill_bias(const View& out, const View* bias, bool zero) {
  const views::Planes pl(out);
  const int64_t c = out.shape[1];
  const double per = static_cast<double>(pl.H * pl.W) * 0.3;
  parallel_for(pl.count, grain_for(pl.count, per), [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      const T add = bias ? *reinterpret_cast<const T*>(static_cast<const char*>(bias->data) +
                                                       (i % c) * bias->strides[0])
                         : T(0);
      char* base = const_cast<char*>(pl.plane(i));
      for (int64_t y = 0; y < pl.H; ++y)
        for (int64_t x = 0; x < pl.W; ++x) {
          T* p = reinterpret_cast<T*>(base + y * pl.sh + x * pl.sw);
          *p = zero ? add : *p + add;
        }
    }
  });
}

// grad_bias[c] = sum over n and space of grad_output[n, c], accumulated in double in one
// fixed order: the same bits for any thread count. NCHW: 8 running sums per channel (pixel j
// into sum j mod 8, images in order; one chain of dependent additions ran at a third of
// memory speed), added in order at the end. NHWC: pixels in order, one sum per channel, the
// channels of a pixel side by side.
template <class T>
void grad_bias_sum(const View& gy_v, const View& gb_v, Layout layout) {
  Buffer<char> keep;
  const T* gy = views::contiguous<T>(gy_v, &keep);
  const bool nhwc = layout == Layout::nhwc;
  const int64_t n = gy_v.shape[0], c = gy_v.shape[nhwc ? 3 : 1];
  const int64_t plane = nhwc ? gy_v.shape[1] * gy_v.shape[2] : gy_v.shape[2] * gy_v.shape[3];
  Buffer<T> res(static_cast<size_t>(c));
  const double per = 0.5 * static_cast<double>(n * plane);
  constexpr int64_t kLanes = 8;
  if (nhwc) {
    const int64_t blocks = (c + kLanes - 1) / kLanes;
    parallel_for(blocks, grain_for(blocks, per * kLanes), [&](int64_t b, int64_t e) {
      for (int64_t blk = b; blk < e; ++blk) {
        const int64_t c0 = blk * kLanes, nc = std::min(kLanes, c - c0);
        double s[kLanes] = {};
        for (int64_t p = 0; p < n * plane; ++p)
          for (int64_t k = 0; k < nc; ++k) s[k] += static_cast<double>(gy[p * c + c0 + k]);
        for (int64_t k = 0; k < nc; ++k) res[c0 + k] = static_cast<T>(s[k]);
      }
    });
  } else {
    parallel_for(c, grain_for(c, per), [&](int64_t b, int64_t e) {
      for (int64_t ch = b; ch < e; ++ch) {
        double s[kLanes] = {};
        for (int64_t i = 0; i < n; ++i) {
          const T* g = gy + (i * c + ch) * plane;
          int64_t j = 0;
          for (; j + kLanes <= plane; j += kLanes)
            for (int64_t k = 0; k < kLanes; ++k) s[k] += static_cast<double>(g[j + k]);
          for (; j < plane; ++j) s[j % kLanes] += static_cast<double>(g[j]);
        }
        double t = s[0];
        for (int64_t k = 1; k < kLanes; ++k) t += s[k];
        res[ch] = static_cast<T>(t);
      }
    });
  }
  char* dst = static_cast<char*>(gb_v.data);
  for (int64_t ch = 0; ch < c; ++ch) *reinterpret_cast<T*>(dst + ch * gb_v.strides[0]) = res[ch];
}

// The shape checks and the (N, C_out, OH, OW) result on the logical NCHW input; messages show
// `shown`, the input as the caller laid it out (probe22b: NHWC errors showed the permuted shape).
Shape shape_nchw(const View& input, const View& shown, const View& weight, const View* bias,
                 const Conv2dParams& p, int64_t oph, int64_t opw) {
  views::check_float(input, "input");
  check_dtype_like(weight, input, "weight");
  if (bias) check_dtype_like(*bias, input, "bias");
  if (input.ndim != 4)
    throw ValueError("input: expected a 4-d (N, C_in, H, W) or 3-d (C_in, H, W) array, got shape " +
                     shape_str(input));
  if (weight.ndim != 4)
    throw ValueError("weight: expected a 4-d (C_in, C_out/groups, kH, kW) array, got shape " +
                     shape_str(weight));
  if (p.stride_h < 1 || p.stride_w < 1)
    throw ValueError("stride: must be >= 1, got " + pair_str(p.stride_h, p.stride_w));
  if (p.dilation_h < 1 || p.dilation_w < 1)
    throw ValueError("dilation: must be >= 1, got " + pair_str(p.dilation_h, p.dilation_w));
  if (p.pad_top < 0 || p.pad_left < 0)
    throw ValueError("padding: must be >= 0, got " + pair_str(p.pad_top, p.pad_left));
  if (oph < 0 || opw < 0)
    throw ValueError("output_padding: must be >= 0, got " + pair_str(oph, opw));
  if ((oph >= p.stride_h && oph >= p.dilation_h) || (opw >= p.stride_w && opw >= p.dilation_w))
    throw ValueError("output_padding: must be smaller than the stride or the dilation, got " +
                     pair_str(oph, opw) + " with stride " + pair_str(p.stride_h, p.stride_w) +
                     " and dilation " + pair_str(p.dilation_h, p.dilation_w));
  if (p.groups < 1) throw ValueError("groups: must be >= 1, got " + std::to_string(p.groups));
  const int64_t cin = input.shape[1];
  if (weight.shape[0] != cin)
    throw ValueError("weight: expected weight.shape[0] = C_in = " + std::to_string(cin) +
                     " (the input's channels), got weight shape " + shape_str(weight));
  if (cin % p.groups != 0)
    throw ValueError("groups: must divide the input channels " + std::to_string(cin) + ", got " +
                     std::to_string(p.groups));
  const int64_t kh = weight.shape[2], kw = weight.shape[3];
  if (kh < 1 || kw < 1)
    throw ValueError("weight: kernel size must be >= 1, got shape " + shape_str(weight));
  const int64_t cout = checked_mul(weight.shape[1], p.groups, "output channels");
  if (bias && (bias->ndim != 1 || bias->shape[0] != cout))
    throw ValueError("bias: expected shape (" + std::to_string(cout) + ",), got " +
                     shape_str(*bias));
  // Large values must not overflow the output-size arithmetic below.
  const int64_t big = int64_t{1} << 30;
  const auto too_large = [&](int64_t a, int64_t b, const char* arg) {
    if (a > big || b > big)
      throw ValueError(std::string(arg) + ": too large, got " + pair_str(a, b));
  };
  too_large(p.stride_h, p.stride_w, "stride");
  too_large(p.dilation_h, p.dilation_w, "dilation");
  too_large(p.pad_top, p.pad_left, "padding");
  too_large(kh, kw, "weight");
  too_large(input.shape[2], input.shape[3], "input");
  const int64_t oh =
      (input.shape[2] - 1) * p.stride_h - 2 * p.pad_top + p.dilation_h * (kh - 1) + oph + 1;
  const int64_t ow =
      (input.shape[3] - 1) * p.stride_w - 2 * p.pad_left + p.dilation_w * (kw - 1) + opw + 1;
  // An output axis of length 0 is an empty result, as PyTorch's; a negative one is an error.
  // An empty plane only beside an empty batch or channels, as PyTorch's rule.
  if ((input.shape[2] < 1 || input.shape[3] < 1) && input.shape[0] > 0 && input.shape[1] > 0)
    throw ValueError(
        "input: an empty height or width needs an empty batch or channels (as "
        "PyTorch), got shape " +
        shape_str(shown));
  if (oh < 0 || ow < 0)
    throw ValueError("input: output size " + pair_str(oh, ow) + " from input shape " +
                     shape_str(shown) + " is too small (padding " +
                     pair_str(p.pad_top, p.pad_left) + ")");
  return Shape{4, {input.shape[0], cout, oh, ow}};
}

}  // namespace

Shape conv_transpose2d_shape(const View& input, const View& weight, const View* bias,
                             const Conv2dParams& p, int64_t oph, int64_t opw) {
  if (p.layout == Layout::nhwc && input.ndim != 4)
    throw ValueError("input: expected a 4-d (N, H, W, C_in) or 3-d (H, W, C_in) array, got shape " +
                     shape_str(input));
  const Shape s =
      shape_nchw(conv_ops::logical_nchw(input, p.layout), input, weight, bias, p, oph, opw);
  if (p.layout != Layout::nhwc) return s;
  return Shape{4, {s[0], s[2], s[3], s[1]}};
}

namespace {

// conv2d's params for the convolution running the other way: the bottom/right padding less the
// output_padding.
Conv2dParams conv_params(const Conv2dParams& p, int64_t oph, int64_t opw) {
  Conv2dParams q = p;
  q.pad_bottom = std::max<int64_t>(p.pad_top - oph, 0);
  q.pad_right = std::max<int64_t>(p.pad_left - opw, 0);
  return q;
}

// Whether the layer is one the Winograd paths take (conv_transpose2d_winograd.h): NCHW, 4x4
// stride 2, one group, no dilation or output_padding (their sizes are checked apart).
bool winograd_layer(const Conv2dParams& p, const View& w, int64_t oph, int64_t opw) {
  return p.layout == Layout::nchw && p.groups == 1 && p.stride_h == 2 && p.stride_w == 2 &&
         w.shape[2] == 4 && w.shape[3] == 4 && p.dilation_h == 1 && p.dilation_w == 1 && oph == 0 &&
         opw == 0;
}

// Whether input row (or column) i meets a tap inside the output: some k with
// 0 <= i * stride - pad + k * dilation < out. The phases never multiply a row that meets none
// by grad_output (PyTorch multiplies it by its padding).
bool meets_a_tap(int64_t i, int64_t out, int64_t k, int64_t stride, int64_t pad, int64_t dilation) {
  for (int64_t t = 0; t < k; ++t) {
    const int64_t y = i * stride - pad + t * dilation;
    if (y >= 0 && y < out) return true;
  }
  return false;
}

// Whether x (n, c, h, w) in layout l, contiguous, is finite on the rows y < h for which
// `skip(y)` holds.
template <class T, class Skip>
bool finite_on_rows(const T* x, Layout l, int64_t n, int64_t c, int64_t h, int64_t w,
                    const Skip& skip) {
  bool finite = true;
  for (int64_t y = 0; y < h; ++y) {
    if (!skip(y)) continue;
    for (int64_t i = 0; i < n; ++i) {
      if (l == Layout::nhwc) {
        finite &= std::isfinite(double(conv_ops::max_abs(x + (i * h + y) * w * c, w * c)));
      } else {
        for (int64_t ch = 0; ch < c; ++ch)
          finite &= std::isfinite(double(conv_ops::max_abs(x + ((i * c + ch) * h + y) * w, w)));
      }
    }
  }
  return finite;
}

// The output phases' plan for input x (logical NCHW) and the output's (OH, OW).
convt::PhasePlan phase_plan(const View& xl, const View& w, const Conv2dParams& p, int64_t oh,
                            int64_t ow) {
  return convt::plan_phases(xl.shape[0], xl.shape[1], xl.shape[2], xl.shape[3],
                            w.shape[1] * p.groups, w.shape[2], w.shape[3], p, oh, ow, xl.dtype);
}

template <class T>
void forward_t(const View& x, const View& w, const View* bias, const Conv2dParams& p, int64_t oph,
               int64_t opw, const View& out) {
  const View xl = conv_ops::logical_nchw(x, p.layout), ol = conv_ops::logical_nchw(out, p.layout);
  const int64_t n = ol.shape[0], cout = ol.shape[1];
  if (n == 0 || cout == 0) return;
  if (xl.shape[1] == 0) {
    fill_bias<T>(ol, bias, true);
    return;
  }
  // Stride 1 on NCHW: conv2d's input gradient is a plain convolution through conv2d's planner
  // (Winograd for 3x3: 3x3 64->64 @16 N=8 0.85 ms against the phases' 1.1 ms).
  const bool conv_route = p.layout == Layout::nchw && p.stride_h == 1 && p.stride_w == 1 &&
                          p.pad_top <= p.dilation_h * (w.shape[2] - 1) &&
                          p.pad_left <= p.dilation_w * (w.shape[3] - 1);
  const convt::WinogradLayer wg{n,           cout,        ol.shape[2], ol.shape[3], xl.shape[1],
                                xl.shape[2], xl.shape[3], p.pad_top,   p.pad_left};
  // 4x4 stride 2 (the layer): Winograd on the output's phases, 0.56x the flops, where
  // its operands are in range (conv2d_plan.h). Out of range the phases (use_phases holds for
  // it). Never the phases for non-finite weights, whatever the layout: they multiply the
  // padding, zeros, by the weights, 0 * inf = NaN where PyTorch (and col2im, which scatters
  // W^T x to the output's pixels) has an inf; conv2d's input gradient below instead (NHWC
  // layers took the phases with them: probe20b).
  const bool winograd_shape = winograd_layer(p, w, oph, opw) && convt::winograd_fwd_fits(wg);
  if (winograd_shape || (!conv_route && convt::use_phases(xl.shape[1] / p.groups, p))) {
    Buffer<char> kx, kw, kb;
    const T* xc = views::contiguous<T>(x, &kx);
    const T* wc = views::contiguous<T>(w, &kw);
    const bool winograd =
        winograd_shape &&
        conv_ops::winograd_operands_fit(conv_ops::kWinogradF22, wg.c, xc, x.size(), wc, w.size());
    if (winograd || std::isfinite(double(conv_ops::max_abs(wc, w.size())))) {
      const T* bc = bias ? views::contiguous<T>(*bias, &kb) : nullptr;
      views::OutPtr<T> o(&out);
      if (winograd)
        convt::forward_winograd<T>(wg, xc, wc, bc, o.p);
      else
        convt::forward<T>(phase_plan(xl, w, p, ol.shape[2], ol.shape[3]), xc, wc, bc, o.p);
      o.finish();
      return;
    }
  }
  // Few channels a group, stride 1 (above) or a stride with too many phases: conv2d's input
  // gradient, on the logical NCHW views (conv2d_backward copies permuted NHWC views).
  Conv2dParams pn = conv_params(p, oph, opw);
  pn.layout = Layout::nchw;
  const int64_t h = conv_extent(ol.shape[2], oph, p.pad_top);
  const int64_t wd = conv_extent(ol.shape[3], opw, p.pad_left);
  if (h != ol.shape[2] || wd != ol.shape[3]) fill_bias<T>(ol, nullptr, true);
  if (h > 0 && wd > 0) {
    const View region = top_left(ol, h, wd, Layout::nchw);
    const View shape = shape_view(x.dtype, n, cout, h, wd, out.data);
    conv2d_backward(xl, shape, w, pn, &region, nullptr, nullptr);
  }
  if (bias) fill_bias<T>(ol, bias, false);
}

// grad_weight of a strided transposed convolution by im2col + GEMM: per group,
// gw (C_in/g x K) = sum over images and column blocks of x_blk (C_in/g x cols) times
// col(grad_output)_blk^T (cols x K), K = C_out/g * kh * kw, the conv's im2col of grad_output
// (whose "output" pixels are the input's). Blocks of up to 1 MiB of col keep each GEMM's N
// wide (conv2d_backward's shifted path runs this shape at 0.4x torch: the 4x4 stride-2
// 128->64 layer). The (image, block) units are split into at most 8 fixed slots, each summed
// into its own partial, and the partials added in slot order: the same bits for any thread
// count.
template <class T>
void grad_weight_im2col(const conv_ops::Geometry& g, const T* x, const T* gy, T* gw) {
  const int64_t wsize = g.og * g.K;
  const int64_t nb = std::max<int64_t>(
      16, std::min<int64_t>(g.P, (int64_t{1} << 20) / static_cast<int64_t>(g.K * sizeof(T))));
  const int64_t nblocks = (g.P + nb - 1) / nb, units = g.n * nblocks;
  if (units == 0 || wsize == 0) {
    std::fill(gw, gw + g.groups * wsize, T(0));
    return;
  }
  const int64_t S = std::min<int64_t>(8, units), per_slot = (units + S - 1) / S;
  Buffer<T> part(static_cast<size_t>(checked_mul(g.groups * S, wsize, "partials")));
  const int64_t items = g.groups * S;
  const double item_ns = 2.0 * static_cast<double>(wsize) * static_cast<double>(nb) *
                         static_cast<double>(per_slot) * 0.03;
  parallel_for(items, grain_for(items, item_ns), [&](int64_t b, int64_t e) {
    Buffer<T> col(static_cast<size_t>(g.K * nb));
    for (int64_t it = b; it < e; ++it) {
      const int64_t grp = it / S, s = it % S;
      T* dst = part.get() + it * wsize;
      const int64_t u0 = s * per_slot, u1 = std::min(units, u0 + per_slot);
      bool first = true;
      for (int64_t u = u0; u < u1; ++u) {
        const int64_t img = u / nblocks, p0 = u % nblocks * nb, p1 = std::min(g.P, p0 + nb);
        conv_ops::im2col(g, gy + (img * g.c + grp * g.cg) * g.h * g.w, p0, p1, col.get());
        gemm(false, true, g.og, g.K, p1 - p0, T(1), x + (img * g.o + grp * g.og) * g.P + p0, g.P,
             col.get(), p1 - p0, first ? T(0) : T(1), dst, g.K);
        first = false;
      }
      if (first) std::fill(dst, dst + wsize, T(0));
    }
  });
  const int64_t total = g.groups * wsize;
  parallel_for(total, grain_for(total, 0.3 * static_cast<double>(S)), [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      const T* src = part.get() + i / wsize * S * wsize + i % wsize;
      T acc = src[0];
      for (int64_t s = 1; s < S; ++s) acc += src[s * wsize];
      gw[i] = acc;
    }
  });
}

template <class T>
void backward_t(const View& gy, const View& x, const View& w, const Conv2dParams& p, int64_t oph,
                int64_t opw, const View* gx, const View* gw, const View* gb) {
  const Conv2dParams q = conv_params(p, oph, opw);
  const View gyl = conv_ops::logical_nchw(gy, p.layout), xl = conv_ops::logical_nchw(x, p.layout);
  const View gyc = top_left(gy, conv_extent(gyl.shape[2], oph, p.pad_top),
                            conv_extent(gyl.shape[3], opw, p.pad_left), p.layout);
  const bool want_gb = gb && !gb->empty();
  const bool phase_gw =
      gw && !gw->empty() && gyl.shape[1] > 0 && convt::use_phases(xl.shape[1] / p.groups, p);
  // grad_bias on its own (8 double sums a channel, grad_output's planes in order): summed
  // from the weight gradient's gathered rows (a double per element and pixel) it cost that
  // pass 0.2-1.2 ms more than this (one thread, 5 alternating pairs, 14.6-15.5 against
  // 14.9-15.9 ms for the whole backward).
  if (want_gb) grad_bias_sum<T>(gy, *gb, p.layout);
  if (gyc.empty()) {  // no output pixel meets a tap (conv_extent)
    if (gx && !gx->empty()) fill_bias<T>(conv_ops::logical_nchw(*gx, p.layout), nullptr, true);
    if (gw && !gw->empty()) fill_bias<T>(*gw, nullptr, true);
    return;
  }
  if (gx && !gx->empty()) {
    const convt::WinogradLayer wg{xl.shape[0],  gyl.shape[1], gyl.shape[2],
                                  gyl.shape[3], xl.shape[1],  xl.shape[2],
                                  xl.shape[3],  p.pad_top,    p.pad_left};
    if (gyl.shape[1] == 0) {
      fill_bias<T>(conv_ops::logical_nchw(*gx, p.layout), nullptr, true);
    } else {
      // 4x4 stride 2 (the layer): Winograd on grad_output's phases, 0.56x the flops,
      // where its operands are in range (conv2d_plan.h); conv2d otherwise.
      Buffer<char> kgy, kw;
      const bool winograd_shape = winograd_layer(p, w, oph, opw) && convt::winograd_gi_fits(wg);
      const T* gc = winograd_shape ? views::contiguous<T>(gy, &kgy) : nullptr;
      const T* wc = winograd_shape ? views::contiguous<T>(w, &kw) : nullptr;
      if (winograd_shape && conv_ops::winograd_operands_fit(conv_ops::kWinogradF22, 4 * wg.o, gc,
                                                            gy.size(), wc, w.size())) {
        views::OutPtr<T> o(gx);
        convt::grad_input_winograd<T>(wg, gc, wc, o.p);
        o.finish();
      } else {
        conv2d(gyc, w, nullptr, q, *gx);
      }
    }
  }
  if (!gw || gw->empty()) return;
  Buffer<char> kx, kg;
  if (phase_gw) {
    const T* xc = views::contiguous<T>(x, &kx);
    const T* gc = views::contiguous<T>(gy, &kg);
    // The phases multiply every grad_output pixel by the input's padding (zeros), where
    // PyTorch (im2col of grad_output, as conv2d's route below) multiplies every input pixel by
    // grad_output's padding: 0 * inf = NaN at other places. Non-finite operands take conv2d's
    // route: found from two slices of the phases' result (convt::grad_weight's return), and on
    // the input rows that meet no tap, which the phases never read, from x itself. (Columns
    // that meet no tap need no check: the phases' wide rows multiply them by grad_output's
    // dropped columns, zeros, so a non-finite one is NaN in the slices.)
    const int64_t h = xl.shape[2];
    const auto no_tap = [&](int64_t y) {
      return !meets_a_tap(y, gyl.shape[2], w.shape[2], p.stride_h, p.pad_top, p.dilation_h);
    };
    if (finite_on_rows(xc, p.layout, xl.shape[0], xl.shape[1], h, xl.shape[3], no_tap)) {
      const convt::PhasePlan pl = phase_plan(xl, w, p, gyl.shape[2], gyl.shape[3]);
      Buffer<T> tw;
      T* gwp = gw->c_contiguous() ? gw->ptr<T>() : (tw = Buffer<T>(gw->size())).get();
      if (convt::grad_weight<T>(pl, xc, gc, gwp)) {
        if (!gw->c_contiguous()) views::copy_from_contiguous(gwp, *gw);
        return;
      }
    }
  }
  // conv2d's weight gradient (or the im2col one below), on the logical NCHW views.
  Conv2dParams qn = q;
  qn.layout = Layout::nchw;
  const View gycl = conv_ops::logical_nchw(gyc, p.layout);
  const conv_ops::Problem pr{gycl.shape[0], gycl.shape[1], gycl.shape[2], gycl.shape[3],
                             w.shape[0],    w.shape[2],    w.shape[3],    qn,
                             x.dtype};
  const conv_ops::Plan pl = conv_ops::get_plan(pr);
  const bool strided = q.stride_h > 1 || q.stride_w > 1;
  if (!strided || pl.og < 16 || pl.cg * pl.kh * pl.kw < 16) {
    conv2d_backward(xl, gycl, w, qn, nullptr, gw, nullptr);
    return;
  }
  const T* xc = views::contiguous<T>(xl, &kx);
  const T* gc = views::contiguous<T>(gycl, &kg);
  views::OutPtr<T> o(gw);
  grad_weight_im2col<T>(pl, xc, gc, o.p);
  o.finish();
}

}  // namespace

void conv_transpose2d(const View& input, const View& weight, const View* bias,
                      const Conv2dParams& p, int64_t oph, int64_t opw, const View& out) {
  views::check_out(out, input.dtype, conv_transpose2d_shape(input, weight, bias, p, oph, opw),
                   "out");
  if (out.empty()) return;
  conv_ops::naming_workspace("conv_transpose2d", input, p, [&] {
    if (input.dtype == DType::f32)
      forward_t<float>(input, weight, bias, p, oph, opw, out);
    else
      forward_t<double>(input, weight, bias, p, oph, opw, out);
  });
}

void conv_transpose2d_backward(const View& grad_output, const View& input, const View& weight,
                               const Conv2dParams& p, int64_t oph, int64_t opw,
                               const View* grad_input, const View* grad_weight,
                               const View* grad_bias) {
  const DType t = input.dtype;
  const Shape s = conv_transpose2d_shape(input, weight, nullptr, p, oph, opw);
  views::check_out(grad_output, t, s, "grad_output");
  if (grad_input) views::check_out(*grad_input, t, shape_of(input), "grad_input");
  if (grad_weight) views::check_out(*grad_weight, t, shape_of(weight), "grad_weight");
  if (grad_bias)
    views::check_out(*grad_bias, t, Shape{1, {s[p.layout == Layout::nhwc ? 3 : 1]}}, "grad_bias");
  conv_ops::naming_workspace("conv_transpose2d_backward", input, p, [&] {
    if (t == DType::f32)
      backward_t<float>(grad_output, input, weight, p, oph, opw, grad_input, grad_weight,
                        grad_bias);
    else
      backward_t<double>(grad_output, input, weight, p, oph, opw, grad_input, grad_weight,
                         grad_bias);
  });
}

}  // namespace npfast
