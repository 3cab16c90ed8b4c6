// SciPy's 2-D correlation semantics (scipy.signal correlate2d / convolve2d, scipy.ndimage
// correlate / convolve) as output shapes, offsets and kernel flips of the one corr2d operator.
#include <string>

#include "npfast/corr2d.hpp"
#include "npfast/error.hpp"
#include "src/core/views.h"
#include "src/ops/corr2d.h"

namespace npfast {

Shape signal_corr2d_shape(const View& in1, const View& in2, Corr2dMode mode) {
  if (in1.ndim < 2)
    throw ValueError("in1: must have at least 2 dimensions (..., H, W), got shape " +
                     shape_str(in1));
  ops::check_kernel(in2, "in2");
  const int nd = in1.ndim;
  Shape out_shape = shape_of(in1);
  const int64_t H = in1.shape[nd - 2], W = in1.shape[nd - 1];
  const int64_t kh = in2.shape[0], kw = in2.shape[1];
  int64_t* o = out_shape.dims + nd - 2;
  switch (mode) {
    case Corr2dMode::full:
      o[0] = checked_add(H, kh - 1, "output rows");
      o[1] = checked_add(W, kw - 1, "output columns");
      break;
    case Corr2dMode::same:
      o[0] = H;
      o[1] = W;
      break;
    case Corr2dMode::valid: {
      const bool ok1 = H >= kh && W >= kw, ok2 = kh >= H && kw >= W;
      if (!ok1 && !ok2)
        throw ValueError("mode: for 'valid' one of in1's planes " + shape_str(in1) + " and in2 " +
                         shape_str(in2) +
                         " must be at least as large as the other in every dimension");
      if (!ok1 && (H == 0 || W == 0))
        throw ValueError("in1: empty planes " + shape_str(in1) +
                         " cannot take the kernel's place in 'valid' mode");
      o[0] = ok1 ? H - kh + 1 : kh - H + 1;
      o[1] = ok1 ? W - kw + 1 : kw - W + 1;
      break;
    }
  }
  return out_shape;
}

void signal_corr2d(const View& in1, const View& in2, const View& out, Corr2dMode mode,
                   Border boundary, double fillvalue, bool convolve) {
  const Shape shape = signal_corr2d_shape(in1, in2, mode);
  views::check_out(out, signal_result_dtype(in1.dtype, in2.dtype), shape, "out");
  if (out.empty()) return;
  const int nd = in1.ndim;
  const int64_t H = in1.shape[nd - 2], W = in1.shape[nd - 1];
  const int64_t kh = in2.shape[0], kw = in2.shape[1];
  if (mode == Corr2dMode::valid && !(H >= kh && W >= kw)) {
    // SciPy swaps the inputs: each plane is the kernel, in2 the image. correlate then flips
    // the result; convolve (commutative) flips the plane instead.
    if (H > (1 << 30) || W > (1 << 30))
      throw MemoryError("in1: planes " + shape_str(in1) + " too large to serve as the kernel");
    const int64_t planes = views::plane_count(in1);
    for (int64_t p = 0; p < planes; ++p) {
      const View x = views::plane_view(in1, p), y = views::plane_view(out, p);
      if (convolve)
        ops::correlate(in2, ops::flipped(x), y, 0, 0, Border::fill, 0.0);
      else
        ops::correlate(in2, x, ops::flipped(y), 0, 0, Border::fill, 0.0);
    }
    return;
  }
  const View k = convolve ? ops::flipped(in2) : in2;
  int64_t top = 0, left = 0;
  if (mode == Corr2dMode::full) {
    top = kh - 1;
    left = kw - 1;
  } else if (mode == Corr2dMode::same) {
    // Where SciPy centres an even kernel: correlate reads (k-1)//2 before, convolve k//2.
    top = convolve ? kh / 2 : (kh - 1) / 2;
    left = convolve ? kw / 2 : (kw - 1) / 2;
  }
  ops::correlate(in1, k, out, top, left, boundary, fillvalue);
}

void ops::check_origin(int64_t origin, int64_t w, int axis) {
  if (origin < -(w / 2) || origin > (w - 1) / 2)
    throw ValueError(
        "origin: must satisfy -(weights.shape[k] // 2) <= origin[k] <= "
        "(weights.shape[k] - 1) // 2, got " +
        std::to_string(origin) + " for axis " + std::to_string(axis) + " of length " +
        std::to_string(w));
}

void ndimage_corr2d(const View& input, const View& weights, const View& out, Border mode,
                    double cval, const int64_t origin[2], bool convolve, bool scipy_sums,
                    bool* nonfinite) {
  if (nonfinite) *nonfinite = false;
  if (input.ndim != 2) throw ValueError("input: must be 2-D, got shape " + shape_str(input));
  ops::check_kernel(weights, "weights");
  const DType t = corr2d_result_dtype(input.dtype, weights.dtype);
  views::check_out(out, t, shape_of(input), "out");
  int64_t centre[2];
  for (int i = 0; i < 2; ++i) {
    const int64_t w = weights.shape[i];
    ops::check_origin(origin[i], w, i);
    // SciPy's convolve: flipped weights, origin negated and shifted by one for even lengths.
    const int64_t o = convolve ? -origin[i] - (w % 2 == 0 ? 1 : 0) : origin[i];
    centre[i] = w / 2 + o;
  }
  if (out.empty()) return;
  const View k = convolve ? ops::flipped(weights) : weights;
  ops::correlate(input, k, out, centre[0], centre[1], mode, cval, scipy_sums, nonfinite);
}

}  // namespace npfast
