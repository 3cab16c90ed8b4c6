"""npfast: fast, predictable CPU kernels for NumPy arrays.

Every function takes NumPy arrays (any strides) and returns ordinary NumPy arrays whose memory
comes from npfast's caching pool. Errors follow one contract (README, "Errors"): the anchor's
exception class where SciPy / PyTorch / NumPy define one for that argument (where the anchor
raises RuntimeError, npfast raises AnchorValueError / AnchorTypeError, which are both npfast's
ValueError / TypeError and the anchor's RuntimeError); otherwise ValueError for bad values and
shapes, TypeError for bad types and dtypes, MemoryError for impossible sizes.
"""

import atexit as _atexit
import threading as _threading

from . import _npfast
from ._npfast import __version__, convert, get_num_threads, set_num_threads


@_atexit.register
def _exiting():
    # Daemon threads inside npfast calls park from here on instead of being ended by the
    # finalization while they wait for the GIL, which aborted the process in CPython 3.11
    # (python/npfast/bind.h, ReleaseGil). Only where other threads are alive is the GIL let go
    # (10 ms) for those already waiting for it.
    _npfast._exiting(10 if _threading.active_count() > 1 else 0)
from ._npfast import (
    adaptive_avg_pool2d,
    avg_pool2d,
    avg_pool2d_backward,
    max_pool2d,
    max_pool2d_backward,
    max_unpool2d,
)
from ._npfast import convolve2d, correlate2d
from . import ndimage
from ._npfast import empty, normalize, zeros
from . import memory
from ._npfast import matmul
from ._npfast import conv2d, conv2d_backward
from ._npfast import conv_transpose2d, conv_transpose2d_backward
from ._npfast import batch_norm, batch_norm_backward
# Raised where the anchor raises RuntimeError (README, "Errors"); not in __all__: classes.
from ._npfast import AnchorTypeError, AnchorValueError
from ._config import config, show_config
from . import _threadpoolctl
from . import nn

__all__ = [
    "__version__",
    "adaptive_avg_pool2d",
    "avg_pool2d",
    "avg_pool2d_backward",
    "batch_norm",
    "batch_norm_backward",
    "config",
    "conv2d",
    "conv2d_backward",
    "conv_transpose2d",
    "conv_transpose2d_backward",
    "convert",
    "convolve2d",
    "correlate2d",
    "empty",
    "get_num_threads",
    "matmul",
    "max_pool2d",
    "max_pool2d_backward",
    "max_unpool2d",
    "memory",
    "ndimage",
    "nn",
    "normalize",
    "set_num_threads",
    "show_config",
    "zeros",
]

_threadpoolctl.register()
