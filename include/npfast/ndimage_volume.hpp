// gaussian_filter's three passes over a volume in one sweep through memory (the operator
// behind the 3-D case of npfast.ndimage.gaussian_filter; python/npfast/_volume.py).
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

}  // namespace npfast
