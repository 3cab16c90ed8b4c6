"""gaussian_filter's three passes over a 3-D volume as one sweep through memory
(``_npfast._correlate1d_volume``, src/ops/ndimage_volume.cc): the same bits as the passes
one after the other."""

from __future__ import annotations

import numpy as np

from . import _npfast
from ._ndimage_support import as_float, mode_code

_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


def correlate1d_volume(input, weights, modes, output, cval):
    """The three correlate1d passes (origin 0) along axes 0, 1, 2 of a 3-D ``input``, in
    order, with ``weights`` and ``modes`` per axis, into ``output``, fused; False (nothing
    written) when the arrays do not allow it (not float32/float64 in and out alike,
    sharing memory), for the caller's unfused passes."""
    if (input.ndim != 3 or input.dtype not in _FLOATS or output.dtype != input.dtype
            or np.may_share_memory(input, output)):
        return False
    w = [np.ascontiguousarray(wi, dtype=np.float64) for wi in weights]
    _npfast._correlate1d_volume(input, *w, *(mode_code(m) for m in modes), output,
                                as_float(cval, "cval"))
    return True
