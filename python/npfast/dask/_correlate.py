"""Lazy 2-D correlation and convolution (scipy.signal semantics) with exact halos."""

from __future__ import annotations

from functools import partial

import dask.array as da
import numpy as np
from dask.array.core import Array
from dask.base import tokenize
from dask.highlevelgraph import HighLevelGraph

import npfast

from ._tasks import (_Kernel, _Threads, _as_dask, _host_slots, _merge_small, _small,
                     _thread_share)


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
    if k.size == 0:
        raise ValueError(f"in1 and in2 must not be empty, got shapes {x.shape} and {k.shape}")
    kernel = _Kernel(name)
    spec = _Threads(threads, _host_slots())
    if 0 in x.shape:
        # Nothing to read: the in-memory call on the empty input (its shape rule and errors;
        # 'full' is then all fill), one chunk per plane axis.
        out = kernel(np.empty(x.shape, x.dtype), k, mode=mode, boundary=boundary,
                     fillvalue=fillvalue)
        return da.from_array(out, chunks=x.chunks[:-2] + out.shape[-2:])
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
        # The fill value as the in-memory call reads it (the probe has checked it): None is
        # NaN, a one-element array or sequence its element (probe20d: da.pad refused both).
        fill = np.asarray(np.nan if fillvalue is None else fillvalue).reshape(())
        # The pad holds the fill value itself: where the input's dtype cannot (uint8 and -1,
        # int16 and 2.5, float32 and 0.1 beside a float64 filter, NaN beside integers), pad in
        # the result's dtype.
        with np.errstate(all="ignore"):  # NaN beside integers, 1e40 beside float32
            if not np.array_equal(fill.astype(x.dtype), fill.astype(dtype), equal_nan=False):
                x = x.astype(dtype)
            value = fill.astype(x.dtype).item()
        return da.pad(x, lead + [(pad[0], pad[0]), (pad[1], pad[1])], mode="constant",
                      constant_values=value)
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
