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

}  // namespace npfast
