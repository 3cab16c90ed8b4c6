"""The three passes of a separable filter over a 3-D volume (gaussian_filter's, sobel's,
uniform_filter's) as one sweep through memory (``_npfast._correlate1d_volume``,
``_npfast._uniform_filter_volume``, src/ops/ndimage_volume.cc): the same bits as the passes
one after the other."""

from __future__ import annotations

import numpy as np

from . import _npfast
from ._ndimage_support import as_float, mode_code

_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


def _sweeps(input, output, dtypes):
    # Input and output of one dtype in `dtypes`, 3-D, apart: the passes read the input after
    # the output is written.
    return (input.ndim == 3 and input.dtype in dtypes and output.dtype == input.dtype
            and not np.may_share_memory(input, output))


def correlate1d_volume(input, weights, modes, output, cval):
    """The three correlate1d passes (origin 0) along axes 0, 1, 2 of a 3-D ``input``, in
    order, with ``weights`` and ``modes`` per axis, into ``output``, fused; False (nothing
    written) when the arrays do not allow it (not float32/float64 in and out alike,
    sharing memory), for the caller's unfused passes."""
    if not _sweeps(input, output, _FLOATS):
        return False
    w = [np.ascontiguousarray(wi, dtype=np.float64) for wi in weights]
    _npfast._correlate1d_volume(input, *w, *(mode_code(m) for m in modes), output,
                                as_float(cval, "cval"))
    return True


def uniform_volume(input, sizes, origins, modes, output, cval):
    """The three uniform_filter1d passes along axes 0, 1, 2 of a 3-D float32 ``input``, in
    order, with ``sizes``, ``origins`` and ``modes`` per axis, into ``output``, fused where
    the sizes allow it; False (nothing written) when the arrays do not (not float32 in and
    out, sharing memory), for the caller's unfused passes."""
    if not _sweeps(input, output, _FLOATS[:1]):
        return False
    _npfast._uniform_filter_volume(input, *sizes, *origins, *(mode_code(m) for m in modes),
                                   output, as_float(cval, "cval"))
    return True
