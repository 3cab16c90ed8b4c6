// Pooling operators: argument checks (PyTorch's rules, overflow-safe), output shapes, the
// plane/row-band partition, and the backward and unpooling scatters. The forward arithmetic is
// in src/kernels/pool/.
#include <algorithm>
#include <atomic>
#include <limits>
#include <string>

#include "npfast/error.hpp"
#include "npfast/memory.hpp"
#include "npfast/pool.hpp"
#include "npfast/threads.hpp"
#include "src/core/views.h"
#include "src/kernels/pool/pool.h"

namespace npfast {
namespace {

using views::check_float;
using views::Planes;
using views::with_plane;
using i128 = __int128;
// Every plane size and argument is kept at or below 2^60 so that sums of a few of them (window
// ends o*s - p + (k-1)*d + 1 <= n + s + span) cannot overflow int64 in the kernels; products
// (flat indices, divisors) are checked separately against 2^62.
constexpr int64_t kLimit = int64_t{1} << 60;
constexpr int64_t kProductLimit = int64_t{1} << 62;

void check_plane(const View& x, const char* arg) {
  if (x.shape[x.ndim - 2] > kLimit || x.shape[x.ndim - 1] > kLimit)
    throw ValueError(std::string(arg) + ": plane too large, got shape " + shape_str(x));
}

std::string str(int64_t v) { return std::to_string(v); }
std::string pair_str(const int64_t* v) { return "(" + str(v[0]) + ", " + str(v[1]) + ")"; }

void check_ndim(const View& x, const char* arg) {
  if (x.ndim < 2 || x.ndim > 4)
    throw ValueError(
        std::string(arg) +
        ": expected a 2-D (H, W), 3-D (C, H, W) or 4-D (N, C, H, W) array, got shape " +
        shape_str(x));
}

void check_positive(const int64_t* v, const char* arg) {
  for (int i = 0; i < 2; ++i) {
    if (v[i] < 1) throw ValueError(std::string(arg) + ": must be >= 1, got " + pair_str(v));
    if (v[i] > kLimit) throw ValueError(std::string(arg) + ": too large, got " + pair_str(v));
  }
}

void check_args(const Pool2dArgs& a, bool avg) {
  check_positive(a.kernel, "kernel_size");
  check_positive(a.stride, "stride");
  check_positive(a.dilation, "dilation");
  if (avg && (a.dilation[0] != 1 || a.dilation[1] != 1))
    throw ValueError("dilation: average pooling has none, got " + pair_str(a.dilation));
  for (int i = 0; i < 2; ++i) {
    if (a.padding[i] < 0) throw ValueError("padding: must be >= 0, got " + pair_str(a.padding));
    if (a.padding[i] > a.kernel[i] / 2)
      throw ValueError("padding: must be at most half of kernel_size, got padding=" +
                       pair_str(a.padding) + " and kernel_size=" + pair_str(a.kernel));
    if (i128(a.dilation[i]) * (a.kernel[i] - 1) + 1 > kLimit)
      throw ValueError("dilation: dilation * (kernel_size - 1) overflows, got dilation=" +
                       pair_str(a.dilation) + " and kernel_size=" + pair_str(a.kernel));
  }
  if (avg && i128(a.kernel[0]) * a.kernel[1] > kProductLimit)
    throw ValueError("kernel_size: window area overflows, got " + pair_str(a.kernel));
}

// The operator's own outputs: C-contiguous, of this shape and dtype.
void check_result(const View& v, const Shape& s, DType t, const char* arg) {
  const bool ok = v.dtype == t && has_shape(v, s) && (v.empty() || v.c_contiguous());
  if (!ok)
    throw ValueError(std::string(arg) + ": expected a C-contiguous " + dtype_name(t) +
                     " array of the pooled shape, got " + dtype_name(v.dtype) + " " + shape_str(v));
}

// Channels-last (N, H, W, C) or (H, W, C) seen as (N, C, H, W) or (C, H, W): the same memory,
// axes permuted, so the plane checks and shapes apply unchanged.
View planar_of_nhwc(const View& x, const char* arg = "input") {
  if (x.ndim != 3 && x.ndim != 4)
    throw ValueError(std::string(arg) +
                     ": expected a 3-D (H, W, C) or 4-D (N, H, W, C) array for layout='NHWC', "
                     "got shape " +
                     shape_str(x));
  View r = x;
  const int c = x.ndim - 1;
  r.shape[c - 2] = x.shape[c];
  r.strides[c - 2] = x.strides[c];
  for (int i = 0; i < 2; ++i) {
    r.shape[c - 1 + i] = x.shape[c - 2 + i];
    r.strides[c - 1 + i] = x.strides[c - 2 + i];
  }
  return r;
}

// A planar result shape (..., C, OH, OW) in channels-last order (..., OH, OW, C).
Shape nhwc_shape(const Shape& s) {
  Shape r = s;
  const int c = s.ndim - 1;
  r.dims[c] = s.dims[c - 2];
  r.dims[c - 2] = s.dims[c - 1];
  r.dims[c - 1] = s.dims[c];
  return r;
}

// A float input whose planes the kernels can read directly (unit column stride, whole-element
// row stride), or a C-contiguous copy of it kept alive by `keep`.
View readable(const View& x, Buffer<char>* keep) {
  const int64_t item = static_cast<int64_t>(itemsize(x.dtype));
  if (x.strides[x.ndim - 1] == item && x.strides[x.ndim - 2] % item == 0) return x;
  return views::contiguous(x, keep);
}

pool::Geom geom_of(const Planes& in, int64_t OH, int64_t OW, const Pool2dArgs& a) {
  return {in.H,        in.W,        OH,           OW,           a.kernel[0],   a.kernel[1],
          a.stride[0], a.stride[1], a.padding[0], a.padding[1], a.dilation[0], a.dilation[1]};
}

// Runs fn(plane, oh0, oh1) over every plane and band of output rows. Bands are small enough
// that a single plane (N*C == 1) still splits across threads; each output row is written by
// exactly one call, so results do not depend on the partition.
template <class F>
void for_bands(int64_t planes, int64_t OH, double row_ns, F&& fn) {
  const int64_t band =
      std::clamp<int64_t>(static_cast<int64_t>(2000.0 / std::max(row_ns, 1.0)), 1, OH);
  const int64_t bands = (OH + band - 1) / band;
  const int64_t items = planes * bands;
  parallel_for(items, grain_for(items, row_ns * static_cast<double>(band)),
               [&](int64_t b, int64_t e) {
                 for (int64_t it = b; it < e; ++it) {
                   const int64_t p = it / bands, oh0 = (it % bands) * band;
                   fn(p, oh0, std::min(OH, oh0 + band));
                 }
               });
}

double row_cost_ns(const pool::Geom& g) {
  const double taps =
      static_cast<double>(std::min(g.kH, g.H)) * static_cast<double>(std::min(g.kW, g.W));
  return static_cast<double>(g.OW) * (0.5 + 0.15 * taps);
}

// Channels-last: every image of a C-contiguous (images, H, W, C) array, in bands of output
// rows (a row costs about C / 4 plane rows' worth of vector work); run(in_offset, out_offset,
// oh0, oh1) in elements.
template <class Run>
void run_images(int64_t images, int64_t C, const pool::Geom& g, Run&& run) {
  const int64_t in_image = g.H * g.W * C, out_image = g.OH * g.OW * C;
  const double row_ns = row_cost_ns(g) * static_cast<double>(std::max<int64_t>(C, 4)) / 4.0;
  for_bands(images, g.OH, row_ns, [&](int64_t n, int64_t oh0, int64_t oh1) {
    run(n * in_image, n * out_image, oh0, oh1);
  });
}

template <class T>
void run_max_nhwc(const T* x, int64_t images, int64_t C, const pool::Geom& g, T* out,
                  int64_t* idx) {
  const pool::Table& t = kernels<pool::Table>();
  const pool::MaxPoolNhwcFn<T> k = of<T>(t.f32_max_pool_nhwc, t.f64_max_pool_nhwc);
  run_images(images, C, g, [&](int64_t in, int64_t o, int64_t oh0, int64_t oh1) {
    k(g, C, x + in, out + o, idx ? idx + o : nullptr, oh0, oh1);
  });
}

template <class T>
void run_avg_nhwc(const T* x, int64_t images, int64_t C, const pool::Geom& g,
                  const pool::AvgOpts& o, T* out) {
  const pool::Table& t = kernels<pool::Table>();
  const pool::AvgPoolNhwcFn<T> k = of<T>(t.f32_avg_pool_nhwc, t.f64_avg_pool_nhwc);
  run_images(images, C, g, [&](int64_t in, int64_t off, int64_t oh0, int64_t oh1) {
    k(g, o, C, x + in, out + off, oh0, oh1);
  });
}

// The geometry of a channels-last call: the planes of the permuted view, output (OH, OW).
pool::Geom nhwc_geom(const View& x, const Shape& s, const Pool2dArgs& a) {
  const int c = x.ndim - 1;
  return {x.shape[c - 2], x.shape[c - 1], s.dims[c - 2], s.dims[c - 1],
          a.kernel[0],    a.kernel[1],    a.stride[0],   a.stride[1],
          a.padding[0],   a.padding[1],   a.dilation[0], a.dilation[1]};
}

// Planar: every plane in bands of output rows, on the kernel `pick` takes from the table that
// fits the interior's width (`max` selects max pooling's interior rule); run(k, plane, row
// stride in elements, plane's output offset, oh0, oh1).
template <class T, class Pick, class Run>
void run_planes(const Planes& in, const pool::Geom& g, bool max, Pick&& pick, Run&& run) {
  int64_t a, b;
  pool::interior(g, max, &a, &b);
  const auto k = pick(pool::fitting_table(b - a, sizeof(T) == 8));
  const int64_t row = in.sh / static_cast<int64_t>(sizeof(T));
  const int64_t plane_out = g.OH * g.OW;
  for_bands(in.count, g.OH, row_cost_ns(g), [&](int64_t p, int64_t oh0, int64_t oh1) {
    run(k, reinterpret_cast<const T*>(in.plane(p)), row, p * plane_out, oh0, oh1);
  });
}

template <class T>
void run_max(const Planes& in, const pool::Geom& g, T* out, int64_t* idx) {
  run_planes<T>(
      in, g, true, [](const pool::Table& t) { return of<T>(t.f32_max_pool, t.f64_max_pool); },
      [&](pool::MaxPoolFn<T> k, const T* x, int64_t row, int64_t off, int64_t oh0, int64_t oh1) {
        k(g, x, row, out + off, idx ? idx + off : nullptr, oh0, oh1);
      });
}

template <class T>
void run_avg(const Planes& in, const pool::Geom& g, const pool::AvgOpts& o, T* out) {
  run_planes<T>(
      in, g, false, [](const pool::Table& t) { return of<T>(t.f32_avg_pool, t.f64_avg_pool); },
      [&](pool::AvgPoolFn<T> k, const T* x, int64_t row, int64_t off, int64_t oh0, int64_t oh1) {
        k(g, o, x, row, out + off, oh0, oh1);
      });
}

// Scans int64 indices (any strides) for the first one outside [0, limit), in C order; -1 if
// none. Reads only.
int64_t first_bad_index(const View& idx, int64_t limit, int64_t* value) {
  const Planes ip(idx);
  std::atomic<int64_t> first{std::numeric_limits<int64_t>::max()};
  const int64_t per_plane = ip.H * ip.W;
  parallel_for(ip.count, grain_for(ip.count, 0.5 * static_cast<double>(per_plane)),
               [&](int64_t b, int64_t e) {
                 for (int64_t p = b; p < e; ++p) {
                   const char* base = ip.plane(p);
                   for (int64_t h = 0; h < ip.H; ++h)
                     for (int64_t w = 0; w < ip.W; ++w) {
                       const int64_t v =
                           *reinterpret_cast<const int64_t*>(base + h * ip.sh + w * ip.sw);
                       if (v < 0 || v >= limit) {
                         const int64_t pos = p * per_plane + h * ip.W + w;
                         int64_t cur = first.load();
                         while (pos < cur && !first.compare_exchange_weak(cur, pos)) {
                         }
                         h = ip.H;  // later positions in this plane cannot be first
                         break;
                       }
                     }
                 }
               });
  const int64_t pos = first.load();
  if (pos == std::numeric_limits<int64_t>::max()) return -1;
  const int64_t p = pos / per_plane, h = pos % per_plane / ip.W, w = pos % ip.W;
  *value = *reinterpret_cast<const int64_t*>(ip.plane(p) + h * ip.sh + w * ip.sw);
  return pos;
}

std::string unravel(const View& v, int64_t pos) {
  std::string s;
  for (int i = v.ndim - 1; i >= 0; --i) {
    s = str(pos % v.shape[i]) + (s.empty() ? "" : ", ") + s;
    pos /= v.shape[i];
  }
  return "[" + s + "]";
}

// Scatters every plane of `src` into the matching plane of `dst` (zeroed first) at the flat
// positions in `idx`: max_pool2d_backward accumulates (overlapping windows share a tap),
// max_unpool2d assigns. Indices were range-checked before this runs.
template <class T, bool kAccumulate>
void scatter_planes(const View& src, const View& idx, const View& dst) {
  const Planes sp(src), ip(idx);
  const int64_t plane_out = dst.shape[dst.ndim - 2] * dst.shape[dst.ndim - 1];
  T* const out = static_cast<T*>(dst.data);
  parallel_for(
      sp.count,
      grain_for(sp.count, static_cast<double>(plane_out) * 0.3 + static_cast<double>(sp.H * sp.W)),
      [&](int64_t b, int64_t e) {
        for (int64_t p = b; p < e; ++p) {
          T* d = out + p * plane_out;
          std::fill(d, d + plane_out, T(0));
          const char* sb = sp.plane(p);
          const char* ib = ip.plane(p);
          for (int64_t h = 0; h < sp.H; ++h)
            for (int64_t w = 0; w < sp.W; ++w) {
              T& slot = d[*reinterpret_cast<const int64_t*>(ib + h * ip.sh + w * ip.sw)];
              const T v = *reinterpret_cast<const T*>(sb + h * sp.sh + w * sp.sw);
              if (kAccumulate)
                slot += v;
              else
                slot = v;
            }
        }
      });
}

// Throws naming the first index outside an H x W plane, at its position in idx as the caller
// laid it out (NCHW or NHWC: first_bad_index counts in idx's own C order).
void check_index_range(const View& idx, int64_t H, int64_t W, const char* plane) {
  int64_t value = 0;
  const int64_t pos = first_bad_index(idx, H * W, &value);
  if (pos >= 0)
    throw ValueError("indices: " + str(value) + " at " + unravel(idx, pos) + " is outside the " +
                     plane + " plane of " + str(H) + "x" + str(W) + " elements");
}

// Range-checks every index against dst's plane (nothing is written on failure), then scatters:
// the shared tail of max_pool2d_backward (kAccumulate) and max_unpool2d.
template <bool kAccumulate>
void check_and_scatter(const View& src, const View& idx, const View& dst, const char* plane) {
  if (!src.empty()) check_index_range(idx, dst.shape[dst.ndim - 2], dst.shape[dst.ndim - 1], plane);
  if (src.dtype == DType::f32)
    scatter_planes<float, kAccumulate>(src, idx, dst);
  else
    scatter_planes<double, kAccumulate>(src, idx, dst);
}

template <class T>
void avg_backward(const View& go, const pool::Geom& g, const pool::AvgOpts& o, const View& gi) {
  const Planes gp(go);
  const int64_t HW = g.H * g.W;
  T* const out = static_cast<T*>(gi.data);
  parallel_for(gp.count,
               grain_for(gp.count, static_cast<double>(HW) * 0.3 +
                                       row_cost_ns(g) * static_cast<double>(g.OH)),
               [&](int64_t b, int64_t e) {
                 for (int64_t p = b; p < e; ++p) {
                   T* gin = out + p * HW;
                   std::fill(gin, gin + HW, T(0));
                   const char* gb = gp.plane(p);
                   // PyTorch's order: outputs in turn, each spreading grad / divisor.
                   for (int64_t oh = 0; oh < g.OH; ++oh) {
                     int64_t h0, h1, hp;
                     pool::avg_window(oh, g.sH, g.pH, g.kH, g.H, &h0, &h1, &hp);
                     for (int64_t ow = 0; ow < g.OW; ++ow) {
                       int64_t w0, w1, wp;
                       pool::avg_window(ow, g.sW, g.pW, g.kW, g.W, &w0, &w1, &wp);
                       if (h0 >= h1 || w0 >= w1) continue;
                       const int64_t d = o.divisor_override    ? o.divisor_override
                                         : o.count_include_pad ? hp * wp
                                                               : (h1 - h0) * (w1 - w0);
                       const T delta =
                           *reinterpret_cast<const T*>(gb + oh * gp.sh + ow * gp.sw) / T(d);
                       for (int64_t ih = h0; ih < h1; ++ih)
                         for (int64_t iw = w0; iw < w1; ++iw) gin[ih * g.W + iw] += delta;
                     }
                   }
                 }
               });
}

// PyTorch's adaptive window [start, end) of output o of n outputs over `in` elements.
inline int64_t adaptive_start(int64_t o, int64_t n, int64_t in) {
  return static_cast<int64_t>(i128(o) * in / n);
}
inline int64_t adaptive_end(int64_t o, int64_t n, int64_t in) {
  return static_cast<int64_t>((i128(o + 1) * in + n - 1) / n);
}

template <class T>
void adaptive(const Planes& in, const View& out) {
  const int64_t OH = out.shape[out.ndim - 2], OW = out.shape[out.ndim - 1];
  const double row_ns =
      static_cast<double>(in.W) * static_cast<double>(in.H) / static_cast<double>(OH) * 0.5 + 1.0;
  T* const o = static_cast<T*>(out.data);
  for_bands(in.count, OH, row_ns, [&](int64_t p, int64_t oh0, int64_t oh1) {
    const char* base = in.plane(p);
    T* dst = o + p * OH * OW;
    for (int64_t oh = oh0; oh < oh1; ++oh) {
      const int64_t h0 = adaptive_start(oh, OH, in.H), h1 = adaptive_end(oh, OH, in.H);
      for (int64_t ow = 0; ow < OW; ++ow) {
        const int64_t w0 = adaptive_start(ow, OW, in.W), w1 = adaptive_end(ow, OW, in.W);
        T sum = 0;  // in T and divided twice, as PyTorch
        for (int64_t ih = h0; ih < h1; ++ih) {
          const T* r = reinterpret_cast<const T*>(base + ih * in.sh);
          for (int64_t iw = w0; iw < w1; ++iw) sum += r[iw];
        }
        dst[oh * OW + ow] = sum / T(h1 - h0) / T(w1 - w0);
      }
    }
  });
}

}  // namespace

int64_t pool_output_length(int64_t n, int64_t kernel, int64_t stride, int64_t padding,
                           int64_t dilation, bool ceil_mode, const char* axis) {
  const i128 num = i128(n) + 2 * i128(padding) - i128(dilation) * (kernel - 1) - 1 +
                   (ceil_mode ? stride - 1 : 0);
  i128 o = (num >= 0 ? num / stride : -((-num + stride - 1) / stride)) + 1;
  // In ceil mode the last window must start inside the input or its left padding.
  if (ceil_mode && (o - 1) * stride >= i128(n) + padding) --o;
  if (o < 1)
    throw ValueError(std::string("input: ") + axis + " " + str(n) + " is too small: the output " +
                     axis + " would be " + str(static_cast<int64_t>(o)) + " (kernel_size " +
                     str(kernel) + ", stride " + str(stride) + ", padding " + str(padding) +
                     ", dilation " + str(dilation) + ")");
  return static_cast<int64_t>(o);
}

namespace {

// The pooled shape of a planar call: the input and argument checks (`avg`: average pooling's
// rules), then planar(x, a). A channels-last call goes through the planar rule on the
// permuted view.
template <class F>
Shape pooled_shape(const View& x, const Pool2dArgs& a, bool avg, F&& planar) {
  if (a.channels_last) {
    Pool2dArgs p = a;
    p.channels_last = false;
    return nhwc_shape(pooled_shape(planar_of_nhwc(x), p, avg, planar));
  }
  check_float(x, "input");
  check_ndim(x, "input");
  check_plane(x, "input");
  check_args(a, avg);
  return planar(x, a);
}

}  // namespace

Shape max_pool2d_shape(const View& input, const Pool2dArgs& args) {
  return pooled_shape(input, args, false, [](const View& x, const Pool2dArgs& a) {
    const int64_t H = x.shape[x.ndim - 2], W = x.shape[x.ndim - 1];
    const int64_t OH = pool_output_length(H, a.kernel[0], a.stride[0], a.padding[0], a.dilation[0],
                                          a.ceil_mode, "height");
    const int64_t OW = pool_output_length(W, a.kernel[1], a.stride[1], a.padding[1], a.dilation[1],
                                          a.ceil_mode, "width");
    // Flat indices of every window position, padding included, must fit comfortably in int64.
    const i128 rows =
        i128(H) + 2 * i128(a.padding[0]) + i128(a.dilation[0]) * (a.kernel[0] - 1) + 1;
    const i128 cols =
        i128(W) + 2 * i128(a.padding[1]) + i128(a.dilation[1]) * (a.kernel[1] - 1) + 1;
    if (rows > kProductLimit || cols > kProductLimit || rows * cols > kProductLimit)
      throw ValueError(
          "padding: window positions overflow int64 indices (padding=" + pair_str(a.padding) +
          ", kernel_size=" + pair_str(a.kernel) + ", dilation=" + pair_str(a.dilation) + ")");
    return with_plane(x, OH, OW);
  });
}

void max_pool2d(const View& x, const Pool2dArgs& a, const View& out, const View* indices) {
  const Shape s = max_pool2d_shape(x, a);
  check_result(out, s, x.dtype, "out");
  if (indices) check_result(*indices, s, DType::i64, "indices");
  if (out.empty()) return;
  Buffer<char> keep;
  int64_t* idx = indices ? static_cast<int64_t*>(indices->data) : nullptr;
  if (a.channels_last) {
    const View xc = views::contiguous(x, &keep);
    const pool::Geom g = nhwc_geom(x, s, a);
    const int64_t images = x.ndim == 4 ? x.shape[0] : 1, C = x.shape[x.ndim - 1];
    if (x.dtype == DType::f32)
      run_max_nhwc<float>(xc.ptr<float>(), images, C, g, static_cast<float*>(out.data), idx);
    else
      run_max_nhwc<double>(xc.ptr<double>(), images, C, g, static_cast<double*>(out.data), idx);
    return;
  }
  const Planes p(readable(x, &keep));
  const pool::Geom g = geom_of(p, s.dims[s.ndim - 2], s.dims[s.ndim - 1], a);
  if (x.dtype == DType::f32)
    run_max<float>(p, g, static_cast<float*>(out.data), idx);
  else
    run_max<double>(p, g, static_cast<double*>(out.data), idx);
}

Shape avg_pool2d_shape(const View& input, const Pool2dArgs& args) {
  return pooled_shape(input, args, true, [](const View& x, const Pool2dArgs& a) {
    const int64_t H = x.shape[x.ndim - 2], W = x.shape[x.ndim - 1];
    const int64_t OH =
        pool_output_length(H, a.kernel[0], a.stride[0], a.padding[0], 1, a.ceil_mode, "height");
    const int64_t OW =
        pool_output_length(W, a.kernel[1], a.stride[1], a.padding[1], 1, a.ceil_mode, "width");
    return with_plane(x, OH, OW);
  });
}

void avg_pool2d(const View& x, const Pool2dArgs& a, bool count_include_pad,
                int64_t divisor_override, const View& out) {
  const Shape s = avg_pool2d_shape(x, a);
  check_result(out, s, x.dtype, "out");
  if (out.empty()) return;
  Buffer<char> keep;
  const pool::AvgOpts o{count_include_pad, divisor_override};
  if (a.channels_last) {
    const View xc = views::contiguous(x, &keep);
    const pool::Geom g = nhwc_geom(x, s, a);
    const int64_t images = x.ndim == 4 ? x.shape[0] : 1, C = x.shape[x.ndim - 1];
    if (x.dtype == DType::f32)
      run_avg_nhwc<float>(xc.ptr<float>(), images, C, g, o, static_cast<float*>(out.data));
    else
      run_avg_nhwc<double>(xc.ptr<double>(), images, C, g, o, static_cast<double*>(out.data));
    return;
  }
  const Planes p(readable(x, &keep));
  const pool::Geom g = geom_of(p, s.dims[s.ndim - 2], s.dims[s.ndim - 1], a);
  if (x.dtype == DType::f32)
    run_avg<float>(p, g, o, static_cast<float*>(out.data));
  else
    run_avg<double>(p, g, o, static_cast<double*>(out.data));
}

namespace {

// A channels-last backward pass: planar(t) runs the planar pass into t, a C-contiguous planar
// scratch of grad_input's elements, whose values are then copied into grad_input's (N, H, W, C)
// memory. The planar pass reads grad_output (and indices) through permuted views and raises
// before anything reaches grad_input.
template <class F>
void backward_nhwc(const View& gi, F&& planar) {
  check_result(gi, shape_of(gi), gi.dtype, "grad_input");
  const View gip = planar_of_nhwc(gi, "input_shape");
  Buffer<char> scratch(static_cast<size_t>(gi.size()) * itemsize(gi.dtype));
  View t = gip;
  t.data = scratch.get();
  views::set_c_strides(&t);
  planar(t);
  if (!t.empty()) views::copy_from_contiguous(t.data, gip);
}

}  // namespace

void max_pool2d_backward(const View& go, const View& idx, const View& gi, bool channels_last) {
  if (channels_last) {
    // The shape checks in the caller's (N, H, W, C) terms first; the planar pass repeats them.
    check_float(go, "grad_output");
    planar_of_nhwc(go, "grad_output");
    planar_of_nhwc(gi, "input_shape");
    views::check_indices(idx, go, "grad_output");
    const int c = go.ndim - 1;
    if (gi.ndim != go.ndim || gi.shape[c] != go.shape[c] || (c == 3 && gi.shape[0] != go.shape[0]))
      throw ValueError("input_shape: batch and channel axes must match grad_output " +
                       shape_str(go) + ", got " + shape_str(gi));
    // The indices' range in the caller's terms (probe22b: the planar pass named the position
    // in its permuted view).
    if (!go.empty()) check_index_range(idx, gi.shape[c - 2], gi.shape[c - 1], "input");
    return backward_nhwc(gi, [&](const View& t) {
      max_pool2d_backward(planar_of_nhwc(go, "grad_output"), planar_of_nhwc(idx, "indices"), t);
    });
  }
  check_float(go, "grad_output");
  check_ndim(go, "grad_output");
  views::check_indices(idx, go, "grad_output");
  if (!views::same_leading(go, gi))
    throw ValueError("input_shape: leading axes must match grad_output " + shape_str(go) +
                     ", got " + shape_str(gi));
  check_result(gi, shape_of(gi), go.dtype, "grad_input");
  // An empty plane under a grad_output with values: check_and_scatter finds its first index
  // outside (every one is) and says so.
  if (gi.empty() && go.empty()) return;
  check_and_scatter<true>(go, idx, gi, "input");
}

void avg_pool2d_backward(const View& go, const Pool2dArgs& a, bool count_include_pad,
                         int64_t divisor_override, const View& gi) {
  if (a.channels_last) {
    // The shape checks in the caller's (N, H, W, C) terms first; the planar pass repeats them.
    check_float(go, "grad_output");
    planar_of_nhwc(gi, "input_shape");
    View forward_in = gi;
    forward_in.dtype = go.dtype;
    const Shape s = avg_pool2d_shape(forward_in, a);
    if (!has_shape(go, s))
      throw ValueError("grad_output: shape must be " + shape_str(s) + " for input_shape " +
                       shape_str(gi) + ", got " + shape_str(go));
    return backward_nhwc(gi, [&](const View& t) {
      Pool2dArgs p = a;
      p.channels_last = false;
      avg_pool2d_backward(planar_of_nhwc(go, "grad_output"), p, count_include_pad, divisor_override,
                          t);
    });
  }
  check_float(go, "grad_output");
  check_ndim(go, "grad_output");
  check_ndim(gi, "input_shape");
  View forward_in = gi;  // the forward input: grad_input's shape, grad_output's dtype
  forward_in.dtype = go.dtype;
  const Shape s = avg_pool2d_shape(forward_in, a);
  if (!has_shape(go, s))
    throw ValueError("grad_output: shape must be " + shape_str(s) + " for input_shape " +
                     shape_str(gi) + ", got " + shape_str(go));
  check_result(gi, shape_of(gi), go.dtype, "grad_input");
  if (gi.empty()) return;
  const Planes p(gi);
  const pool::Geom g = geom_of(p, s.dims[s.ndim - 2], s.dims[s.ndim - 1], a);
  const pool::AvgOpts o{count_include_pad, divisor_override};
  if (go.dtype == DType::f32)
    avg_backward<float>(go, g, o, gi);
  else
    avg_backward<double>(go, g, o, gi);
}

Shape max_unpool2d_shape(const View& x, const View& idx, const Pool2dArgs& a,
                         const int64_t* output_size) {
  check_float(x, "input");
  check_ndim(x, "input");
  check_plane(x, "input");
  if (x.shape[x.ndim - 2] < 1 || x.shape[x.ndim - 1] < 1)  // PyTorch refuses empty planes
    throw ValueError("input: height and width must be >= 1, got shape " + shape_str(x));
  views::check_indices(idx, x, "input");
  check_positive(a.kernel, "kernel_size");
  check_positive(a.stride, "stride");
  for (int i = 0; i < 2; ++i)
    if (a.padding[i] < 0 || a.padding[i] > kLimit)
      throw ValueError("padding: must be in [0, 2^60], got " + pair_str(a.padding));
  int64_t o[2];
  for (int i = 0; i < 2; ++i) {
    const i128 def =
        (i128(x.shape[x.ndim - 2 + i]) - 1) * a.stride[i] - 2 * i128(a.padding[i]) + a.kernel[i];
    i128 v = def;
    if (output_size) {
      v = output_size[i];
      if (!(def - a.stride[i] < v && v < def + a.stride[i]))
        throw ValueError("output_size: " + pair_str(output_size) + " is invalid: axis " + str(i) +
                         " must be between " + str(static_cast<int64_t>(def - a.stride[i])) +
                         " and " + str(static_cast<int64_t>(def + a.stride[i])) + " (exclusive)");
    }
    // An axis of 0 gives an empty result, as PyTorch's (the default, (n - 1) * stride - 2 *
    // padding + kernel, can be 0).
    if (v < 0 || v > kLimit) {
      // Named after what set it: output_size, or (without one) the padding that took the
      // default size below 0 (probe22b: the message named an output_size never passed).
      const std::string dim = i ? "width" : "height";
      if (output_size)
        throw ValueError("output_size: the unpooled " + dim + " must be in [0, 2^60], got " +
                         str(static_cast<int64_t>(v)));
      throw ValueError("padding: the unpooled " + dim + " (" + str(x.shape[x.ndim - 2 + i]) +
                       " - 1) * stride - 2 * padding + kernel_size must be in [0, 2^60], got " +
                       str(static_cast<int64_t>(v)) + " (padding " + pair_str(a.padding) + ")");
    }
    o[i] = static_cast<int64_t>(v);
  }
  if (i128(o[0]) * o[1] > kProductLimit)
    throw ValueError("output_size: plane too large " + pair_str(o));
  return with_plane(x, o[0], o[1]);
}

void max_unpool2d(const View& x, const View& idx, const View& out) {
  check_float(x, "input");
  check_ndim(x, "input");
  views::check_indices(idx, x, "input");
  if (!views::same_leading(x, out))
    throw ValueError("out: leading axes must match input's " + shape_str(x));
  check_result(out, shape_of(out), x.dtype, "out");
  // An empty output plane (a default size of 0) is PyTorch's empty result: no index checked
  // (docs/pool.md).
  if (out.empty()) return;
  check_and_scatter<false>(x, idx, out, "output");
}

Shape adaptive_avg_pool2d_shape(const View& x, int64_t out_h, int64_t out_w) {
  check_float(x, "input");
  check_ndim(x, "input");
  check_plane(x, "input");
  const int64_t H = x.shape[x.ndim - 2], W = x.shape[x.ndim - 1];
  if (H < 1 || W < 1)
    throw ValueError("input: height and width must be >= 1, got shape " + shape_str(x));
  const int64_t o[2] = {out_h, out_w};
  if (out_h < -1 || out_w < -1)
    throw ValueError("output_size: must be >= 0 (or None), got " + pair_str(o));
  if (out_h > kLimit || out_w > kLimit)
    throw ValueError("output_size: too large, got " + pair_str(o));
  return with_plane(x, out_h < 0 ? H : out_h, out_w < 0 ? W : out_w);
}

namespace {

// Planes per chunk of plane_means: a multiple of every ISA's block of planes (one vector of
// double lanes), so only a chunk's or run's last block is partial. Results do not depend on it
// (pool.h).
constexpr int64_t kMeanBlock = 8;
// Cost of one input byte in plane_means / plane_means_nhwc, in ns: inputs past L2 stream from
// L3 or memory at 60-90 GB/s on one Zen 5 core (12.8 MB of (32, 2048, 7, 7) float32 in
// 0.167 ms, of (8, 64, 56, 56) float64 in 0.108 ms).
constexpr double kMeanByteNs = 0.014;

// out[q] = the mean of plane q of `in` (unit column stride, whole-element row stride: readable),
// summed in double by the global pool kernel (vector partial sums, within rounding of any order)
// and rounded once. The planes go to the kernel in runs of equal stride: the leading axes merged
// from the innermost while they nest (all of them for a C-contiguous input; a channel slice of
// NCHW runs through one image's channels).
template <class T>
void plane_means(const Planes& in, T* out) {
  const auto& t = kernels<pool::Table>();
  const pool::PlaneMeansFn<T> means = of<T>(t.f32_plane_means, t.f64_plane_means);
  const View& v = in.v;
  const int64_t item = static_cast<int64_t>(sizeof(T));
  const int lead = v.ndim - 2;
  int64_t run = 1, ps = 0;  // planes per run, their stride in elements
  int a = lead;             // the axes before `a` number the runs
  for (; a > 0; --a) {
    const int64_t n = v.shape[a - 1], s = v.strides[a - 1];
    if (n == 1) continue;
    if (s % item != 0 || (run > 1 && s != ps * item * run)) break;
    if (run == 1) ps = s / item;
    run *= n;
  }
  // A C-contiguous plane is one row (one vector stream through the whole plane).
  const bool flat = in.H == 1 || in.sh == in.W * item;
  const int64_t h = flat ? 1 : in.H, w = flat ? in.H * in.W : in.W, rs = in.sh / item;
  const int64_t planes = in.count, blocks = (planes + kMeanBlock - 1) / kMeanBlock;
  const double cost = kMeanByteNs * static_cast<double>(kMeanBlock * in.H * in.W * item);
  parallel_for(blocks, grain_for(blocks, cost), [&](int64_t b, int64_t e) {
    for (int64_t q = b * kMeanBlock, end = std::min(e * kMeanBlock, planes); q < end;) {
      const int64_t r = q / run, k = q % run, n = std::min(end - q, run - k);
      const char* base = static_cast<const char*>(v.data) + views::leading_offset(v, r, a);
      means(reinterpret_cast<const T*>(base) + k * ps, n, ps, h, w, rs, out + q);
      q += n;
    }
  });
}

// Whether x's (C, H, W) axes are a channels-last image: element (c, h, w) at (h W + w) C + c
// elements from the image's start (any strides on the axes before), with C >= 2 and HW >= 2 (a
// single channel or pixel is a planar view too). Size-1 axes may have any stride.
bool channels_last_images(const View& x) {
  if (x.ndim < 3) return false;
  const int a = x.ndim - 3;
  const int64_t item = static_cast<int64_t>(itemsize(x.dtype));
  const int64_t C = x.shape[a], H = x.shape[a + 1], W = x.shape[a + 2];
  if (C < 2 || H * W < 2) return false;
  return x.strides[a] == item && (W == 1 || x.strides[a + 2] == C * item) &&
         (H == 1 || x.strides[a + 1] == W * C * item);
}

// Channels per chunk of channel_means: several vectors of every ISA.
constexpr int64_t kMeanChannels = 64;

// out[i C + c] = the mean of channel c of channels-last image i (channels_last_images), read
// in place: each pixel's channels are the vector lanes, as PyTorch's channels-last pool.
template <class T>
void channel_means(const View& x, T* out) {
  const auto& t = kernels<pool::Table>();
  const pool::PlaneMeansNhwcFn<T> means = of<T>(t.f32_plane_means_nhwc, t.f64_plane_means_nhwc);
  const int a = x.ndim - 3;
  const int64_t C = x.shape[a], hw = x.shape[a + 1] * x.shape[a + 2];
  int64_t images = 1;
  for (int i = 0; i < a; ++i) images *= x.shape[i];
  const int64_t chunks = (C + kMeanChannels - 1) / kMeanChannels, items = images * chunks;
  const double cost =
      kMeanByteNs * static_cast<double>(hw * std::min(C, kMeanChannels) * sizeof(T));
  parallel_for(items, grain_for(items, cost), [&](int64_t b, int64_t e) {
    for (int64_t k = b; k < e; ++k) {
      const int64_t i = k / chunks, j = k % chunks * kMeanChannels;
      const T* img = reinterpret_cast<const T*>(static_cast<const char*>(x.data) +
                                                views::leading_offset(x, i, a));
      means(img + j, hw, std::min(kMeanChannels, C - j), C, out + i * C + j);
    }
  });
}

}  // namespace

void adaptive_avg_pool2d(const View& x, const View& out) {
  check_float(x, "input");
  check_ndim(x, "input");
  if (!views::same_leading(x, out))
    throw ValueError("out: leading axes must match input's " + shape_str(x));
  const int64_t OH = out.shape[out.ndim - 2], OW = out.shape[out.ndim - 1];
  const Shape s = adaptive_avg_pool2d_shape(x, OH, OW);
  check_result(out, s, x.dtype, "out");
  if (out.empty()) return;
  Buffer<char> keep;
  if (OH == 1 && OW == 1) {
    // One window, the whole plane (a CNN's global average pool): the global pool kernels
    // (pool.h), in double, divided once; the average pooling kernels go across output columns,
    // which a 1 x 1 output does not have. Planes with unit column stride are read in place (any
    // other view copied first), a vector's lanes of planes at a time, their sums transposed into
    // one vector. 1 thread, float32, ms (torch): (32, 2048, 7, 7) 0.97 -> 0.17-0.18 (0.27);
    // (64, 256, 14, 14) 0.28 -> 0.125 (0.14); (8, 64, 56, 56) 0.086 -> 0.059-0.07 (0.064);
    // float64 (32, 2048, 7, 7) 0.93 -> 0.53-0.57 (0.58-0.60). Channels-last images (a torch
    // channels_last tensor's array) are read in place, channels as lanes: (32, 2048, 7, 7)
    // float32 6.9 -> 0.20-0.25 ms (torch 0.25-0.29), no transposing copy. docs/pool.md "gap".
    if (!x.c_contiguous() && channels_last_images(x)) {
      if (x.dtype == DType::f32)
        channel_means<float>(x, static_cast<float*>(out.data));
      else
        channel_means<double>(x, static_cast<double*>(out.data));
      return;
    }
    const Planes p(readable(x, &keep));
    if (x.dtype == DType::f32)
      plane_means<float>(p, static_cast<float*>(out.data));
    else
      plane_means<double>(p, static_cast<double*>(out.data));
    return;
  }
  const Planes p(readable(x, &keep));
  if (p.H % OH == 0 && p.W % OW == 0) {
    // Equal windows that tile the plane: plain average pooling, with its SIMD kernels.
    Pool2dArgs a;
    a.kernel[0] = a.stride[0] = p.H / OH;
    a.kernel[1] = a.stride[1] = p.W / OW;
    const pool::Geom g = geom_of(p, OH, OW, a);
    const pool::AvgOpts o{true, 0};
    if (x.dtype == DType::f32)
      run_avg<float>(p, g, o, static_cast<float*>(out.data));
    else
      run_avg<double>(p, g, o, static_cast<double*>(out.data));
    return;
  }
  if (x.dtype == DType::f32)
    adaptive<float>(p, out);
  else
    adaptive<double>(p, out);
}

namespace {

// NumPy reduces x.mean(axis=(1, 2)) of a C-contiguous (N, H, W, C) array with the channels as
// the inner loop: sum = 0 + x[n, 0] + x[n, 1] + ... in order, a vector of C at a time, then
// true_divide by the count (an intp, so in float64).
template <class T>
void global_mean_t(const T* x, int64_t n, int64_t hw, int64_t c, T* out) {
  const double count = static_cast<double>(hw);
  parallel_for(n, grain_for(n, 0.3 * static_cast<double>(hw * c)), [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      const T* __restrict img = x + i * hw * c;
      T* __restrict sum = out + i * c;
      // kBlock channels at a time in registers through all pixels (each channel's order is
      // unchanged). NumPy starts from the identity, so -0.0 sums to +0.0.
      constexpr int64_t kBlock = 64 / sizeof(T);
      int64_t k0 = 0;
      for (; k0 + kBlock <= c; k0 += kBlock) {
        T acc[kBlock] = {};
        for (int64_t p = 0; p < hw; ++p)
          for (int64_t j = 0; j < kBlock; ++j) acc[j] += img[p * c + k0 + j];
        std::copy(acc, acc + kBlock, sum + k0);
      }
      std::fill(sum + k0, sum + c, T(0));
      for (int64_t p = 0; p < hw; ++p)
        for (int64_t k = k0; k < c; ++k) sum[k] += img[p * c + k];
      for (int64_t k = 0; k < c; ++k) sum[k] = static_cast<T>(static_cast<double>(sum[k]) / count);
    }
  });
}

}  // namespace

Shape global_mean_nhwc_shape(const View& input) {
  check_float(input, "input");
  if (input.ndim != 4)
    throw ValueError("input: expected a 4-D (N, H, W, C) array, got shape " + shape_str(input));
  // NumPy sums a C-contiguous x's pixels in order only with more than one channel (one channel
  // makes the pixels its innermost axis, summed pairwise), and a view's order is its own. An
  // empty input has no order (and may come with any strides).
  if (!input.empty() && (!input.c_contiguous() || input.shape[3] < 2))
    throw ValueError(
        "input: expected a C-contiguous (N, H, W, C) array with C >= 2 (NumPy's summation order), "
        "got shape " +
        shape_str(input) + (input.c_contiguous() ? "" : " (not C-contiguous)"));
  return Shape{2, {input.shape[0], input.shape[3]}};
}

void global_mean_nhwc(const View& input, const View& out) {
  check_result(out, global_mean_nhwc_shape(input), input.dtype, "out");
  if (out.empty()) return;
  const int64_t n = input.shape[0], hw = input.shape[1] * input.shape[2], c = input.shape[3];
  if (input.dtype == DType::f32)
    global_mean_t(static_cast<const float*>(input.data), n, hw, c, static_cast<float*>(out.data));
  else
    global_mean_t(static_cast<const double*>(input.data), n, hw, c, static_cast<double*>(out.data));
}

}  // namespace npfast
