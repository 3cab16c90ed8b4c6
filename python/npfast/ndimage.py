"""npfast.ndimage: 2-D ``scipy.ndimage.correlate`` / ``convolve`` on npfast's kernels.

Same semantics as SciPy for 2-D inputs with 2-D weights (modes, ``cval``, ``origin``, the
centring of even-sized weights), with one difference in dtypes: the result is float32 when the
input and the weights are both float32 and float64 otherwise, including for integer inputs
(SciPy returns the input's dtype, rounding and possibly overflowing integer results, and
returns float32 for a float32 input with float64 weights).
"""

from __future__ import annotations

import operator

from . import _npfast
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


def _origins(origin):
    try:
        o = operator.index(origin)
        return o, o
    except TypeError:
        pass
    try:
        seq = [operator.index(v) for v in origin]
    except TypeError:
        raise TypeError(f"origin: must be an int or a sequence of 2 ints, got {origin!r}") from None
    if len(seq) != 2:
        raise ValueError(f"origin: must have one value per axis (2), got {origin!r}")
    return seq[0], seq[1]


def correlate(input, weights, output=None, mode="reflect", cval=0.0, origin=0):
    """Multidimensional correlation for 2-D arrays, as ``scipy.ndimage.correlate``.

    ``out[i, j] = sum_{a, b} weights[a, b] * input_ext[i + a - kh // 2 - origin[0],
    j + b - kw // 2 - origin[1]]``.

    Parameters
    ----------
    input : array_like, 2-D
        float32, float64 or integer; any strides (views, Fortran order, negative strides).
    weights : array_like, 2-D, non-empty
    output : ndarray, optional
        Written in place: the input's shape and exactly the result dtype (never converted),
        not overlapping the inputs. (SciPy also takes a dtype here; npfast does not.)
    mode : {'reflect', 'constant', 'nearest', 'mirror', 'wrap'}
        How the input is extended past its edges, as SciPy: reflect ``d c b a | a b c d |
        d c b a``, constant ``k k k k | a b c d | k k k k`` (k = ``cval``), nearest
        ``a a a a | a b c d | d d d d``, mirror ``d c b | a b c d | c b a``, wrap
        ``a b c d | a b c d | a b c d``; extensions repeat however far they reach.
        'grid-mirror', 'grid-constant' and 'grid-wrap' are accepted as synonyms.
    cval : float
        The value past the edges for mode='constant'.
    origin : int or sequence of 2 ints
        Shifts the weights' centre; each must lie in ``[-(w // 2), (w - 1) // 2]``.

    Returns
    -------
    ndarray of the input's shape: float32 when input and weights are float32 (computed in
    float32 with fused multiply-adds), float64 otherwise (see the module docstring).

    Raises
    ------
    ValueError  input or weights not 2-D, empty weights, an unknown mode, an origin out of
                range, a mismatched ``output`` shape or an overlapping ``output``.
    TypeError   object, string, complex, bool or other unsupported dtypes; a wrong ``output``
                dtype.
    """
    o0, o1 = _origins(origin)
    return _npfast._ndimage_corr2d(input, weights, mode, cval, o0, o1, False, output)


def convolve(input, weights, output=None, mode="reflect", cval=0.0, origin=0):
    """Multidimensional convolution for 2-D arrays, as ``scipy.ndimage.convolve``.

    Correlation with ``weights`` flipped in both axes; for an even-sized axis the centre is
    SciPy's (origin negated and shifted by one). Parameters, result and errors as
    :func:`correlate`.
    """
    o0, o1 = _origins(origin)
    return _npfast._ndimage_corr2d(input, weights, mode, cval, o0, o1, True, output)
