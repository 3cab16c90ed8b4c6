// convert: shape checks, axis merging, threading; the kernels do the arithmetic.
#include <algorithm>
#include <cstring>
#include <string>

#include "npfast/elementwise.hpp"
#include "npfast/error.hpp"
#include "npfast/threads.hpp"
#include "src/kernels/elementwise/elementwise.h"
#include "src/core/views.h"

namespace npfast {
namespace {

bool in(DType t, const DType* list, size_t n) { return std::find(list, list + n, t) != list + n; }

// Sources without kernels of their own: widened to float64 in the row buffer (exact for
// uint32; uint64 rounds as NumPy's astype(float64) does) and run the float64 kernel, which
// computes in float64 anyway.
bool widened(DType t) { return t == DType::u32 || t == DType::u64; }

template <class S>
void widen(const char* x, int64_t sx, int64_t m, char* xb) {
  for (int64_t i = 0; i < m; ++i) {
    S v;
    std::memcpy(&v, x + i * sx, sizeof v);
    const double d = static_cast<double>(v);
    std::memcpy(xb + i * 8, &d, 8);
  }
}

// Strided rows (and widened sources) go through small contiguous buffers so the same kernel
// serves them.
void convert_strided_row(elementwise::ConvertFn k, int64_t n, const char* x, int64_t sx, DType tx,
                         char* y, int64_t sy, DType ty, double scale, double offset) {
  constexpr int64_t kBlock = 256;
  alignas(64) char xb[kBlock * 8];
  alignas(64) char yb[kBlock * 8];
  const size_t ix = itemsize(tx), iy = itemsize(ty);
  for (int64_t b = 0; b < n; b += kBlock) {
    const int64_t m = std::min(kBlock, n - b);
    if (tx == DType::u32)
      widen<uint32_t>(x + b * sx, sx, m, xb);
    else if (tx == DType::u64)
      widen<uint64_t>(x + b * sx, sx, m, xb);
    else
      for (int64_t i = 0; i < m; ++i) std::memcpy(xb + i * ix, x + (b + i) * sx, ix);
    k(m, xb, yb, scale, offset);
    for (int64_t i = 0; i < m; ++i) std::memcpy(y + (b + i) * sy, yb + i * iy, iy);
  }
}

}  // namespace

void convert(const View& x_in, const View& y_in, double scale, double offset) {
  const bool wide = widened(x_in.dtype);
  if (!wide &&
      !in(x_in.dtype, elementwise::kConvertSources, std::size(elementwise::kConvertSources)))
    throw TypeError(std::string("a: unsupported dtype ") + dtype_name(x_in.dtype));
  if (!in(y_in.dtype, elementwise::kConvertDests, std::size(elementwise::kConvertDests)))
    throw TypeError(std::string("dtype: must be float32, float64 or uint8, got ") +
                    dtype_name(y_in.dtype));
  views::check_shape(y_in, shape_of(x_in), "out");
  if (x_in.empty()) return;

  View x = x_in, y = y_in;
  if (x.ndim == 0) {
    x.ndim = y.ndim = 1;
    x.shape[0] = y.shape[0] = 1;
    x.strides[0] = static_cast<int64_t>(itemsize(x.dtype));
    y.strides[0] = static_cast<int64_t>(itemsize(y.dtype));
  }
  views::merge_axes(&x, &y);
  const bool big =
      static_cast<size_t>(x.size()) * itemsize(y.dtype) >= elementwise::kStreamOutputBytes;
  const int last = x.ndim - 1;
  const int64_t cols = x.shape[last];
  const int64_t rows = x.size() / cols;
  const int64_t sx = x.strides[last], sy = y.strides[last];
  const bool unit = !wide && sx == static_cast<int64_t>(itemsize(x.dtype)) &&
                    sy == static_cast<int64_t>(itemsize(y.dtype));
  // Strided rows go through a stack buffer, which streaming stores would push out of cache.
  const elementwise::ConvertFn k = elementwise::convert_kernel(
      kernels<elementwise::Table>(), wide ? DType::f64 : x.dtype, y.dtype, big && unit);
  char* const xp = static_cast<char*>(x.data);
  char* const yp = static_cast<char*>(y.data);

  // Work items are (row, column block) pairs, so one long row still splits across threads.
  constexpr int64_t kCols = 1 << 16;
  const int64_t col_blocks = (cols + kCols - 1) / kCols;
  const int64_t items = rows * col_blocks;
  const double ns_per_item = 0.15 * static_cast<double>(std::min(cols, kCols));
  const bool threads =
      static_cast<size_t>(x.size()) * itemsize(y.dtype) >= elementwise::kParallelOutputBytes;
  parallel_for(items, threads ? grain_for(items, ns_per_item) : items, [&](int64_t b, int64_t e) {
    for (int64_t it = b; it < e; ++it) {
      const int64_t r = it / col_blocks, c0 = (it % col_blocks) * kCols;
      const int64_t n = std::min(kCols, cols - c0);
      const char* xr = xp + views::row_offset(x, r) + c0 * sx;
      char* yr = yp + views::row_offset(y, r) + c0 * sy;
      if (unit)
        k(n, xr, yr, scale, offset);
      else
        convert_strided_row(k, n, xr, sx, x.dtype, yr, sy, y.dtype, scale, offset);
    }
    if (big) elementwise::stream_fence();  // before the chunk is reported done
  });
}

}  // namespace npfast
