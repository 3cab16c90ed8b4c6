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

def matmul(a: numpy.typing.ArrayLike, b: numpy.typing.ArrayLike, *, out: numpy.ndarray | None = None) -> numpy.ndarray:
    """
    Matrix product ``a @ b`` on npfast's own GEMM, as ``numpy.matmul``.

    Parameters
    ----------
    a : array_like
        float32 or float64, shape ``(k,)``, ``(m, k)`` or ``(batch, m, k)``; any strides.
    b : array_like
        Same dtype as ``a``; shape ``(k,)``, ``(k, n)`` or ``(batch, k, n)``. A 2-D operand, or a
        batch of 1, is broadcast over the other operand's batch; a 1-D operand is a row (``a``)
        or a column (``b``) whose axis is dropped from the result, as in NumPy.
    out : ndarray, optional
        Exactly the result dtype and shape, writeable, not overlapping ``a`` or ``b``; any
        strides. Never converted; left untouched when the call is refused.

    Returns
    -------
    ndarray of shape ``(batch, m, n)``, ``(m, n)``, ``(m,)``, ``(n,)`` or ``()``; a new array from
    npfast's memory pool unless ``out`` is given.

    Products are packed into cache blocks and computed by register-blocked FMA microkernels
    (AVX-512, AVX2 or scalar, see ``npfast.config()["kernels"]``), threaded when large enough.
    Each element is accumulated in the array's precision over ``k`` in a fixed order, so the
    result is bitwise identical for any thread count (not necessarily bitwise equal to NumPy's).
    Matches ``numpy.matmul`` / ``torch.matmul`` for these shapes.

    Raises
    ------
    TypeError  when a dtype is not float32/float64, ``a`` and ``b`` differ in dtype (no
               promotion), or ``out`` has the wrong dtype.
    ValueError when a dimension count is not 1-3, the inner dimensions or batch sizes do not
               match (the message gives both shapes), or ``out`` has the wrong shape, is read-only
               or overlaps an input.
    """
