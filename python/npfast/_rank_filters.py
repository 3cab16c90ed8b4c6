"""scipy.ndimage's rank filters on npfast's kernels: minimum_filter1d, maximum_filter1d,
minimum_filter, maximum_filter, median_filter, rank_filter and percentile_filter, with SciPy's
signatures, dispatch and results (docs/ndimage.md, Rank filters, says what matches bit for bit).

Each function follows scipy/ndimage/_filters.py step for step: a rectangular footprint is
separable and runs one minimum/maximum pass per axis into the output (whose dtype the later
passes read, as SciPy's do); rank 0 and the last rank are the minimum and maximum filters; any
other footprint runs the window operator, computed in the input's own values with ``cval``
cast to the input's dtype, as SciPy's NI_MinOrMaxFilter and NI_RankFilter do.
"""

from __future__ import annotations

import numbers
import warnings
from collections.abc import Iterable

import numpy as np

from . import _npfast
from ._ndimage_support import (AnchorTypeError, AnchorValueError, _new, as_float, as_index,
                               as_input, c_cast, cast_into, check_axes, check_origin,
                               get_output, mode_code, normalize_axis, normalize_sequence,
                               remembered, separate)

__all__ = ["minimum_filter1d", "maximum_filter1d", "minimum_filter", "maximum_filter",
           "median_filter", "rank_filter", "percentile_filter"]

# dtypes the operators read and write; others go through one of these (values exactly).
_NATIVE = {np.dtype(t) for t in (np.uint8, np.int8, np.uint16, np.int16, np.int32, np.int64,
                                 np.float32, np.float64)}


def _as_input(input):
    """as_input, with TypeError naming `input` for what holds no real numbers (strings,
    objects) before any other check."""
    a = np.asarray(input)
    if a.dtype.kind not in "biufc":  # SciPy: RuntimeError, so both classes
        raise AnchorTypeError(f"input: unsupported dtype {a.dtype}")
    return as_input(a)


def _native_input(a):
    """The input as a dtype the operators take, with the same values (bool as uint8, uint32
    and uint64 through int64 / float64 as SciPy's double buffers hold them)."""
    if not a.dtype.isnative:
        a = a.astype(a.dtype.newbyteorder("="))
    if a.dtype in _NATIVE:
        return a
    if a.dtype == np.bool_:
        return a.view(np.uint8)
    if a.dtype == np.uint32:
        return a.astype(np.int64)
    if a.dtype.kind in "iuf":
        return a.astype(np.float64)
    raise TypeError(f"input: unsupported dtype {a.dtype}")


def _run(fn, input, output, rule):
    """Calls operator `fn(input, output)` writing `output`, through a temporary of a native
    dtype when `output`'s is not one (then cast as SciPy's C code casts: cast_into, by `rule`:
    "line" for SciPy's 1-D passes, "nd" for its footprint filters, which never run in place:
    separate)."""
    src = _native_input(separate(input, output, in_place=rule == "line"))
    if output.dtype in _NATIVE:
        fn(src, output)
    else:
        tmp = _new(output.shape, np.float64)
        fn(src, tmp)
        cast_into(output, tmp, rule)


def _run_rank(fn, input, output):
    """_run for the rank operator: SciPy's NI_RankFilter casts the selected double to the
    input's type, and that value as a double to the output's. For int64 / uint64 inputs, whose
    large values the double rounds (2^63 - 1 to 2^63, cast back INT64_MIN), an output of another
    dtype gets that round trip: through a temporary of the input's type (probe18a); other
    inputs' values come back exactly."""
    dt = input.dtype.newbyteorder("=")
    if dt.kind in "iu" and dt.itemsize == 8 and output.dtype != input.dtype:
        tmp = _new(output.shape, dt)
        _run(fn, input, tmp, "nd")
        cast_into(output, tmp.astype(np.float64), "nd")
    else:
        _run(fn, input, output, "nd")


def _window_cval(dtype, cval):
    """SciPy's (_type)cval for the window filters: the fill value in the input's dtype. The
    operators cast it themselves for the dtypes they take; uint32 and uint64 inputs reach them
    as int64 / float64 (_native_input), so their cast is made here (-1.0 is 2^32 - 1 for
    uint32), and the operator receives that value (as a double: uint64's as SciPy's double
    buffer holds it). uint64 takes GCC's scalar cast (c_cast's "line" rule: -1e19 gives
    2^63), measured against SciPy 1.17."""
    # uint32 and uint64 in either byte order and spelling ('Q' is np.ulonglong, review17)
    if dtype.kind == "u" and dtype.itemsize >= 4:
        return float(c_cast(np.array([cval]), dtype.newbyteorder("="), "line")[0])
    return cval


def _size(size, arg="size"):
    """A filter length: an integer (or an integral real, as SciPy's int(size)) >= 1."""
    if isinstance(size, (bool, np.bool_)) or not isinstance(size, numbers.Real):
        raise TypeError(f"{arg}: must be an integer, got {size!r}")
    if int(size) != size:
        raise TypeError(f"{arg}: must be an integer, got {size!r}")
    size = int(size)
    if size < 1:
        raise AnchorValueError(f"{arg}: incorrect filter size; must be >= 1, got {size}")
    return size


def _int_size(size):
    """A rank filter's length: an integer (not a bool, not 3.0: SciPy's np.ones(sizes) refuses
    both) >= 1."""
    if isinstance(size, (bool, np.bool_)) or not isinstance(size, numbers.Integral):
        raise TypeError(f"size: must be an integer, got {size!r}")
    return _size(size)


def _minmax1d(input, size, axis, output, mode, cval, origin, minimum):
    input = _as_input(input)
    axis = normalize_axis(axis, input.ndim)
    size = _size(size)
    output = get_output(output, input)
    origin = check_origin(origin, size)
    code = mode_code(mode)
    cval = as_float(cval, "cval")

    def op(src, out):
        _npfast._minmax_filter1d(src, size, axis, out, code, cval, origin, minimum)

    _run(op, input, output, "line")
    return output


def minimum_filter1d(input, size, axis=-1, output=None, mode="reflect", cval=0.0, origin=0):
    """1-D minimum filter along ``axis``, as ``scipy.ndimage.minimum_filter1d``.

    ``out[..., i, ...] = min_j input_ext[..., i + j - size // 2 - origin, ...]`` for j < size:
    SciPy's values exactly, NaN included (SciPy's running-minimum deque answers by where a NaN
    sits; npfast runs that deque on lines holding a NaN and van Herk/Gil-Werman, three
    comparisons per element, on the others).

    Parameters
    ----------
    input : array_like, N-D, real
    size : int, >= 1
    axis : int
    output : ndarray or dtype, optional
        An array of the input's shape (written in place) or a dtype; default the input's.
        Integer outputs truncate toward zero as SciPy's C cast.
    mode : {'reflect', 'constant', 'nearest', 'mirror', 'wrap', 'grid-mirror',
        'grid-constant', 'grid-wrap'}
    cval : float
        The value past the edges for mode='constant'.
    origin : int, in ``[-(size // 2), (size - 1) // 2]``

    Raises
    ------
    AnchorValueError (ValueError and RuntimeError, SciPy's class)  size < 1, an unknown
    mode, a wrong ``output`` shape.  ValueError  a bad axis or origin.  TypeError  complex or
    unsupported dtypes.
    """
    return _minmax1d(input, size, axis, output, mode, cval, origin, True)


def maximum_filter1d(input, size, axis=-1, output=None, mode="reflect", cval=0.0, origin=0):
    """1-D maximum filter along ``axis``, as ``scipy.ndimage.maximum_filter1d``; parameters,
    results and errors as :func:`minimum_filter1d` with max for min."""
    return _minmax1d(input, size, axis, output, mode, cval, origin, False)


def _expand_footprint(ndim, axes, footprint):
    if len(axes) < ndim:
        if footprint.ndim != len(axes):
            raise AnchorValueError(
                f"footprint: footprint.ndim ({footprint.ndim}) must match len(axes) "
                f"({len(axes)})")
        footprint = np.expand_dims(footprint, tuple(ax for ax in range(ndim) if ax not in axes))
    return footprint


def _expand_origin(ndim, axes, origin):
    origins = normalize_sequence(origin, len(axes), "origin")
    if len(axes) < ndim:
        full = [0] * ndim
        for o, ax in zip(origins, axes):
            full[ax] = o
        origins = full
    return origins


def _check_window(ndim, footprint, origins):
    """SciPy's checks before a window operator: the footprint's rank (against the input's,
    `ndim`) and each origin."""
    fshape = [n for n in footprint.shape if n > 0]
    if len(fshape) != ndim and footprint.ndim == ndim:
        # SciPy counts only the non-empty axes and says "ndim must match" (probe24f).
        raise AnchorValueError(
            f"footprint: every axis must have length 1 or more, got shape {footprint.shape}")
    if len(fshape) != ndim:
        raise AnchorValueError(
            f"footprint: footprint.ndim ({footprint.ndim}) must match the input's "
            f"({ndim}), got shape {footprint.shape}")
    out = []
    for origin, f in zip(origins, fshape):
        out.append(check_origin(origin, f, size_name="footprint length"))
    return out


def _single_mode(mode, what):
    if not isinstance(mode, str) and isinstance(mode, Iterable):
        raise AnchorValueError(
            f"mode: a sequence of modes is not supported for non-separable {what}")
    return mode_code(mode)


def _min_or_max_filter(input, size, footprint, output, mode, cval, origin, minimum, axes):
    if size is not None and footprint is not None:
        warnings.warn("ignoring size because footprint is set", UserWarning, stacklevel=3)
    size_arg = "size"
    if footprint is None:
        if size is None:
            raise AnchorValueError("size: no footprint provided (give size or footprint)")
        separable = True
    else:
        footprint = np.asarray(footprint, dtype=bool)
        if not footprint.any():
            raise ValueError("footprint: All-zero footprint is not supported.")
        if footprint.all():
            size = footprint.shape
            size_arg = "footprint"  # its shape, one length per filtered axis
            footprint = None
            separable = True
        else:
            separable = False
    input = _as_input(input)
    fresh = output is None  # a new array shares no memory with the input
    output = get_output(output, input)
    if separable:
        if axes is not None:
            check_axes(axes, input.ndim)  # its errors before cval's
        cval = as_float(cval, "cval")
        passes, fused, volume = _separable_plan(input.ndim, size, size_arg, mode, origin, axes)
        if (fused and input.dtype == output.dtype and output.dtype in _NATIVE
                and (fresh or not np.may_share_memory(input, output))):
            # The last two passes (the last two axes) fused over bands of rows when the arrays
            # allow it; earlier passes into a scratch array the fused pair reads. A volume's
            # three passes (the last three axes, nothing before them) in one sweep first
            # (short windows: the fold across planes; a NaN or infinity: the passes below).
            if volume and _npfast._minmax_filter2d(input, volume[0], output, volume[1], cval,
                                                   volume[2], minimum):
                return output
            src = input
            if len(passes) > 2:
                scratch = _new(output.shape, output.dtype)
                pre = passes[:-2]
                for i, (axis, s, o, m) in enumerate(pre):
                    dst = scratch if (len(pre) - 1 - i) % 2 == 0 else output
                    _minmax1d(src, s, axis, dst, m, cval, o, minimum)
                    src = dst
            sizes, codes, origins = fused
            if _npfast._minmax_filter2d(src, sizes, output, codes, cval, origins, minimum):
                return output
        if passes:
            # SciPy makes every pass into `output`; npfast alternates between `output` and a
            # scratch array of its dtype (the same values), ending in `output`, so that no pass
            # runs in place.
            scratch = _new(output.shape, output.dtype) if len(passes) > 1 else None
            src = input
            for i, (axis, s, o, m) in enumerate(passes):
                dst = output if (len(passes) - 1 - i) % 2 == 0 else scratch
                _minmax1d(src, s, axis, dst, m, cval, o, minimum)
                src = dst
        else:
            output[...] = input[...]
        return output
    axes = check_axes(axes, input.ndim)
    cval = as_float(cval, "cval")
    footprint = _expand_footprint(input.ndim, axes, footprint)
    origins = _check_window(input.ndim, footprint, _expand_origin(input.ndim, axes, origin))
    code = _single_mode(mode, "footprints")
    fp = np.ascontiguousarray(footprint, dtype=np.uint8)
    cval = _window_cval(input.dtype, cval)

    def op(src, out):
        _npfast._window_filter(src, fp, origins, 0, out, code, cval, 0 if minimum else 1)

    _run(op, input, output, "nd")
    return output


@remembered
def _separable_plan(ndim, size, size_arg, mode, origin, axes):
    """A separable minimum / maximum filter's passes (axis, size, origin, mode) of size > 1,
    every one checked before the first writes `output`, and where the last two run fused (along
    the last two axes) _minmax_filter2d's sizes, mode codes and origins for them, else None;
    and the same for all three passes where they are those along the last three axes (a
    volume's sweep), else None."""
    axes = check_axes(axes, ndim)
    origins = normalize_sequence(origin, len(axes), "origin")
    sizes = [_size(s, size_arg) for s in normalize_sequence(size, len(axes), size_arg)]
    modes = normalize_sequence(mode, len(axes), "mode")
    passes = [(axes[i], sizes[i], origins[i], modes[i])
              for i in range(len(axes)) if sizes[i] > 1]
    for _, s, o, m in passes:
        check_origin(o, s)
        mode_code(m)
    def plan(last):
        return ([p[1] for p in last], [mode_code(p[3]) for p in last],
                [check_origin(p[2], p[1]) for p in last])
    fused = volume = None
    if len(passes) >= 2 and passes[-2][0] == ndim - 2 and passes[-1][0] == ndim - 1:
        fused = plan(passes[-2:])
        if len(passes) == 3 and passes[0][0] == ndim - 3:
            volume = plan(passes)
    return passes, fused, volume


def minimum_filter(input, size=None, footprint=None, output=None, mode="reflect", cval=0.0,
                   origin=0, *, axes=None):
    """Multidimensional minimum filter, as ``scipy.ndimage.minimum_filter``.

    With ``size`` (or a footprint of all True) the filter is separable: one
    :func:`minimum_filter1d` pass per axis of length > 1, in axis order, each into ``output``
    (so SciPy's NaN answers and integer-output truncation carry through the same way); ``mode``
    and ``origin`` may then be per-axis sequences. Any other footprint takes SciPy's
    NI_MinOrMaxFilter scan in the input's dtype: the first footprint value (C order), replaced
    by each strictly smaller one, so a NaN is the answer exactly when it is the window's first
    value; ``cval`` is cast to the input's dtype first.

    Parameters
    ----------
    input : array_like, N-D, real
    size : int or sequence of ints (one per filtered axis), >= 1
    footprint : array_like of bool, optional; overrides ``size`` (with a warning if both)
    output, mode, cval : as :func:`minimum_filter1d`
    origin : int or sequence of ints
    axes : int or sequence of ints, optional
        The axes filtered (default all); ``size``, ``origin``, ``mode`` sequences and the
        footprint's rank follow them.

    Raises
    ------
    AnchorValueError (ValueError and RuntimeError)  no size or footprint, size < 1, a
    footprint of the wrong rank, a sequence of the wrong length, an unknown mode, a sequence of
    modes with a non-separable footprint.  ValueError  an all-False footprint, a bad origin
    or axes.  TypeError  complex or unsupported dtypes.
    """
    return _min_or_max_filter(input, size, footprint, output, mode, cval, origin, True, axes)


def maximum_filter(input, size=None, footprint=None, output=None, mode="reflect", cval=0.0,
                   origin=0, *, axes=None):
    """Multidimensional maximum filter, as ``scipy.ndimage.maximum_filter``; as
    :func:`minimum_filter` with max for min (strictly larger values replace)."""
    return _min_or_max_filter(input, size, footprint, output, mode, cval, origin, False, axes)


def _expand_mode(ndim, axes, mode):
    if not isinstance(mode, str) and isinstance(mode, Iterable):
        modes = normalize_sequence(mode, len(axes), "mode")
        full = ["constant"] * ndim
        for m, ax in zip(modes, axes):
            full[ax] = m
        mode = full
    return mode


def _rank_filter(input, rank, size, footprint, output, mode, cval, origin, operation, axes):
    if size is not None and footprint is not None:
        warnings.warn("ignoring size because footprint is set", UserWarning, stacklevel=3)
    input = _as_input(input)
    footprint, fp, origins, rank, mode = _rank_plan(input.ndim, rank, size, footprint, mode,
                                                    origin, operation, axes)
    if fp is None:  # rank 0 or the last: SciPy's minimum or maximum filter
        return (minimum_filter if rank == 0 else maximum_filter)(input, None, footprint, output,
                                                                 mode, cval, origins)
    output = get_output(output, input)
    code = _single_mode(mode, "rank filters")
    cval = _window_cval(input.dtype, as_float(cval, "cval"))

    def op(src, out):
        _npfast._window_filter(src, fp, origins, rank, out, code, cval, 2)

    _run_rank(op, input, output)
    return output


@remembered
def _rank_plan(ndim, rank, size, footprint, mode, origin, operation, axes):
    """A rank filter's footprint (ndim axes), its uint8 copy for the window operator (None
    where the rank is the first or the last: a minimum or maximum filter), the origins, the
    rank counted from 0, and the mode (per axis where a sequence was given)."""
    axes = check_axes(axes, ndim)
    if footprint is None:
        if size is None:
            raise AnchorValueError("size: no footprint or filter size provided")
        # Integers only, as SciPy's np.ones(sizes) (3.0 is a TypeError there, unlike the
        # minimum / maximum filters' int(size)).
        sizes = [_int_size(s) for s in normalize_sequence(size, len(axes), "size")]
        footprint = np.ones(sizes, dtype=bool)
        footprint.flags.writeable = False  # remembered: shared by the calls of this plan
    else:
        footprint = np.asarray(footprint, dtype=bool)
    footprint = _expand_footprint(ndim, axes, footprint)
    origins = _expand_origin(ndim, axes, origin)
    mode = _expand_mode(ndim, axes, mode)
    origins = _check_window(ndim, footprint, origins)
    filter_size = int(np.count_nonzero(footprint))
    if operation == "median":
        rank = filter_size // 2
    elif operation == "percentile":
        percentile = as_float(rank, "percentile")
        if percentile < 0.0:
            percentile += 100.0
        if not 0 <= percentile <= 100:
            raise AnchorValueError(
                f"percentile: invalid percentile; must lie in [-100, 100], got {rank!r}")
        if percentile == 100.0:
            rank = filter_size - 1
        else:
            rank = int(float(filter_size) * percentile / 100.0)
    else:
        rank = as_index(rank, "rank")
    given = rank
    if rank < 0:
        rank += filter_size
    if rank < 0 or rank >= filter_size:
        raise AnchorValueError(
            f"rank: rank not within filter footprint size; must lie in [-{filter_size}, "
            f"{filter_size}), got {given}")
    if rank == 0 or rank == filter_size - 1:
        return footprint, None, origins, rank, mode
    fp = np.ascontiguousarray(footprint, dtype=np.uint8)
    fp.flags.writeable = False
    return footprint, fp, origins, rank, mode


def rank_filter(input, rank, size=None, footprint=None, output=None, mode="reflect", cval=0.0,
                origin=0, *, axes=None):
    """Multidimensional rank filter, as ``scipy.ndimage.rank_filter``.

    The ``rank``-th smallest value (negative: from the largest) of each window. Rank 0 and the
    last rank are :func:`minimum_filter` / :func:`maximum_filter` (as SciPy dispatches); other
    ranks take SciPy's NI_Select partition over the window's values in footprint order (C
    order), converted to double: the exact order statistic on windows without NaN, and SciPy's
    partition result on windows with one. ``cval`` is cast to the input's dtype first. Windows of
    3, 5, 7, 9, 25, 27 or 49 values (3x3 and 5x5 medians among them) run min/max sorting networks
    across outputs, for every real dtype (uint32, int64 and uint64 as float64, the values
    SciPy's double buffers hold; windows with a NaN still take NI_Select).

    One difference: SciPy runs 1-D inputs through a second algorithm (a double heap,
    scipy.ndimage._rank_filter_1d) whose answers for windows holding a NaN depend on the heap's
    history, and which reads past the array when the window is longer than it under 'reflect',
    'mirror' or 'wrap'; npfast gives every input NI_Select's answer (what SciPy returns for the
    same values laid out as a 2-D array of one row).

    Parameters
    ----------
    input : array_like, N-D, real
    rank : int, in ``[-n, n)`` for a footprint of n True entries
    size, footprint, output, mode, cval, origin, axes : as :func:`minimum_filter` (a sequence
        of modes only where the filter reduces to a separable minimum or maximum)

    Raises
    ------
    AnchorValueError (ValueError and RuntimeError)  rank out of range, and as
    :func:`minimum_filter`.  ValueError, TypeError  as :func:`minimum_filter`.
    """
    return _rank_filter(input, rank, size, footprint, output, mode, cval, origin, "rank", axes)


def median_filter(input, size=None, footprint=None, output=None, mode="reflect", cval=0.0,
                  origin=0, *, axes=None):
    """Multidimensional median filter, as ``scipy.ndimage.median_filter``: :func:`rank_filter`
    with rank ``n // 2`` for a footprint of n True entries (the upper median for even n)."""
    return _rank_filter(input, 0, size, footprint, output, mode, cval, origin, "median", axes)


def percentile_filter(input, percentile, size=None, footprint=None, output=None,
                      mode="reflect", cval=0.0, origin=0, *, axes=None):
    """Multidimensional percentile filter, as ``scipy.ndimage.percentile_filter``:
    :func:`rank_filter` with rank ``int(n * percentile / 100)`` (``n - 1`` for 100; a negative
    percentile counts from 100). ``percentile`` outside [-100, 100] raises
    AnchorValueError naming it."""
    return _rank_filter(input, percentile, size, footprint, output, mode, cval, origin,
                        "percentile", axes)
