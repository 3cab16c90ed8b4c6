"""scipy.ndimage's linear filters on npfast's line kernels: same signatures, arguments,
dtypes and results as SciPy (docs/ndimage.md says what matches bit for bit).

Each function follows scipy/ndimage/_filters.py step for step, so multi-axis filters make the
same one-axis passes into the same intermediate arrays (the output, or arrays of its dtype) and
integer outputs are truncated between passes exactly as SciPy's are; only the 1-D passes
(``_npfast._correlate1d`` / ``_npfast._uniform_filter1d``) run on npfast's kernels.
"""

from __future__ import annotations

import functools
import math
import numbers

import numpy as np

from . import _npfast
from ._ndimage_support import (AnchorOverflowError, AnchorValueError, AnchorZeroDivisionError,
                               as_float, as_index,
                               as_input, as_real_array, check_axes, check_origin, get_output,
                               mode_code, MODES, normalize_axis, normalize_sequence,
                               NATIVE_DTYPES,
                               remembered, separate)
from ._volume import correlate1d_volume, uniform_volume

__all__ = ["correlate1d", "convolve1d", "uniform_filter1d", "uniform_filter",
           "gaussian_filter1d", "gaussian_filter", "sobel", "prewitt", "laplace",
           "gaussian_laplace", "gaussian_gradient_magnitude"]


def _kernel_array(a):
    # bool as uint8: SciPy reads and writes bool arrays as npy_bool, an unsigned char, and
    # casts its double results with (npy_bool)(double), the uint8 cast npfast's kernels make:
    # the same bytes. Byte-swapped arrays in native order.
    if a.dtype in NATIVE_DTYPES:  # the common case, before the checks below
        return a
    if a.dtype.kind == "b":
        return a.view(np.uint8)
    if not a.dtype.isnative:
        return a.astype(a.dtype.newbyteorder("="))
    return a


def _line_pass(run, input, output):
    """run(src, out): one call of a line operator reading `input` and writing `output`,
    through arrays it takes (bool as uint8, a byte-swapped output through a native one)."""
    if output.dtype in NATIVE_DTYPES and input.dtype in NATIVE_DTYPES:
        run(separate(input, output), output)  # both taken as they are: the common call
        return
    src = _kernel_array(separate(input, output))
    if output.dtype.isnative:
        run(src, _kernel_array(output))
    else:
        tmp = _kernel_array(output)
        run(src, tmp)
        output[...] = tmp


def correlate1d(input, weights, axis=-1, output=None, mode="reflect", cval=0.0, origin=0):
    """1-D correlation along ``axis``, as ``scipy.ndimage.correlate1d``.

    ``out[..., i, ...] = sum_j weights[j] * input_ext[..., i + j - len(weights) // 2 - origin,
    ...]``. float64 results (and every integer input, computed in double as SciPy) equal
    SciPy's bit for bit; float32 input with a float32 output is computed in float32.

    Parameters
    ----------
    input : array_like, N-D, real (bool, every integer width, float32/64; not float16, as SciPy)
    weights : array_like, 1-D, non-empty (converted to float64 as SciPy)
    axis : int
    output : ndarray or dtype, optional
        An array of the input's shape (written in place; any supported dtype) or a dtype;
        default: the input's dtype. Integer outputs truncate toward zero as SciPy's C cast.
    mode : {'reflect', 'constant', 'nearest', 'mirror', 'wrap', 'grid-mirror',
        'grid-constant', 'grid-wrap'}
    cval : float
        The value past the edges for mode='constant'.
    origin : int
        In ``[-(len(weights) // 2), (len(weights) - 1) // 2]``.

    Raises
    ------
    ValueError     a bad axis or origin; AnchorValueError (ValueError and RuntimeError,
                   as SciPy's RuntimeError) for an unknown mode, empty or non-1-D weights,
                   a wrong ``output`` shape.
    TypeError      complex or unsupported dtypes (named: input, weights, output).
    """
    input = as_input(input)
    w = as_real_array(weights, "weights", objects=True)
    output = get_output(output, input)
    w = np.ascontiguousarray(w, dtype=np.float64)
    if w.ndim != 1 or w.shape[0] < 1:
        raise AnchorValueError(f"weights: no filter weights given (shape {w.shape})")
    axis = normalize_axis(axis, input.ndim)
    origin = check_origin(origin, len(w), size_name="len(weights)")
    code = mode_code(mode)
    cval = as_float(cval, "cval")
    _line_pass(lambda src, out: _npfast._correlate1d(src, w, axis, out, code, cval, origin),
               input, output)
    return output


def _correlate1d_pair(input, w0, axis0, mode0, w1, axis1, mode1, output, cval):
    """correlate1d(input, w0, axis0, output, mode0, cval) then correlate1d(output, w1, axis1,
    output, mode1, cval), origin 0, run as one fused pass where npfast can (same bits)."""
    w0 = np.ascontiguousarray(w0, dtype=np.float64)
    w1 = np.ascontiguousarray(w1, dtype=np.float64)
    for w in (w0, w1):
        if w.ndim != 1 or w.shape[0] < 1:
            raise AnchorValueError(f"weights: no filter weights given (shape {w.shape})")
    axis0 = normalize_axis(axis0, input.ndim)
    axis1 = normalize_axis(axis1, input.ndim)
    _pair_pass(input, output, w0, axis0, mode_code(mode0), w1, axis1, mode_code(mode1), cval)
    return output


def _pair_pass(input, output, w0, axis0, code0, w1, axis1, code1, cval):
    """_correlate1d_pair's pass from checked arguments: float64 weights, axes in range, mode
    codes."""
    cval = as_float(cval, "cval")
    _line_pass(lambda src, out: _npfast._correlate1d_pair(src, w0, axis0, code0, w1, axis1,
                                                           code1, out, cval), input, output)


def _fusable(axes, ndim):
    """Whether two passes along `axes` run as one (npfast::correlate1d_pair): one of them
    along the last axis."""
    return len(axes) == 2 and (axes[0] == ndim - 1) != (axes[1] == ndim - 1)


def convolve1d(input, weights, axis=-1, output=None, mode="reflect", cval=0.0, origin=0):
    """1-D convolution along ``axis``, as ``scipy.ndimage.convolve1d``: correlate1d with the
    weights reversed and the origin negated (and shifted by one for an even length).
    Parameters, results and errors as :func:`correlate1d`."""
    w = as_real_array(weights, "weights", objects=True)
    if w.ndim != 1 or w.shape[0] < 1:
        raise AnchorValueError(f"weights: no filter weights given (shape {w.shape})")
    w = w[::-1]
    # The caller's origin checked as given (probe22a: the error quoted the negated one); the
    # negated one then has the same range.
    origin = -check_origin(origin, w.shape[0], size_name="len(weights)")
    if not w.shape[0] & 1:
        origin -= 1
    return correlate1d(input, w, axis, output, mode, cval, origin)


# Windows past this many elements are checked for their line buffer before a pass writes.
_HUGE_WINDOW = 1 << 24


def _window_memory(input, axis, size):
    """Raises MemoryError naming `size` where a uniform pass's buffers cannot be had, before
    anything writes `output` (probe22a: the first of two passes wrote the caller's output, then
    the second, with size 2**36, ran out of memory). Only huge windows are tried, by taking and
    dropping a block of the pass's size: 9 bytes an element of the extended line (the pass
    asked the OS for 9 * 2**32 bytes at size 2**32; review22: the first version tried 1/8 of
    it)."""
    if size <= _HUGE_WINDOW:
        return
    nbytes = 9 * (input.shape[axis] + size - 1) + 4096
    try:
        if nbytes >= 1 << 62:  # past what any address space holds (and npfast.empty's int64)
            raise MemoryError
        del_me = _npfast.empty((nbytes,), np.uint8)
    except MemoryError:
        raise MemoryError(f"size: a window of {size} along axis {axis} needs {nbytes} bytes of "
                          f"line buffers, more than can be had") from None
    del del_me


def uniform_filter1d(input, size, axis=-1, output=None, mode="reflect", cval=0.0, origin=0):
    """Mean of ``size`` elements along ``axis``, as ``scipy.ndimage.uniform_filter1d``
    (SciPy's running sum, bit for bit in double; float32 in float32). ``size >= 1``
    (AnchorValueError otherwise, SciPy's RuntimeError); other parameters as
    :func:`correlate1d`."""
    input = as_input(input)
    axis = normalize_axis(axis, input.ndim)
    size = as_index(size, "size")
    if size < 1:
        raise AnchorValueError(f"size: incorrect filter size, must be >= 1, got {size}")
    output = get_output(output, input)
    origin = check_origin(origin, size)
    code = mode_code(mode)
    cval = as_float(cval, "cval")
    _window_memory(input, axis, size)
    _line_pass(lambda src, out: _npfast._uniform_filter1d(src, size, axis, out, code, cval,
                                                          origin), input, output)
    return output


def uniform_filter(input, size=3, output=None, mode="reflect", cval=0.0, origin=0, *,
                   axes=None):
    """Multidimensional uniform (box) filter, as ``scipy.ndimage.uniform_filter``: one
    uniform_filter1d pass per axis in ``axes`` with size > 1, into ``output``. ``size``,
    ``origin`` and ``mode`` are scalars or one per filtered axis."""
    input = as_input(input)
    output = get_output(output, input)
    passes, fused = _uniform_plan(input.ndim, size, origin, mode, axes)
    for axis, sz, _, _ in passes:
        _window_memory(input, axis, sz)
    if input.ndim == 3 and [p[0] for p in passes] == [0, 1, 2] and uniform_volume(
            input, *[[p[k] for p in passes] for k in (1, 2, 3)], output, cval):
        return output  # a volume: the three passes in one sweep
    if passes:
        for axis, sz, org, md in passes[:len(passes) - (2 if fused else 0)]:
            uniform_filter1d(input, sz, axis, output, md, cval, org)
            input = output
        if fused:
            s0, a0, code0, o0, s1, code1, o1 = fused
            cval = as_float(cval, "cval")
            _line_pass(lambda src, out: _npfast._uniform_filter_pair(
                src, s0, a0, code0, o0, s1, code1, o1, out, cval), input, output)
    else:
        output[...] = input[...]
    return output


@remembered
def _uniform_plan(ndim, size, origin, mode, axes):
    """uniform_filter's passes (axis, size, origin, mode), every one checked before the first
    writes `output`, and the last two passes' arguments of _uniform_filter_pair where they run
    fused (the second along the last axis, the first not), else None."""
    axes = check_axes(axes, ndim)
    n = len(axes)
    sizes = normalize_sequence(size, n, "size")
    origins = normalize_sequence(origin, n, "origin")
    modes = normalize_sequence(mode, n, "mode")
    passes = [(axes[i], sizes[i], origins[i], modes[i]) for i in range(n) if sizes[i] > 1]
    for i, (ax, sz, org, md) in enumerate(passes):  # in pass order, as SciPy meets them
        org = check_origin(org, int(sz))
        mode_code(md)
        passes[i] = (ax, int(sz), org, md)
    fused = None
    if len(passes) >= 2 and passes[-1][0] == ndim - 1 and passes[-2][0] != ndim - 1:
        (a0, s0, o0, m0), (a1, s1, o1, m1) = passes[-2:]
        fused = (s0, a0, mode_code(m0), o0, s1, mode_code(m1), o1)
    return passes, fused


def _gaussian_kernel1d(sigma, order, radius):
    """SciPy's _gaussian_kernel1d, operation for operation (the same weights bit for bit)."""
    if order < 0:
        raise ValueError(f"order: must be non-negative, got {order}")
    exponent_range = np.arange(order + 1)
    sigma2 = sigma * sigma
    if type(sigma2) in (int, float) and sigma2 == 0:  # not np.float64, a float subclass
        # SciPy divides by it: ZeroDivisionError (a NumPy scalar sigma gives NaN weights).
        raise AnchorZeroDivisionError(f"sigma: must be positive (its square is 0), got {sigma!r}")
    x = np.arange(-radius, radius + 1)
    phi_x = np.exp(-0.5 / sigma2 * x ** 2)
    phi_x = phi_x / phi_x.sum()
    if order == 0:
        return phi_x
    # f(x) = q(x) * phi(x); f'(x) = (q'(x) + q(x) * p'(x)) * phi(x) with p'(x) = -x / sigma^2:
    # q' + q p' as a matrix on q's coefficients, applied `order` times.
    q = np.zeros(order + 1)
    q[0] = 1
    D = np.diag(exponent_range[1:], 1)
    P = np.diag(np.ones(order) / -sigma2, -1)
    Q_deriv = D + P
    for _ in range(order):
        q = Q_deriv.dot(q)
    q = (x[:, None] ** exponent_range).dot(q)
    return q * phi_x


def gaussian_filter1d(input, sigma, axis=-1, order=0, output=None, mode="reflect", cval=0.0,
                      truncate=4.0, *, radius=None):
    """1-D Gaussian filter (order 0) or its derivatives (order 1, 2, 3), as
    ``scipy.ndimage.gaussian_filter1d``: correlate1d with SciPy's weights of radius
    ``int(truncate * sigma + 0.5)`` (or ``radius``)."""
    weights = _gaussian_weights(sigma, order, truncate, radius)
    return correlate1d(input, weights, axis, output, mode, cval, 0)


def _gaussian_weights(sigma, order, truncate, radius):
    # gaussian_filter1d's correlation weights, as SciPy builds them.
    sd = as_float(sigma, "sigma")
    if sd < 0:
        raise ValueError(f"sigma: must be non-negative, got {sigma!r}")
    order = _order(order)
    if order < 0:  # before the weights, whose ValueErrors below are numpy's size errors
        raise ValueError(f"order: must be non-negative, got {order}")
    # SciPy's int(truncate * sd + 0.5), made whether or not radius replaces it (its
    # OverflowError / ValueError there, named).
    r = as_float(truncate, "truncate") * sd + 0.5
    if not math.isfinite(r):
        cls = ValueError if math.isnan(r) else AnchorOverflowError
        raise cls(f"sigma, truncate: the radius int(truncate * sigma + 0.5) is not finite for "
                  f"sigma {sigma!r}, truncate {truncate!r}")
    lw = int(r)
    arg = "truncate"
    if radius is not None:
        lw, arg = radius, "radius"
    if not isinstance(lw, numbers.Integral) or lw < 0:
        raise ValueError(f"radius: must be a nonnegative integer, got {lw!r}")
    try:  # SciPy computes with sigma as given (a float32 sigma squares in float32)
        try:
            w = _gaussian_weights_cached(sigma, order, lw)
        except TypeError:  # unhashable (a 0-d array)
            w = _as_weights(_gaussian_kernel1d(sigma, order, lw)[::-1])
    except (ValueError, MemoryError) as e:  # np.arange: "Maximum allowed size exceeded", or
        # no memory for 2 lw + 1 weights: SciPy's class, the argument named
        if type(e) is not ValueError and not isinstance(e, MemoryError):
            raise  # the weights' own errors (a zero sigma), named already
        cls = MemoryError if isinstance(e, MemoryError) else ValueError  # numpy's subclass
        raise cls(f"{arg}: the Gaussian radius {float(lw):.4g} makes too many weights "
                  f"({e})") from None
    if w.shape[0] < 1:  # arange(-lw, lw + 1) came out empty (lw near 2**62): SciPy's error
        raise AnchorValueError(f"weights: no filter weights given (radius {lw})")
    return w


def _as_weights(w):
    # The float64 weights the line kernels take, as correlate1d converts them: a longdouble or
    # Fraction sigma makes float128 or object weights.
    return np.ascontiguousarray(w, dtype=np.float64)


@functools.lru_cache(maxsize=64, typed=True)
def _gaussian_weights_cached(sigma, order, radius):
    # Read-only: shared by every call with the same (sigma, order, radius) of the same types.
    w = _as_weights(_gaussian_kernel1d(sigma, order, radius)[::-1])
    w.flags.writeable = False
    return w


def gaussian_filter(input, sigma, order=0, output=None, mode="reflect", cval=0.0,
                    truncate=4.0, *, radius=None, axes=None):
    """Multidimensional Gaussian filter, as ``scipy.ndimage.gaussian_filter``: one
    gaussian_filter1d pass per axis in ``axes`` whose sigma exceeds 1e-15, into ``output``.
    ``sigma``, ``order``, ``mode`` and ``radius`` are scalars or one per filtered axis."""
    input = as_input(input)
    output = get_output(output, input)
    passes, weights, fused = _gaussian_plan(input.ndim, sigma, order, mode, truncate, radius,
                                            axes)
    if len(passes) == 3 and [p[0] for p in passes] == [0, 1, 2] and correlate1d_volume(
            input, weights, [p[3] for p in passes], output, cval):
        return output  # a volume: the three passes in one sweep
    if passes:
        for axis, s, o, md, r in passes[:len(passes) - (2 if fused else 0)]:
            gaussian_filter1d(input, s, axis, o, output, md, cval, truncate, radius=r)
            input = output
        if fused:
            _pair_pass(input, output, *fused, cval)
    else:
        output[...] = input[...]
    return output


def _order(order):
    """A derivative order: an integer, not a bool (SciPy's TypeError; probe22a: True was 1)."""
    if isinstance(order, (bool, np.bool_)):
        raise TypeError(f"order: must be an integer, got {order!r}")
    return as_index(order, "order")


@remembered
def _gaussian_plan(ndim, sigma, order, mode, truncate, radius, axes):
    """gaussian_filter's passes (axis, sigma, order, mode, radius), their weights, and the last
    two passes' arguments of _pair_pass where they run fused (one of them along the last axis),
    else None. Every pass's arguments are checked here, before the first writes `output`."""
    axes = check_axes(axes, ndim)
    n = len(axes)
    orders = [_order(o) for o in normalize_sequence(order, n, "order")]
    sigmas = normalize_sequence(sigma, n, "sigma")
    modes = normalize_sequence(mode, n, "mode")
    radiuses = normalize_sequence(radius, n, "radius")
    for s in sigmas:
        if as_float(s, "sigma") < 0:
            raise ValueError(f"sigma: must be non-negative, got {sigma!r}")
    passes = [(axes[i], sigmas[i], orders[i], modes[i], radiuses[i])
              for i in range(n) if sigmas[i] > 1e-15]
    weights = [_gaussian_weights(p[1], p[2], truncate, p[4]) for p in passes]
    codes = [mode_code(p[3]) for p in passes]
    fused = None
    if len(passes) >= 2 and _fusable([p[0] for p in passes[-2:]], ndim):
        fused = (weights[-2], passes[-2][0], codes[-2], weights[-1], passes[-1][0], codes[-1])
    return passes, weights, fused


# The smoothing weights of the edge filters (across the derivative's axis), by name: a plan's
# key of one string is the fast one (_ndimage_support._plain_key).
_SMOOTH = {"sobel": [1, 2, 1], "prewitt": [1, 1, 1]}


def _edge(input, axis, output, mode, cval, name):
    input = as_input(input)
    axis = normalize_axis(axis, input.ndim)
    output = get_output(output, input)
    modes, order, weights, fused, padded = _edge_plan(input.ndim, axis, mode, name)
    if fused:  # an image: both passes at once
        _pair_pass(input, output, *fused, cval)
        return output
    if input.ndim == 3 and (axis == 0 or (_float32(input.dtype) and _float32(output.dtype) and (
            not padded or as_float(cval, "cval") == 0))):
        # A volume: the passes along axes 0, 1, 2 in one sweep. That is SciPy's order for
        # axis 0; float32 runs every axis in it (so its bits do not depend on whether the sweep
        # could run) unless a 'constant' mode pads with a nonzero cval, which makes the order
        # matter beyond rounding (docs/ndimage.md "vol21").
        if correlate1d_volume(input, weights, modes, output, cval):
            return output
        order = [0, 1, 2]
    for i, ii in enumerate(order):
        correlate1d(output if i else input, weights[ii], ii, output, modes[ii], cval, 0)
    return output


def _float32(dtype):
    return dtype.kind == "f" and dtype.itemsize == 4  # either byte order


@remembered
def _edge_plan(ndim, axis, mode, name):
    """_edge's per-axis modes (each checked before the first pass writes `output`), SciPy's
    pass order (the derivative's axis, then the others), each axis's weights (read-only),
    _pair_pass's arguments where the two passes fuse, and whether a mode pads with cval."""
    modes = normalize_sequence(mode, ndim, "mode")
    codes = [mode_code(md) for md in modes]
    others = [ii for ii in range(ndim) if ii != axis]
    smooth = np.array(_SMOOTH[name], np.float64)
    smooth.flags.writeable = False
    weights = [_DERIVATIVE if ii == axis else smooth for ii in range(ndim)]
    fused = None
    if _fusable([axis] + others, ndim):
        fused = (_DERIVATIVE, axis, codes[axis], smooth, others[0], codes[others[0]])
    return modes, [axis] + others, weights, fused, MODES["constant"] in codes


_DERIVATIVE = np.array([-1.0, 0.0, 1.0])
_DERIVATIVE.flags.writeable = False


def sobel(input, axis=-1, output=None, mode="reflect", cval=0.0):
    """Sobel derivative along ``axis``, as ``scipy.ndimage.sobel``: [-1, 0, 1] along ``axis``,
    then [1, 2, 1] along every other axis, in place in ``output``. ``mode`` is one name or one
    per axis of the input."""
    return _edge(input, axis, output, mode, cval, "sobel")


def prewitt(input, axis=-1, output=None, mode="reflect", cval=0.0):
    """Prewitt derivative along ``axis``, as ``scipy.ndimage.prewitt``: [-1, 0, 1] along
    ``axis``, then [1, 1, 1] along every other axis."""
    return _edge(input, axis, output, mode, cval, "prewitt")


def _generic_laplace(input, derivative2, output, mode, cval, axes):
    # SciPy's generic_laplace: the first axis into output, the others into arrays of its
    # dtype added in place.
    input = as_input(input)
    output = get_output(output, input)
    axes = check_axes(axes, input.ndim)
    if axes:
        modes = normalize_sequence(mode, len(axes), "mode")
        for md in modes:  # every axis's mode before the first pass writes `output`
            mode_code(md)
        derivative2(input, axes[0], output, modes[0], cval)
        for ii in range(1, len(axes)):
            tmp = derivative2(input, axes[ii], output.dtype, modes[ii], cval)
            output += tmp
    else:
        output[...] = input[...]
    return output


def laplace(input, output=None, mode="reflect", cval=0.0, *, axes=None):
    """Laplace filter, as ``scipy.ndimage.laplace``: the sum over ``axes`` of [1, -2, 1]
    along each."""
    def derivative2(x, axis, out, md, cv):
        # correlate1d(x, [1, -2, 1], axis, out, md, cv) on arguments _generic_laplace has
        # checked (x, axis, md): half of an 8x8 image's call went to checking them again.
        out = get_output(out, x)
        code, cv = mode_code(md), as_float(cv, "cval")
        _line_pass(lambda src, o: _npfast._correlate1d(src, _SECOND_DIFFERENCE, axis, o, code,
                                                       cv, 0), x, out)
        return out
    return _generic_laplace(input, derivative2, output, mode, cval, axes)


_SECOND_DIFFERENCE = np.array([1.0, -2.0, 1.0])
_SECOND_DIFFERENCE.flags.writeable = False


def _sigma_per_axis(input, sigma, axes):
    # gaussian_laplace's sigmas: one per filtered axis, 0 on the others.
    axes = check_axes(axes, input.ndim)
    sigma = normalize_sequence(sigma, len(axes), "sigma")
    if len(axes) < input.ndim:
        full = [0] * input.ndim
        for s, ax in zip(sigma, axes):
            full[ax] = s
        sigma = full
    return sigma


def gaussian_laplace(input, sigma, output=None, mode="reflect", cval=0.0, *, axes=None,
                     **kwargs):
    """Laplace of Gaussian, as ``scipy.ndimage.gaussian_laplace``: the sum over ``axes`` of
    gaussian_filter with order 2 along that axis. ``kwargs``: gaussian_filter's ``truncate``
    and ``radius``."""
    input = as_input(input)
    sigma = _sigma_per_axis(input, sigma, axes)

    def derivative2(x, axis, out, md, cv):
        order = [0] * x.ndim
        order[axis] = 2
        return gaussian_filter(x, sigma, order, out, md, cv, **kwargs)
    return _generic_laplace(input, derivative2, output, mode, cval, axes)


def gaussian_gradient_magnitude(input, sigma, output=None, mode="reflect", cval=0.0, *,
                                axes=None, **kwargs):
    """Gradient magnitude with Gaussian derivatives, as
    ``scipy.ndimage.gaussian_gradient_magnitude``: sqrt of the sum over ``axes`` of the
    squared gaussian_filter with order 1 along that axis (squares, sums and the square root
    in ``output``'s dtype, as SciPy). ``kwargs``: ``truncate`` and ``radius``."""
    input = as_input(input)
    output = get_output(output, input)
    axes = check_axes(axes, input.ndim)

    def derivative(x, axis, out, md, cv):
        order = [0] * x.ndim
        order[axis] = 1
        return gaussian_filter(x, sigma, order, out, md, cv, **kwargs)
    if axes:
        modes = normalize_sequence(mode, len(axes), "mode")
        for md in modes:  # every axis's mode before the first pass writes `output`
            mode_code(md)
        derivative(input, axes[0], output, modes[0], cval)
        np.multiply(output, output, output)
        for ii in range(1, len(axes)):
            tmp = derivative(input, axes[ii], output.dtype, modes[ii], cval)
            np.multiply(tmp, tmp, tmp)
            output += tmp
        np.sqrt(output, output, casting="unsafe")
    else:
        output[...] = input[...]
    return output
