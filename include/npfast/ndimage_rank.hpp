// scipy.ndimage's rank filters on N-D strided arrays: the operators behind
// npfast.ndimage.minimum_filter1d / maximum_filter1d / minimum_filter / maximum_filter /
// median_filter / rank_filter / percentile_filter (python/npfast/_rank_filters.py does SciPy's
// argument handling and dispatch, and builds the separable filters from minmax_filter1d).
#pragma once

#include <cstdint>

#include "npfast/border.hpp"
#include "npfast/view.hpp"

namespace npfast {

// scipy.ndimage.minimum_filter1d / maximum_filter1d along `axis`: the minimum (maximum) of
// ext(input)[..., i - size / 2 - origin + j, ...] for j < size, exactly SciPy's
// NI_MinOrMaxFilter1D answer, NaN included (see src/kernels/rank/rank.h), then cast to out's
// dtype as SciPy's C cast. `out` has input's shape, any supported dtype and strides, and is
// `input` itself or does not overlap it. Throws ValueError for a bad axis, size < 1, an
// origin outside [-(size / 2), (size - 1) / 2] or a shape mismatch.
void minmax_filter1d(const View& input, int64_t size, int axis, const View& out, Border mode,
                     double cval, int64_t origin, bool minimum);

// The last two passes of scipy.ndimage.minimum_filter / maximum_filter with sizes on the last
// two axes (of every plane of an N-D array, N >= 2): minmax_filter1d along axis N-2 (size[0],
// mode[0], origin[0]) then along axis N-1, fused over bands of rows (the vertical result of a
// band stays in cache for the horizontal pass), with the values of the two passes run one
// after the other. Takes input and out of the same dtype (float32, float64, uint8, uint16,
// int32), rows contiguous (unit stride along the last axis),
// not sharing memory, a cval the dtype holds exactly when a mode is constant, and no NaN or
// infinity in a floating input (SciPy's answer on a NaN column depends on the whole column;
// the bands would not see it); returns false for anything else, possibly having written part
// of `out` (the caller then runs the two passes, which overwrite it). Throws
// ValueError for sizes < 1, bad origins or a shape mismatch.
//
// axes = 3: size / mode / origin have three entries, the first for axis N-3 (N >= 3), whose
// pass runs first, folded across that many neighbouring planes for each row the 2-D pair reads
// (one sweep through a volume instead of a pass into scratch and the pair; the same values);
// only with both size[0] and size[1] <= 16 and an input of 5 MiB or more (in cache the passes
// are faster), else false with nothing written.
bool minmax_filter2d(const View& input, const int64_t* size, const View& out, const Border* mode,
                     double cval, const int64_t* origin, bool minimum, int axes = 2);
// The volume size from which axes = 3 sweeps (tests: 0 sweeps any volume; < 0 the default).
void set_minmax_sweep_bytes_for_testing(int64_t bytes);

// scipy.ndimage.minimum_filter / maximum_filter with a footprint that is not all true
// (NI_MinOrMaxFilter), and rank_filter (NI_RankFilter, also behind median_filter and
// percentile_filter) with any footprint. `footprint`: a C-contiguous uint8 array with
// input.ndim dimensions (nonzero = in the window), at least one entry set; `origins`: one per
// axis, each within [-(f // 2), (f - 1) // 2]. The window of output x is
// ext(input)[x - f // 2 - origin + j] over the footprint's set entries j, in C order; ext() is
// `mode` with cval first cast to the input's dtype (SciPy's `(_type)cval`). Computed in the
// input's own values (integers of up to 32 bits exactly), the result cast to out's dtype.
// `out` as for minmax_filter1d. Throws ValueError for a footprint of the wrong rank or dtype,
// an empty footprint, a bad origin, rank outside [0, set entries) or a shape mismatch.
void minmax_footprint(const View& input, const View& footprint, const int64_t* origins,
                      const View& out, Border mode, double cval, bool minimum);
void rank_filter(const View& input, const View& footprint, const int64_t* origins, int64_t rank,
                 const View& out, Border mode, double cval);

}  // namespace npfast
