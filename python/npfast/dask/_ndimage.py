"""Lazy scipy.ndimage filters (``npfast.dask.ndimage``): every block is the in-memory npfast
filter run on the block extended by the filter's reach, keeping the block's own outputs.

The extension comes from the neighbouring chunks (any number of them, so chunks smaller than
the halo need no rechunking) and stops at the array's edges, where the window's edge is the
array's and the kernel's mode acts there exactly as on the whole array; along an axis whose mode
wraps, the extension wraps around instead. A window at the array's edge also reaches as far
into the array as a reflecting mode mirrors the filter's reach back into it. Only the outputs
whose whole footprint lies in the window are kept, so each is computed from the same values as
in the whole-array call: bit for bit, except where the in-memory answer depends on the line
before the window (docs/ndimage.md, Dask): uniform filters on float inputs (the running sum
carries along the whole line) and the separable minimum / maximum on lines holding a NaN
(SciPy's deque).
"""

from __future__ import annotations

import functools

import dask.array as da
import numpy as np
from dask.array.core import Array
from dask.base import tokenize
from dask.highlevelgraph import HighLevelGraph

import npfast
import npfast._rank_filters as _rf
import npfast.ndimage as _ndi
from npfast._ndimage_support import check_axes, normalize_axis, normalize_sequence

from ._tasks import _Kernel, _Threads, _as_dask, _bounds, _host_slots, _small, _thread_share
from ._windows import _pieces

__all__ = list(_ndi.__all__)

_WRAPS = ("wrap", "grid-wrap")


# ---------------------------------------------------------------------------------------------
# The graph


def _on_block(kernel, args, kwargs, block):
    return kernel(block, *args, **kwargs)


def _probe(kernel, x, args, kwargs):
    """The in-memory call on a tiny block of x's rank and dtype: its argument checks (and
    errors, naming the argument) now rather than at compute time; returns its dtype."""
    return kernel(np.zeros((1,) * x.ndim, x.dtype), *args, **kwargs).dtype


def _reach_of(name, input, args, kwargs, make):
    """make(): the filter's reach, from arguments only the in-memory call checks. Where they
    do not convert (radius=[3], size='a'), the in-memory call's own error (probe19c: int()'s
    TypeError named nothing); the conversion's error if that call takes them."""
    try:
        return make()
    except (TypeError, ValueError, OverflowError):  # int(inf): OverflowError
        _probe(_Kernel(name, getattr(_ndi, name)), _as_dask(input, "input"), args, kwargs)
        raise


def _filter(name, input, reach, periodic, args, kwargs, threads, mixed=()):
    """Lazy npfast.ndimage.<name>(input, *args, **kwargs).

    reach: {axis: (before, after)}: output i along the axis reads inputs [i - before,
    i + after] (absent axes: 0). periodic: the axes whose mode wraps. mixed: the axes read
    with a wrapping mode by some passes and another by others (the Gaussian derivatives with
    a mode per pass): a block whose window meets the array's edge there takes the whole axis,
    where every pass's mode acts as on the whole array."""
    x = _as_dask(input, "input")
    out = kwargs.get("output")
    if out is not None and isinstance(out, np.ndarray):
        raise TypeError("output: npfast.dask returns a new dask array; pass a dtype, not an "
                        "array")
    kernel = _Kernel(name, getattr(_ndi, name))
    if x.ndim == 0:  # no axis to filter: one block, the in-memory call's copy (SciPy's)
        dtype = kernel(np.zeros((), x.dtype), *args, **kwargs).dtype
        # (the arguments bound apart: map_blocks takes an `output` keyword of its own)
        return x.map_blocks(functools.partial(_on_block, kernel, args, kwargs), dtype=dtype)
    spec = _Threads(threads, _host_slots())
    dtype = _probe(kernel, x, args, kwargs)
    if 0 in x.shape:
        # No outputs, no windows: the empty result of the kernel's dtype.
        return da.empty(x.shape, dtype=dtype, chunks=x.chunks)
    wins = []  # per axis, per block: (window pieces, window length, own slice in the window)
    for ax in range(x.ndim):
        before, after = reach.get(ax, (0, 0))
        bounds, n = _bounds(x.chunks[ax]), x.shape[ax]
        wrap = ax in periodic and len(x.chunks[ax]) > 1
        axis_wins = []
        for b0, b1 in zip(bounds[:-1], bounds[1:]):
            if wrap and b1 - b0 + before + after < n:
                s, e = b0 - before, b1 + after
            elif wrap:
                # A window as long as the axis is the whole axis once, the filter's wrap mode
                # acting at its ends as on the whole array (probe19c: 1-pixel chunks of a 2^3
                # array with a reach of 48 wrapped 97 times an axis: 97^3 pieces a task).
                s, e = 0, n
            else:
                s, e = max(0, b0 - before), min(n, b1 + after)
                # At the array's edge a reflecting mode reads the reach mirrored back into
                # the array: `before` inputs from the start, `after` from the end.
                if s == 0:
                    e = max(e, min(n, before + 1))
                if e == n:
                    s = min(s, max(0, n - 1 - after))
                if ax in mixed and (s == 0 or e == n):
                    s, e = 0, n
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
    """size: the taps, or a function of no arguments giving them (from arguments the
    in-memory call checks: _reach_of)."""
    ndim = _as_dask(input, "input").ndim

    def reach():
        ax = normalize_axis(axis, ndim)
        n, o = int(size() if callable(size) else size), int(origin)
        return {ax: _taps(n, _conv_origin(n, o) if convolve else o)}, _periodic(mode, (ax,))

    return _filter(name, input, *_reach_of(name, input, args, kwargs, reach), args, kwargs,
                   threads)


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
    """Lazy ``npfast.ndimage.uniform_filter1d`` (``scipy.ndimage.uniform_filter1d``). Bit for
    bit on integer inputs; on float inputs within rounding (an integer ``output`` within one),
    NaN tails ending at each task's window: the running sum carries along the whole line in
    memory (docs/ndimage.md, Dask)."""
    return _filter1d("uniform_filter1d", input, size, origin, axis, mode, (size, axis),
                     _kw(output, mode, cval, origin=origin), threads)


def minimum_filter1d(input, size, axis=-1, output=None, mode="reflect", cval=0.0, origin=0, *,
                     threads=None):
    """Lazy ``npfast.ndimage.minimum_filter1d`` (``scipy.ndimage.minimum_filter1d``); bit for
    bit on lines without NaN, the deque over each task's window on lines with one
    (docs/ndimage.md, Dask)."""
    return _filter1d("minimum_filter1d", input, size, origin, axis, mode, (size, axis),
                     _kw(output, mode, cval, origin=origin), threads)


def maximum_filter1d(input, size, axis=-1, output=None, mode="reflect", cval=0.0, origin=0, *,
                     threads=None):
    """Lazy ``npfast.ndimage.maximum_filter1d`` (``scipy.ndimage.maximum_filter1d``); NaN
    lines as minimum_filter1d."""
    return _filter1d("maximum_filter1d", input, size, origin, axis, mode, (size, axis),
                     _kw(output, mode, cval, origin=origin), threads)


def gaussian_filter1d(input, sigma, axis=-1, order=0, output=None, mode="reflect", cval=0.0,
                      truncate=4.0, *, radius=None, threads=None):
    """Lazy ``npfast.ndimage.gaussian_filter1d`` (``scipy.ndimage.gaussian_filter1d``)."""
    return _filter1d("gaussian_filter1d", input,
                     lambda: 2 * _gauss_radius(sigma, truncate, radius) + 1, 0, axis, mode,
                     (sigma, axis, order),
                     _kw(output, mode, cval, truncate=truncate, radius=radius), threads)


# ---------------------------------------------------------------------------------------------
# Separable N-D filters


def uniform_filter(input, size=3, output=None, mode="reflect", cval=0.0, origin=0, *,
                   axes=None, threads=None):
    """Lazy ``npfast.ndimage.uniform_filter`` (``scipy.ndimage.uniform_filter``); within
    rounding of the in-memory call (see uniform_filter1d)."""
    args, kwargs = (size,), _kw(output, mode, cval, origin=origin, axes=axes)

    def reach():
        ax = check_axes(axes, _as_dask(input, "input").ndim)
        sizes, origins = _ints(size, len(ax), "size"), _ints(origin, len(ax), "origin")
        return {a: _taps(s, o) for a, s, o in zip(ax, sizes, origins)}, _periodic(mode, ax)

    return _filter("uniform_filter", input,
                   *_reach_of("uniform_filter", input, args, kwargs, reach), args, kwargs,
                   threads)


def gaussian_filter(input, sigma, order=0, output=None, mode="reflect", cval=0.0, truncate=4.0,
                    *, radius=None, axes=None, threads=None):
    """Lazy ``npfast.ndimage.gaussian_filter`` (``scipy.ndimage.gaussian_filter``): the halo
    on each axis is that axis's radius, int(truncate * sigma + 0.5) or ``radius``."""
    args = (sigma, order)
    kwargs = _kw(output, mode, cval, truncate=truncate, radius=radius, axes=axes)

    def reach():
        ax = check_axes(axes, _as_dask(input, "input").ndim)
        sig, rad = (normalize_sequence(sigma, len(ax), "sigma"),
                    normalize_sequence(radius, len(ax), "radius"))
        out = {}
        for a, s, r in zip(ax, sig, rad):
            k = _gauss_radius(s, truncate, r) if float(s) > 1e-15 else 0
            out[a] = (k, k)
        return out, _periodic(mode, ax)

    return _filter("gaussian_filter", input,
                   *_reach_of("gaussian_filter", input, args, kwargs, reach), args, kwargs,
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
    # One pass per filtered axis, each a gaussian_filter with that pass's one mode on every
    # axis it smooths: the filtered axes (gaussian_laplace: sigma 0 elsewhere) or all of them
    # (gaussian_gradient_magnitude passes sigma as given, over every axis), as SciPy. A halo of
    # the largest radius covers any way the sigmas are spread over the axes. An axis is
    # periodic when every pass smoothing it wraps, and mixed when only some do.
    ndim = _as_dask(input, "input").ndim
    args, kw = (sigma,), _kw(output, mode, cval, axes=axes, **kwargs)

    def reach():
        # Sigmas of 1e-15 or less (NaN too) smooth nothing (gaussian_filter's own rule, below).
        sig = [s for s in map(float, np.ravel(sigma)) if s > 1e-15]
        rad = kwargs.get("radius")
        rads = [None] if rad is None else list(np.ravel(np.asarray(rad, dtype=object)))
        truncate = kwargs.get("truncate", 4.0)
        k = max((_gauss_radius(s, truncate, r) for s in sig for r in rads), default=0)
        filtered = check_axes(axes, ndim)
        smoothed = filtered if name == "gaussian_laplace" else tuple(range(ndim))
        wraps = {isinstance(m, str) and m in _WRAPS
                 for m in normalize_sequence(mode, len(filtered), "mode")}
        periodic = set(smoothed) if wraps == {True} else set()
        mixed = set(smoothed) if wraps == {True, False} else set()
        return {ax: (k, k) for ax in smoothed}, periodic, mixed

    r, periodic, mixed = _reach_of(name, input, args, kw, reach)
    return _filter(name, input, r, periodic, args, kw, threads, mixed)


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
    """{axis: (before, after)} of a window of `shape` (weights, a footprint, the rank filters'
    box of `size`) over `axes`, laid out as SciPy lays it out (npfast.ndimage does the same):
    the window's dimensions are the filtered axes in increasing order (np.expand_dims inserts
    the others), whatever order `axes` lists them in; the origins follow `axes`' order, or the
    axis order when every axis is filtered (_expand_origin). A window of another rank than the
    filtered axes reaches nowhere (the probe call in _filter reports the in-memory error);
    origins that do not convert raise (the callers go through _reach_of)."""
    axes = check_axes(axes, ndim)
    if len(shape) != len(axes):
        return {}
    origins = _rf._expand_origin(ndim, axes, origin)
    reach = {}
    for ax, s in zip(sorted(axes), shape):
        o = int(origins[ax])
        reach[ax] = _taps(s, _conv_origin(s, o) if convolve else o)
    return reach


def _weights_filter(name, input, weights, output, mode, cval, origin, axes, threads):
    w = _small(weights, "weights")
    ndim = _as_dask(input, "input").ndim
    args, kwargs = (w,), _kw(output, mode, cval, origin=origin, axes=axes)
    reach = _reach_of(name, input, args, kwargs, lambda: _window_reach(
        ndim, w.shape, origin, axes, convolve=name == "convolve"))
    return _filter(name, input, reach, _periodic(mode, check_axes(axes, ndim)), args, kwargs,
                   threads)


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
    kwargs = _kw(output, mode, cval, size=size, footprint=fp, origin=origin, axes=axes)
    if name in ("minimum_filter", "maximum_filter") and (
            fp is None or np.asarray(fp, dtype=bool).all()):
        # Separable (a size, or a footprint of all True): one 1-D pass per axis, the i-th size
        # (footprint length), origin and mode on axes[i], in `axes`' order (SciPy's
        # _min_or_max_filter; not the window layout of the footprint filters).
        def separable():
            sizes = _ints(size if fp is None else fp.shape, len(filtered), "size")
            return {ax: _taps(s, o) for ax, s, o in
                    zip(filtered, sizes, _ints(origin, len(filtered), "origin"))}

        return _filter(name, input, _reach_of(name, input, lead_args, kwargs, separable),
                       _periodic(mode, filtered), lead_args, kwargs, threads)

    def window():
        shape = (fp.shape if fp is not None else
                 tuple(_ints(size if size is not None else 1, len(filtered), "size")))
        return _window_reach(ndim, shape, origin, axes)

    reach = _reach_of(name, input, lead_args, kwargs, window)
    # A sequence of modes reaches here only for a rank filter that becomes a separable
    # minimum / maximum over its expanded footprint: one mode per input axis when every axis
    # is filtered (_expand_mode), in axis order.
    try:
        modes = _rf._expand_mode(ndim, filtered, mode)
    except (TypeError, ValueError):
        modes = mode
    periodic = (_periodic(modes, tuple(range(ndim))) if not isinstance(modes, str)
                else _periodic(modes, filtered))
    return _filter(name, input, reach, periodic, lead_args, kwargs, threads)


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
