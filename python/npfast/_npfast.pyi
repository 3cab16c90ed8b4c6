import numpy
import numpy.typing


def get_num_threads() -> int:
    """
    Number of threads npfast kernels use (set_num_threads, NPFAST_NUM_THREADS,
    threadpoolctl; default: the cores this process may run on).
    """

def set_num_threads(n: object | None) -> None:
    """
    Set the number of threads npfast kernels use, 1 <= n <= 1024.

    Small inputs still run single-threaded. Raises TypeError if n is not an int and
    ValueError if it is out of range. threadpoolctl.threadpool_limits() also sets it.
    """

def usable_cores() -> int:
    """Cores this process may run on (sched_getaffinity)."""

def correlate2d(in1: numpy.typing.ArrayLike, in2: numpy.typing.ArrayLike, mode: str = 'full', boundary: str = 'fill', fillvalue: float = 0, *, out: numpy.ndarray | None = None) -> numpy.ndarray:
    """
    2-D cross-correlation, as ``scipy.signal.correlate2d`` (real inputs).

    ``out[..., i, j] = sum_{a, b} in2[a, b] * in1_ext[..., i + a - top, j + b - left]`` with ``top, left`` set by ``mode``.

    Parameters
    ----------
    in1 : array_like, shape (..., H, W)
        The image, or a stack of images: the same 2-D kernel is applied to every plane (SciPy
        takes 2-D only). Any strides (views, Fortran order, negative strides); no copy is made.
    in2 : array_like, shape (kh, kw)
        The 2-D kernel (non-empty).
    mode : {'full', 'same', 'valid'}
        Output size, as SciPy: full (H + kh - 1, W + kw - 1); same (H, W), centred like SciPy
        (for an even kernel, correlate2d reads (kh - 1) // 2 rows above, convolve2d kh // 2);
        valid (H - kh + 1, W - kw + 1), or, when in2 is at least as large as the planes in both
        axes, SciPy's swapped result of shape (kh - H + 1, kw - W + 1).
    boundary : {'fill', 'wrap', 'symm'}
        How the planes are extended: with ``fillvalue``, periodically, or mirrored with the edge
        repeated (``d c b a | a b c d | d c b a``). Synonyms 'pad', 'circular', 'symmetric'.
    fillvalue : float
        The value past the edges for boundary='fill'.
    out : ndarray, optional
        Of the result's shape and dtype exactly (never converted), any strides, not overlapping
        the inputs.

    Returns
    -------
    ndarray
        float32 when in1 and in2 are both float32 (computed in float32 with fused multiply-adds),
        float64 otherwise. Integer inputs are computed and returned in float64, whereas SciPy
        returns the integer dtype (which can overflow).

    Raises
    ------
    ValueError  a kernel that is not 2-D or is empty, in1 with fewer than 2 dimensions, an unknown
                mode or boundary, a 'valid' shape mismatch, a mismatched ``out`` shape or an
                ``out`` that overlaps an input.
    TypeError   object, string, complex, bool or other unsupported dtypes; a wrong ``out`` dtype.
    MemoryError an output too large to represent or allocate.
    """

def convolve2d(in1: numpy.typing.ArrayLike, in2: numpy.typing.ArrayLike, mode: str = 'full', boundary: str = 'fill', fillvalue: float = 0, *, out: numpy.ndarray | None = None) -> numpy.ndarray:
    """
    2-D convolution, as ``scipy.signal.convolve2d``: correlation with the kernel flipped in both axes.

    Parameters
    ----------
    in1 : array_like, shape (..., H, W)
        The image, or a stack of images: the same 2-D kernel is applied to every plane (SciPy
        takes 2-D only). Any strides (views, Fortran order, negative strides); no copy is made.
    in2 : array_like, shape (kh, kw)
        The 2-D kernel (non-empty).
    mode : {'full', 'same', 'valid'}
        Output size, as SciPy: full (H + kh - 1, W + kw - 1); same (H, W), centred like SciPy
        (for an even kernel, correlate2d reads (kh - 1) // 2 rows above, convolve2d kh // 2);
        valid (H - kh + 1, W - kw + 1), or, when in2 is at least as large as the planes in both
        axes, SciPy's swapped result of shape (kh - H + 1, kw - W + 1).
    boundary : {'fill', 'wrap', 'symm'}
        How the planes are extended: with ``fillvalue``, periodically, or mirrored with the edge
        repeated (``d c b a | a b c d | d c b a``). Synonyms 'pad', 'circular', 'symmetric'.
    fillvalue : float
        The value past the edges for boundary='fill'.
    out : ndarray, optional
        Of the result's shape and dtype exactly (never converted), any strides, not overlapping
        the inputs.

    Returns
    -------
    ndarray
        float32 when in1 and in2 are both float32 (computed in float32 with fused multiply-adds),
        float64 otherwise. Integer inputs are computed and returned in float64, whereas SciPy
        returns the integer dtype (which can overflow).

    Raises
    ------
    ValueError  a kernel that is not 2-D or is empty, in1 with fewer than 2 dimensions, an unknown
                mode or boundary, a 'valid' shape mismatch, a mismatched ``out`` shape or an
                ``out`` that overlaps an input.
    TypeError   object, string, complex, bool or other unsupported dtypes; a wrong ``out`` dtype.
    MemoryError an output too large to represent or allocate.
    """

def convert(a: numpy.typing.ArrayLike, dtype: numpy.typing.DTypeLike, scale: float = 1.0, offset: float = 0.0, *, out: numpy.ndarray | None = None) -> numpy.ndarray:
    """
    Scale, shift and cast in one pass: ``(a * scale + offset).astype(dtype)``.

    Parameters
    ----------
    a : array_like
        uint8, int8, uint16, int16, int32, int64, float32 or float64; any shape and strides.
    dtype : dtype
        float32, float64, or uint8. Computed in float64 with one fused multiply-add and rounded
        once, so a float result is within 1 ulp of ``a.astype(np.float64) * scale + offset``.
        To uint8: rounded half to even, saturated to [0, 255], NaN -> 0 (NumPy's ``astype``
        truncates and wraps instead).
    scale, offset : float
    out : ndarray, optional
        Same shape as ``a`` and exactly ``dtype``; never converted. It may be ``a`` itself when the
        item sizes match.

    Returns
    -------
    ndarray of ``dtype``; a new array from npfast's memory pool unless ``out`` is given.

    Raises
    ------
    TypeError  for unsupported dtypes or a mismatched ``out`` dtype.
    ValueError for a mismatched ``out`` shape, or an ``out`` that partly overlaps ``a``.
    """
