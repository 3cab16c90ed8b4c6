from collections.abc import Sequence

import numpy
import numpy.typing

from npfast import (
    AnchorTypeError as AnchorTypeError,
    AnchorValueError as AnchorValueError
)


def conv2d(input: numpy.typing.ArrayLike, weight: numpy.typing.ArrayLike, bias: numpy.typing.ArrayLike | None = None, stride: int | tuple[int, ...] = 1, padding: int | tuple[int, ...] | str = 0, dilation: int | tuple[int, ...] = 1, groups: int = 1, *, out: numpy.ndarray | None = None, activation: str | None = None, layout: str = 'NCHW', residual: numpy.typing.ArrayLike | None = None) -> numpy.ndarray:
    """
    2-D convolution (cross-correlation), as ``torch.nn.functional.conv2d``.

    ``out[n, o, y, x] = bias[o] + sum_{c, i, j} input[n, g*C/groups + c, y*sh + i*dh - pt,
    x*sw + j*dw - pl] * weight[o, c, i, j]`` with g the group of output channel o.

    Parameters
    ----------
    input : array_like, float32 or float64
        ``(N, C, H, W)``, or ``(C, H, W)`` (unbatched: the result is ``(O, OH, OW)``). Any strides.
    weight : array_like, same dtype
        ``(O, C / groups, kH, kW)``.
    bias : array_like, same dtype, optional
        ``(O,)``.
    stride, dilation : int, (int,) or (int, int)
        >= 1 (a 1-element tuple or list is used for both axes, as PyTorch).
    padding : int, (int,), (int, int), 'valid' or 'same'
        Zeros added on both sides; 'same' keeps the spatial size (stride 1 only; an even dilated
        kernel gets the extra row/column at the bottom/right, as PyTorch).
    groups : int
        Divides C and O.
    out : ndarray, optional
        Exactly the result's shape and dtype, not overlapping the inputs; never converted.
    activation : None or 'relu'
        Fused ``max(y, 0)`` (NaN stays NaN) on the result.
    layout : 'NCHW' or 'NHWC' (keyword only)
        Axis order of input and result: 'NHWC' takes ``(N, H, W, C)`` (or ``(H, W, C)``) and
        returns ``(N, OH, OW, O)``, as torch with ``memory_format=torch.channels_last``; the weight
        stays ``(O, C / groups, kH, kW)``.
    residual : array_like, same dtype, optional (keyword only)
        The result's shape (in ``layout``), added after the bias and before the activation:
        ``act(conv + bias + residual)``, a ResNet block's shortcut and its ReLU in the conv's
        epilogue (each addition rounded, as ``y += residual`` after the conv would). Must not
        overlap ``out``.

    Returns
    -------
    ndarray ``(N, O, OH, OW)`` (or ``(N, OH, OW, O)`` for NHWC) with ``OH = (H + pt + pb - dh*(kH-1) - 1) // sh + 1`` (likewise OW).
    float32 results differ from PyTorch's by rounding only (different summation order).

    Raises
    ------
    TypeError  for non-float or mixed dtypes (any array argument: "float32 or float64 arrays
               only"), or non-int stride/padding/dilation/groups.
    ValueError for an unknown layout, wrong ndim, a tuple of more than two ints, channel/group
               mismatch, stride or dilation < 1, negative padding, a kernel larger than the padded
               input, a wrong bias shape, an unknown padding string, 'same' with stride > 1, or a
               bad ``out``.
               Nothing is written on error.
    """

def conv2d_backward(grad_output: numpy.typing.ArrayLike, input: numpy.typing.ArrayLike, weight: numpy.typing.ArrayLike, stride: int | tuple[int, ...] = 1, padding: int | tuple[int, ...] | str = 0, dilation: int | tuple[int, ...] = 1, groups: int = 1, output_mask: tuple[bool, bool, bool] = (True, True, True), *, layout: str = 'NCHW', residual: numpy.typing.ArrayLike | None = None) -> tuple[numpy.ndarray | None, numpy.ndarray | None, numpy.ndarray | None]:
    """
    Gradients of :func:`conv2d`, as PyTorch's autograd (``torch.ops.aten.convolution_backward``).

    Parameters
    ----------
    grad_output : array_like
        ``(N, O, OH, OW)`` (or ``(O, OH, OW)`` for unbatched input), the input's dtype.
    input, weight, stride, padding, dilation, groups
        As given to :func:`conv2d`.
    output_mask : 3 bools
        Which of (grad_input, grad_weight, grad_bias) to compute: each a bool (or NumPy bool;
        a bool array of 3 too), as torch's bool[3].
    layout : 'NCHW' or 'NHWC' (keyword only)
        Axis order of grad_output, input and grad_input, as for :func:`conv2d`.
    residual : array_like, the input's shape and dtype, optional (keyword only)
        Added to grad_input (``grad_input + residual``, each element rounded once, as a separate
        addition up to the sign of a zero sum), in the algorithm's epilogue where it has one: the
        gradient a ResNet block's shortcut adds to its body's input gradient. Requires
        ``output_mask[0]``.

    Returns
    -------
    (grad_input, grad_weight, grad_bias): arrays shaped like input, weight and ``(O,)``; ``None``
    where masked. grad_weight and grad_bias are summed over the batch and space in a fixed order,
    so results are bitwise identical for any thread count.

    Raises
    ------
    TypeError, ValueError as :func:`conv2d`, and ValueError for a grad_output of the wrong shape.
    """

def conv_transpose2d(input: numpy.typing.ArrayLike, weight: numpy.typing.ArrayLike, bias: numpy.typing.ArrayLike | None = None, stride: int | tuple[int, ...] = 1, padding: int | tuple[int, ...] = 0, output_padding: int | tuple[int, ...] = 0, groups: int = 1, dilation: int | tuple[int, ...] = 1, *, out: numpy.ndarray | None = None, layout: str = 'NCHW') -> numpy.ndarray:
    """
    2-D transposed convolution, as ``torch.nn.functional.conv_transpose2d``.

    The adjoint of :func:`conv2d`: each input pixel scatters ``weight[c]`` (dilated) into the output
    at ``stride`` steps, then ``padding`` rows/columns are cut from each side.

    Parameters
    ----------
    input : array_like, float32 or float64
        ``(N, C_in, H, W)``, or ``(C_in, H, W)`` (unbatched: the result is 3-d). Any strides.
    weight : array_like, same dtype
        ``(C_in, C_out / groups, kH, kW)`` (PyTorch's layout).
    bias : array_like, same dtype, optional
        ``(C_out,)``.
    stride, padding, output_padding, dilation : int, (int,) or (int, int)
        stride and dilation >= 1, padding >= 0; output_padding >= 0 and smaller than the stride or
        the dilation, adds rows/columns at the bottom/right.
    groups : int
        Divides C_in.
    out : ndarray, optional
        Exactly the result's shape and dtype, not overlapping the inputs; never converted.
    layout : 'NCHW' or 'NHWC' (keyword only)
        Axis order of input and result: 'NHWC' takes ``(N, H, W, C_in)`` (or ``(H, W, C_in)``) and
        returns ``(N, OH, OW, C_out)``, as torch with ``memory_format=torch.channels_last``,
        computed natively on that layout; the weight stays ``(C_in, C_out / groups, kH, kW)``.

    Returns
    -------
    ndarray ``(N, C_out, OH, OW)`` (``(N, OH, OW, C_out)`` for NHWC) with
    ``OH = (H-1)*sH - 2*pH + dH*(kH-1) + opH + 1`` (likewise OW). Each of the stride's output
    phases is a stride-1 correlation with its part of the kernel, computed on one channels-last
    copy of the input (few-channel NCHW layers and stride-1 NCHW ones: conv2d's paths); bitwise
    identical for any thread count. Those correlations multiply every tap, the padding's zeros
    included, so a weight with an inf or NaN takes conv2d's input gradient (GEMM + col2im, which
    multiplies input pixels only), as PyTorch's scatter: the same inf / NaN pattern in both layouts
    (docs/conv.md "probe20b").

    Raises
    ------
    TypeError  for non-float or mixed dtypes, or non-int stride/padding/output_padding/dilation/groups.
    ValueError for an unknown layout, wrong ndim, weight.shape[0] != C_in, groups not dividing
               C_in, stride or dilation < 1, negative padding, output_padding too large, a negative
               output size (a size of 0 gives an empty result, as PyTorch's batched float32 path;
               docs/conv.md "probe12"), an empty input height or width (an empty batch or channels
               pass: C_in = 0 gives the bias broadcast, zeros without one, and C_out = 0 an empty
               result, where PyTorch raises), a wrong bias shape, or a bad ``out``. Nothing is
               written on error.
    """

def conv_transpose2d_backward(grad_output: numpy.typing.ArrayLike, input: numpy.typing.ArrayLike, weight: numpy.typing.ArrayLike, stride: int | tuple[int, ...] = 1, padding: int | tuple[int, ...] = 0, output_padding: int | tuple[int, ...] = 0, groups: int = 1, dilation: int | tuple[int, ...] = 1, output_mask: tuple[bool, bool, bool] = (True, True, True), *, layout: str = 'NCHW') -> tuple[numpy.ndarray | None, numpy.ndarray | None, numpy.ndarray | None]:
    """
    Gradients of :func:`conv_transpose2d`, as PyTorch's autograd.

    Parameters
    ----------
    grad_output : array_like
        ``(N, C_out, OH, OW)`` (``(N, OH, OW, C_out)`` for NHWC; 3-d for unbatched input), the
        input's dtype.
    input, weight, stride, padding, output_padding, groups, dilation, layout
        As given to :func:`conv_transpose2d`.
    output_mask : 3 bools
        Which of (grad_input, grad_weight, grad_bias) to compute: each a bool (or NumPy bool;
        a bool array of 3 too), as torch's bool[3].

    Returns
    -------
    (grad_input, grad_weight, grad_bias) shaped like input, weight and ``(C_out,)``; ``None`` where
    masked. grad_input is :func:`conv2d` of grad_output with the same weight (in the same layout),
    grad_weight the output phases' products of the channels-last input copy with grad_output; the
    reductions have a fixed order, so results are bitwise identical for any thread count.

    Raises
    ------
    TypeError, ValueError as :func:`conv_transpose2d` (an unknown layout included), and ValueError
    for a grad_output of the wrong shape or an ``output_mask`` that is not 3 bools.
    """

def get_num_threads() -> int:
    """
    Number of threads npfast kernels use (set_num_threads, NPFAST_NUM_THREADS,
    threadpoolctl; default: the cores this process may run on).
    """

def set_num_threads(n: int) -> None:
    """
    Set the number of threads npfast kernels use, 1 <= n <= 1024.

    A call runs on at most min(n, usable_cores()) threads, and small inputs on one
    (docs/threads.md). Raises TypeError if n is not an int and
    ValueError if it is out of range. threadpoolctl.threadpool_limits() also sets it.
    """

def usable_cores() -> int:
    """Cores this process may run on (sched_getaffinity)."""

def correlate2d(in1: numpy.typing.ArrayLike, in2: numpy.typing.ArrayLike, mode: str = 'full', boundary: str = 'fill', fillvalue: float | None = 0, *, out: numpy.ndarray | None = None) -> numpy.ndarray:
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
        The value past the edges for boundary='fill': a real scalar or a one-element array
        (ValueError otherwise, as SciPy, also for complex values); None is NaN, as SciPy.
    out : ndarray, optional
        Of the result's shape and dtype exactly (never converted), any strides, not overlapping
        the inputs.

    Returns
    -------
    ndarray
        float32 when in1 and in2 are both float32, or one float32 and the other float16 or an
        integer of at most 16 bits (computed in float32 with fused multiply-adds; SciPy's dtype
        too), float64 otherwise. A pair of integers (every width, signed and unsigned) is computed
        and returned in float64, whereas SciPy returns the integer dtype (which can overflow).

    Raises
    ------
    ValueError  a kernel that is not 2-D or is empty, in1 with fewer than 2 dimensions, an unknown
                mode or boundary, a bad fillvalue, a 'valid' shape mismatch, a mismatched ``out``
                shape or an ``out`` that overlaps an input; in1 and in2 both bool or float16
                (SciPy's class; a bool or float16 operand beside a wider one is accepted).
    TypeError   object, string, complex or other unsupported dtypes; a wrong ``out`` dtype.
    MemoryError an output too large to represent or allocate.
    """

def convolve2d(in1: numpy.typing.ArrayLike, in2: numpy.typing.ArrayLike, mode: str = 'full', boundary: str = 'fill', fillvalue: float | None = 0, *, out: numpy.ndarray | None = None) -> numpy.ndarray:
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
        The value past the edges for boundary='fill': a real scalar or a one-element array
        (ValueError otherwise, as SciPy, also for complex values); None is NaN, as SciPy.
    out : ndarray, optional
        Of the result's shape and dtype exactly (never converted), any strides, not overlapping
        the inputs.

    Returns
    -------
    ndarray
        float32 when in1 and in2 are both float32, or one float32 and the other float16 or an
        integer of at most 16 bits (computed in float32 with fused multiply-adds; SciPy's dtype
        too), float64 otherwise. A pair of integers (every width, signed and unsigned) is computed
        and returned in float64, whereas SciPy returns the integer dtype (which can overflow).

    Raises
    ------
    ValueError  a kernel that is not 2-D or is empty, in1 with fewer than 2 dimensions, an unknown
                mode or boundary, a bad fillvalue, a 'valid' shape mismatch, a mismatched ``out``
                shape or an ``out`` that overlaps an input; in1 and in2 both bool or float16
                (SciPy's class; a bool or float16 operand beside a wider one is accepted).
    TypeError   object, string, complex or other unsupported dtypes; a wrong ``out`` dtype.
    MemoryError an output too large to represent or allocate.
    """

def convert(a: numpy.typing.ArrayLike, dtype: numpy.typing.DTypeLike, scale: float = 1.0, offset: float = 0.0, *, out: numpy.ndarray | None = None) -> numpy.ndarray:
    """
    Scale, shift and cast in one pass: ``(a * scale + offset).astype(dtype)``.

    Parameters
    ----------
    a : array_like
        Any integer (uint8 to uint64, int8 to int64), float32 or float64; any shape and strides.
        uint32 and uint64 are widened to float64 first (as ``astype(np.float64)``).
    dtype : dtype
        float32, float64, or uint8. Computed as one float64 fused multiply-add,
        ``fma(float64(a), scale, offset)`` (int64 / uint64 values beyond 2^53 round on the way to
        float64), then converted to the output dtype. NumPy's unfused
        ``a.astype(np.float64) * scale + offset`` rounds the product too, so where the two terms
        nearly cancel the two differ by more than an ulp.
        To uint8: rounded half to even, saturated to [0, 255], NaN -> 0 (NumPy's ``astype``
        truncates and wraps instead). A -0.0 result of the product becomes +0.0 with offset 0, as
        in NumPy's ``a * scale + offset`` (``astype`` alone keeps -0.0). The result is in native
        byte order whatever the byte order ``dtype`` names.
    scale, offset : float
    out : ndarray, optional
        Same shape as ``a`` and exactly ``dtype``; never converted. It may be ``a`` itself when the
        item sizes match. A byte-swapped ``a`` is read from a native copy made first, so ``out``
        may overlap it.

    Returns
    -------
    ndarray of ``dtype``; a new C-contiguous array from npfast's memory pool unless ``out`` is
    given (``astype`` keeps an F-ordered input's layout). NaN payloads come back quiet (a
    signalling NaN's quiet bit set; ``astype`` copies the bits); a masked array's mask is not
    kept.

    Raises
    ------
    TypeError  for unsupported dtypes or a mismatched ``out`` dtype.
    ValueError for a mismatched ``out`` shape, or an ``out`` whose address range overlaps ``a``'s
               without being ``a`` (interleaved views that share no element included).

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
        Any shape with at least one axis (the channels lie along ``channel_axis``), any strides.
    mean, std : float or sequence of float
        Integers or floats (strings, bools and complex numbers raise TypeError).
        One value for all channels, or one per channel (in the units of ``image / 255``); one value
        of either broadcasts against the other's per-channel values. ``std`` must be finite and
        non-zero.
    dtype : float32 (the default, also for None) or float64
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
    1 ulp of the float64 formula; float64 results differ from the NumPy spelling in the last bits
    where ``x / 255`` nearly cancels ``mean``: within 3e-16 of the output's scale).

    Raises
    ------
    TypeError  when ``image`` is not uint8, ``dtype`` is not float32/float64, or ``out`` has the
               wrong dtype.
    ValueError for a bad ``channel_axis``, a stats length other than 1 or the channel count, a
               zero or non-finite ``std`` or one whose ``1 / (255 std)`` is not a finite non-zero
               double (|std| past ~7e305 or under ~2e-311), a ``mean / std`` that overflows, or a
               mismatched or overlapping ``out``.

    Big images are split across npfast's threads. A refused call writes nothing into ``out``.
    """

def matmul(a: numpy.typing.ArrayLike, b: numpy.typing.ArrayLike, *, out: numpy.ndarray | None = None) -> numpy.ndarray | numpy.floating:
    """
    Matrix product ``a @ b`` on npfast's own GEMM, as ``numpy.matmul``.

    Parameters
    ----------
    a : array_like
        float32 or float64, shape ``(k,)`` or ``(..., m, k)`` with any number of batch
        dimensions (up to 8 dimensions in all); any strides.
    b : array_like
        Same dtype as ``a``; shape ``(k,)`` or ``(..., k, n)``. The batch dimensions broadcast as
        NumPy's (aligned on the right, a 1 or a missing dimension stretches); a 1-D operand is a
        row (``a``) or a column (``b``) whose axis is dropped from the result, as in NumPy.
    out : ndarray, optional
        Exactly the result dtype and shape, writeable, aligned, its memory bounds not
        overlapping ``a``'s or ``b``'s (bounds, not elements: interleaved views of one buffer are
        refused; a byte-swapped operand is read from a native copy made first, which ``out`` may
        overlap); any non-zero strides. Never converted; left untouched when the call is refused.

    Returns
    -------
    ndarray of shape ``(*batch, m, n)``, ``(m, n)``, ``(m,)`` or ``(n,)``, a new array from
    npfast's memory pool unless ``out`` is given; for two 1-D operands a NumPy scalar (``out``, a 0-d
    array, when given), as ``numpy.matmul``. Batches that one stride addresses run as one
    batched GEMM call; other batch dimensions are looped over.

    Products are packed into cache blocks and computed by register-blocked FMA microkernels
    (AVX-512, AVX2 or scalar, see ``npfast.config()["kernels"]``), threaded when large enough.
    Each element is accumulated in the array's precision over ``k`` in a fixed order, so the
    result is bitwise identical for any thread count (not necessarily bitwise equal to NumPy's).
    A matrix x vector product (``a`` one row or ``b`` one column, batched or not) runs on
    memory-bound gemv kernels instead, whose order differs from the GEMM's: ``a @ x`` may differ in
    the last bits from the same column of ``a @ X``.
    Matches ``numpy.matmul`` / ``torch.matmul`` for these shapes.

    Raises
    ------
    TypeError  when a dtype is not float32/float64, ``a`` and ``b`` differ in dtype (no
               promotion), or ``out`` has the wrong dtype.
    ValueError when an operand is 0-d, the inner dimensions differ or the batch dimensions do
               not broadcast (the message gives both shapes), or ``out`` has the wrong shape, is
               read-only, unaligned, has a zero stride or overlaps an input.
    """

def empty(shape: int | Sequence[int], dtype: numpy.typing.DTypeLike = numpy.float64, order: str = 'C') -> numpy.ndarray:
    """
    A new uninitialized array whose memory comes from npfast's pool.

    Like ``numpy.empty``, but a block freed earlier is reused warm (no page faults), and the
    buffer returns to the pool when the array dies. Also callable inside ``@numba.njit`` code
    (see ``npfast.numba``).

    Parameters
    ----------
    shape : int or sequence of ints (a 1-d integer array too)
    dtype : dtype, default float64
        Any bool, integer, float or complex dtype (as ``numpy.empty``; zeros are all-bits-zero,
        which is 0 / False / 0j in each).
    order : 'C' or 'F', default 'C'
        Row-major (C) or column-major (Fortran) memory, as NumPy's (inside ``@numba.njit``: 'C').

    Raises
    ------
    ValueError  for a negative dimension, a shape whose size overflows, or another order.
    TypeError   for a non-integer shape or an unsupported dtype.
    MemoryError when the size cannot be allocated.
    """

def zeros(shape: int | Sequence[int], dtype: numpy.typing.DTypeLike = numpy.float64, order: str = 'C') -> numpy.ndarray:
    """
    A new zero-filled array whose memory comes from npfast's pool.

    Like ``numpy.zeros``. A cached block is cleared with SIMD stores (non-temporal for blocks of
    32 MiB and more), which is ~30x cheaper than faulting in fresh pages; when the pool has no
    block of that size it maps fresh pages, which the OS provides already zero. Also callable
    inside ``@numba.njit`` code (see ``npfast.numba``).

    Parameters
    ----------
    shape : int or sequence of ints (a 1-d integer array too)
    dtype : dtype, default float64
        Any bool, integer, float or complex dtype (as ``numpy.empty``; zeros are all-bits-zero,
        which is 0 / False / 0j in each).
    order : 'C' or 'F', default 'C'
        Row-major (C) or column-major (Fortran) memory, as NumPy's (inside ``@numba.njit``: 'C').

    Raises
    ------
    ValueError  for a negative dimension, a shape whose size overflows, or another order.
    TypeError   for a non-integer shape or an unsupported dtype.
    MemoryError when the size cannot be allocated.
    """

def batch_norm(input: numpy.typing.ArrayLike, running_mean: numpy.typing.ArrayLike | None, running_var: numpy.typing.ArrayLike | None, weight: numpy.typing.ArrayLike | None = None, bias: numpy.typing.ArrayLike | None = None, training: bool = False, momentum: float = 0.1, eps: float = 1e-05, relu: bool = False, layout: str = 'NCHW', *, residual: numpy.typing.ArrayLike | None = None) -> numpy.ndarray | tuple[numpy.ndarray, numpy.ndarray, numpy.ndarray]:
    """
    Batch normalisation, as ``torch.nn.functional.batch_norm`` (plus a fused ReLU and NHWC).

    ``y = (x - mean[c]) / sqrt(var[c] + eps) * weight[c] + bias[c]``, then ``max(y, 0)`` when
    ``relu`` (NaN stays NaN).

    Parameters
    ----------
    input : array_like, float32 or float64
        ``(N, C, ...)`` for layout 'NCHW' (channels on axis 1), ``(..., C)`` for 'NHWC' (channels
        last, e.g. ``(N, H, W, C)``: computed natively, no transpose). Any strides.
    running_mean, running_var : ndarray ``(C,)`` or None
        training=False: the statistics used (required). training=True: updated in place when given,
        ``running = (1 - momentum) * running + momentum * batch`` with the batch's unbiased variance
        (as PyTorch); they must then be writeable ndarrays of the input's dtype (never converted).
    weight, bias : array_like ``(C,)``, optional
        Default 1 and 0; of the input's dtype, as every array here (a Python list is NumPy's
        float64 or int64, refused beside float32 input: pass ``np.asarray(w, x.dtype)``).
    training : bool
        Normalise with the batch's statistics (mean and biased variance over every axis but the
        channel's; not exactly one value per channel, PyTorch's rule: an empty batch passes, gives
        NaN statistics and leaves the running ones as they are).
    momentum, eps : float
        ``momentum`` finite (NaN and inf, which PyTorch takes, would poison the running
        statistics: AnchorValueError); any finite value, as PyTorch.
    relu : bool
        Fuse ``max(y, 0)``; pass the result as ``output=`` to :func:`batch_norm_backward`.
    layout : 'NCHW' or 'NHWC'
    residual : array_like, the input's shape and dtype, optional (keyword only)
        Added before the ReLU: ``output = act(bn(x) + residual)`` (each step rounded, as ``y +=
        residual`` would), a ResNet block's shortcut in the element-wise pass. For the backward,
        pass ``output`` as ``output=`` of :func:`batch_norm_backward` (its mask is then the
        ReLU's). Must not overlap the result (a new array).

    Returns
    -------
    training=False: ``output`` (the input's shape and dtype).
    training=True: ``(output, save_mean, save_invstd)``, the batch mean and ``1 / sqrt(var + eps)``
    (``(C,)``), which :func:`batch_norm_backward` takes.

    The statistics are one pass over the data (sums of ``x - x0`` and its square in double, ``x0``
    the channel's first value, so a large mean does not cancel the variance); partial sums over
    fixed blocks are added in a fixed order: bitwise identical for any thread count.

    Raises
    ------
    TypeError  for non-float or mixed dtypes, a running statistic of another dtype in training, or
               eval without running statistics (None where an array is needed; also a
               RuntimeError, as PyTorch's).
    ValueError for fewer than 2 dimensions, a per-channel array not of shape ``(C,)``, an unknown
               layout, training with one value per channel, one running statistic without the
               other, a non-finite or negative eps, or eps 0 in training (PyTorch's rules).
    """

def batch_norm_backward(grad_output: numpy.typing.ArrayLike, input: numpy.typing.ArrayLike, weight: numpy.typing.ArrayLike | None, save_mean: numpy.typing.ArrayLike, save_invstd: numpy.typing.ArrayLike, training: bool = True, output: numpy.typing.ArrayLike | None = None, layout: str = 'NCHW', output_mask: tuple[bool, bool, bool] = (True, True, True)) -> tuple[numpy.ndarray | None, numpy.ndarray | None, numpy.ndarray | None]:
    """
    Gradients of :func:`batch_norm`, as PyTorch's autograd.

    Parameters
    ----------
    grad_output : array_like
        The input's shape and dtype.
    input, weight, layout
        As given to :func:`batch_norm` (weight None: 1).
    save_mean, save_invstd : array_like ``(C,)``
        training=True: what :func:`batch_norm` returned. training=False: the running mean and
        ``1 / sqrt(running_var + eps)`` (the statistics are then constants).
    training : bool
    output : array_like, optional
        The forward's result when it ran with ``relu=True``: the gradient passes where it is > 0.
    output_mask : 3 bools
        Which of (grad_input, grad_weight, grad_bias) to compute.

    Returns
    -------
    (grad_input, grad_weight, grad_bias): the input's shape, ``(C,)``, ``(C,)``; ``None`` where
    masked. Two passes: the per-channel sums of g and g * (x - mean) (blocks added in a fixed
    order: bitwise identical for any thread count), then grad_input.

    Raises
    ------
    TypeError, ValueError naming the argument, as :func:`batch_norm`.
    """

def max_pool2d(input: numpy.typing.ArrayLike, kernel_size: int | tuple[int, int], stride: int | tuple[int, int] | None = None, padding: int | tuple[int, int] = 0, dilation: int | tuple[int, int] = 1, ceil_mode: bool = False, return_indices: bool = False, *, layout: str = 'NCHW') -> numpy.ndarray | tuple[numpy.ndarray, numpy.ndarray]:
    """
    2-D max pooling, as ``torch.nn.functional.max_pool2d``.

    Parameters
    ----------
    input : ndarray
        float32 or float64, (N, C, H, W), (C, H, W), or (H, W) (one plane); any strides.
        Other dtypes raise TypeError; other ranks ValueError.
    kernel_size : int or (int, int)
        Window height and width, >= 1.
    stride : int or (int, int), optional
        Default (None or ()): kernel_size.
    padding : int or (int, int)
        Implicit padding on both sides, 0 <= padding <= kernel_size // 2.
    dilation : int or (int, int)
        Spacing between window taps, >= 1.
    ceil_mode : bool
        Round the output size up (a last, partial window that starts inside the input or its
        left padding), as PyTorch.
    return_indices : bool
        Also return the argmax indices.
    layout : 'NCHW' or 'NHWC' (keyword only)
        'NHWC': input ``(N, H, W, C)`` or ``(H, W, C)``, results ``(N, OH, OW, C)`` (or
        ``(OH, OW, C)``), as PyTorch on channels_last tensors; computed natively (the channels
        of a pixel are the vector lanes), indices ``h * W + w`` as for NCHW.

    Returns
    -------
    out : ndarray of input's dtype, shape (..., OH, OW), C-contiguous.
    indices : int64 ndarray of the same shape (only with ``return_indices``): the flat index
        ``h * W + w`` of each maximum within its plane, exactly PyTorch's: the first of equal
        maxima in row-major window order; a NaN propagates and the last NaN's index is reported.
        A window whose taps all fall in the padding (possible with dilation) gives -inf and
        PyTorch's out-of-plane index.

    Raises
    ------
    TypeError  for a non-float input or a non-int argument.
    ValueError for kernel_size / stride / dilation < 1, padding < 0 or > kernel_size // 2, an
        output size < 1, or window positions that overflow int64.
    """

def max_pool2d_backward(grad_output: numpy.typing.ArrayLike, indices: numpy.typing.ArrayLike, input_shape: tuple[int, ...], *, layout: str = 'NCHW') -> numpy.ndarray:
    """
    Gradient of ``max_pool2d`` with respect to its input (PyTorch's max_pool2d backward).

    Parameters
    ----------
    grad_output : ndarray
        float32 or float64, the pooled shape (..., OH, OW); any strides.
    indices : ndarray
        int64, grad_output's shape: the indices ``max_pool2d(..., return_indices=True)`` returned.
    input_shape : tuple of int
        The forward input's shape; its leading axes must equal grad_output's.
    layout : 'NCHW' or 'NHWC' (keyword only)
        The forward call's: 'NHWC' takes grad_output and indices ``(N, OH, OW, C)`` (or
        ``(OH, OW, C)``) and input_shape ``(N, H, W, C)``, and returns grad_input so.

    Returns
    -------
    ndarray of grad_output's dtype and ``input_shape``: zero except at the argmax positions, where
    the gradients of all outputs that chose that element are summed in output order.

    Raises
    ------
    TypeError  for a non-float grad_output or non-int64 indices.
    ValueError for mismatched shapes, or an index outside its plane (checked before writing).
    """

def avg_pool2d(input: numpy.typing.ArrayLike, kernel_size: int | tuple[int, int], stride: int | tuple[int, int] | None = None, padding: int | tuple[int, int] = 0, ceil_mode: bool = False, count_include_pad: bool = True, divisor_override: int | None = None, *, layout: str = 'NCHW') -> numpy.ndarray:
    """
    2-D average pooling, as ``torch.nn.functional.avg_pool2d``.

    Parameters
    ----------
    input : ndarray
        float32 or float64, (N, C, H, W), (C, H, W), or (H, W) (one plane); any strides.
        Other dtypes raise TypeError; other ranks ValueError.
    kernel_size : int or (int, int)
        Window height and width, >= 1.
    stride : int or (int, int), optional
        Default (None or ()): kernel_size.
    padding : int or (int, int)
        Implicit padding on both sides, 0 <= padding <= kernel_size // 2.
    ceil_mode : bool
        Round the output size up, as PyTorch.
    count_include_pad : bool
        Divide by the window size including padding (clipped to the padded plane), else by the
        number of input elements in the window.
    divisor_override : int, optional
        Nonzero divisor used for every window instead.
    layout : 'NCHW' or 'NHWC' (keyword only)
        'NHWC': input ``(N, H, W, C)`` or ``(H, W, C)``, results ``(N, OH, OW, C)`` (or
        ``(OH, OW, C)``), as PyTorch on channels_last tensors; computed natively (the channels
        of a pixel are the vector lanes), indices ``h * W + w`` as for NCHW.

    Returns
    -------
    ndarray of input's dtype, shape (..., OH, OW), C-contiguous. Sums run in the input's dtype in
    PyTorch's order (row by row), so float32 results match PyTorch's to rounding.

    Raises
    ------
    TypeError  for a non-float input or a non-int argument.
    ValueError for kernel_size / stride < 1, padding < 0 or > kernel_size // 2, an output size
        < 1, or divisor_override == 0.
    """

def avg_pool2d_backward(grad_output: numpy.typing.ArrayLike, input_shape: tuple[int, ...], kernel_size: int | tuple[int, int], stride: int | tuple[int, int] | None = None, padding: int | tuple[int, int] = 0, ceil_mode: bool = False, count_include_pad: bool = True, divisor_override: int | None = None, *, layout: str = 'NCHW') -> numpy.ndarray:
    """
    Gradient of ``avg_pool2d`` with respect to its input (PyTorch's avg_pool2d backward).

    Parameters
    ----------
    grad_output : ndarray
        float32 or float64 of the shape ``avg_pool2d`` returns for ``input_shape``; any strides.
    input_shape : tuple of int
        The forward input's shape, 2 to 4 dimensions.
    kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override
        As given to ``avg_pool2d``.
    layout : 'NCHW' or 'NHWC' (keyword only)
        The forward call's: 'NHWC' takes grad_output ``(N, OH, OW, C)`` (or ``(OH, OW, C)``) and
        input_shape ``(N, H, W, C)``, and returns grad_input so.

    Returns
    -------
    ndarray of grad_output's dtype and ``input_shape``: each output's gradient divided by its
    divisor and added to every input element of its window, in output order (as PyTorch).

    Raises
    ------
    TypeError / ValueError as ``avg_pool2d``, and ValueError when grad_output's shape is not the
    pooled shape of ``input_shape``.
    """

def max_unpool2d(input: numpy.typing.ArrayLike, indices: numpy.typing.ArrayLike, kernel_size: int | tuple[int, int], stride: int | tuple[int, int] | None = None, padding: int | tuple[int, int] = 0, output_size: tuple[int, ...] | None = None) -> numpy.ndarray:
    """
    Partial inverse of ``max_pool2d``, as ``torch.nn.functional.max_unpool2d``.

    Parameters
    ----------
    input : ndarray
        float32 or float64, (N, C, H, W), (C, H, W) or (H, W); any strides.
    indices : ndarray
        int64, input's shape: flat positions ``h * OW + w`` in the output plane.
    kernel_size, stride, padding : int or (int, int)
        Give the default output size (H - 1) * stride - 2 * padding + kernel_size (stride
        defaults to kernel_size).
    output_size : tuple of int, optional
        (OH, OW), or a full shape whose last two entries are used; each must lie strictly within
        ``stride`` of the default (PyTorch's rule).

    Returns
    -------
    ndarray of input's dtype, shape (..., OH, OW): zero, with ``input[i]`` written at
    ``indices[i]`` within each plane (a repeated index keeps the last value in C order).

    Raises
    ------
    TypeError  for a non-float input or non-int64 indices.
    ValueError for mismatched shapes, a bad output_size (or a padding that takes the default
        below 0), or an index outside [0, OH * OW) (checked before writing; an empty plane,
        OH or OW 0, is PyTorch's empty result, its indices unchecked).
    """

def adaptive_avg_pool2d(input: numpy.typing.ArrayLike, output_size: int | tuple[int | None, int | None]) -> numpy.ndarray:
    """
    Adaptive average pooling, as ``torch.nn.functional.adaptive_avg_pool2d``.

    Output (oh, ow) averages rows floor(oh * H / OH) to ceil((oh + 1) * H / OH) (exclusive), and
    likewise columns. When OH divides H and OW divides W this is avg_pool2d with equal windows and
    runs its SIMD kernels.

    Parameters
    ----------
    input : ndarray
        float32 or float64, (N, C, H, W), (C, H, W) or (H, W), H and W >= 1; any strides.
    output_size : int or (int or None, int or None)
        (OH, OW) >= 0; None keeps that input size.

    Returns
    -------
    ndarray of input's dtype, shape (..., OH, OW).

    Raises
    ------
    TypeError for a non-float input; ValueError for a negative output size or an empty plane.
    """
