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

import contextlib
import math
import multiprocessing
import operator
import os
import sys
import threading
from bisect import bisect_right
from functools import partial

import numpy as np

try:
    import dask
    import dask.array as da
    from dask.array.core import Array
    from dask.base import tokenize
    from dask.highlevelgraph import HighLevelGraph
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError("npfast.dask needs dask[array] (and distributed for clusters): "
                      "pip install 'npfast[dask]'") from exc

import npfast

__all__ = ["avg_pool2d", "conv2d", "convert", "convolve2d", "correlate2d", "max_pool2d",
           "ENV_THREADS"]

ENV_THREADS = "NPFAST_DASK_THREADS"


# ---------------------------------------------------------------------------------------------
# Kernels travel with the graph


def _import_kernel(module: str, attr: str):
    import importlib

    return getattr(importlib.import_module(module), attr)


class _Kernel:
    """An npfast function resolved when the graph is built.

    Compiled (nanobind) functions cannot be pickled, so they travel by module and name and are
    looked up again in the worker; Python functions travel as themselves (cloudpickle).
    """

    def __init__(self, name: str, fn=None):
        self.name = name
        self.fn = getattr(npfast, name, None) if fn is None else fn
        if self.fn is None:
            raise NotImplementedError(f"npfast.{name} is not available in this build of npfast")

    def __call__(self, *args, **kwargs):
        return self.fn(*args, **kwargs)

    def token(self):
        """Identifies the function for graph key names."""
        fn = self.fn
        return (self.name, getattr(fn, "__module__", None), getattr(fn, "__qualname__", None))

    def __reduce__(self):
        if type(self.fn).__name__ == "nb_func":
            return (_resolved_kernel, (self.name, self.fn.__module__, self.fn.__name__))
        return (_Kernel, (self.name, self.fn))


def _resolved_kernel(name, module, attr):
    return _Kernel(name, _import_kernel(module, attr))


# ---------------------------------------------------------------------------------------------
# npfast threads inside tasks


class _Threads:
    """What a task needs to choose its npfast thread count: the user's override and, when a
    distributed client existed at graph-build time, how many task slots each host has."""

    def __init__(self, threads, host_slots):
        if threads is not None:
            if isinstance(threads, bool) or not isinstance(threads, (int, np.integer)):
                raise TypeError(f"threads: expected an int or None, got {type(threads).__name__}")
            if not 1 <= threads <= 1024:
                raise ValueError(f"threads: must be between 1 and 1024, got {threads}")
            threads = int(threads)
        self.threads = threads
        self.host_slots = host_slots

    def count(self):
        """npfast threads for a task starting now, or None to leave the setting alone."""
        if self.threads is not None:
            return self.threads
        env = os.environ.get(ENV_THREADS, "").strip()
        if env:
            try:
                n = int(env)
            except ValueError:
                raise ValueError(
                    f"{ENV_THREADS}: expected a positive integer, got {env!r}") from None
            if not 1 <= n <= 1024:
                raise ValueError(f"{ENV_THREADS}: must be between 1 and 1024, got {n}")
            return n
        cores = npfast._npfast.usable_cores()
        worker = _current_worker()
        if worker is not None:
            host = _host_of(worker.address)
            slots = self.host_slots.get(host) or _worker_nthreads(worker)
        elif threading.current_thread() is not threading.main_thread() or \
                multiprocessing.parent_process() is not None:
            # dask's threaded scheduler, or a process of its multiprocessing pool: as many
            # concurrent tasks as its pool has workers (default: the cores)
            slots = dask.config.get("num_workers", None) or cores
        else:
            return None  # synchronous scheduler: one task at a time, the caller's own setting
        return max(1, cores // max(1, slots))


def _current_worker():
    dist = sys.modules.get("distributed")
    if dist is None:
        return None
    try:
        return dist.get_worker()
    except ValueError:
        return None


def _worker_nthreads(worker) -> int:
    state = getattr(worker, "state", None)
    return int(getattr(state, "nthreads", None) or getattr(worker, "nthreads", 1) or 1)


def _host_of(address: str) -> str:
    return address.split("://")[-1].rsplit(":", 1)[0]


def _host_slots() -> dict:
    """{host: task slots} of the current distributed client's workers ({} without one)."""
    dist = sys.modules.get("distributed")
    if dist is None:
        return {}
    try:
        client = dist.default_client()
        workers = client.scheduler_info(n_workers=-1)["workers"]
    except Exception:  # no client, or a client we cannot ask: fall back to per-worker counts
        return {}
    slots: dict = {}
    for addr, info in workers.items():
        host = info.get("host") or _host_of(addr)
        slots[host] = slots.get(host, 0) + int(info.get("nthreads", 1))
    return slots


_share_lock = threading.Lock()
_share_users = 0
_share_saved = 1


@contextlib.contextmanager
def _thread_share(spec: _Threads):
    """Sets npfast's (process-wide) thread count for the tasks running now; the setting found
    before the first of them is restored when the last one ends."""
    global _share_users, _share_saved
    n = spec.count()
    if n is None:
        yield
        return
    with _share_lock:
        if _share_users == 0:
            _share_saved = npfast.get_num_threads()
        _share_users += 1
        if npfast.get_num_threads() != n:
            npfast.set_num_threads(n)
    try:
        yield
    finally:
        with _share_lock:
            _share_users -= 1
            if _share_users == 0 and npfast.get_num_threads() != _share_saved:
                npfast.set_num_threads(_share_saved)


def _run(spec: _Threads, fn, *args, **kwargs):
    with _thread_share(spec):
        return fn(*args, **kwargs)


# ---------------------------------------------------------------------------------------------
# Small helpers


def _as_dask(a, name: str) -> da.Array:
    if not isinstance(a, da.Array):
        try:
            a = da.asarray(np.asarray(a))
        except Exception as exc:
            raise TypeError(f"{name}: expected a dask or NumPy array, got "
                            f"{type(a).__name__}") from exc
    if any(math.isnan(c) for cs in a.chunks for c in cs):
        raise ValueError(f"{name}: chunk sizes are unknown (NaN); call "
                         f"{name}.compute_chunk_sizes() first")
    return a


def _small(a, name: str) -> np.ndarray:
    """A kernel-sized operand (filter, weight, bias): computed if lazy, kept in the graph."""
    if a is None:
        return None
    # A copy: the graph's key names reflect these values, so the caller changing its array
    # later must not change what the graph computes.
    return np.array(a.compute() if isinstance(a, da.Array) else a, copy=True)


def _pair(v, name: str) -> tuple:
    if isinstance(v, (tuple, list)):
        if len(v) == 1:
            v = (v[0], v[0])
        if len(v) != 2:
            raise ValueError(f"{name}: expected an int or a pair of ints, got {v!r}")
        out = tuple(v)
    else:
        out = (v, v)
    for x in out:
        if isinstance(x, bool) or not isinstance(x, (int, np.integer)):
            raise TypeError(f"{name}: expected an int or a pair of ints, got {v!r}")
    return tuple(int(x) for x in out)


def _merge_small(chunks: tuple, minimum: int) -> tuple:
    """Chunk sizes with neighbours merged until each is >= minimum (one chunk if too few)."""
    if minimum <= 0 or all(c >= minimum for c in chunks):
        return tuple(chunks)
    out = []
    acc = 0
    for c in chunks:
        acc += c
        if acc >= minimum:
            out.append(acc)
            acc = 0
    if acc:
        if out:
            out[-1] += acc
        else:
            out.append(acc)
    return tuple(out)


def _bounds(chunks: tuple) -> list:
    """[0, c0, c0 + c1, ..., n]"""
    return [0] + list(np.cumsum(chunks, dtype=np.int64).tolist())


# ---------------------------------------------------------------------------------------------
# 2-D correlation and convolution (scipy.signal semantics)

_BOUNDARIES = {"fill": "fill", "pad": "fill", "wrap": "wrap", "circular": "wrap",
               "symm": "symm", "symmetric": "symm"}


def correlate2d(in1, in2, mode="full", boundary="fill", fillvalue=0, *, threads=None):
    """Lazy ``npfast.correlate2d`` (``scipy.signal.correlate2d`` semantics) of a dask array.

    Parameters
    ----------
    in1 : dask.array.Array or array_like
        The image, shape (..., H, W), any chunking; leading axes are independent planes
        (as in ``npfast.correlate2d``). Dtypes: those of ``npfast.correlate2d``.
    in2 : array_like
        The 2-D filter (small; computed if given as a dask array and embedded in the graph).
    mode : {"full", "same", "valid"}
        Output size as in SciPy. "same" is computed with exact halos (see ``_halo_map``);
        "valid" slices the halo computation; "full" pads by the filter size first.
    boundary : {"fill", "wrap", "symm"}
        Edge handling as in SciPy, applied at the image's edges (not at chunk edges).
    fillvalue : scalar
        The value outside the image when ``boundary="fill"``.
    threads : int, optional
        npfast threads per task; default: a share of the cores (see module docstring).

    Returns
    -------
    dask.array.Array
        Lazy result; computing it equals ``npfast.correlate2d(in1, in2, mode, boundary,
        fillvalue)`` on the whole array.

    Raises
    ------
    ValueError
        Bad ``mode`` or ``boundary``, ``in2`` not 2-D, ``in1`` with fewer than 2 axes, or
        ``mode="valid"`` with a filter larger than the image; errors of the kernel itself
        (dtypes, ...) are raised when the graph is built, from a probe call on a tiny array.
    """
    return _correlation("correlate2d", in1, in2, mode, boundary, fillvalue, threads)


def convolve2d(in1, in2, mode="full", boundary="fill", fillvalue=0, *, threads=None):
    """Lazy ``npfast.convolve2d`` (``scipy.signal.convolve2d`` semantics) of a dask array.

    Parameters, results and errors as :func:`correlate2d`; the filter is flipped and, for even
    filter sizes in ``mode="same"``, centred as SciPy does for convolution.
    """
    return _correlation("convolve2d", in1, in2, mode, boundary, fillvalue, threads)


def _correlation(name, in1, in2, mode, boundary, fillvalue, threads):
    x = _as_dask(in1, "in1")
    k = _small(in2, "in2")
    if mode not in ("full", "same", "valid"):
        raise ValueError(f"mode: expected 'full', 'same' or 'valid', got {mode!r}")
    if not isinstance(boundary, str) or boundary not in _BOUNDARIES:
        raise ValueError(f"boundary: expected 'fill', 'wrap' or 'symm', got {boundary!r}")
    if k.ndim != 2:
        raise ValueError(f"in2: expected a 2-D filter, got shape {k.shape}")
    if x.ndim < 2:
        raise ValueError(f"in1: expected shape (..., H, W), got shape {x.shape}")
    if k.size == 0 or 0 in x.shape[-2:]:
        raise ValueError(f"in1 and in2 must not be empty, got shapes {x.shape} and {k.shape}")
    kernel = _Kernel(name)
    spec = _Threads(threads, _host_slots())
    kh, kw = k.shape
    # Errors of the kernel itself (dtype, fillvalue, ...) now rather than at compute time.
    probe = kernel(np.zeros((kh, kw), x.dtype), k, mode="same", boundary=boundary,
                   fillvalue=fillvalue)
    dtype = probe.dtype
    # Rows [i - before, i - before + kh) of in1 feed output row i in "same" mode (SciPy centres
    # an even correlation filter low and an even convolution filter high).
    if name == "correlate2d":
        before = ((kh - 1) // 2, (kw - 1) // 2)
    else:
        before = (kh // 2, kw // 2)
    kind = _BOUNDARIES[boundary]
    if mode == "same":
        return _same(x, k, kernel, boundary, fillvalue, before, dtype, spec)
    if mode == "full":
        x = _pad_like_scipy(x, (kh - 1, kw - 1), kind, fillvalue, dtype)
    h, w = x.shape[-2:]
    if kh > h or kw > w:
        raise ValueError(f"mode='valid': in1 (spatial shape {(h, w)}) must be at least as large "
                         f"as in2 (shape {k.shape}) in every dimension")
    full = _same(x, k, kernel, "fill", fillvalue, before, dtype, spec)
    # Valid output i is the "same" output whose window starts at row i: row i + before.
    return full[..., before[0]:before[0] + h - kh + 1, before[1]:before[1] + w - kw + 1]


def _pad_like_scipy(x, pad, kind, fillvalue, dtype):
    """in1 padded by pad = (ph, pw) on both sides the way SciPy's boundary extends it."""
    lead = [(0, 0)] * (x.ndim - 2)
    if kind == "fill":
        # The pad holds the fill value itself: where the input's dtype cannot (uint8 and -1,
        # int16 and 2.5, float32 and 0.1 beside a float64 filter), pad in the result's dtype.
        if np.asarray(fillvalue).astype(x.dtype) != np.asarray(fillvalue).astype(dtype):
            x = x.astype(dtype)
        return da.pad(x, lead + [(pad[0], pad[0]), (pad[1], pad[1])], mode="constant",
                      constant_values=np.asarray(fillvalue).astype(x.dtype))
    # Index maps rather than da.pad: SciPy repeats the wrap/reflection for pads wider than the
    # image, which np.pad does and da.pad (dask 2026.8) does not.
    np_mode = "wrap" if kind == "wrap" else "symmetric"
    for axis, p in ((x.ndim - 2, pad[0]), (x.ndim - 1, pad[1])):
        if p:
            idx = np.pad(np.arange(x.shape[axis]), (p, p), mode=np_mode)
            x = da.take(x, idx, axis=axis)
    return x


def _same(x, k, kernel, boundary, fillvalue, before, dtype, spec):
    """mode='same' with exact halos: each block is extended by strips of its neighbours, the
    kernel runs on the extended block and only the block's own outputs are kept.

    At the image's edges no halo is added for fill/symm, so the kernel's own fill/symm
    handling sees the true edge; for 'wrap' the halo comes from the opposite edge (periodic).
    An axis in one chunk needs no halo at all: the kernel handles its edges itself."""
    kh, kw = k.shape
    nd = x.ndim
    chunks = list(x.chunks)
    depth = [0, 0]
    for n, (ax, kk, b) in enumerate(((nd - 2, kh, before[0]), (nd - 1, kw, before[1]))):
        d = max(b, kk - 1 - b)
        # A halo may only come from the next chunk: chunks smaller than it are merged.
        c = _merge_small(x.chunks[ax], d)
        if len(c) > 1:
            depth[n] = d
        chunks[ax] = c
    if tuple(chunks) != x.chunks:
        x = x.rechunk(tuple(chunks))
    call = partial(kernel, in2=k, mode="same", boundary=boundary, fillvalue=fillvalue)
    reach = ((before[0], kh - 1 - before[0]), (before[1], kw - 1 - before[1]))
    return _halo_map(x, depth, reach, _BOUNDARIES[boundary] == "wrap", call, spec, dtype,
                     token=(kernel.token(), k, boundary, fillvalue, spec.threads))


def _halo_map(x, depth, reach, periodic, call, spec, dtype, token):
    """out block = call(block extended by `depth` = (rows, cols) of its neighbours)[own part].

    Like dask's map_overlap, but only the pieces that need the neighbours are computed from
    an assembled window: the block's own chunk goes to the kernel as it is, and the bands of
    output rows and columns whose windows cross its edges (`reach` = ((up, down), (left,
    right)) input rows and columns around an output) are recomputed from small windows built
    in memory from npfast's pool. map_overlap's concatenated blocks wrote fresh pages on every
    task (first touch runs at ~1 GB/s here), and even a pooled full window cost a copy of the
    block per task. Each block's edges travel as one task (`_Edges`), so a cluster moves
    halos, not whole chunks. A block is 3 tasks: its edges, its interior (`_Interior`, which
    needs no neighbour and so keeps a worker busy while strips are in transit) and its bands
    (`_Bands`, small). periodic: halos wrap around the edges."""
    name = "npfast-halo-" + tokenize(x.name, token, depth, reach, periodic)
    edges = "npfast-edges-" + tokenize(x.name, depth, periodic)
    inner = "npfast-inner-" + tokenize(x.name, token)
    nb_h, nb_w = x.numblocks[-2:]
    layer = {}

    def neighbour(i, di, n):
        """Block index of neighbour i + di along an axis of n blocks, or None."""
        j = i + di
        if 0 <= j < n:
            return j
        return j % n if periodic else None

    for lead in np.ndindex(*x.numblocks[:-2]):
        for i in range(nb_h):
            for j in range(nb_w):
                if depth[0] or depth[1]:
                    layer[(edges,) + lead + (i, j)] = (_Edges(depth), (x.name,) + lead + (i, j))
        for i in range(nb_h):
            for j in range(nb_w):
                keys, place = [(x.name,) + lead + (i, j)], []
                for di in (-1, 0, 1):
                    ni = neighbour(i, di, nb_h) if (di == 0 or depth[0]) else None
                    if ni is None:
                        continue
                    for dj in (-1, 0, 1):
                        nj = neighbour(j, dj, nb_w) if (dj == 0 or depth[1]) else None
                        if nj is None or not (di or dj):
                            continue
                        keys.append((edges,) + lead + (ni, nj))
                        place.append((di, dj))
                sides = tuple(
                    (d if neighbour(k, -1, n) is not None else 0,
                     d if neighbour(k, 1, n) is not None else 0)
                    for k, n, d in ((i, nb_h, depth[0]), (j, nb_w, depth[1])))
                hw = (x.chunks[-2][i], x.chunks[-1][j])
                key = (name,) + lead + (i, j)
                if len(keys) == 1:
                    layer[key] = (_Interior(call, spec, dtype), keys[0])
                elif _Bands.fits(hw, reach):
                    # The kernel on the block's own chunk needs no neighbour, so it is a task
                    # of its own: a worker's thread keeps busy with it while the strips its
                    # bands need are still on their way from the other workers.
                    layer[(inner,) + key[1:]] = (_Interior(call, spec, dtype), keys[0])
                    layer[key] = (_Bands(call, spec, hw, sides, reach, place),
                                  (inner,) + key[1:], *keys)
                else:
                    layer[key] = (_Window(call, spec, hw, sides, place), *keys)
    graph = HighLevelGraph.from_collections(name, layer, dependencies=[x])
    return Array(graph, name, x.chunks, meta=np.empty((0,) * x.ndim, dtype))


class _Edges:
    """The strips of a block its neighbours read: {(di, dj): strip} for the block seen as the
    (di, dj) neighbour of another (di = -1: it lies above, so its last rows are wanted)."""

    def __init__(self, depth):
        self.depth = depth

    def __call__(self, block):
        def cut(di, d):
            return slice(None) if di == 0 else slice(-d, None) if di < 0 else slice(0, d)

        d0, d1 = self.depth
        return {(di, dj): block[..., cut(di, d0), cut(dj, d1)]
                for di in ((-1, 0, 1) if d0 else (0,)) for dj in ((-1, 0, 1) if d1 else (0,))
                if di or dj}


class _Interior:
    """The kernel on a block's own chunk, into pooled memory: a pipeline that drops its last
    result gets the same pages back instead of faulting fresh ones in (~1 GB/s here). Its
    bands next to neighbouring chunks are wrong until `_Bands` redoes them."""

    def __init__(self, call, spec, dtype):
        self.call, self.spec, self.dtype = call, spec, np.dtype(dtype)

    def __call__(self, own):
        with _thread_share(self.spec):
            return self.call(own, out=npfast.empty(own.shape, self.dtype))


class _Bands:
    """Redoes, in the interior result, the bands of outputs whose windows cross the block's
    edges, each from a small window of the block extended by its neighbours' strips. Writing
    into the interior result is safe: only this task reads it, and a rerun writes the same
    values."""

    def __init__(self, call, spec, hw, sides, reach, place):
        self.call, self.spec, self.hw, self.sides = call, spec, hw, sides
        self.reach, self.place = reach, place

    @staticmethod
    def fits(hw, reach):
        """Whether a block of hw is large enough for its four bands not to overlap."""
        (h, w), ((u0, v0), (u1, v1)) = hw, reach
        return h >= 2 * (u0 + v0 + 1) and w >= 2 * (u1 + v1 + 1)

    def __call__(self, out, own, *edges):
        (h, w), ((top, bot), (left, right)) = self.hw, self.sides
        (u0, v0), (u1, v1) = self.reach
        ext = _Extended(own, edges, self.place, self.hw, self.sides)
        with _thread_share(self.spec):
            # Each band's window reaches `v` (or `u`) rows past the band into the block, so
            # the kernel's own edge handling at the window's inner edge never touches it.
            if top and u0:
                win = ext.window(-top, u0 + v0, -left, w + right)
                out[..., :u0, :] = self.call(win)[..., top:top + u0, left:left + w]
            if bot and v0:
                r0 = h - v0 - u0
                win = ext.window(r0, h + bot, -left, w + right)
                out[..., h - v0:, :] = self.call(win)[..., u0:u0 + v0, left:left + w]
            if left and u1:
                win = ext.window(-top, h + bot, -left, u1 + v1)
                out[..., :, :u1] = self.call(win)[..., top:top + h, left:left + u1]
            if right and v1:
                c0 = w - v1 - u1
                win = ext.window(-top, h + bot, c0, w + right)
                out[..., :, w - v1:] = self.call(win)[..., top:top + h, u1:u1 + v1]
        return out


class _Window:
    """A block too small for bands: the kernel on one window of the whole extended block."""

    def __init__(self, call, spec, hw, sides, place):
        self.call, self.spec, self.hw, self.sides, self.place = call, spec, hw, sides, place

    def __call__(self, own, *edges):
        (h, w), ((top, bot), (left, right)) = self.hw, self.sides
        win = _Extended(own, edges, self.place, self.hw, self.sides).window(
            -top, h + bot, -left, w + right)
        with _thread_share(self.spec):
            return np.ascontiguousarray(self.call(win)[..., top:top + h, left:left + w])


class _Extended:
    """A block extended by its neighbours' strips, read as windows: rows [r0, r1) and columns
    [c0, c1) in the block's coordinates (negative: the halo above or left), copied into pooled
    memory."""

    def __init__(self, own, edges, place, hw, sides):
        (h, w), ((top, bot), (left, right)) = hw, sides
        # edges[n] is the strips dict of the neighbour at offset place[n]; it holds the strip
        # of that neighbour that this block reads under the same offset.
        self.pieces = {(0, 0): own, **{p: e[p] for e, p in zip(edges, place)}}
        self.lead, self.dtype = own.shape[:-2], own.dtype
        self.rows = {-1: (-top, 0), 0: (0, h), 1: (h, h + bot)}
        self.cols = {-1: (-left, 0), 0: (0, w), 1: (w, w + right)}

    def window(self, r0, r1, c0, c1):
        win = npfast.empty(self.lead + (r1 - r0, c1 - c0), self.dtype)
        for (di, dj), part in self.pieces.items():
            pr0, pr1 = self.rows[di]
            pc0, pc1 = self.cols[dj]
            a0, a1 = max(r0, pr0), min(r1, pr1)
            b0, b1 = max(c0, pc0), min(c1, pc1)
            if a0 < a1 and b0 < b1:
                win[..., a0 - r0:a1 - r0, b0 - c0:b1 - c0] = \
                    part[..., a0 - pr0:a1 - pr0, b0 - pc0:b1 - pc0]
        return win


# ---------------------------------------------------------------------------------------------
# Strided windows: conv2d and pooling


class _Axis:
    """One spatial axis of a strided window operator (torch's output-size rule)."""

    def __init__(self, n, k, s, p, d, ceil_mode, what):
        if k < 1 or s < 1 or p < 0 or d < 1:
            raise ValueError(f"{what}: kernel size {k}, stride {s}, padding {p} and dilation {d} "
                             "must be positive (padding >= 0)")
        self.n, self.s, self.p = n, s, p
        self.keff = d * (k - 1) + 1
        span = n + 2 * p - self.keff
        if span < 0:
            raise ValueError(f"{what}: input size {n} with padding {p} is smaller than the "
                             f"kernel extent {self.keff}")
        out = (-(-span // s) if ceil_mode else span // s) + 1
        if ceil_mode and (out - 1) * s >= n + p:
            out -= 1  # torch: the last window must start inside the image or the left padding
        self.out = out

    def out_chunks(self, in_chunks) -> tuple:
        """Output chunks following the input chunks: a chunk edge at input row b becomes an
        edge at the first output whose window starts at or after b."""
        edges = {0, self.out}
        for b in _bounds(in_chunks)[1:-1]:
            edges.add(min(self.out, max(0, -(-(b + self.p) // self.s))))
        e = sorted(edges)
        return tuple(b - a for a, b in zip(e[:-1], e[1:]))

    def window(self, o0, o1):
        """(start, stop, q0): input rows a block of outputs [o0, o1) reads, and where output o0
        sits in the kernel's output on those rows (the kernel pads by p at both ends).

        The start is a multiple of the stride, at or before o0's window start less the padding,
        so the kernel's strided grid on the block is the global one and its left padding only
        feeds outputs before q0; the stop is where o1 - 1's window ends (or the image's end, where
        the kernel's right padding and ceil_mode then act as on the whole image)."""
        # The start also stays inside the image (conv2d padding may exceed the kernel, so
        # whole blocks of outputs can lie in the padding); any smaller multiple works too.
        m = max(0, min(o0 - -(-self.p // self.s), (self.n - 1) // self.s))
        start = m * self.s
        stop = max(start + 1, min(self.n, (o1 - 1) * self.s - self.p + self.keff))
        return start, stop, o0 - m


def _windowed(x, ah: _Axis, aw: _Axis, out_lead_chunks, call, spec, dtypes, token):
    """Builds out[..., oh, ow] from tasks that each read the input window of one output block.

    x: dask array (..., H, W). call(window, lead_index, origin) -> ndarray or tuple of
    ndarrays: the kernel applied to an input window whose first element is input row/column
    `origin`. out_lead_chunks: chunks of the output's leading axes (one output block per input
    block there). dtypes: one dtype per output of call. token: what identifies the operation
    (names the graph's keys). Returns one dask array per output of call.

    One graph layer of plain tasks (a window may draw on any number of input chunks, so chunks
    smaller than the halo need no rechunking), plus one selection layer per output if call
    returns several arrays.
    """
    hb, wb = _bounds(x.chunks[-2]), _bounds(x.chunks[-1])
    och, ocw = ah.out_chunks(x.chunks[-2]), aw.out_chunks(x.chunks[-1])
    ohb, owb = _bounds(och), _bounds(ocw)
    name = "npfast-" + tokenize(x.name, token, och, ocw)
    hwin = [ah.window(ohb[i], ohb[i + 1]) for i in range(len(och))]
    wwin = [aw.window(owb[j], owb[j + 1]) for j in range(len(ocw))]
    hpieces = [_pieces(hb, hs, he) for hs, he, _ in hwin]
    wpieces = [_pieces(wb, ws, we) for ws, we, _ in wwin]
    layer = {}
    for lead in np.ndindex(*x.numblocks[:-2]):
        in_lead_shape = tuple(c[i] for c, i in zip(x.chunks[:-2], lead))
        for i, (hs, he, hq) in enumerate(hwin):
            for j, (ws, we, wq) in enumerate(wwin):
                rows, cols = hpieces[i], wpieces[j]
                keys = [(x.name,) + lead + (r, c) for r, _ in rows for c, _ in cols]
                place = [(rs, cs) for _, rs in rows for _, cs in cols]
                block = _WindowBlock(call, spec, lead, in_lead_shape + (he - hs, we - ws), place,
                                     (hq, wq), (och[i], ocw[j]), (hs, ws))
                layer[(name,) + lead + (i, j)] = (block, *keys)
    chunks = tuple(out_lead_chunks) + (och, ocw)
    if len(dtypes) == 1:
        graph = HighLevelGraph.from_collections(name, layer, dependencies=[x])
        return [Array(graph, name, chunks, meta=np.empty((0,) * len(chunks), dtypes[0]))]
    graph = HighLevelGraph.from_collections(name, layer, dependencies=[x])
    tuples = Array(graph, name, chunks, meta=np.empty((0,) * len(chunks), dtypes[0]))
    outs = []
    for n, dt in enumerate(dtypes):
        part = f"{name}-{n}"
        sel = {(part,) + k[1:]: (operator.getitem, k, n) for k in layer}
        g = HighLevelGraph.from_collections(part, sel, dependencies=[tuples])
        outs.append(Array(g, part, chunks, meta=np.empty((0,) * len(chunks), dt)))
    return outs


def _pieces(bounds, start, stop):
    """[(chunk index, (offset in chunk, offset in window, length))] covering [start, stop)."""
    out = []
    c = max(0, bisect_right(bounds, start) - 1)
    while c < len(bounds) - 1 and bounds[c] < stop:
        lo, hi = max(start, bounds[c]), min(stop, bounds[c + 1])
        if hi > lo:
            out.append((c, (lo - bounds[c], lo - start, hi - lo)))
        c += 1
    return out


class _WindowBlock:
    """The task computing one output block: assemble its input window from the input chunks
    it overlaps (a view when it lies in one), run the kernel, keep the block's outputs."""

    def __init__(self, call, spec, lead, shape, place, q0, out_hw, origin):
        self.call, self.spec, self.lead, self.shape = call, spec, lead, shape
        self.place, self.q0, self.out_hw, self.origin = place, q0, out_hw, origin

    def __call__(self, *parts):
        if len(parts) == 1:
            (r, c) = self.place[0]
            win = parts[0][..., r[0]:r[0] + r[2], c[0]:c[0] + c[2]]
        else:
            win = np.empty(self.shape, parts[0].dtype)
            for part, (r, c) in zip(parts, self.place):
                win[..., r[1]:r[1] + r[2], c[1]:c[1] + c[2]] = part[..., r[0]:r[0] + r[2],
                                                                       c[0]:c[0] + c[2]]
        with _thread_share(self.spec):
            res = self.call(win, self.lead, self.origin)
        q0, hw = self.q0, self.out_hw
        sl = (Ellipsis, slice(q0[0], q0[0] + hw[0]), slice(q0[1], q0[1] + hw[1]))
        if isinstance(res, tuple):
            return tuple(np.ascontiguousarray(r[sl]) for r in res)
        return np.ascontiguousarray(res[sl])


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1, *,
           threads=None):
    """Lazy ``npfast.conv2d`` (``torch.nn.functional.conv2d`` semantics) of a dask array.

    Parameters
    ----------
    input : dask.array.Array or array_like
        (N, C, H, W) (or unbatched (C, H, W)); chunked along N, H and W freely. The channel
        axis is rechunked so each chunk holds whole groups (one chunk when ``groups == 1``).
    weight : array_like
        (O, C // groups, kh, kw), embedded in the graph.
    bias : array_like, optional
        (O,).
    stride, padding, dilation : int or pair of ints
        As in PyTorch; ``padding`` may also be "valid", or "same" when stride is 1 and
        ``dilation * (k - 1)`` is even on both axes (npfast pads symmetrically).
    groups : int
        As in PyTorch.
    threads : int, optional
        npfast threads per task; default: a share of the cores.

    Returns
    -------
    dask.array.Array
        (N, O, OH, OW) (or (O, OH, OW)); computing it equals ``npfast.conv2d`` on the whole
        array. Windows straddling chunk edges are computed from both chunks, zero padding is
        applied only at the image's edges.

    Raises
    ------
    ValueError, TypeError
        Bad shapes or parameters (also those the kernel reports for a probe call made when the
        graph is built).
    """
    x = _as_dask(input, "input")
    w = _small(weight, "weight")
    b = _small(bias, "bias")
    unbatched = x.ndim == 3
    if unbatched:
        x = x[None]
    if x.ndim != 4:
        raise ValueError(f"input: expected shape (N, C, H, W) or (C, H, W), got shape {x.shape}")
    if w.ndim != 4:
        raise ValueError(f"weight: expected shape (O, C // groups, kh, kw), got {w.shape}")
    if isinstance(groups, bool) or not isinstance(groups, (int, np.integer)) or groups < 1:
        raise ValueError(f"groups: expected a positive int, got {groups!r}")
    c, o = x.shape[1], w.shape[0]
    if c % groups or o % groups or w.shape[1] * groups != c:
        raise ValueError(f"groups={groups}: input channels {c} and weight shape {w.shape} do "
                         "not split into equal groups")
    s, d = _pair(stride, "stride"), _pair(dilation, "dilation")
    p = _conv_padding(padding, w.shape[2:], s, d)
    kernel = _Kernel("conv2d")
    spec = _Threads(threads, _host_slots())
    ah = _Axis(x.shape[2], w.shape[2], s[0], p[0], d[0], False, "conv2d height")
    aw = _Axis(x.shape[3], w.shape[3], s[1], p[1], d[1], False, "conv2d width")
    probe = kernel(np.zeros((1, c, ah.keff, aw.keff), x.dtype), w, b, s, p, d, groups)
    cpg, opg = c // groups, o // groups
    # Channel chunks on group boundaries: chunk edges rounded up to whole groups.
    edges = sorted({min(c, -(-e // cpg) * cpg) for e in _bounds(x.chunks[1])})
    cchunks = tuple(bb - a for a, bb in zip(edges[:-1], edges[1:]) if bb > a)
    if groups == 1:
        cchunks = (c,)
    x = x.rechunk({1: cchunks})
    gbounds = [e // cpg for e in _bounds(cchunks)]
    call = _ConvCall(kernel, w, b, p, s, d, gbounds, opg)
    ochunks = tuple((g1 - g0) * opg for g0, g1 in zip(gbounds[:-1], gbounds[1:]))
    token = ("conv2d", kernel.token(), w, b, s, p, d, groups, spec.threads, spec.host_slots)
    (out,) = _windowed(x, ah, aw, (x.chunks[0], ochunks), call, spec, [probe.dtype], token)
    return out[0] if unbatched else out


def _conv_padding(padding, ksize, s, d):
    if isinstance(padding, str):
        if padding == "valid":
            return (0, 0)
        if padding == "same":
            if s != (1, 1):
                raise ValueError(f"padding='same': needs stride 1, got stride {s}")
            total = [dd * (k - 1) for dd, k in zip(d, ksize)]
            if any(t % 2 for t in total):
                raise ValueError("padding='same' with an even effective kernel extent "
                                 f"{tuple(t + 1 for t in total)} pads unequally; npfast pads "
                                 "symmetrically: pass explicit padding instead")
            return (total[0] // 2, total[1] // 2)
        raise ValueError(f"padding: expected an int, a pair, 'valid' or 'same', got {padding!r}")
    return _pair(padding, "padding")


class _ConvCall:
    """conv2d on one input window holding the groups [g0, g1) of its channel chunk."""

    def __init__(self, kernel, w, b, p, s, d, gbounds, opg):
        self.kernel, self.w, self.b = kernel, w, b
        self.p, self.s, self.d, self.gbounds, self.opg = p, s, d, gbounds, opg

    def __call__(self, win, lead, origin):
        g0, g1 = self.gbounds[lead[1]], self.gbounds[lead[1] + 1]
        o0, o1 = g0 * self.opg, g1 * self.opg
        b = None if self.b is None else self.b[o0:o1]
        return self.kernel(win, self.w[o0:o1], b, self.s, self.p, self.d, g1 - g0)


def _pool_setup(input, kernel_size, stride, padding, dilation, ceil_mode, what):
    x = _as_dask(input, "input")
    if x.ndim not in (2, 3, 4):
        raise ValueError(f"input: expected shape (N, C, H, W), (C, H, W) or (H, W), got {x.shape}")
    k = _pair(kernel_size, "kernel_size")
    s = k if stride is None or (isinstance(stride, (tuple, list)) and len(stride) == 0) \
        else _pair(stride, "stride")
    p, d = _pair(padding, "padding"), _pair(dilation, "dilation")
    ah = _Axis(x.shape[-2], k[0], s[0], p[0], d[0], bool(ceil_mode), f"{what} height")
    aw = _Axis(x.shape[-1], k[1], s[1], p[1], d[1], bool(ceil_mode), f"{what} width")
    return x, k, s, p, d, ah, aw


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False, *, threads=None):
    """Lazy ``npfast.max_pool2d`` (``torch.nn.functional.max_pool2d`` semantics).

    Parameters
    ----------
    input : dask.array.Array or array_like
        (N, C, H, W), (C, H, W) or (H, W), chunked along every axis freely.
    kernel_size, stride, padding, dilation, ceil_mode : as in PyTorch
        ``stride`` defaults to ``kernel_size``.
    return_indices : bool
        Also return the argmax indices, flat over each plane's H * W, as PyTorch does (the
        per-block indices are turned into indices of the whole plane).
    threads : int, optional
        npfast threads per task; default: a share of the cores.

    Returns
    -------
    dask.array.Array, or a pair (values, indices)
        Computing it equals ``npfast.max_pool2d`` on the whole array, bit for bit.

    Raises
    ------
    ValueError, TypeError
        Bad shapes or parameters (also those the kernel reports for a probe call made when the
        graph is built).
    """
    x, k, s, p, d, ah, aw = _pool_setup(input, kernel_size, stride, padding, dilation,
                                        ceil_mode, "max_pool2d")
    kernel = _Kernel("max_pool2d")
    spec = _Threads(threads, _host_slots())
    probe = kernel(np.zeros((1,) * (x.ndim - 2) + (ah.keff, aw.keff), x.dtype), k, s, p, d,
                   bool(ceil_mode), bool(return_indices))
    dtypes = [probe[0].dtype, probe[1].dtype] if return_indices else [probe.dtype]
    call = _MaxPoolCall(kernel, k, s, p, d, bool(ceil_mode), bool(return_indices),
                        x.shape[-1])
    token = ("max_pool2d", kernel.token(), k, s, p, d, bool(ceil_mode), bool(return_indices),
             spec.threads, spec.host_slots)
    outs = _windowed(x, ah, aw, x.chunks[:-2], call, spec, dtypes, token)
    return tuple(outs) if return_indices else outs[0]


class _MaxPoolCall:
    def __init__(self, kernel, k, s, p, d, ceil_mode, return_indices, width):
        self.kernel, self.k, self.s, self.p, self.d = kernel, k, s, p, d
        self.ceil_mode, self.return_indices, self.width = ceil_mode, return_indices, width

    def __call__(self, win, lead, origin):
        res = self.kernel(win, self.k, self.s, self.p, self.d, self.ceil_mode,
                          self.return_indices)
        if not self.return_indices:
            return res
        vals, idx = res
        # Indices of the window (flat over its rows x cols) -> of the whole plane.
        wcols = win.shape[-1]
        r, c = np.divmod(idx, wcols)
        idx = (r + origin[0]) * self.width + (c + origin[1])
        return vals, idx.astype(res[1].dtype, copy=False)


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None, *, threads=None):
    """Lazy ``npfast.avg_pool2d`` (``torch.nn.functional.avg_pool2d`` semantics).

    Parameters
    ----------
    input : dask.array.Array or array_like
        (N, C, H, W), (C, H, W) or (H, W), chunked along every axis freely.
    kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override :
        As in PyTorch; ``stride`` defaults to ``kernel_size``. Each block is computed with the
        kernel's own padding at the image's edges, so divisors (padding counted or not,
        ``ceil_mode`` windows hanging over the end) are those of the whole-image call.
    threads : int, optional
        npfast threads per task; default: a share of the cores.

    Returns
    -------
    dask.array.Array
        Computing it equals ``npfast.avg_pool2d`` on the whole array, bit for bit.

    Raises
    ------
    ValueError, TypeError
        Bad shapes or parameters (also those the kernel reports for a probe call).
    """
    x, k, s, p, _, ah, aw = _pool_setup(input, kernel_size, stride, padding, 1, ceil_mode,
                                        "avg_pool2d")
    kernel = _Kernel("avg_pool2d")
    spec = _Threads(threads, _host_slots())
    args = (k, s, p, bool(ceil_mode), bool(count_include_pad), divisor_override)
    probe = kernel(np.zeros((1,) * (x.ndim - 2) + (ah.keff, aw.keff), x.dtype), *args)
    call = _AvgPoolCall(kernel, args)
    token = ("avg_pool2d", kernel.token(), args, spec.threads, spec.host_slots)
    (out,) = _windowed(x, ah, aw, x.chunks[:-2], call, spec, [probe.dtype], token)
    return out


class _AvgPoolCall:
    def __init__(self, kernel, args):
        self.kernel, self.args = kernel, args

    def __call__(self, win, lead, origin):
        return self.kernel(win, *self.args)


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
