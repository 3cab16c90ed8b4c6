// Three line passes over a volume in one sweep through memory (the operators behind the 3-D
// cases of npfast.ndimage.gaussian_filter, sobel, prewitt and uniform_filter;
// python/npfast/_volume.py).
#pragma once

#include <cstdint>

#include "npfast/border.hpp"
#include "npfast/view.hpp"

namespace npfast {

// Three correlate1d passes with origin 0 over a 3-D array, in SciPy's order: weights w[0]
// along axis 0 (input -> out), then w[1] along axis 1 and w[2] along axis 2 (out -> out),
// each with its own mode and the common `cval`. When input and out are both float32 (or both
// float64), contiguous along the last axis, at least 8 wide and at different addresses
// (they must not overlap then), the passes are fused: the volume is read once and written
// once, in bands of rows swept through every plane (the first pass's rows and the second
// pass's band stay in L2); otherwise the passes run one after the other (correlate1d, then
// correlate1d_pair). Every output element is computed by the same kernels in the same order
// either way: the bits are the three passes'. Errors as correlate1d.
void correlate1d_volume(const View& input, const double* const w[3], const int64_t n[3],
                        const Border mode[3], const View& out, double cval);

// Three uniform_filter1d passes over a 3-D array, along axes 0, 1, 2 in turn (input -> out,
// then out -> out), with a size, origin and mode per axis and the common `cval`. Fused as
// correlate1d_volume for float32 input and output (same conditions) with sizes <= 8 along axes
// 0 and 1 and <= 32 along axis 2, where the float32 kernels sum each window directly (so a
// block may start anywhere); otherwise uniform_filter1d, then uniform_filter_pair. The bits
// are the three passes' either way. Errors as uniform_filter1d.
void uniform_filter_volume(const View& input, const int64_t size[3], const int64_t origin[3],
                           const Border mode[3], const View& out, double cval);

}  // namespace npfast
