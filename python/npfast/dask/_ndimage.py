"""Lazy scipy.ndimage filters (``npfast.dask.ndimage``): every block is the in-memory npfast
filter run on the block extended by the filter's reach, keeping the block's own outputs.

The extension comes from the neighbouring chunks (any number of them, so chunks smaller than
the halo need no rechunking) and stops at the array's edges, where the window's edge is the
array's and the kernel's mode acts there exactly as on the whole array; along an axis whose mode
wraps, the extension wraps around instead. A window at the array's edge also reaches as far
into the array as a reflecting mode mirrors the filter's reach back into it. Only the outputs
whose whole footprint lies in the window are kept, so each is computed from the same values as
in the whole-array call: bit for bit, except uniform filters, whose running sum carries along
the whole line in memory.
"""

from __future__ import annotations

import numpy as np
from dask.array.core import Array
from dask.base import tokenize
from dask.highlevelgraph import HighLevelGraph

import npfast
import npfast.ndimage as _ndi
from npfast._ndimage_support import check_axes, normalize_axis, normalize_sequence

from ._tasks import _Kernel, _Threads, _as_dask, _bounds, _host_slots, _small, _thread_share
from ._windows import _pieces

__all__ = list(_ndi.__all__)

_WRAPS = ("wrap", "grid-wrap")


# ---------------------------------------------------------------------------------------------
# The graph


def _filter(name, input, reach, periodic, args, kwargs, threads):
    """Lazy npfast.ndimage.<name>(input, *args, **kwargs).

    reach: {axis: (before, after)}: output i along the axis reads inputs [i - before,
    i + after] (absent axes: 0). periodic: the axes whose mode wraps."""
    x = _as_dask(input, "input")
    out = kwargs.get("output")
    if out is not None and isinstance(out, np.ndarray):
        raise TypeError("output: npfast.dask returns a new dask array; pass a dtype, not an "
                        "array")
    if x.ndim == 0:
        raise ValueError("input: expected at least one axis, got a 0-d array")
    kernel = _Kernel(name, getattr(_ndi, name))
    spec = _Threads(threads, _host_slots())
    # The kernel's own argument checks and output dtype now, not at compute time.
    dtype = kernel(np.zeros((1,) * x.ndim, x.dtype), *args, **kwargs).dtype
    wins = []  # per axis, per block: (window pieces, window length, own slice in the window)
    for ax in range(x.ndim):
        before, after = reach.get(ax, (0, 0))
        bounds, n = _bounds(x.chunks[ax]), x.shape[ax]
        wrap = ax in periodic and len(x.chunks[ax]) > 1
        axis_wins = []
        for b0, b1 in zip(bounds[:-1], bounds[1:]):
            if wrap:
                s, e = b0 - before, b1 + after
            else:
                s, e = max(0, b0 - before), min(n, b1 + after)
                # At the array's edge a reflecting mode reads the reach mirrored back into
                # the array: `before` inputs from the start, `after` from the end.
                if s == 0:
                    e = max(e, min(n, before + 1))
                if e == n:
                    s = min(s, max(0, n - 1 - after))
            axis_wins.append((_wrapped_pieces(bounds, n, s, e), e - s, (b0 - s, b1 - b0)))
        wins.append(axis_wins)
    name_ = "npfast-ndimage-" + tokenize(x.name, name, kernel.token(), args, kwargs,
                                         spec.threads, spec.host_slots)
    layer = {}
    for idx in np.ndindex(*x.numblocks):
        per_axis = [wins[ax][i] for ax, i in enumerate(idx)]
        keys, place = [(x.name,)], [()]
        for pieces, _, _ in per_axis:
            keys = [k + (c,) for k in keys for c, _ in pieces]
            place = [p + (sl,) for p in place for _, sl in pieces]
        shape = tuple(length for _, length, _ in per_axis)
        own = tuple(o for _, _, o in per_axis)
        task = _FilterBlock(kernel, args, kwargs, spec, shape, place, own)
        layer[(name_,) + idx] = (task, *keys)
    graph = HighLevelGraph.from_collections(name_, layer, dependencies=[x])
    return Array(graph, name_, x.chunks, meta=np.empty((0,) * x.ndim, dtype))


def _wrapped_pieces(bounds, n, start, stop):
    """_pieces over [start, stop), indices taken modulo n (start < 0 or stop > n: the window
    wraps around the axis, as many times as it needs)."""
    out, pos = [], start
    while pos < stop:
        g = pos % n
        run = min(stop - pos, n - g)
        out += [(c, (o, w + pos - start, m)) for c, (o, w, m) in _pieces(bounds, g, g + run)]
        pos += run
    return out


class _FilterBlock:
    """One output block: its window assembled from the input chunks (a view when it lies in
    one), the filter on it, the block's own outputs kept."""

    def __init__(self, kernel, args, kwargs, spec, shape, place, own):
        self.kernel, self.args, self.kwargs, self.spec = kernel, args, kwargs, spec
        self.shape, self.place, self.own = shape, place, own

    def __call__(self, *parts):
        if len(parts) == 1:
            win = parts[0][tuple(slice(o, o + m) for o, _, m in self.place[0])]
        else:
            win = npfast.empty(self.shape, parts[0].dtype)
            for part, pl in zip(parts, self.place):
                win[tuple(slice(w, w + m) for _, w, m in pl)] = \
                    part[tuple(slice(o, o + m) for o, _, m in pl)]
        with _thread_share(self.spec):
            res = self.kernel(win, *self.args, **self.kwargs)
        return np.ascontiguousarray(res[tuple(slice(o, o + m) for o, m in self.own)])


# ---------------------------------------------------------------------------------------------
# Reach of each filter (inputs read before and after an output, per axis)


def _taps(size, origin):
    """(before, after) of a correlation with `size` taps centred at size // 2 + origin."""
    before = size // 2 + origin
    return max(0, before), max(0, size - 1 - before)


def _conv_origin(size, origin):
    """The correlation origin SciPy turns a convolution's into (flipped weights)."""
    return -origin - (0 if size & 1 else 1)


def _periodic(mode, axes):
    """The axes among `axes` whose mode (one name, or one per axis of `axes`) wraps."""
    modes = normalize_sequence(mode, len(axes), "mode")
    return {ax for ax, m in zip(axes, modes) if isinstance(m, str) and m in _WRAPS}


def _ints(value, n, arg):
    return [int(v) for v in normalize_sequence(value, n, arg)]


def _gauss_radius(sigma, truncate, radius):
    """SciPy's gaussian_filter1d radius: int(truncate * sigma + 0.5), or `radius`."""
    if radius is not None:
        return int(radius)
    return int(float(truncate) * float(sigma) + 0.5)


def _kw(output, mode, cval, **more):
    return dict(output=output, mode=mode, cval=cval, **more)


# ---------------------------------------------------------------------------------------------
# 1-D filters


def _filter1d(name, input, size, origin, axis, mode, args, kwargs, threads, convolve=False):
    ndim = _as_dask(input, "input").ndim
    ax = normalize_axis(axis, ndim)
    size, origin = int(size), int(origin)
    if convolve:
        origin = _conv_origin(size, origin)
    return _filter(name, input, {ax: _taps(size, origin)}, _periodic(mode, (ax,)), args,
                   kwargs, threads)


def correlate1d(input, weights, axis=-1, output=None, mode="reflect", cval=0.0, origin=0, *,
                threads=None):
    """Lazy ``npfast.ndimage.correlate1d`` (``scipy.ndimage.correlate1d``) of a dask array;
    ``threads``: npfast threads per task (default: a share of the cores)."""
    w = _small(weights, "weights")
    return _filter1d("correlate1d", input, np.size(w), origin, axis, mode, (w, axis),
                     _kw(output, mode, cval, origin=origin), threads)


def convolve1d(input, weights, axis=-1, output=None, mode="reflect", cval=0.0, origin=0, *,
               threads=None):
    """Lazy ``npfast.ndimage.convolve1d`` (``scipy.ndimage.convolve1d``)."""
    w = _small(weights, "weights")
    return _filter1d("convolve1d", input, np.size(w), origin, axis, mode, (w, axis),
                     _kw(output, mode, cval, origin=origin), threads, convolve=True)


def uniform_filter1d(input, size, axis=-1, output=None, mode="reflect", cval=0.0, origin=0, *,
                     threads=None):
    """Lazy ``npfast.ndimage.uniform_filter1d`` (``scipy.ndimage.uniform_filter1d``). Equal to
    the in-memory call within rounding, not bit for bit: the running sum carries along the
    whole line there (docs/ndimage.md, Dask)."""
    return _filter1d("uniform_filter1d", input, size, origin, axis, mode, (size, axis),
                     _kw(output, mode, cval, origin=origin), threads)


def minimum_filter1d(input, size, axis=-1, output=None, mode="reflect", cval=0.0, origin=0, *,
                     threads=None):
    """Lazy ``npfast.ndimage.minimum_filter1d`` (``scipy.ndimage.minimum_filter1d``)."""
    return _filter1d("minimum_filter1d", input, size, origin, axis, mode, (size, axis),
                     _kw(output, mode, cval, origin=origin), threads)


def maximum_filter1d(input, size, axis=-1, output=None, mode="reflect", cval=0.0, origin=0, *,
                     threads=None):
    """Lazy ``npfast.ndimage.maximum_filter1d`` (``scipy.ndimage.maximum_filter1d``)."""
    return _filter1d("maximum_filter1d", input, size, origin, axis, mode, (size, axis),
                     _kw(output, mode, cval, origin=origin), threads)


def gaussian_filter1d(input, sigma, axis=-1, order=0, output=None, mode="reflect", cval=0.0,
                      truncate=4.0, *, radius=None, threads=None):
    """Lazy ``npfast.ndimage.gaussian_filter1d`` (``scipy.ndimage.gaussian_filter1d``)."""
    r = _gauss_radius(sigma, truncate, radius)
    return _filter1d("gaussian_filter1d", input, 2 * r + 1, 0, axis, mode, (sigma, axis, order),
                     _kw(output, mode, cval, truncate=truncate, radius=radius), threads)


# ---------------------------------------------------------------------------------------------
# Separable N-D filters


def uniform_filter(input, size=3, output=None, mode="reflect", cval=0.0, origin=0, *,
                   axes=None, threads=None):
    """Lazy ``npfast.ndimage.uniform_filter`` (``scipy.ndimage.uniform_filter``); within
    rounding of the in-memory call (see uniform_filter1d)."""
    axes = check_axes(axes, _as_dask(input, "input").ndim)
    sizes, origins = _ints(size, len(axes), "size"), _ints(origin, len(axes), "origin")
    reach = {ax: _taps(s, o) for ax, s, o in zip(axes, sizes, origins)}
    return _filter("uniform_filter", input, reach, _periodic(mode, axes), (size,),
                   _kw(output, mode, cval, origin=origin, axes=axes), threads)


def gaussian_filter(input, sigma, order=0, output=None, mode="reflect", cval=0.0, truncate=4.0,
                    *, radius=None, axes=None, threads=None):
    """Lazy ``npfast.ndimage.gaussian_filter`` (``scipy.ndimage.gaussian_filter``): the halo
    on each axis is that axis's radius, int(truncate * sigma + 0.5) or ``radius``."""
    axes = check_axes(axes, _as_dask(input, "input").ndim)
    n = len(axes)
    sig, rad = normalize_sequence(sigma, n, "sigma"), normalize_sequence(radius, n, "radius")
    reach = {}
    for ax, s, r in zip(axes, sig, rad):
        k = _gauss_radius(s, truncate, r) if float(s) > 1e-15 else 0
        reach[ax] = (k, k)
    return _filter("gaussian_filter", input, reach, _periodic(mode, axes), (sigma, order),
                   _kw(output, mode, cval, truncate=truncate, radius=radius, axes=axes),
                   threads)


def _edge(name, input, axis, output, mode, cval, threads):
    ndim = _as_dask(input, "input").ndim
    everywhere = tuple(range(ndim))
    return _filter(name, input, {ax: (1, 1) for ax in everywhere},
                   _periodic(mode, everywhere), (axis,), _kw(output, mode, cval), threads)


def sobel(input, axis=-1, output=None, mode="reflect", cval=0.0, *, threads=None):
    """Lazy ``npfast.ndimage.sobel`` (``scipy.ndimage.sobel``)."""
    return _edge("sobel", input, axis, output, mode, cval, threads)


def prewitt(input, axis=-1, output=None, mode="reflect", cval=0.0, *, threads=None):
    """Lazy ``npfast.ndimage.prewitt`` (``scipy.ndimage.prewitt``)."""
    return _edge("prewitt", input, axis, output, mode, cval, threads)


def laplace(input, output=None, mode="reflect", cval=0.0, *, axes=None, threads=None):
    """Lazy ``npfast.ndimage.laplace`` (``scipy.ndimage.laplace``)."""
    axes = check_axes(axes, _as_dask(input, "input").ndim)
    return _filter("laplace", input, {ax: (1, 1) for ax in axes}, _periodic(mode, axes), (),
                   _kw(output, mode, cval, axes=axes), threads)


def _gaussian_derivatives(name, input, sigma, output, mode, cval, axes, kwargs, threads):
    # Each derivative smooths every axis with the sigmas given; a halo of the largest radius
    # on every axis covers any way they are spread over the axes.
    ndim = _as_dask(input, "input").ndim
    sig = [float(s) for s in np.ravel(sigma)] or [0.0]
    rad = kwargs.get("radius")
    rads = [None] if rad is None else list(np.ravel(np.asarray(rad, dtype=object)))
    truncate = kwargs.get("truncate", 4.0)
    k = max(_gauss_radius(s, truncate, r) for s in sig for r in rads)
    filtered = check_axes(axes, ndim)
    return _filter(name, input, {ax: (k, k) for ax in range(ndim)}, _periodic(mode, filtered),
                   (sigma,), _kw(output, mode, cval, axes=axes, **kwargs), threads)


def gaussian_laplace(input, sigma, output=None, mode="reflect", cval=0.0, *, axes=None,
                     threads=None, **kwargs):
    """Lazy ``npfast.ndimage.gaussian_laplace`` (``scipy.ndimage.gaussian_laplace``);
    ``kwargs``: ``truncate`` and ``radius``."""
    return _gaussian_derivatives("gaussian_laplace", input, sigma, output, mode, cval, axes,
                                 kwargs, threads)


def gaussian_gradient_magnitude(input, sigma, output=None, mode="reflect", cval=0.0, *,
                                axes=None, threads=None, **kwargs):
    """Lazy ``npfast.ndimage.gaussian_gradient_magnitude``
    (``scipy.ndimage.gaussian_gradient_magnitude``); ``kwargs``: ``truncate`` and ``radius``."""
    return _gaussian_derivatives("gaussian_gradient_magnitude", input, sigma, output, mode,
                                 cval, axes, kwargs, threads)


# ---------------------------------------------------------------------------------------------
# Window filters: weights, size or footprint


def _window_reach(ndim, shape, origin, axes, convolve=False):
    """{axis: (before, after)} of a window of `shape` over `axes` (or every axis when the
    window has the input's rank)."""
    axes = check_axes(axes, ndim)
    if len(shape) == ndim and len(axes) < ndim:
        axes = tuple(range(ndim))
    if len(shape) != len(axes):
        return {}  # the probe call reports the mismatch
    origins = _ints(origin, len(axes), "origin")
    reach = {}
    for ax, s, o in zip(axes, shape, origins):
        reach[ax] = _taps(s, _conv_origin(s, o) if convolve else o)
    return reach


def _weights_filter(name, input, weights, output, mode, cval, origin, axes, threads):
    w = _small(weights, "weights")
    ndim = _as_dask(input, "input").ndim
    reach = _window_reach(ndim, w.shape, origin, axes, convolve=name == "convolve")
    return _filter(name, input, reach, _periodic(mode, check_axes(axes, ndim)), (w,),
                   _kw(output, mode, cval, origin=origin, axes=axes), threads)


def correlate(input, weights, output=None, mode="reflect", cval=0.0, origin=0, *, axes=None,
              threads=None):
    """Lazy ``npfast.ndimage.correlate`` (``scipy.ndimage.correlate``) of a dask array."""
    return _weights_filter("correlate", input, weights, output, mode, cval, origin, axes,
                           threads)


def convolve(input, weights, output=None, mode="reflect", cval=0.0, origin=0, *, axes=None,
             threads=None):
    """Lazy ``npfast.ndimage.convolve`` (``scipy.ndimage.convolve``) of a dask array."""
    return _weights_filter("convolve", input, weights, output, mode, cval, origin, axes,
                           threads)


def _footprint_filter(name, input, lead_args, size, footprint, output, mode, cval, origin,
                      axes, threads):
    ndim = _as_dask(input, "input").ndim
    fp = _small(footprint, "footprint")
    filtered = check_axes(axes, ndim)
    shape = fp.shape if fp is not None else tuple(
        _ints(size if size is not None else 1, len(filtered), "size"))
    reach = _window_reach(ndim, shape, origin, axes)
    kwargs = _kw(output, mode, cval, size=size, footprint=fp, origin=origin, axes=axes)
    return _filter(name, input, reach, _periodic(mode, filtered), lead_args, kwargs, threads)


def minimum_filter(input, size=None, footprint=None, output=None, mode="reflect", cval=0.0,
                   origin=0, *, axes=None, threads=None):
    """Lazy ``npfast.ndimage.minimum_filter`` (``scipy.ndimage.minimum_filter``)."""
    return _footprint_filter("minimum_filter", input, (), size, footprint, output, mode, cval,
                             origin, axes, threads)


def maximum_filter(input, size=None, footprint=None, output=None, mode="reflect", cval=0.0,
                   origin=0, *, axes=None, threads=None):
    """Lazy ``npfast.ndimage.maximum_filter`` (``scipy.ndimage.maximum_filter``)."""
    return _footprint_filter("maximum_filter", input, (), size, footprint, output, mode, cval,
                             origin, axes, threads)


def median_filter(input, size=None, footprint=None, output=None, mode="reflect", cval=0.0,
                  origin=0, *, axes=None, threads=None):
    """Lazy ``npfast.ndimage.median_filter`` (``scipy.ndimage.median_filter``)."""
    return _footprint_filter("median_filter", input, (), size, footprint, output, mode, cval,
                             origin, axes, threads)


def rank_filter(input, rank, size=None, footprint=None, output=None, mode="reflect", cval=0.0,
                origin=0, *, axes=None, threads=None):
    """Lazy ``npfast.ndimage.rank_filter`` (``scipy.ndimage.rank_filter``)."""
    return _footprint_filter("rank_filter", input, (rank,), size, footprint, output, mode,
                             cval, origin, axes, threads)


def percentile_filter(input, percentile, size=None, footprint=None, output=None,
                      mode="reflect", cval=0.0, origin=0, *, axes=None, threads=None):
    """Lazy ``npfast.ndimage.percentile_filter`` (``scipy.ndimage.percentile_filter``)."""
    return _footprint_filter("percentile_filter", input, (percentile,), size, footprint, output,
                             mode, cval, origin, axes, threads)
