"""npfast's caching memory pool, and a hook that lets NumPy allocate from it.

Every array npfast returns already lives in the pool. The hook extends that to NumPy's own
allocations (``astype``, ufunc outputs, temporaries) through NumPy's NEP 49 allocator API, so a
program that allocates and frees the same big arrays in a loop gets warm memory back instead
of fresh pages from the OS (first touch of fresh pages runs at ~1 GB/s, warm writes at
~30 GB/s)::

    with npfast.memory.numpy_pool():
        for frame in frames:
            t = frame.astype(np.float64)   # reuses the block freed by the last iteration
            out = t / 255.0

Notes
-----
* NumPy keeps the handler in a context variable: it applies to the thread (or asyncio task)
  that installed it. **Threads started inside ``numpy_pool()`` do not inherit it**: a new
  thread starts with NumPy's default handler; call ``install()`` (or enter ``numpy_pool()``)
  in that thread too.
* Each array remembers the handler that allocated it and frees through it, so arrays made
  under the hook may outlive it and arrays made before it may die under it.
* Freed blocks are cached up to ``limit()`` bytes (``NPFAST_POOL_LIMIT``, e.g. ``512M``;
  default min(1 GiB, RAM/8)); past the cap the least recently used go back to the OS, down to
  7/8 of it. Small blocks also sit in each thread's own cache, up to 4 MiB a thread outside
  the cap (``stats()`` counts them; docs/memory.md). Big blocks unused for
  ``NPFAST_POOL_DECAY_MS`` (default 10000) are released at the pool's next use; ``trim()``
  returns the whole cache to the OS now (other threads' own caches at their next use).
* Blocks of 4 MiB and more are mapped on 2 MiB boundaries and advised to use huge pages
  (``NPFAST_POOL_HUGEPAGES=0`` turns that off).

See docs/memory.md for the design and measurements.
"""

from __future__ import annotations

import contextvars

from . import _npfast

_set_handler = _npfast._set_handler
_POOL = _npfast._pool_handler()

__all__ = [
    "handler_name",
    "install",
    "is_installed",
    "limit",
    "numpy_pool",
    "set_limit",
    "stats",
    "trim",
    "uninstall",
]

HANDLER_NAME = "npfast_pool"

# The handler that was current when install() replaced it, per context (as NumPy's own).
_previous: contextvars.ContextVar = contextvars.ContextVar("npfast_previous_handler", default=None)


def stats() -> dict:
    """Counters of the pool, as a dict of ints.

    bytes_in_use    bytes handed out and not yet freed (usable size of each block)
    bytes_cached    freed bytes kept warm for reuse
    bytes_reserved  bytes obtained from the OS and not yet returned
    hits, misses    requests served from the cache / from the OS
    os_allocs, os_frees  blocks obtained from / returned to the OS

    Each counter is exact; they are read one after another while other threads run, so the
    set is not an atomic snapshot.
    """
    return _npfast._pool_stats()


def trim() -> None:
    """Return every cached block to the OS.

    The calling thread's cache and the shared cache are released now; other threads hand
    their small cached blocks over at their next allocation or free (a later ``trim()``
    releases those).
    """
    _npfast._pool_trim()


def limit() -> int:
    """The cap on cached bytes (``NPFAST_POOL_LIMIT`` at start-up)."""
    return _npfast._pool_limit()


def set_limit(nbytes: int) -> None:
    """Set the cap on cached bytes; a lower cap evicts at once (the per-thread caches of small
    blocks, up to 4 MiB each, are outside it). TypeError unless an integer (no bool),
    ValueError if negative or beyond int64."""
    _npfast._pool_set_limit(nbytes)


def handler_name() -> str:
    """Name of NumPy's current allocation handler in this context (``"npfast_pool"`` or
    NumPy's ``"default_allocator"``), like ``numpy.core.multiarray.get_handler_name()``."""
    return _npfast._handler_name()


def is_installed() -> bool:
    """True when NumPy allocates from npfast's pool in the current thread/context."""
    return handler_name() == HANDLER_NAME


def install() -> None:
    """Make NumPy allocate from npfast's pool in the current thread/context until
    ``uninstall()``. Installing twice is harmless. Threads started later do not inherit it."""
    ours = _npfast._pool_handler()
    old = _npfast._set_handler(ours)
    # The handler replaced; the pool itself where a numpy_pool() block had set it (uninstall()
    # then leaves the block's pool: probe19e). A second install() keeps the first's record.
    if old is not ours or _previous.get() is None:
        _previous.set(old)


def uninstall() -> None:
    """Restore the handler that ``install()`` replaced (NumPy's default if none). Arrays
    allocated from the pool meanwhile stay valid and go back to the pool when they die."""
    if not is_installed():
        return
    _npfast._set_handler(_previous.get())
    _previous.set(None)


class numpy_pool:
    """Context manager: NumPy allocates from npfast's pool inside the ``with`` block (in this
    thread/context only), and the previous handler is restored on exit. Nests; one instance
    may be entered repeatedly. (A class rather than a generator: entering costs ~1 us.)"""

    __slots__ = ("_saved",)

    def __init__(self) -> None:
        self._saved = []

    def __enter__(self) -> None:
        self._saved.append(_set_handler(_POOL))

    def __exit__(self, *exc) -> None:
        if not self._saved:  # probe22d: a bare IndexError
            raise RuntimeError("numpy_pool: __exit__ without a matching __enter__")
        _set_handler(self._saved.pop())
