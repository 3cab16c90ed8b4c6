"""Lazy elementwise npfast functions, block by block."""

from __future__ import annotations

from functools import partial

import numpy as np

from ._tasks import _Kernel, _Threads, _as_dask, _host_slots, _run


# ---------------------------------------------------------------------------------------------
# Elementwise


def convert(a, dtype, scale=1.0, offset=0.0, *, threads=None):
    """Lazy ``npfast.convert``: ``(a * scale + offset).astype(dtype)`` block by block.

    Parameters
    ----------
    a : dask.array.Array or array_like
        Any shape and chunking; dtypes of ``npfast.convert``.
    dtype, scale, offset :
        As in ``npfast.convert`` (no ``out=``: dask allocates each block).
    threads : int, optional
        npfast threads per task; default: a share of the cores.

    Returns
    -------
    dask.array.Array
        Same shape and chunks as ``a``; computing it equals ``npfast.convert`` on the whole
        array.
    """
    x = _as_dask(a, "a")
    kernel = _Kernel("convert")
    spec = _Threads(threads, _host_slots())
    probe = kernel(np.zeros((1,), x.dtype), dtype, scale, offset)
    fn = partial(_convert_block, kernel=kernel, dtype=dtype, scale=scale, offset=offset,
                 spec=spec)
    return x.map_blocks(fn, dtype=probe.dtype, meta=np.empty((0,) * x.ndim, probe.dtype))


def _convert_block(block, kernel, dtype, scale, offset, spec):
    return _run(spec, kernel, block, dtype, scale, offset)
