// Elementwise conversion.
#pragma once

#include <cstdint>

#include "npfast/view.hpp"

namespace npfast {

// y = cast<y.dtype>(x * scale + offset), computed in double with one fused multiply-add and
// rounded once. x: u8, i8, u16, i16, i32, i64, f32 or f64; y: f32, f64, or u8 (round half to
// even, saturate to [0, 255], NaN -> 0). Shapes must match; any strides.
// Throws TypeError for other dtypes and ValueError for a shape mismatch, before writing.
// Outputs of at least kStreamOutputBytes are written with non-temporal stores (they would not
// stay in cache anyway; see docs/memory.md).
void convert(const View& x, const View& y, double scale, double offset);

// CNN input preprocessing: y = cast<y.dtype>((x / 255 - mean[c]) / stddev[c]) for the channel
// c of each element, computed as one fma in double, x * (1 / (255 stddev[c])) - mean[c] /
// stddev[c]. x: uint8, channel axis `channel_axis` (negative counts from the end); y: float32
// or float64 with x's shape, or with the channel axis moved to position ndim - 3 when to_chw
// (HWC -> CHW, NHWC -> NCHW). mean and stddev hold n_stats values: 1 (all channels) or C.
// Throws TypeError for dtypes and ValueError for axes, shapes and stats (stddev must be finite
// and non-zero), before writing.
void normalize(const View& x, const View& y, const double* mean, const double* stddev,
               int64_t n_stats, int channel_axis, bool to_chw);
// The channel axis in [0, ndim) (ValueError when out of range or when to_chw needs ndim >= 3),
// and the output shape of normalize().
int normalize_axis(const View& x, int64_t channel_axis, bool to_chw);
Shape normalize_shape(const View& x, int channel_axis, bool to_chw);

}  // namespace npfast
