"""npfast.ndimage: ``scipy.ndimage.correlate`` / ``convolve`` on npfast's kernels.

Same semantics as SciPy for inputs of any rank (modes, ``cval``, ``origin``, ``axes``, the
centring of even-sized weights, ``output`` as an array or a dtype), and SciPy's exception
classes for its arguments. Without ``output`` the result has the input's dtype, as SciPy's
(integers truncated toward zero and wrapped as SciPy's C casts do). 2-D inputs run npfast's
SIMD kernels: a float32 input with float32 weights in float32 fused multiply-adds (within 1e-5
of SciPy relative to sum |w| |x|), other float results in float64 fused multiply-adds (within
1e-13) rounded once to the output, integer and bool results from SciPy's own sums, bit for
bit. Weights holding a tap SciPy skips (|w| <= DBL_EPSILON, or NaN) give SciPy's sums for
float results too (exact-zero taps: only where a value the kernels read, or an along-row result
of rank-one weights' two passes, is an inf or a NaN).
Every other rank runs SciPy's own algorithm exactly (in double, rounded once to the output).
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Iterable

import numpy as np

from . import _npfast
from ._npfast import AnchorTypeError, AnchorValueError
from ._ndimage_support import _new, as_float, cast_into, check_axes, float_objects, get_output
from ._filters import (convolve1d, correlate1d, gaussian_filter, gaussian_filter1d,  # noqa: F401
                       gaussian_gradient_magnitude, gaussian_laplace, laplace, prewitt, sobel,
                       uniform_filter, uniform_filter1d)
from ._rank_filters import (maximum_filter, maximum_filter1d, median_filter,  # noqa: F401
                            minimum_filter, minimum_filter1d, percentile_filter, rank_filter)

__all__ = ["convolve", "correlate", "correlate1d", "convolve1d", "uniform_filter1d",
           "uniform_filter", "gaussian_filter1d", "gaussian_filter", "sobel", "prewitt",
           "laplace", "gaussian_laplace", "gaussian_gradient_magnitude",
           "minimum_filter1d", "maximum_filter1d", "minimum_filter", "maximum_filter",
           "median_filter", "rank_filter", "percentile_filter"]


_FLOATS = frozenset((np.dtype(np.float32), np.dtype(np.float64)))


def _real(a, name):
    """a as an array npfast's operator takes: bool viewed as uint8 (exact, no copy)."""
    if type(a) is np.ndarray and a.dtype in _FLOATS:
        return a  # the common call, without the checks' 0.2 us
    a = np.asarray(a)
    if a.dtype.kind == "b":
        return a.view(np.uint8)
    if name == "weights" and a.dtype.kind == "O":
        return float_objects(a, name)
    if a.dtype.kind == "c":
        raise TypeError(f"{name}: complex arrays are not supported (npfast computes in real "
                        f"arithmetic), got dtype {a.dtype}")
    if a.dtype.kind not in "iuf" or (a.dtype.kind == "f" and a.dtype.itemsize not in (4, 8)):
        if name == "weights" and a.dtype.kind == "f":
            return a.astype(np.float64)  # SciPy converts the weights to float64 too
        # SciPy: RuntimeError
        raise AnchorTypeError(f"{name}: array type {a.dtype} not supported")
    return a


_EPS = float(np.finfo(np.float64).eps)  # DBL_EPSILON


def _skipped_taps(weights):
    """Which taps of `weights` SciPy's NI_Correlate skips (|w| <= DBL_EPSILON, or NaN: its
    test is fabs(w) > DBL_EPSILON, on the float64 it converts them to): 0 none, 1 exact zeros
    only, 2 a NaN or a nonzero tap within DBL_EPSILON. Small weights' answer is remembered by
    their bytes (three ufunc calls cost 1.5 us, most of a small image's call)."""
    if weights.size > 256:
        return _skipped_taps_of(weights)
    return _skipped_taps_by_bytes(weights.dtype.str, weights.tobytes())


@functools.lru_cache(maxsize=256)
def _skipped_taps_by_bytes(dtype, data):
    return _skipped_taps_of(np.frombuffer(data, dtype))


def _skipped_taps_of(weights):
    if weights.dtype.kind != "f":
        return 0 if weights.all() else 1  # integers: only 0 lies within DBL_EPSILON
    kept = np.abs(weights) > _EPS
    if kept.all():
        return 0
    return 1 if (kept | (weights == 0)).all() else 2


def _origins(origin, axes, ndim):
    """One int per input axis (0 on the axes not filtered), as SciPy expands them: the i-th
    value goes to axes[i] when only some axes are filtered."""
    if type(origin) is int and origin == 0:  # (the type first: an array's == is elementwise)
        return [0] * ndim  # the default: 0.3 us of checks saved
    # An int first: the Iterable check (an ABC's) costs 0.3 us, a tenth of a small image's call.
    # A 0-d array is one value, as in the other filters (SciPy's correlate refuses it).
    if (type(origin) is not int and isinstance(origin, Iterable) and not isinstance(origin, str)
            and not (isinstance(origin, np.ndarray) and origin.ndim == 0)):
        seq = list(origin)
        if len(seq) != len(axes):
            raise AnchorValueError(f"origin: need one value per filtered axis ({len(axes)}), "
                                   f"got {origin!r}")
    else:
        seq = [origin] * len(axes)
    try:
        seq = [operator.index(o) for o in seq]
    except TypeError:
        raise TypeError(f"origin: must be an int or a sequence of ints, got {origin!r}") from None
    if len(axes) == ndim:
        return seq  # one per input axis, in axis order (SciPy does not permute them)
    out = [0] * ndim
    for o, ax in zip(seq, axes):
        out[ax] = o
    return out


def _correlate(input, weights, output, mode, cval, origin, axes, convolve):
    input = np.asarray(input)
    # Without `output`, SciPy's rule: the input's dtype, in native byte order.
    dtype = input.dtype if input.dtype.isnative else input.dtype.newbyteorder("=")
    input = _real(input, "input")
    weights = _real(weights, "weights")
    axes = check_axes(axes, input.ndim)
    if len(axes) < input.ndim:
        if weights.ndim != len(axes):
            raise AnchorValueError(f"weights.ndim ({weights.ndim}) must match len(axes) "
                                   f"({len(axes)})")
        weights = np.expand_dims(weights, tuple(ax for ax in range(input.ndim) if ax not in axes))
    if weights.ndim != input.ndim or 0 in weights.shape:
        raise AnchorValueError(f"weights: expected a non-empty array of {input.ndim} "
                               f"dimensions (the input's, or len(axes)), got shape "
                               f"{weights.shape}")
    origins = _origins(origin, axes, input.ndim)
    if not isinstance(mode, str):
        raise AnchorValueError("mode: a sequence of modes is not supported")
    cval = as_float(cval, "cval")  # as the other filters: 0-d arrays and Decimals too
    dest = None if output is None else get_output(output, input)
    if dest is not None:
        dtype = dest.dtype
    # The dtype the operator computes in (corr2d_result_dtype, whatever the byte order):
    # float32 only for a float32 input with float32 weights (the float32 kernels, within 1e-5
    # of SciPy relative to sum |w| |x|; pass float32 weights for them), else float64, SciPy's
    # own. Into that dtype, or float64, the operator writes itself. Any other output is
    # computed in `natural` and rounded once, as SciPy rounds its double sums: a float32
    # image's float32 result beside float64 weights so takes the 2-D kernels, where the
    # operator's own float32 store of double sums runs the N-D loop, 10-20x slower. An integer
    # or bool output truncates its sums, which turns a last-bit difference into a unit one (a
    # 3x3 box filter's 1/9 weights: 2.5% of a uint8 image's pixels), so those are SciPy's sums
    # bit for bit (`scipy_sums`), in double from double weights (SciPy's too, so exact).
    f32, f64 = np.dtype(np.float32), np.dtype(np.float64)
    float32_pair = (input.dtype.newbyteorder("=") == f32 and
                    weights.dtype.newbyteorder("=") == f32)
    # SciPy's NI_Correlate skips taps with |w| <= DBL_EPSILON (NaN ones too), where the 2-D
    # kernels multiply every tap (other ranks run SciPy's loop): a zero tap on an inf gives
    # NaN, a 1e-17 tap adds its product. Float results from weights with a NaN or a nonzero
    # tap within DBL_EPSILON take SciPy's sums (bit for bit). Weights whose skipped taps are
    # exact zeros (a Sobel, a Laplacian cross) keep the fast kernels: those products are zeros
    # that change no sum unless a value read (the input, or cval where the mode reads it) is an
    # inf or a NaN; the kernels' operator scans each band's rows for that while they are in
    # cache (`check_finite`), and only then is the result made again from SciPy's sums. A
    # check after the call would read the (streamed) result back: +60-80% on a 3x3 cross;
    # SciPy's sums every time cost a float64 cross about 1.8x, a float32 pair's 7-11x.
    skipped = _skipped_taps(weights) if input.ndim >= 2 and dtype.kind == "f" else 0
    nan_check = skipped == 1
    scipy_sums = dtype.kind in "biu" or skipped == 2
    if scipy_sums:
        weights = weights.astype(f64, copy=False)
        float32_pair = False
    natural = f32 if float32_pair else f64

    def scipys():
        return _npfast._ndimage_correlate(input, weights.astype(f64), mode, float(cval),
                                          origins, convolve, None, scipy_sums=True)
    # A new array from the operator (None) is placed off the input's 4 KiB alias.
    if dtype in (natural, np.dtype(np.float64)) and (dest is None or not (
            np.may_share_memory(dest, input) or np.may_share_memory(dest, weights))):
        res = _npfast._ndimage_correlate(input, weights, mode, float(cval), origins, convolve,
                                         dest, scipy_sums=scipy_sums, check_finite=nan_check)
        if nan_check:
            res, finite = res
            if not finite:
                res[...] = scipys()  # rounded once, as SciPy's (float) cast
        return res
    # Another dtype, or an output that is the input: compute apart, then store.
    tmp = _npfast._ndimage_correlate(input, weights, mode, float(cval), origins, convolve, None,
                                     scipy_sums=scipy_sums, check_finite=nan_check)
    if nan_check:
        tmp, finite = tmp
        if not finite:
            tmp = scipys()
    if dest is None:
        dest = _new(input.shape, dtype)
    cast_into(dest, tmp)
    return dest


def correlate(input, weights, output=None, mode="reflect", cval=0.0, origin=0, *, axes=None):
    """Multidimensional correlation, as ``scipy.ndimage.correlate``.

    ``out[i] = sum_t weights[t] * input_ext[i + t - w // 2 - origin]`` over every weight
    position ``t`` (multi-indices; ``w`` the weights' shape).

    Parameters
    ----------
    input : array_like, any rank
        Any integer (signed or unsigned, every width), bool, float32 or float64; any strides
        (views, Fortran order, negative strides).
    weights : array_like, non-empty
        The input's rank, or ``len(axes)``. Integer, bool and float weights.
    output : ndarray or dtype, optional
        An array of the input's shape and any integer, bool or float32/float64 dtype, written
        in place and returned (it may be the input itself); or a dtype for a new array. Values
        are computed in float64 (float32 for a float32 input with float32 weights) and cast as
        SciPy casts them (truncated toward zero for integers). Default: the input's dtype.
    mode : {'reflect', 'constant', 'nearest', 'mirror', 'wrap'}
        How the input is extended past its edges, as SciPy: reflect ``d c b a | a b c d |
        d c b a``, constant ``k k k k | a b c d | k k k k`` (k = ``cval``), nearest
        ``a a a a | a b c d | d d d d``, mirror ``d c b | a b c d | c b a``, wrap
        ``a b c d | a b c d | a b c d``; extensions repeat however far they reach.
        'grid-mirror', 'grid-constant' and 'grid-wrap' are accepted as synonyms.
    cval : float
        The value past the edges for mode='constant'.
    origin : int or sequence of ints
        Shifts the weights' centre, one value per filtered axis; each must lie in
        ``[-(w // 2), (w - 1) // 2]``.
    axes : int or tuple of ints, optional
        The axes filtered (default: all); ``weights`` then has ``len(axes)`` dimensions, in
        increasing axis order, as SciPy.

    Returns
    -------
    ndarray of the input's shape: ``output`` when it is an array; else of the ``output`` dtype,
    or of the input's dtype (native byte order), as SciPy.

    Raises
    ------
    AnchorValueError  (ValueError and SciPy's RuntimeError) a mode that is not a known string
                      (a sequence of modes included), weights whose rank is not the input's or
                      len(axes), empty weights, an ``origin`` sequence of the wrong length, an
                      ``output`` of the wrong shape.
    AnchorTypeError   (TypeError and SciPy's RuntimeError) float16, object and string arrays.
    ValueError        an origin out of range, axes out of range or repeated.
    TypeError         complex arrays, a non-int origin or axis, a non-real cval, an ``output``
                      that is neither an array nor a dtype.
    """
    return _correlate(input, weights, output, mode, cval, origin, axes, False)


def convolve(input, weights, output=None, mode="reflect", cval=0.0, origin=0, *, axes=None):
    """Multidimensional convolution, as ``scipy.ndimage.convolve``.

    Correlation with ``weights`` flipped on every axis; for an even-sized axis the centre is
    SciPy's (origin negated and shifted by one). Parameters, result and errors as
    :func:`correlate`.
    """
    return _correlate(input, weights, output, mode, cval, origin, axes, True)
