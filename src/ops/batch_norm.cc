// batch_norm / batch_norm_backward: checks, the block partition, and the per-channel algebra
// around the norm family's kernels (src/kernels/norm/).
//
// The data are cut into fixed blocks that depend only on the shape: NCHW, each (image,
// channel) plane in runs of at most kBlock elements; NHWC, runs of rows of about kBlock
// elements. Each block's sums (double) go to their own slot, in parallel; a channel's slots are
// then added in block order. So every result has one summation order for any thread count.
// Each direction reads the data twice: once for the sums, once for the element-wise pass that
// needs them (the statistics are one pass: S(x - x0) and S((x - x0)^2) together).
#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>
#include <string>
#include <utility>

#include "npfast/dispatch.hpp"
#include "npfast/error.hpp"
#include "npfast/memory.hpp"
#include "npfast/norm.hpp"
#include "npfast/threads.hpp"
#include "src/ops/conv2d_epilogue.h"
#include "src/core/views.h"
#include "src/kernels/norm/norm.h"

namespace npfast {
namespace {

constexpr int64_t kBlock = 16384;  // elements per block: 64 KiB of float32, L2-resident
constexpr double kNsPerElement = 0.25;

// The channel geometry: NCHW is (n, c, l) with l the product of the trailing axes; NHWC is
// (rows, c). `blocks` runs per plane (NCHW) or in all (NHWC), `run` elements (rows) each.
struct Geo {
  bool nhwc;
  int64_t n, c, l;  // NHWC: n = rows, l = 1
  int64_t run, blocks, items;
  int64_t count;  // values per channel
};

Geo geometry(const View& x, bool nhwc) {
  Geo g{};
  g.nhwc = nhwc;
  if (nhwc) {
    g.c = x.shape[x.ndim - 1];
    g.n = 1;
    for (int i = 0; i < x.ndim - 1; ++i) g.n *= x.shape[i];
    g.l = 1;
    g.run = std::max<int64_t>(1, kBlock / std::max<int64_t>(g.c, 1));
    g.blocks = (g.n + g.run - 1) / g.run;
    g.items = g.blocks;
  } else {
    g.n = x.shape[0];
    g.c = x.shape[1];
    g.l = 1;
    for (int i = 2; i < x.ndim; ++i) g.l *= x.shape[i];
    g.run = std::max<int64_t>(1, std::min(g.l, kBlock));
    g.blocks = (g.l + g.run - 1) / g.run;
    g.items = g.c * g.n * g.blocks;  // channel-major: a channel's blocks are consecutive
  }
  g.count = g.n * g.l;
  return g;
}

// NCHW item i: (channel, image, block) -> the run's offset and length.
void nchw_run(const Geo& g, int64_t i, int64_t* ch, int64_t* off, int64_t* len) {
  const int64_t b = i % g.blocks, n = i / g.blocks % g.n;
  *ch = i / (g.blocks * g.n);
  const int64_t l0 = b * g.run;
  *off = (n * g.c + *ch) * g.l + l0;
  *len = std::min(g.run, g.l - l0);
}

void nhwc_rows(const Geo& g, int64_t b, int64_t* r0, int64_t* rows) {
  *r0 = b * g.run;
  *rows = std::min(g.run, g.n - *r0);
}

// Adds the items' (sum0, sum1) partials per channel in item order into s0[c], s1[c].
// NCHW partials are 2 per item; NHWC partials 2c per item (sum0 of every channel, then sum1).
void combine(const Geo& g, const double* part, double* s0, double* s1) {
  for (int64_t ch = 0; ch < g.c; ++ch) s0[ch] = s1[ch] = 0;
  if (g.nhwc) {
    for (int64_t b = 0; b < g.items; ++b)
      for (int64_t ch = 0; ch < g.c; ++ch) {
        s0[ch] += part[b * 2 * g.c + ch];
        s1[ch] += part[b * 2 * g.c + g.c + ch];
      }
  } else {
    const int64_t per = g.n * g.blocks;
    for (int64_t ch = 0; ch < g.c; ++ch)
      for (int64_t k = 0; k < per; ++k) {
        s0[ch] += part[2 * (ch * per + k)];
        s1[ch] += part[2 * (ch * per + k) + 1];
      }
  }
}

// Element `i` of a 1-d view, and its assignment.
template <class T>
T at(const View& v, int64_t i) {
  return *reinterpret_cast<const T*>(static_cast<const char*>(v.data) + i * v.strides[0]);
}
template <class T>
void set(const View& v, int64_t i, T x) {
  *reinterpret_cast<T*>(static_cast<char*>(v.data) + i * v.strides[0]) = x;
}

// A per-channel result of no values (an empty batch's statistics).
void fill_nan(const View& v) {
  for (int64_t i = 0; i < v.shape[0]; ++i)
    if (v.dtype == DType::f32)
      set(v, i, std::numeric_limits<float>::quiet_NaN());
    else
      set(v, i, std::numeric_limits<double>::quiet_NaN());
}

// Writes into `v` directly when it is C-contiguous, else through a pool buffer.
template <class T>
struct Dest {
  const View& v;
  Buffer<T> tmp;
  T* p;
  explicit Dest(const View& view) : v(view) {
    if (v.c_contiguous()) {
      p = v.ptr<T>();
    } else {
      tmp = Buffer<T>(static_cast<size_t>(v.size()));
      p = tmp.get();
    }
  }
  void finish() {
    if (!v.c_contiguous()) views::copy_from_contiguous(p, v);
  }
};

void check_channels(const View* v, DType t, int64_t c, const char* arg) {
  if (!v) return;
  views::check_dtype(*v, t, arg);
  views::check_shape(*v, Shape{1, {c}}, arg);
}

int64_t channels_of(const View& x, bool nhwc) { return nhwc ? x.shape[x.ndim - 1] : x.shape[1]; }

void check_input(const View& x, bool nhwc, const char* arg) {
  views::check_float(x, arg);
  if (x.ndim < 2)
    throw ValueError(std::string(arg) + ": expected at least 2 dimensions (" +
                     (nhwc ? "..., C" : "N, C, ...") + "), got shape " + shape_str(x));
}

// The per-block sums of one direction: stats (dy == null) or gradient sums.
template <class T>
void block_sums(const Geo& g, const T* x, const T* dy, const T* y, const double* center,
                double* part) {
  const norm::Table& t = kernels<norm::Table>();
  const double per = static_cast<double>(g.nhwc ? g.run * g.c : g.run) * kNsPerElement;
  if (g.nhwc) {
    const auto stats = of<T>(t.f32_bn_stats_rows, t.f64_bn_stats_rows);
    const auto sums = of<T>(t.f32_bn_grad_sums_rows, t.f64_bn_grad_sums_rows);
    parallel_for(g.items, grain_for(g.items, per), [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) {
        int64_t r0, rows;
        nhwc_rows(g, i, &r0, &rows);
        const int64_t o = r0 * g.c;
        if (dy)
          sums(dy + o, x + o, y ? y + o : nullptr, rows, g.c, center, part + i * 2 * g.c);
        else
          stats(x + o, rows, g.c, center, part + i * 2 * g.c);
      }
    });
  } else {
    const auto stats = of<T>(t.f32_bn_stats, t.f64_bn_stats);
    const auto sums = of<T>(t.f32_bn_grad_sums, t.f64_bn_grad_sums);
    parallel_for(g.items, grain_for(g.items, per), [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) {
        int64_t ch, off, len;
        nchw_run(g, i, &ch, &off, &len);
        if (dy)
          sums(dy + off, x + off, y ? y + off : nullptr, len, center[ch], part + 2 * i);
        else
          stats(x + off, len, center[ch], part + 2 * i);
      }
    });
  }
}

// NCHW with at most kFusedBytes per channel: one work item per channel makes both passes, so
// the second reads the channel from L2 instead of memory (the ResNet's and the issue's
// (32, 64, 56, 56) layers). The item computes the same block partials, adds them in the same
// order and applies the same constants as the two-phase path: the same bits.
constexpr int64_t kFusedBytes = 512 * 1024;

bool fused(const Geo& g, size_t itemsize) {
  return !g.nhwc && g.c >= 4 && g.count * static_cast<int64_t>(itemsize) <= kFusedBytes;
}

// Channel ch's sums, NCHW: its blocks' partials in block order (combine()'s arithmetic).
template <class T>
void channel_sums(const Geo& g, const T* x, const T* dy, const T* y, double center, int64_t ch,
                  double* s0, double* s1) {
  const norm::Table& t = kernels<norm::Table>();
  const auto stats = of<T>(t.f32_bn_stats, t.f64_bn_stats);
  const auto sums = of<T>(t.f32_bn_grad_sums, t.f64_bn_grad_sums);
  const int64_t per = g.n * g.blocks;
  double a = 0, b = 0, r[2];
  for (int64_t i = ch * per; i < (ch + 1) * per; ++i) {
    int64_t c_, off, len;
    nchw_run(g, i, &c_, &off, &len);
    if (dy)
      sums(dy + off, x + off, y ? y + off : nullptr, len, center, r);
    else
      stats(x + off, len, center, r);
    a += r[0];
    b += r[1];
  }
  *s0 = a;
  *s1 = b;
}

template <class T>
void forward_t(const View& xv, const View* rm, const View* rv, const View* wv, const View* bv,
               const BatchNormParams& p, const View& out, const View* sm, const View* si,
               const View* resv) {
  const Geo g = geometry(xv, p.channels_last);
  const int64_t c = g.c;
  Buffer<char> keep, keep_res;
  const T* x = views::contiguous<T>(xv, &keep);
  // The residual is added to each block right after the kernel wrote it (cache-hot), then
  // the ReLU; the kernel's own ReLU is off then.
  const T* res = resv ? views::contiguous<T>(*resv, &keep_res) : nullptr;
  const bool kernel_relu = p.relu && !res;
  Buffer<double> shift(static_cast<size_t>(c)), s0(static_cast<size_t>(c)),
      s1(static_cast<size_t>(c));
  Buffer<T> tm(static_cast<size_t>(c)), ts(static_cast<size_t>(c)), tb(static_cast<size_t>(c));
  // The shift is the channel's first value, or 0 where that is not finite (an inf first value
  // made every x - x0 inf - inf: a NaN mean where torch's is inf; probe18b).
  for (int64_t ch = 0; ch < c; ++ch) {
    const double x0 = p.training ? static_cast<double>(g.nhwc ? x[ch] : x[ch * g.l]) : 0.0;
    shift[ch] = std::isfinite(x0) ? x0 : 0.0;
  }
  // Channel ch's statistics from s0/s1 (training) or the running ones: the running-statistics
  // update, save_mean / save_invstd, and the element-wise constants.
  const double m = static_cast<double>(g.count);
  const auto finish = [&](int64_t ch) {
    double mean, invstd;
    if (p.training) {
      const double d = s0[ch] / m;
      // Finite values whose sum of squares passes double's range: an infinite variance, as
      // torch's (inf - inf was NaN: |x - mean| over ~1e154, probe20b). An infinite value (an
      // infinite d) keeps inf - inf = NaN, as torch's.
      const double var =
          std::isinf(s1[ch]) && std::isfinite(d) ? s1[ch] : std::max(s1[ch] / m - d * d, 0.0);
      mean = shift[ch] + d;
      invstd = 1.0 / std::sqrt(var + p.eps);
      if (rm)
        set<T>(*rm, ch,
               static_cast<T>((1 - p.momentum) * static_cast<double>(at<T>(*rm, ch)) +
                              p.momentum * mean));
      if (rv)
        set<T>(*rv, ch,
               static_cast<T>((1 - p.momentum) * static_cast<double>(at<T>(*rv, ch)) +
                              p.momentum * var * m / (m - 1)));
    } else {
      mean = static_cast<double>(at<T>(*rm, ch));
      invstd = 1.0 / std::sqrt(static_cast<double>(at<T>(*rv, ch)) + p.eps);
    }
    const double w = wv ? static_cast<double>(at<T>(*wv, ch)) : 1.0;
    tm[ch] = static_cast<T>(mean);
    ts[ch] = static_cast<T>(w * invstd);
    tb[ch] = bv ? at<T>(*bv, ch) : T(0);
    if (sm) set<T>(*sm, ch, static_cast<T>(mean));
    if (si) set<T>(*si, ch, static_cast<T>(invstd));
  };
  Dest<T> y(out);
  const norm::Table& t = kernels<norm::Table>();
  const auto apply = of<T>(t.f32_bn_apply, t.f64_bn_apply);
  const auto apply_item = [&](int64_t i) {
    int64_t ch, off, len;
    nchw_run(g, i, &ch, &off, &len);
    apply(x + off, len, norm::Affine<T>{tm[ch], ts[ch], tb[ch]}, kernel_relu, y.p + off);
    if (res) conv_ops::residual_act(y.p + off, res + off, len, p.relu);
  };
  if (fused(g, sizeof(T))) {
    const int64_t per = g.n * g.blocks;
    const double ns = static_cast<double>(g.count) * 2 * kNsPerElement;
    parallel_for(c, grain_for(c, ns), [&](int64_t b, int64_t e) {
      for (int64_t ch = b; ch < e; ++ch) {
        if (p.training) channel_sums<T>(g, x, nullptr, nullptr, shift[ch], ch, &s0[ch], &s1[ch]);
        finish(ch);
        for (int64_t i = ch * per; i < (ch + 1) * per; ++i) apply_item(i);
      }
    });
    y.finish();
    return;
  }
  if (p.training) {
    Buffer<double> part(static_cast<size_t>(g.items * 2 * (g.nhwc ? c : 1)));
    block_sums<T>(g, x, nullptr, nullptr, shift.get(), part.get());
    combine(g, part.get(), s0.get(), s1.get());
  }
  for (int64_t ch = 0; ch < c; ++ch) finish(ch);
  const double per = static_cast<double>(g.nhwc ? g.run * c : g.run) * kNsPerElement;
  if (g.nhwc) {
    const auto apply_rows = of<T>(t.f32_bn_apply_rows, t.f64_bn_apply_rows);
    const norm::AffineRows<T> a{tm.get(), ts.get(), tb.get()};
    parallel_for(g.items, grain_for(g.items, per), [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) {
        int64_t r0, rows;
        nhwc_rows(g, i, &r0, &rows);
        apply_rows(x + r0 * c, rows, c, a, kernel_relu, y.p + r0 * c);
        if (res) conv_ops::residual_act(y.p + r0 * c, res + r0 * c, rows * c, p.relu);
      }
    });
  } else {
    parallel_for(g.items, grain_for(g.items, per), [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) apply_item(i);
    });
  }
  y.finish();
}

template <class T>
void backward_t(const View& gyv, const View& xv, const View* wv, const View& smv, const View& siv,
                const View* yv, bool training, bool nhwc, const View* gx, const View* gw,
                const View* gb) {
  const Geo g = geometry(xv, nhwc);
  const int64_t c = g.c;
  Buffer<char> kx, kg, ky;
  const T* x = views::contiguous<T>(xv, &kx);
  const T* dy = views::contiguous<T>(gyv, &kg);
  const T* y = yv ? views::contiguous<T>(*yv, &ky) : nullptr;
  Buffer<double> mean(static_cast<size_t>(c)), s0(static_cast<size_t>(c)),
      s1(static_cast<size_t>(c));
  for (int64_t ch = 0; ch < c; ++ch) {
    mean[ch] = static_cast<double>(at<T>(smv, ch));
    s0[ch] = s1[ch] = 0;
  }
  const bool want_gx = gx && !gx->empty();
  const bool need_sums =
      ((gw && !gw->empty()) || (gb && !gb->empty()) || (training && want_gx)) && g.count > 0;
  Buffer<T> tm(static_cast<size_t>(c)), ta(static_cast<size_t>(c)), tk(static_cast<size_t>(c)),
      tb(static_cast<size_t>(c));
  const double m = static_cast<double>(std::max<int64_t>(g.count, 1));
  // Channel ch's outputs from its sums: grad_weight, grad_bias and grad_input's constants.
  const auto finish = [&](int64_t ch) {
    const double is = static_cast<double>(at<T>(siv, ch));
    if (gb) set<T>(*gb, ch, static_cast<T>(s0[ch]));
    // No values (an empty batch): PyTorch's zero sums, whatever the saved statistics are.
    if (gw) set<T>(*gw, ch, static_cast<T>(g.count > 0 ? s1[ch] * is : 0.0));
    const double w = wv ? static_cast<double>(at<T>(*wv, ch)) : 1.0;
    const double a = w * is;
    tm[ch] = at<T>(smv, ch);
    ta[ch] = static_cast<T>(a);
    tk[ch] = training ? static_cast<T>(-a * is * is * s1[ch] / m) : T(0);
    tb[ch] = training ? static_cast<T>(-a * s0[ch] / m) : T(0);
  };
  std::optional<Dest<T>> d;
  if (want_gx) d.emplace(*gx);
  const norm::Table& t = kernels<norm::Table>();
  const auto apply = of<T>(t.f32_bn_grad_apply, t.f64_bn_grad_apply);
  // Eval's input gradient does not read x (the kernels' null x): k = 0 there, and 0 times an
  // inf or NaN input was NaN where torch's gradient is finite (probe20b).
  const T* xa = training ? x : nullptr;
  const auto apply_item = [&](int64_t i) {
    int64_t ch, off, len;
    nchw_run(g, i, &ch, &off, &len);
    apply(dy + off, xa ? xa + off : nullptr, y ? y + off : nullptr, len,
          norm::GradAffine<T>{tm[ch], ta[ch], tk[ch], tb[ch]}, d->p + off);
  };
  if (fused(g, sizeof(T))) {
    const int64_t per = g.n * g.blocks;
    const double ns = static_cast<double>(g.count) * 3 * kNsPerElement;
    parallel_for(c, grain_for(c, ns), [&](int64_t b, int64_t e) {
      for (int64_t ch = b; ch < e; ++ch) {
        if (need_sums) channel_sums<T>(g, x, dy, y, mean[ch], ch, &s0[ch], &s1[ch]);
        finish(ch);
        if (want_gx)
          for (int64_t i = ch * per; i < (ch + 1) * per; ++i) apply_item(i);
      }
    });
    if (want_gx) d->finish();
    return;
  }
  if (need_sums) {
    Buffer<double> part(static_cast<size_t>(g.items * 2 * (g.nhwc ? c : 1)));
    block_sums<T>(g, x, dy, y, mean.get(), part.get());
    combine(g, part.get(), s0.get(), s1.get());
  }
  for (int64_t ch = 0; ch < c; ++ch) finish(ch);
  if (!want_gx) return;
  const double per = static_cast<double>(g.nhwc ? g.run * c : g.run) * kNsPerElement;
  if (g.nhwc) {
    const auto apply_rows = of<T>(t.f32_bn_grad_apply_rows, t.f64_bn_grad_apply_rows);
    const norm::GradAffineRows<T> a{tm.get(), ta.get(), tk.get(), tb.get()};
    parallel_for(g.items, grain_for(g.items, per), [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) {
        int64_t r0, rows;
        nhwc_rows(g, i, &r0, &rows);
        const int64_t o = r0 * c;
        apply_rows(dy + o, xa ? xa + o : nullptr, y ? y + o : nullptr, rows, c, a, d->p + o);
      }
    });
  } else {
    parallel_for(g.items, grain_for(g.items, per), [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) apply_item(i);
    });
  }
  d->finish();
}

// dst += (output <= 0 ? 0 : grad), in blocks of kBlock elements: the fused ReLU's gradient
// pass with a = 1, k = 1, mean = b = 0, where fma(1, g, fma(1, dst - 0, 0)) rounds once, as
// `dst += where(output <= 0, 0, grad)` (up to the sign of a zero sum; NaN outputs pass).
template <class T>
void relu_grad_add_t(const View& gv, const View* yv, const View& dv) {
  Buffer<char> kg, ky;
  const T* g = views::contiguous<T>(gv, &kg);
  const T* y = yv ? views::contiguous<T>(*yv, &ky) : nullptr;
  T* d = dv.ptr<T>();
  const norm::Table& t = kernels<norm::Table>();
  const auto apply = of<T>(t.f32_bn_grad_apply, t.f64_bn_grad_apply);
  const norm::GradAffine<T> p{T(0), T(1), T(1), T(0)};
  const int64_t n = dv.size(), blocks = (n + kBlock - 1) / kBlock;
  parallel_for(blocks, grain_for(blocks, kBlock * kNsPerElement), [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      const int64_t o = i * kBlock, len = std::min(kBlock, n - o);
      apply(g + o, d + o, y ? y + o : nullptr, len, p, d + o);
    }
  });
}

// Element i of a 1-d float array of either dtype, as double.
double element(const View& v, int64_t i) {
  const char* p = static_cast<const char*>(v.data) + i * v.strides[0];
  return v.dtype == DType::f32 ? double{*reinterpret_cast<const float*>(p)}
                               : *reinterpret_cast<const double*>(p);
}

// -x as NumPy's negative computes it, NaN's sign bit flipped too. The barrier stops the compiler
// from folding the negation into the addition after it (b - x instead of -x + b returns x's
// NaN unflipped).
double negated(double x) {
  x = -x;
  asm volatile("" : "+m"(x));
  return x;
}

template <class T, class W>
void fold_t(const View& weight, const View* conv_bias, const View& mean, const View& var,
            const View* gamma, const View* beta, double eps, const View& w_out, const View& b_out) {
  Buffer<char> keep;
  const W* w = views::contiguous<W>(weight, &keep);
  const int64_t o_count = weight.shape[0], per = o_count ? weight.size() / o_count : 0;
  T* wo = w_out.ptr<T>();
  T* bo = b_out.ptr<T>();
  for (int64_t o = 0; o < o_count; ++o) {
    double s = 1.0 / std::sqrt(element(var, o) + eps);
    if (gamma) s *= element(*gamma, o);
    double shift = negated(element(mean, o));
    if (conv_bias) shift += element(*conv_bias, o);
    shift *= s;
    if (beta) shift += element(*beta, o);
    bo[o] = static_cast<T>(shift);
    for (int64_t k = o * per; k < (o + 1) * per; ++k)
      wo[k] = static_cast<T>(static_cast<double>(w[k]) * s);
  }
}

}  // namespace

void fold_conv_bn(const View& weight, const View* conv_bias, const View& mean, const View& var,
                  const View* gamma, const View* beta, double eps, const View& w_out,
                  const View& b_out) {
  views::check_float(weight, "weight");
  if (weight.ndim < 1) throw ValueError("weight: expected at least 1 dimension, got a scalar");
  const Shape channels{1, {weight.shape[0]}};
  for (const auto& [v, arg] :
       {std::pair{conv_bias, "conv_bias"}, std::pair{&mean, "mean"}, std::pair{&var, "var"},
        std::pair{gamma, "gamma"}, std::pair{beta, "beta"}})
    if (v) {
      views::check_float(*v, arg);
      views::check_shape(*v, channels, arg);
    }
  const DType t = w_out.dtype;
  views::check_out(w_out, t, shape_of(weight), "w_out");
  views::check_out(b_out, t, channels, "b_out");
  if (!w_out.c_contiguous() || !b_out.c_contiguous())
    throw ValueError("w_out, b_out: must be C-contiguous");
  const auto run = [&](auto out_type, auto weight_type) {
    fold_t<decltype(out_type), decltype(weight_type)>(weight, conv_bias, mean, var, gamma, beta,
                                                      eps, w_out, b_out);
  };
  if (t == DType::f32)
    weight.dtype == DType::f32 ? run(float{}, float{}) : run(float{}, double{});
  else
    weight.dtype == DType::f32 ? run(double{}, float{}) : run(double{}, double{});
}

void batch_norm(const View& input, const View* running_mean, const View* running_var,
                const View* weight, const View* bias, const BatchNormParams& p, const View& out,
                const View* save_mean, const View* save_invstd, const View* residual) {
  check_input(input, p.channels_last, "input");
  const DType t = input.dtype;
  const int64_t c = channels_of(input, p.channels_last);
  check_channels(running_mean, t, c, "running_mean");
  check_channels(running_var, t, c, "running_var");
  check_channels(weight, t, c, "weight");
  check_channels(bias, t, c, "bias");
  check_channels(save_mean, t, c, "save_mean");
  check_channels(save_invstd, t, c, "save_invstd");
  views::check_out(out, t, shape_of(input), "out");
  if (residual) views::check_out(*residual, t, shape_of(input), "residual");
  if (!(p.eps >= 0) || !std::isfinite(p.eps))
    throw ValueError("eps: must be a finite number >= 0, got " + std::to_string(p.eps));
  // PyTorch's two rules: a constant channel's variance is 0, so eps 0 divides by zero.
  if (p.training && p.eps == 0) throw ValueError("eps: must be positive when training, got 0");
  if (!running_mean != !running_var)
    throw ValueError("running_mean, running_var: must both be None or neither, got " +
                     std::string(running_mean ? "running_var" : "running_mean") + " None");
  if (!std::isfinite(p.momentum))
    throw ValueError("momentum: must be a finite number, got " + std::to_string(p.momentum));
  if (p.training) {
    // PyTorch's rule is exactly one value: an empty batch (no values) passes it, and then
    // leaves the running statistics as they are; the batch's statistics are NaN (no values).
    int64_t count = 1;  // values per channel, from the shape (also where C is 0)
    for (int i = 0; i < input.ndim; ++i)
      if (i != (p.channels_last ? input.ndim - 1 : 1)) count *= input.shape[i];
    if (count == 1)
      throw ValueError("input: expected more than 1 value per channel when training, got shape " +
                       shape_str(input));
  } else if (!running_mean) {
    throw ValueError("running_mean, running_var: required when training=False, got None");
  }
  if (input.size() == 0) {
    for (const View* v : {save_mean, save_invstd})
      if (v) fill_nan(*v);
    return;
  }
  if (t == DType::f32)
    forward_t<float>(input, running_mean, running_var, weight, bias, p, out, save_mean, save_invstd,
                     residual);
  else
    forward_t<double>(input, running_mean, running_var, weight, bias, p, out, save_mean,
                      save_invstd, residual);
}

void batch_norm_backward(const View& grad_output, const View& input, const View* weight,
                         const View& save_mean, const View& save_invstd, const View* output,
                         bool training, bool channels_last, const View* grad_input,
                         const View* grad_weight, const View* grad_bias) {
  check_input(input, channels_last, "input");
  const DType t = input.dtype;
  const int64_t c = channels_of(input, channels_last);
  views::check_out(grad_output, t, shape_of(input), "grad_output");
  if (output) views::check_out(*output, t, shape_of(input), "output");
  check_channels(weight, t, c, "weight");
  check_channels(&save_mean, t, c, "save_mean");
  check_channels(&save_invstd, t, c, "save_invstd");
  if (grad_input) views::check_out(*grad_input, t, shape_of(input), "grad_input");
  check_channels(grad_weight, t, c, "grad_weight");
  check_channels(grad_bias, t, c, "grad_bias");
  if (t == DType::f32)
    backward_t<float>(grad_output, input, weight, save_mean, save_invstd, output, training,
                      channels_last, grad_input, grad_weight, grad_bias);
  else
    backward_t<double>(grad_output, input, weight, save_mean, save_invstd, output, training,
                       channels_last, grad_input, grad_weight, grad_bias);
}

void relu_grad_add(const View& grad, const View* output, const View& dst) {
  const DType t = dst.dtype;
  views::check_float(dst, "dst");
  views::check_out(grad, t, shape_of(dst), "grad");
  if (output) views::check_out(*output, t, shape_of(dst), "output");
  if (!dst.c_contiguous()) throw ValueError("dst: must be C-contiguous");
  if (dst.empty()) return;
  if (t == DType::f32)
    relu_grad_add_t<float>(grad, output, dst);
  else
    relu_grad_add_t<double>(grad, output, dst);
}

}  // namespace npfast
