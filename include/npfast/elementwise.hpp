// Elementwise conversion.
#pragma once

#include "npfast/view.hpp"

namespace npfast {

// y = cast<y.dtype>(x * scale + offset), computed in double with one fused multiply-add and
// rounded once. x: u8, i8, u16, i16, i32, i64, f32 or f64; y: f32, f64, or u8 (round half to
// even, saturate to [0, 255], NaN -> 0). Shapes must match; any strides.
// Throws TypeError for other dtypes and ValueError for a shape mismatch, before writing.
void convert(const View& x, const View& y, double scale, double offset);

}  // namespace npfast
