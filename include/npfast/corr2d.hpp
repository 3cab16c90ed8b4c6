// 2-D correlation and convolution with SciPy's semantics (scipy.signal.correlate2d /
// convolve2d and scipy.ndimage.correlate / convolve), over stacks of planes.
#pragma once

#include <cstdint>

#include "npfast/border.hpp"
#include "npfast/view.hpp"

namespace npfast {

enum class Corr2dMode : int { full, same, valid };

// The dtype results are computed and returned in: float32 when both are float32, otherwise
// float64 (integers are computed in float64). Throws TypeError for other dtypes.
DType corr2d_result_dtype(DType input, DType kernel);

// scipy.signal.correlate2d / convolve2d's float result: float32 also where one operand is
// float32 and the other an integer of at most 16 bits (NumPy promotes that pair to float32, and
// such integers are float32 values exactly; SciPy computes it in float32 too), else
// corr2d_result_dtype (integer pairs in float64 where SciPy keeps their dtype).
DType signal_result_dtype(DType in1, DType in2);

// The generic operator all others reduce to. For every plane of `input` (..., H, W) and
// `out` (..., Ho, Wo) (same leading shape):
//   out[..., i, j] = sum over a < kh, b < kw of kernel[a, b] * ext(input)[..., i + a - top, j + b -
//   left]
// with ext() the extension `border` (fill value `fill`). `kernel` is 2-D, non-empty, any
// dtype and strides; `input` any supported dtype and strides; `out` of
// corr2d_result_dtype(input, kernel), any strides, not overlapping the inputs. Accumulates in
// the result dtype with fused multiply-adds (the scalar ISA: in double). Threads over row bands.
void correlate2d_general(const View& input, const View& kernel, const View& out, int64_t top,
                         int64_t left, Border border, double fill);

// Where a new output of a correlation of `input` with a kernel of `kh` rows should start: the
// page offset (bytes: a multiple of 64 in [0, 4096)) that keeps the kernels' input loads away
// from their recent output stores modulo 4 KiB, or -1 when placement does not matter (output
// rows not as far apart as the input's, or nothing the kernels read in place). `out_t` is the
// result dtype and `out_row_bytes` the new array's row stride.
int64_t corr2d_output_page_offset(const View& input, int kh, DType out_t, int64_t out_row_bytes);

// scipy.signal.correlate2d / convolve2d on every plane of `in1` (..., H, W) with the 2-D
// `in2`. Output shape for `mode` (last two axes): full (H + kh - 1, W + kw - 1), same (H, W),
// valid (H - kh + 1, W - kw + 1), or, when in2 is at least as large as the planes in both axes,
// (kh - H + 1, kw - W + 1) (SciPy swaps the inputs; the kernel is then the plane).
// Throws ValueError for a bad kernel or a valid-mode
// shape mismatch, MemoryError when the shape cannot be represented.
Shape signal_corr2d_shape(const View& in1, const View& in2, Corr2dMode mode);
void signal_corr2d(const View& in1, const View& in2, const View& out, Corr2dMode mode,
                   Border boundary, double fillvalue, bool convolve);

// scipy.ndimage.correlate / convolve for a 2-D input with 2-D weights: out has the input's
// shape. origin[k] must lie in [-(w_k // 2), (w_k - 1) // 2] (ValueError otherwise).
// scipy_sums (out float64): SciPy's sums bit for bit (f64_corr2d_scipy), else the fused
// multiply-adds of the corr2d kernels (within 1e-13 of SciPy for float64). nonfinite, where not
// null: set to whether a value read (input, or cval where the mode reads it), or an along-row
// result of rank-one weights' two passes, is inf or NaN.
void ndimage_corr2d(const View& input, const View& weights, const View& out, Border mode,
                    double cval, const int64_t origin[2], bool convolve, bool scipy_sums = false,
                    bool* nonfinite = nullptr);

// scipy.ndimage.correlate / convolve for any rank: `weights` has the input's rank (non-empty),
// origin[input.ndim] as above; `out` is float32 or float64, the input's shape, any strides, not
// overlapping the inputs. A 2-D input with out of corr2d_result_dtype runs ndimage_corr2d
// (scipy_sums passed on); any other is computed exactly as SciPy does (in double, weights in C
// order, taps with |w| <= DBL_EPSILON skipped) and rounded once to out's dtype. With
// scipy_sums (out float64; TypeError otherwise) every result is SciPy's bit for bit (what an
// integer output, truncated, needs). nonfinite: as ndimage_corr2d's where that runs, else false
// (SciPy's loop skips its taps itself).
void ndimage_correlate(const View& input, const View& weights, const View& out, Border mode,
                       double cval, const int64_t* origin, bool convolve, bool scipy_sums = false,
                       bool* nonfinite = nullptr);

}  // namespace npfast
