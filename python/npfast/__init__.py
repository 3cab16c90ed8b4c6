"""npfast: fast, predictable CPU kernels for NumPy arrays.

Every function takes NumPy arrays (any strides) and returns ordinary NumPy arrays whose memory
comes from npfast's caching pool. Errors follow one contract (README, "Errors"): ValueError for
bad values and shapes, TypeError for bad types and dtypes, MemoryError for impossible sizes.
"""

from . import _npfast
from ._npfast import __version__, convert, get_num_threads, set_num_threads
from ._npfast import conv2d, conv2d_backward
from ._config import config, show_config
from . import _threadpoolctl

__all__ = [
    "__version__",
    "config",
    "conv2d",
    "conv2d_backward",
    "convert",
    "get_num_threads",
    "set_num_threads",
    "show_config",
]

_threadpoolctl.register()
