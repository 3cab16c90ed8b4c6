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
// nonfinite, where not null: set to whether any value the kernels read (input or fill), or a
// rank-one plan's along-row result, is an inf or a NaN (scanned row by row while in cache).
void correlate(const View& in, const View& k, const View& out, int64_t top, int64_t left,
               Border border, double fill, bool scipy_sums = false, bool* nonfinite = nullptr);
// v with its last two axes reversed (a view, no copy).
View flipped(const View& v);
// Whether the in-place interior of a plane runs right to left: `store` is the address of its
// first output row's first interior element and `load` that of the middle of the input window
// the element reads (column c0 - left + kw / 2): a block's loads reach (kw - 1) elements past
// its stores, so measured from their middles the alias window is the same going forward and
// going backward. Rows are rs bytes apart in both; the window of an output row starts `top`
// rows above it, kh rows high. Right to left where some row pair of a group of kMaxRows output
// rows and the input rows they read lies [kAliasSlowFrom, kAliasSlowTo] bytes ahead modulo
// 4 KiB (alias_hits) and fewer than a third as many lie that far behind (the mirror a
// right-to-left run sees; src/ops/corr2d.cc).
bool interior_runs_reverse(uintptr_t load, uintptr_t store, int64_t rs, int kh, int64_t top);
// Output rows the interior ran right to left since the process started: for tests that check
// the choice itself, not only the bits (each direction gives the same bits).
int64_t corr2d_reverse_rows();

}  // namespace ops
}  // namespace npfast
