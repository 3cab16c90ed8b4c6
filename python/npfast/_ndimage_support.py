"""scipy.ndimage's argument handling (scipy/ndimage/_ni_support.py), shared by every
npfast.ndimage function: modes, per-axis sequences, axes, origins and ``output=``.

Errors keep SciPy's exception classes and add npfast's convention of naming the argument.
Where SciPy raises RuntimeError for what npfast's contract calls a ValueError (an unknown mode,
a sequence of the wrong length, no weights) or a TypeError (float16 arrays), the exception is
npfast's :class:`AnchorValueError` / :class:`AnchorTypeError`, both npfast's class and a
RuntimeError, so code written for either catches it.
"""

from __future__ import annotations

import functools
import math
import operator
from collections.abc import Iterable

import numpy as np

from . import _npfast
from ._npfast import AnchorTypeError, AnchorValueError

try:
    from numpy.lib.array_utils import normalize_axis_index as _normalize_axis_index
except ImportError:  # NumPy < 2
    from numpy.core.multiarray import normalize_axis_index as _normalize_axis_index


# Border codes (npfast::Border in include/npfast/border.hpp) for the mode names filters take.
# For filters SciPy maps 'grid-mirror' to 'reflect', 'grid-constant' to 'constant' and
# 'grid-wrap' to 'wrap' (_extend_mode_to_code(mode, is_filter=True)).
MODES = {
    "constant": 0, "grid-constant": 0,
    "wrap": 1, "grid-wrap": 1,
    "reflect": 2, "grid-mirror": 2,
    "nearest": 3,
    "mirror": 4,
}


# Argument types a plan may be remembered for: Python's own scalars (and sequences of them), whose
# equal values make the same plan. NumPy scalars and arrays are planned afresh each call: a
# float32 sigma equals the float sigma of the same value but makes other weights (SciPy
# computes with the type it is given).
_PLAIN = (int, float, str, bool, type(None))
_PLAIN_SET = frozenset(_PLAIN)


def _plain_key(args):
    """`args` as a hashable key of plain values (sequences as tuples of (type, value) pairs),
    or None where one is not plain."""
    types = tuple(map(type, args))
    if _PLAIN_SET.issuperset(types):  # scalars only, the common call
        return args, types
    key = []
    for a in args:
        t = type(a)
        if t in _PLAIN:
            key.append((t, a))
        elif t is tuple or t is list:
            if not all(type(e) in _PLAIN for e in a):
                return None
            key.append((t, tuple((type(e), e) for e in a)))
        else:
            return None
    return tuple(key)


def remembered(plan):
    """plan(*args), its result remembered for arguments of plain Python values: a filter's
    checks of its scalar arguments and its weights, made once for each distinct call rather
    than every call (most of a small image's time: gaussian_filter 8x8 took 7.6 us, 1.2 in
    the kernel). A plan raises as it would uncached (errors are not remembered) and returns
    values the caller must not change."""
    cache = {}

    @functools.wraps(plan)
    def run(*args):
        types = tuple(map(type, args))
        if _PLAIN_SET.issuperset(types):  # _plain_key's common case, without its call
            key = args, types
        else:
            key = _plain_key(args)
            if key is None:
                return plan(*args)
        got = cache.get(key)
        if got is None:
            got = plan(*args)
            if len(cache) >= 256:  # a bound, not a policy: programs use a few distinct calls
                cache.clear()
            cache[key] = got
        return got

    return run


def mode_code(mode, arg="mode"):
    """The Border code of a filter mode name."""
    code = MODES.get(mode) if isinstance(mode, str) else None
    if code is None:
        raise AnchorValueError(
            f"{arg}: boundary mode not supported, got {mode!r} (expected one of "
            "'reflect', 'constant', 'nearest', 'mirror', 'wrap', 'grid-mirror', "
            "'grid-constant', 'grid-wrap')")
    return code


def normalize_sequence(value, rank, arg):
    """SciPy's _normalize_sequence: a scalar (or a string) repeated `rank` times, or a
    sequence of exactly `rank` values."""
    # Scalars first: np.iterable costs a microsecond, a few per call of a small filter.
    if not isinstance(value, (str, int, float)) and np.iterable(value):
        seq = list(value)
        if len(seq) != rank:
            raise AnchorValueError(
                f"{arg}: sequence argument must have length equal to input rank ({rank}), "
                f"got {len(seq)}")
        return seq
    return [value] * rank


def as_index(value, arg):
    """operator.index(value): TypeError naming `arg` for what is not an integer."""
    try:
        return operator.index(value)
    except TypeError:
        raise TypeError(f"{arg}: must be an integer, got {value!r}") from None


def normalize_axis(axis, ndim, arg="axis"):
    """An axis in [0, ndim): numpy's AxisError (a ValueError and an IndexError) otherwise."""
    return _normalize_axis_index(as_index(axis, arg), ndim, arg)


_EVERY_AXIS = [tuple(range(n)) for n in range(33)]


def check_axes(axes, ndim):
    """SciPy's _check_axes: None (every axis), an int or an iterable of ints, each in
    [-ndim, ndim), no axis twice; returns non-negative axes."""
    if axes is None:
        return _EVERY_AXIS[ndim] if ndim < len(_EVERY_AXIS) else tuple(range(ndim))
    if np.isscalar(axes):
        try:
            axes = (operator.index(axes),)
        except TypeError:
            raise TypeError(f"axes: must be an integer, iterable of integers, or None, "
                            f"got {axes!r}") from None
    elif isinstance(axes, Iterable):
        try:
            axes = tuple(operator.index(ax) for ax in axes)
        except TypeError:
            raise TypeError(f"axes: must be an integer, iterable of integers, or None, "
                            f"got {axes!r}") from None
    else:
        raise ValueError("axes: must be an integer, iterable of integers, or None")
    for ax in axes:
        if ax < -ndim or ax > ndim - 1:
            raise ValueError(f"axes: specified axis: {ax} is out of range for {ndim}-D input")
    axes = tuple(ax % ndim if ax < 0 else ax for ax in axes)
    if len(set(axes)) != len(axes):
        raise ValueError(f"axes: must be unique, got {axes}")
    return axes


def check_origin(origin, size, arg="origin", size_name="size"):
    """SciPy's range for a filter of `size` taps: -(size // 2) <= origin <= (size - 1) // 2."""
    origin = as_index(origin, arg)
    if origin < -(size // 2) or origin > (size - 1) // 2:
        raise ValueError(f"{arg}: invalid origin; must satisfy -({size_name} // 2) <= origin "
                         f"<= ({size_name} - 1) // 2, got {origin} for {size_name} {size}")
    return origin


def float_objects(a, arg):
    """An object array (Fractions, Decimals, ints past 64 bits) as float64, as SciPy's
    np.asarray(weights, dtype=np.float64) takes weights; TypeError naming `arg` where a value
    has no float (probe22a)."""
    try:
        if any(v is None for v in a.flat):  # NumPy's astype makes None a NaN
            raise TypeError("None is not a weight")
        return a.astype(np.float64)
    except OverflowError as e:  # an int past float64's range: SciPy's class
        raise OverflowError(f"{arg}: a value past float64's range ({e})") from None
    except (TypeError, ValueError) as e:
        raise TypeError(f"{arg}: values that are not real numbers ({e})") from None


def as_real_array(value, arg, objects=False):
    """np.asarray(value) of a real numeric dtype: TypeError naming `arg` for complex, object,
    string and other non-numeric arrays, and for what NumPy cannot turn into an array; with
    `objects` (weights), an object array as float64 (float_objects)."""
    try:
        a = np.asarray(value)
    except (TypeError, ValueError) as e:
        raise TypeError(f"{arg}: not an array: {e}") from None
    if objects and a.dtype.kind == "O":
        return float_objects(a, arg)
    if a.dtype.kind == "c":
        raise TypeError(f"{arg}: complex values are not supported, got dtype {a.dtype}")
    if a.dtype.kind not in "biuf":  # SciPy: RuntimeError, so both classes
        raise AnchorTypeError(f"{arg}: must be a real numeric array, got dtype {a.dtype}")
    return a


def _refuse_non_numeric(dtype, arg):
    # Strings, objects, datetimes: SciPy's C code raises RuntimeError ("array type not
    # supported"); npfast's rank filters wrote b'1.0' into an 'S8' output (probe18a).
    if dtype.kind not in "biufc":
        raise AnchorTypeError(f"{arg}: array type {dtype} not supported (a real numeric "
                              "dtype is)")


def _refuse_unsupported_float(dtype, arg):
    # SciPy's ndimage has float32 and float64 loops only: float16 and longdouble arrays raise
    # its RuntimeError ("array type not supported").
    if dtype.kind == "f" and dtype.itemsize not in (4, 8):
        raise AnchorTypeError(f"{arg}: array type {dtype} not supported (as SciPy)")


def as_input(input, arg="input"):
    """The array to filter: real, float32 or float64 where floating. A 0-d input has no axes
    to filter: the N-D filters return its copy (in `output`'s dtype), as SciPy's; the 1-D ones
    refuse its axis."""
    if type(input) is np.ndarray and input.dtype in NATIVE_DTYPES:
        return input  # the common call, without asarray's and the dtype checks' 0.3 us
    a = as_real_array(input, arg)
    _refuse_unsupported_float(a.dtype, arg)
    return a


# The real numeric dtypes in native byte order: those npfast.empty takes from the pool, and those
# the line kernels read and write as they are.
NATIVE_DTYPES = frozenset(np.dtype(t) for t in (np.uint8, np.int8, np.uint16, np.int16, np.int32,
                                                np.uint32, np.int64, np.uint64, np.float32,
                                                np.float64))


def _new(shape, dtype):
    dtype = np.dtype(dtype)
    # A byte-swapped dtype (which SciPy returns) too: npfast.empty keeps the byte order.
    if dtype.newbyteorder("=") in NATIVE_DTYPES:
        return _pool_array(shape, dtype)
    return np.empty(shape, dtype)


def _pool_array(shape, dtype):
    try:
        return _npfast.empty(shape, dtype)
    except MemoryError:  # its message names npfast.empty's `shape`: name the result instead
        raise MemoryError(f"output: cannot allocate {np.dtype(dtype).itemsize * math.prod(shape)} "
                          f"bytes for an array of shape {shape} and data type {dtype}") from None


def get_output(output, input, arg="output"):
    """SciPy's _get_output for real results: None (the input's dtype), a dtype (class, dtype
    or string) or an array of the input's shape, which is returned and written in place."""
    shape = input.shape
    if output is None:
        # The input's dtype in native byte order, as SciPy (which spells it dtype.name: 4 us
        # a call in NumPy 2, a third of a small filter's time).
        dt = input.dtype
        if dt in NATIVE_DTYPES:  # native already: the common case, straight to the pool
            return _pool_array(shape, dt)
        return _new(shape, dt if dt.isnative else dt.newbyteorder("="))
    if isinstance(output, (type, np.dtype, str)):
        try:
            dt = np.dtype(output)
        except TypeError:
            raise TypeError(f"{arg}: not a dtype or an array, got {output!r}") from None
        if dt.kind == "c":
            raise AnchorTypeError(f"{arg}: complex output is not supported, got dtype {dt}")
        if isinstance(output, str) and not issubclass(dt.type, np.number):  # SciPy's rule
            raise AnchorValueError(f"{arg}: output must have numeric dtype, got {dt}")
        _refuse_non_numeric(dt, arg)
        _refuse_unsupported_float(dt, arg)
        return _new(shape, dt)
    if type(output) is np.ndarray and output.dtype in NATIVE_DTYPES and output.shape == shape:
        return output  # the common out= call, without the checks' 0.3 us (all pass for these)
    if not isinstance(output, np.ndarray):  # SciPy: RuntimeError "output shape not correct"
        raise AnchorTypeError(f"{arg}: must be None, a dtype or a numpy.ndarray, "
                              f"got {type(output).__name__}")
    if output.shape != shape:
        raise AnchorValueError(
            f"{arg}: output shape not correct: {output.shape}, expected {shape}")
    if output.dtype.kind == "c":
        raise AnchorTypeError(f"{arg}: complex output is not supported, got dtype "
                              f"{output.dtype}")
    _refuse_non_numeric(output.dtype, arg)
    _refuse_unsupported_float(output.dtype, arg)
    return output


class AnchorZeroDivisionError(ValueError, ZeroDivisionError):
    """A bad argument value where SciPy raises ZeroDivisionError (a sigma whose square is 0):
    a ValueError (npfast's class) and a ZeroDivisionError (SciPy's), as AnchorValueError is
    for SciPy's RuntimeError."""


class AnchorOverflowError(ValueError, OverflowError):
    """A bad argument value where SciPy raises OverflowError (an infinite sigma or truncate,
    whose radius int(truncate * sigma + 0.5) has no integer): a ValueError and an
    OverflowError, as AnchorZeroDivisionError."""


_T63 = 2.0 ** 63
_INT64_MIN = np.iinfo(np.int64).min


def _cvt64(v):
    """x86-64's cvttsd2si with a 64-bit result: truncation toward zero, INT64_MIN ("integer
    indefinite") for NaN and for values outside [-2^63, 2^63)."""
    ok = (v >= -_T63) & (v < _T63)
    r = np.where(ok, v, 0.0).astype(np.int64)
    r[~ok] = _INT64_MIN
    return r


def _u64_line(v):
    """GCC's (uint64_t)double on x86-64 (SciPy's line buffers, ndimage::c_cast): below 2^63
    (NaN too) as int64, from 2^63 as int64 of v - 2^63 with the top bit flipped."""
    hi = v >= _T63
    r = _cvt64(np.where(hi, v - _T63, v)).view(np.uint64)
    r[hi] ^= np.uint64(1 << 63)
    return r


def _u64_nd(v):
    """(npy_uint64)double as SciPy 1.17's NI_Correlate, NI_RankFilter and NI_MinOrMaxFilter
    compute it (measured against SciPy): a negative v as the negation of -v's _u64_line, so
    values in (-2^64, 0) wrap modulo 2^64 and -inf gives 0."""
    neg = v < 0
    r = _u64_line(np.where(neg, -v, v))
    r[neg] = np.uint64(0) - r[neg]
    return r


def c_cast(values, dtype, rule="nd"):
    """SciPy's C cast of double results `values` to the integer `dtype` (a new array, or None
    where NumPy's own cast is SciPy's): truncation toward zero, through int32 for types of at
    most 16 bits and int32 (NaN and values out of range give INT32_MIN first, then wrap),
    through int64 for uint32 (INT64_MIN first, then the low 32 bits) and int64; uint64 by
    `rule`: "line" for SciPy's line-buffer filters (correlate1d, uniform_filter1d, the 1-D
    minimum/maximum passes: _u64_line), "nd" for NI_Correlate and the footprint filters
    (_u64_nd). NumPy's own cast agrees for every type but uint32 and uint64, whose long-array
    loops give INT32_MIN / INT64_MIN bit patterns instead (NumPy 2, x86-64)."""
    dtype = np.dtype(dtype)
    if dtype.kind != "u" or dtype.itemsize < 4:
        return None
    v = np.asarray(values, dtype=np.float64)
    if dtype.itemsize == 4:
        return _cvt64(v).astype(np.uint32)
    return _u64_line(v) if rule == "line" else _u64_nd(v)


def cast_into(dest, values, rule="nd"):
    """np.copyto(dest, values) with SciPy's C casts of its double results (c_cast: truncation
    for integers, uint32/uint64 as SciPy's x86-64 build), and for bool the cast to npy_bool,
    an unsigned char (so uint8's, byte for byte: -1.0 is stored as 255 and 0.5 as 0, not as
    True)."""
    if values.dtype.kind == "f":
        cast = c_cast(values, dest.dtype, rule)
        if cast is not None:
            np.copyto(dest, cast, casting="unsafe")  # the same integers, in dest's byte order
            return
    np.copyto(dest.view(np.uint8) if dest.dtype.kind == "b" else dest, values, casting="unsafe")


def _same_view(a, b):
    return (a.__array_interface__["data"][0] == b.__array_interface__["data"][0]
            and a.strides == b.strides and a.dtype == b.dtype and a.shape == b.shape)


def separate(input, output, in_place=True):
    """The input to read when writing `output`: itself when it shares no memory with it, or
    when it is `output` and the operator may run in place (`in_place`: the line passes read
    each block before writing it; the window operators' windows reach rows that other rows'
    outputs, other threads', overwrite), a copy otherwise."""
    if input is output:
        if in_place:
            return input
    elif output.flags.owndata and input.flags.owndata:
        return input  # two arrays owning their memory: apart (np.may_share_memory: 0.25 us)
    if np.may_share_memory(input, output) and not (in_place and _same_view(input, output)):
        return input.copy()
    return input


def as_float(value, arg):
    """A real scalar parameter (cval, sigma, truncate) as a Python float."""
    if type(value) is float or type(value) is int:  # the common case, without NumPy's checks
        return float(value)
    if np.iscomplexobj(value) or isinstance(value, (str, bytes)):  # float("2") would take it
        raise TypeError(f"{arg}: must be a real number, got {value!r}")
    try:
        return float(value)
    except (TypeError, ValueError):
        raise TypeError(f"{arg}: must be a real number, got {value!r}") from None
