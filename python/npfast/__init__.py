"""npfast: fast, predictable CPU kernels for NumPy arrays.

Every function takes NumPy arrays (any strides) and returns ordinary NumPy arrays whose memory
comes from npfast's caching pool. Errors follow one contract (README, "Errors"): ValueError for
bad values and shapes, TypeError for bad types and dtypes, MemoryError for impossible sizes.
"""

from . import _npfast
from ._npfast import __version__, convert, get_num_threads, set_num_threads
from ._config import config, show_config
from . import _threadpoolctl
from . import nn

__all__ = [
    "__version__",
    "config",
    "convert",
    "get_num_threads",
    "nn",
    "set_num_threads",
    "show_config",
]

_threadpoolctl.register()
