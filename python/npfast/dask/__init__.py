"""npfast on Dask arrays: the same kernels inside Dask tasks, lazily and chunk by chunk.

Every function here takes a ``dask.array.Array`` (a NumPy array is wrapped as one chunk),
returns a lazy, chunked ``dask.array.Array`` and computes, block by block, exactly what the
in-memory npfast function computes on the whole array: chunk edges, halos, strides and the
image borders are handled so that ``npfast.dask.f(x).compute()`` equals ``npfast.f(x_numpy)``
(same kernels, same arithmetic per output element; see docs/dask.md).

=====================  ====================================  ===============================
function               matches                               how it is split
=====================  ====================================  ===============================
correlate2d            npfast.correlate2d (scipy.signal)     halos of neighbouring blocks
convolve2d             npfast.convolve2d (scipy.signal)      halos of neighbouring blocks
conv2d                 npfast.conv2d (torch conv2d)          batch, group and space windows
max_pool2d             npfast.max_pool2d (torch)             batch, channel and space windows
avg_pool2d             npfast.avg_pool2d (torch)             batch, channel and space windows
convert                npfast.convert                        block by block
ndimage.<filter>       npfast.ndimage (scipy.ndimage)        halos from each filter's reach
=====================  ====================================  ===============================

The npfast kernel is looked up on the ``npfast`` module when the graph is built and travels
with the graph (compiled kernels by name, Python functions by value), so any scheduler works:
synchronous, threads, processes or a ``distributed`` cluster.

Threads: each task sets npfast's thread count to a share of the cores so that concurrently
running tasks do not oversubscribe the machine (tasks per host x npfast threads <= cores). The
``threads=`` argument of every function, or the environment variable ``NPFAST_DASK_THREADS``
seen by the worker, overrides the share.
"""

from __future__ import annotations

try:
    import dask.array  # noqa: F401
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError("npfast.dask needs dask[array] (and distributed for clusters): "
                      "pip install 'npfast[dask]'") from exc

# One module per concern: _tasks (kernels in the graph, threads in tasks, chunk helpers),
# _correlate (scipy.signal halos), _windows (strided windows), _elementwise.
from ._correlate import convolve2d, correlate2d
from ._elementwise import convert
from ._tasks import ENV_THREADS, _Kernel  # noqa: F401  (_Kernel: pickling tests)
from ._windows import avg_pool2d, conv2d, max_pool2d

# npfast.dask.ndimage: the npfast.ndimage filters (scipy.ndimage semantics) on dask arrays,
# importable as a module of its own (``import npfast.dask.ndimage``).
from . import _ndimage as ndimage  # noqa: E402
import sys as _sys  # noqa: E402

_sys.modules[__name__ + ".ndimage"] = ndimage

__all__ = ["avg_pool2d", "conv2d", "convert", "convolve2d", "correlate2d", "max_pool2d",
           "ENV_THREADS", "ndimage"]
