// scipy.ndimage's linear 1-D filters on N-D strided arrays: the operators behind
// npfast.ndimage.correlate1d / uniform_filter1d and everything built from them (gaussian,
// sobel, prewitt, laplace, ...; python/npfast/_filters.py).
#pragma once

#include <cstdint>

#include "npfast/border.hpp"
#include "npfast/view.hpp"

namespace npfast {

// scipy.ndimage.correlate1d along `axis` (0 <= axis < input.ndim):
//   out[..., i, ...] = sum_{j < size} weights[j] * ext(input)[..., i + j - size / 2 - origin, ...]
// with ext() the extension `mode` (fill value `cval`), summed in SciPy's order (odd symmetric
// and antisymmetric weights folded, as NI_Correlate1D). Computed in float32 when input and out
// are both float32, otherwise in double, which reproduces SciPy bit for bit; then cast to
// out's dtype as SciPy's C cast does (integers truncate toward zero). `out` has input's shape,
// any supported dtype and strides, and is either `input` itself or does not overlap it.
// Throws ValueError for a bad axis, size < 1, origin outside [-(size / 2), (size - 1) / 2] or
// a shape mismatch. Threads over blocks of lines.
void correlate1d(const View& input, const double* weights, int64_t size, int axis, const View& out,
                 Border mode, double cval, int64_t origin);

// scipy.ndimage.uniform_filter1d: the mean of `size` elements along `axis` with the same
// centring, origin, modes, casts and errors as correlate1d, computed as SciPy's running sum
// (s += new - old; out = s / size), bit for bit in double.
void uniform_filter1d(const View& input, int64_t size, int axis, const View& out, Border mode,
                      double cval, int64_t origin);

// Two correlate1d passes with origin 0, the first along axis0 (input -> out), the second along
// axis1 (out -> out), one of them the last axis: gaussian_filter's, sobel's and prewitt's last
// two passes over an image. When input and out are both float32 (or both float64), contiguous
// along the last axis and distinct, the passes are fused over bands of rows (the first pass's
// rows stay in cache for the second; rows a band needs from its neighbours are recomputed);
// otherwise they run one after the other. The bits are the two passes' either way. Arguments
// and errors as correlate1d.
void correlate1d_pair(const View& input, const double* w0, int64_t n0, int axis0, Border mode0,
                      const double* w1, int64_t n1, int axis1, Border mode1, const View& out,
                      double cval);

// Two uniform_filter1d passes, along axis0 (input -> out) then along the last axis (out ->
// out): uniform_filter's last two over an image. Fused over bands of rows for float32 input
// and output (distinct, contiguous along the last axis, size1 <= 32); otherwise the two
// passes. The bits are the two passes' either way.
void uniform_filter_pair(const View& input, int64_t size0, int axis0, Border mode0, int64_t origin0,
                         int64_t size1, Border mode1, int64_t origin1, const View& out,
                         double cval);

}  // namespace npfast
