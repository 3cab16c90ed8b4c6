from collections.abc import Sequence

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

    Big inputs are split across npfast's threads; outputs of 16 MiB and more are written with
    non-temporal stores. A refused call writes nothing into ``out``.
    """

def normalize(image: numpy.typing.ArrayLike, mean: float | Sequence[float], std: float | Sequence[float], *, dtype: numpy.typing.DTypeLike = numpy.float32, channel_axis: int = -1, to_chw: bool = False, out: numpy.ndarray | None = None) -> numpy.ndarray:
    """
    CNN input preprocessing in one pass: ``(image / 255 - mean) / std`` per channel.

    Matches ``torchvision.transforms.Normalize(mean, std)(ToTensor()(image))`` (with
    ``to_chw=True``) and the NumPy spelling ``((image / 255 - mean) / std).astype(dtype)``.

    Parameters
    ----------
    image : array_like of uint8
        Any shape and strides; the channels lie along ``channel_axis``.
    mean, std : float or sequence of float
        One value for all channels, or one per channel (in the units of ``image / 255``). ``std``
        must be finite and non-zero.
    dtype : float32 (default) or float64
    channel_axis : int, default -1
    to_chw : bool, default False
        Move the channel axis to position ``ndim - 3``: (H, W, C) -> (C, H, W),
        (N, H, W, C) -> (N, C, H, W). Needs ``image.ndim >= 3``.
    out : ndarray, optional
        Exactly the result's dtype and shape; must not overlap ``image``.

    Returns
    -------
    ndarray; computed per element as one fused multiply-add in float64,
    ``x * (1 / (255 std)) - mean / std``, rounded once to ``dtype`` (float32 results are within
    1 ulp of the float64 formula).

    Raises
    ------
    TypeError  when ``image`` is not uint8, ``dtype`` is not float32/float64, or ``out`` has the
               wrong dtype.
    ValueError for a bad ``channel_axis``, a stats length other than 1 or the channel count, a
               zero or non-finite ``std``, or a mismatched or overlapping ``out``.

    Big images are split across npfast's threads. A refused call writes nothing into ``out``.
    """

def empty(shape: int | Sequence[int], dtype: numpy.typing.DTypeLike = numpy.float64) -> numpy.ndarray:
    """
    A new uninitialized C-contiguous array whose memory comes from npfast's pool.

    Like ``numpy.empty``, but a block freed earlier is reused warm (no page faults), and the
    buffer returns to the pool when the array dies.

    Parameters
    ----------
    shape : int or sequence of ints
    dtype : dtype, default float64
        uint8, int8, uint16, int16, int32, int64, float32 or float64.

    Raises
    ------
    ValueError  for a negative dimension or a shape whose size overflows.
    TypeError   for a non-integer shape or an unsupported dtype.
    MemoryError when the size cannot be allocated.
    """

def zeros(shape: int | Sequence[int], dtype: numpy.typing.DTypeLike = numpy.float64) -> numpy.ndarray:
    """
    A new zero-filled C-contiguous array whose memory comes from npfast's pool.

    Like ``numpy.zeros``. A cached block is cleared with SIMD stores (non-temporal for blocks of
    16 MiB and more), which is ~30x cheaper than faulting in fresh pages; when the pool has no
    block of that size it maps fresh pages, which the OS provides already zero.

    Parameters
    ----------
    shape : int or sequence of ints
    dtype : dtype, default float64
        uint8, int8, uint16, int16, int32, int64, float32 or float64.

    Raises
    ------
    ValueError  for a negative dimension or a shape whose size overflows.
    TypeError   for a non-integer shape or an unsupported dtype.
    MemoryError when the size cannot be allocated.
    """
