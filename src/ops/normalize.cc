// normalize: CNN input preprocessing, (x / 255 - mean[c]) / std[c] per channel of a uint8
// image, optionally HWC -> CHW, in one pass over memory.
//
// Each element is one fused multiply-add in double, x * s[c] + o[c] with s = 1 / (255 std) and
// o = -mean / std, rounded once to the output type, so every layout and thread count gives the
// same bits. Two ways through:
//   * channels last and both arrays contiguous (HWC -> HWC): the array is one flat run whose
//     scale and offset repeat every C elements; the normalize kernel walks it with a channel
//     phase, split across threads anywhere.
//   * anything else (CHW output, other channel axes, views): rows along the output's
//     unit-stride axis. A row not along the channel axis has one channel: the convert kernel
//     with that channel's scale and offset; strided sources are gathered into small blocks.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>

#include "npfast/elementwise.hpp"
#include "npfast/error.hpp"
#include "npfast/memory.hpp"
#include "npfast/threads.hpp"
#include "src/kernels/elementwise/elementwise.h"
#include "src/core/views.h"

namespace npfast {
namespace {

constexpr int64_t kBlock = 256;

template <int S>
void gather(const uint8_t* x, int64_t m, uint8_t* out) {
  for (int64_t i = 0; i < m; ++i) out[i] = x[i * S];
}

// Gathers a strided uint8 row into blocks and converts each with `k` (one channel).
// `k` writes y directly when y is contiguous (it may stream); `plain` fills the stack buffer of
// a strided y (streaming stores there would push the buffer out of cache).
void strided_row(elementwise::ConvertFn k, elementwise::ConvertFn plain, int64_t n,
                 const uint8_t* x, int64_t sx, char* y, int64_t sy, size_t iy, double s, double o) {
  alignas(64) uint8_t xb[kBlock];
  alignas(64) char yb[kBlock * 8];
  const bool yunit = sy == static_cast<int64_t>(iy);
  for (int64_t b = 0; b < n; b += kBlock) {
    const int64_t m = std::min(kBlock, n - b);
    const uint8_t* xs = x + b * sx;
    // Constant strides for the common channel counts let the compiler unroll the gather.
    switch (sx) {
      case 1:
        std::memcpy(xb, xs, static_cast<size_t>(m));
        break;
      case 3:
        gather<3>(xs, m, xb);
        break;
      case 4:
        gather<4>(xs, m, xb);
        break;
      default:
        for (int64_t i = 0; i < m; ++i) xb[i] = xs[i * sx];
    }
    if (yunit) {
      k(m, xb, y + b * sy, s, o);
    } else {
      plain(m, xb, yb, s, o);
      for (int64_t i = 0; i < m; ++i) std::memcpy(y + (b + i) * sy, yb + i * iy, iy);
    }
  }
}

}  // namespace

Shape normalize_shape(const View& x, int channel_axis, bool to_chw) {
  Shape shape = shape_of(x);
  if (to_chw) {
    // The channel axis moves to position ndim - 3 (it is never after it: see normalize()).
    const int64_t c = shape.dims[channel_axis];
    for (int i = channel_axis; i > x.ndim - 3; --i) shape.dims[i] = shape.dims[i - 1];
    for (int i = channel_axis; i < x.ndim - 3; ++i) shape.dims[i] = shape.dims[i + 1];
    shape.dims[x.ndim - 3] = c;
  }
  return shape;
}

int normalize_axis(const View& x, int64_t channel_axis, bool to_chw) {
  if (x.ndim == 0) throw ValueError("image: must have at least 1 dimension, got a 0-d array");
  if (channel_axis < -x.ndim || channel_axis >= x.ndim)
    throw ValueError("channel_axis: " + std::to_string(channel_axis) + " is out of range for " +
                     std::to_string(x.ndim) + "-d image");
  if (to_chw && x.ndim < 3)
    throw ValueError("to_chw: needs an image with at least 3 dimensions, got shape " +
                     shape_str(x));
  return static_cast<int>(channel_axis < 0 ? channel_axis + x.ndim : channel_axis);
}

void normalize(const View& x, const View& y, const double* mean, const double* stddev,
               int64_t n_stats, int channel_axis, bool to_chw) {
  if (x.dtype != DType::u8)
    throw TypeError(std::string("image: dtype must be uint8, got ") + dtype_name(x.dtype));
  if (y.dtype != DType::f32 && y.dtype != DType::f64)
    throw TypeError(std::string("dtype: must be float32 or float64, got ") + dtype_name(y.dtype));
  const int k = normalize_axis(x, channel_axis, to_chw);
  const int64_t C = x.shape[k];
  if (n_stats != C && n_stats != 1)
    throw ValueError("mean, std: need 1 or " + std::to_string(C) +
                     " values (the channel count), got " + std::to_string(n_stats));
  for (int64_t c = 0; c < n_stats; ++c) {
    if (!(stddev[c] != 0.0) || !std::isfinite(stddev[c]))
      throw ValueError("std: must be finite and non-zero, got " + std::to_string(stddev[c]));
    if (!std::isfinite(mean[c]))
      throw ValueError("mean: must be finite, got " + std::to_string(mean[c]));
    // The kernel computes x * (1 / (255 std)) - mean / std: a std whose scale or offset is not
    // a finite, non-zero double (|std| past ~7e305 or under ~2e-311) would give every pixel one
    // value or NaN where NumPy's (x / 255 - mean) / std does not (probe17).
    const double scale = 1.0 / (255.0 * stddev[c]), offset = -mean[c] / stddev[c];
    char got[64];
    if (!std::isfinite(scale) || scale == 0.0) {
      std::snprintf(got, sizeof(got), "%.17g", stddev[c]);
      throw ValueError(std::string("std: out of the range the kernel's scale 1 / (255 std) can ") +
                       "hold, got " + got);
    }
    if (!std::isfinite(offset)) {
      std::snprintf(got, sizeof(got), "%.17g and %.17g", mean[c], stddev[c]);
      throw ValueError(std::string("mean, std: mean / std overflows a double, got ") + got);
    }
  }
  views::check_shape(y, normalize_shape(x, k, to_chw), "out");
  if (x.empty()) return;

  // Per-channel tables, C + 8 entries each (see the kernel contract).
  Buffer<double> tables(static_cast<size_t>(2 * (C + 8)));
  double* s = tables.get();
  double* o = s + C + 8;
  for (int64_t j = 0; j < C + 8; ++j) {
    const int64_t c = n_stats == 1 ? 0 : j % C;
    s[j] = 1.0 / (255.0 * stddev[c]);
    o[j] = -mean[c] / stddev[c];
  }

  // yp: the output seen in the image's axis order.
  View yp = x;
  yp.data = y.data;
  yp.dtype = y.dtype;
  int out_axes[View::kMaxDims] = {};  // input axis shown at each output position
  for (int i = 0, p = 0; i < x.ndim; ++i)
    if (!to_chw || i != k) out_axes[p++] = i;
  if (to_chw) {
    for (int p = x.ndim - 1; p > x.ndim - 3; --p) out_axes[p] = out_axes[p - 1];
    out_axes[x.ndim - 3] = k;
  }
  for (int p = 0; p < x.ndim; ++p) yp.strides[out_axes[p]] = y.strides[p];
  const size_t iy = itemsize(y.dtype);
  const bool stream = static_cast<size_t>(x.size()) * iy >= elementwise::kStreamOutputBytes;
  const bool threads = static_cast<size_t>(x.size()) * iy >= elementwise::kParallelOutputBytes;

  if (k == x.ndim - 1 && x.c_contiguous() && yp.c_contiguous()) {
    const elementwise::NormalizeFn kn =
        elementwise::normalize_kernel(kernels<elementwise::Table>(), y.dtype);
    const int64_t n = x.size();
    constexpr int64_t kChunk = 1 << 16;
    const uint8_t* xp = x.ptr<uint8_t>();
    char* ypp = static_cast<char*>(y.data);
    const int64_t grain = !threads ? n : std::min(grain_for(n, 0.3), kChunk);
    parallel_for(n, grain, [&](int64_t b, int64_t e) {
      kn(e - b, xp + b, ypp + b * static_cast<int64_t>(iy), s, o, C, b % C, stream);
      if (stream) elementwise::stream_fence();  // before the chunk is reported done
    });
    return;
  }

  // Rows along the output's unit-stride axis (the last axis when none is).
  View xv = x;
  int a = x.ndim - 1;
  for (int i = 0; i < x.ndim; ++i)
    if (yp.strides[i] == static_cast<int64_t>(iy) && x.shape[i] > 1) a = i;
  std::swap(xv.shape[a], xv.shape[x.ndim - 1]);
  std::swap(xv.strides[a], xv.strides[x.ndim - 1]);
  std::swap(yp.shape[a], yp.shape[x.ndim - 1]);
  std::swap(yp.strides[a], yp.strides[x.ndim - 1]);
  const int kc = k == a ? x.ndim - 1 : k == x.ndim - 1 ? a : k;  // channel axis after the swap
  const int last = x.ndim - 1;
  const int64_t cols = xv.shape[last];
  const int64_t rows = xv.size() / cols;
  int64_t inner = 1;  // rows per step of the channel index
  for (int i = kc + 1; i < last; ++i) inner *= xv.shape[i];
  const int64_t sx = xv.strides[last], sy = yp.strides[last];
  const elementwise::Table& kt = kernels<elementwise::Table>();
  const elementwise::ConvertFn kc_fn = elementwise::convert_kernel(kt, DType::u8, y.dtype, stream);
  const elementwise::ConvertFn kc_plain =
      elementwise::convert_kernel(kt, DType::u8, y.dtype, false);
  const elementwise::NormalizeFn kn = elementwise::normalize_kernel(kt, y.dtype);
  const elementwise::GatherFn kg = elementwise::gather_kernel(kt, y.dtype);
  // Strided uint8 rows into contiguous output rows go straight through the gather kernel
  // (32-bit gather offsets: the row's byte span must fit).
  const bool gather_ok =
      sy == static_cast<int64_t>(iy) && sx > 1 && (cols - 1) * sx < (int64_t{1} << 31) - 4;
  const uint8_t* xp = x.ptr<uint8_t>();
  char* ypp = static_cast<char*>(y.data);

  const int64_t grain = threads ? grain_for(rows, 0.4 * static_cast<double>(cols)) : rows;
  parallel_for(rows, grain, [&](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; ++r) {
      const uint8_t* xr = xp + views::row_offset(xv, r);
      char* yr = ypp + views::row_offset(yp, r);
      if (kc != last) {
        const int64_t c = (r / inner) % C;
        if (sx == 1 && sy == static_cast<int64_t>(iy))
          kc_fn(cols, xr, yr, s[c], o[c]);
        else if (gather_ok)
          kg(cols, xr, sx, yr, s[c], o[c], stream);  // e.g. HWC -> CHW
        else
          strided_row(kc_fn, kc_plain, cols, xr, sx, yr, sy, iy, s[c], o[c]);
      } else {
        // A row is exactly one pixel's C channels.
        alignas(64) char yb[kBlock * 8];
        for (int64_t c0 = 0; c0 < cols; c0 += kBlock) {
          const int64_t m = std::min(kBlock, cols - c0);
          alignas(64) uint8_t xb[kBlock];
          for (int64_t i = 0; i < m; ++i) xb[i] = xr[(c0 + i) * sx];
          kn(m, xb, yb, s, o, C, c0 % C, false);
          for (int64_t i = 0; i < m; ++i) std::memcpy(yr + (c0 + i) * sy, yb + i * iy, iy);
        }
      }
    }
    if (stream) elementwise::stream_fence();  // before the chunk is reported done
  });
}

}  // namespace npfast
