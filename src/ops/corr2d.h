// Internals of the corr2d operator shared by its SciPy-facing entry points (corr2d_scipy.cc).
#pragma once

#include <cstdint>

#include "npfast/corr2d.hpp"
#include "npfast/view.hpp"

namespace npfast {
namespace ops {

// ValueError unless -(w // 2) <= origin <= (w - 1) // 2 (scipy.ndimage's range for weights of
// length w along `axis`).
void check_origin(int64_t origin, int64_t w, int axis);
// ValueError unless k is 2-D and non-empty (MemoryError for absurd sizes); `name` in messages.
void check_kernel(const View& k, const char* name);
// correlate2d_general without the checks (arguments already validated); nothing for an empty out.
// scipy_sums: SciPy's sums bit for bit (the f64_corr2d_scipy kernel; out float64 only).
void correlate(const View& in, const View& k, const View& out, int64_t top, int64_t left,
               Border border, double fill, bool scipy_sums = false);
// v with its last two axes reversed (a view, no copy).
View flipped(const View& v);

}  // namespace ops
}  // namespace npfast
