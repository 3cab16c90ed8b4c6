"""The bad-input contract, for every public function (README, "Errors").

Each public function has a valid call here; the tests derive bad calls from it:
every array argument replaced by things that are not usable arrays (TypeError), the
function-specific bad values (ValueError / TypeError / MemoryError, with the argument and its bad
value named in the message), sizes that cannot be represented (MemoryError, never a crash), and
a refused call with ``out=`` leaves ``out`` untouched. The valid call's result is checked against
an anchor. A public function with no entry here, or an entry naming a function npfast lacks,
fails.
"""

from __future__ import annotations

import inspect

import numpy as np
import pytest
import scipy.ndimage
import scipy.signal
from numpy.lib.stride_tricks import as_strided, sliding_window_view

import npfast
from tolerances import TOL, assert_matmul_close, tol

F32 = np.float32


def img(*shape, dtype=np.float64):
    return np.random.default_rng(0).standard_normal(shape).astype(dtype)


# Each 2x2 window's top-left element of a (1, 2, 6, 6) input: flat indices of a 2x2 max pool.
TOP_LEFT = np.broadcast_to((12 * np.arange(3)[:, None] + 2 * np.arange(3)), (1, 2, 3, 3)).astype(np.int64)


# name -> (callable, args, kwargs) of a valid call. Array arguments are positional.
GOOD = {
    "convert": (npfast.convert, [img(4, 5)], {"dtype": np.float32}),
    "correlate2d": (npfast.correlate2d, [img(6, 7), img(3, 3)], {}),
    "convolve2d": (npfast.convolve2d, [img(6, 7), img(3, 3)], {}),
    "ndimage.correlate": (npfast.ndimage.correlate, [img(6, 7), img(3, 3)], {}),
    "ndimage.convolve": (npfast.ndimage.convolve, [img(6, 7), img(3, 3)], {}),
    "ndimage.correlate1d": (npfast.ndimage.correlate1d, [img(6, 7), img(3)], {}),
    "ndimage.convolve1d": (npfast.ndimage.convolve1d, [img(6, 7), img(4)], {"axis": 0}),
    "ndimage.uniform_filter1d": (npfast.ndimage.uniform_filter1d, [img(6, 7)], {"size": 3}),
    "ndimage.uniform_filter": (npfast.ndimage.uniform_filter, [img(6, 7)], {"size": 3}),
    "ndimage.gaussian_filter1d": (npfast.ndimage.gaussian_filter1d, [img(6, 7)], {"sigma": 1.0}),
    "ndimage.gaussian_filter": (npfast.ndimage.gaussian_filter, [img(6, 7)], {"sigma": 1.0}),
    "ndimage.sobel": (npfast.ndimage.sobel, [img(6, 7)], {}),
    "ndimage.prewitt": (npfast.ndimage.prewitt, [img(6, 7)], {"axis": 0}),
    "ndimage.laplace": (npfast.ndimage.laplace, [img(6, 7)], {}),
    "ndimage.gaussian_laplace": (npfast.ndimage.gaussian_laplace, [img(6, 7)], {"sigma": 1.0}),
    "ndimage.gaussian_gradient_magnitude": (npfast.ndimage.gaussian_gradient_magnitude,
                                            [img(6, 7)], {"sigma": 1.0}),
    "ndimage.minimum_filter1d": (npfast.ndimage.minimum_filter1d, [img(6, 7)], {"size": 3}),
    "ndimage.maximum_filter1d": (npfast.ndimage.maximum_filter1d, [img(6, 7)], {"size": 3}),
    "ndimage.minimum_filter": (npfast.ndimage.minimum_filter, [img(6, 7)], {"size": 3}),
    "ndimage.maximum_filter": (npfast.ndimage.maximum_filter, [img(6, 7)], {"size": 3}),
    "ndimage.median_filter": (npfast.ndimage.median_filter, [img(6, 7)], {"size": 3}),
    "ndimage.rank_filter": (npfast.ndimage.rank_filter, [img(6, 7)], {"rank": 2, "size": 3}),
    "ndimage.percentile_filter": (npfast.ndimage.percentile_filter, [img(6, 7)],
                                  {"percentile": 30, "size": 3}),
    "max_pool2d": (npfast.max_pool2d, [img(1, 2, 6, 6)], {"kernel_size": 2}),
    "avg_pool2d": (npfast.avg_pool2d, [img(1, 2, 6, 6)], {"kernel_size": 2}),
    "adaptive_avg_pool2d": (npfast.adaptive_avg_pool2d, [img(1, 2, 6, 6)], {"output_size": 3}),
    "max_pool2d_backward": (npfast.max_pool2d_backward, [img(1, 2, 3, 3), TOP_LEFT],
                            {"input_shape": (1, 2, 6, 6)}),
    "avg_pool2d_backward": (npfast.avg_pool2d_backward, [img(1, 2, 3, 3)],
                            {"input_shape": (1, 2, 6, 6), "kernel_size": 2}),
    "max_unpool2d": (npfast.max_unpool2d, [img(1, 2, 3, 3), TOP_LEFT], {"kernel_size": 2}),
    "matmul": (npfast.matmul, [img(4, 5), img(5, 3)], {}),
    "conv2d": (npfast.conv2d, [img(1, 2, 6, 6), img(3, 2, 3, 3)], {}),
    "conv2d_backward": (npfast.conv2d_backward,
                        [img(1, 3, 4, 4), img(1, 2, 6, 6), img(3, 2, 3, 3)], {}),
    "conv_transpose2d": (npfast.conv_transpose2d, [img(1, 3, 4, 4), img(3, 2, 3, 3)], {}),
    "conv_transpose2d_backward": (npfast.conv_transpose2d_backward,
                                  [img(1, 2, 6, 6), img(1, 3, 4, 4), img(3, 2, 3, 3)], {}),
    "batch_norm": (npfast.batch_norm, [img(2, 3, 4, 4), img(3), np.abs(img(3)) + 0.5], {}),
    "batch_norm_backward": (npfast.batch_norm_backward, [img(2, 3, 4, 4), img(2, 3, 4, 4)],
                            {"weight": None, "save_mean": img(3),
                             "save_invstd": np.abs(img(3)) + 0.5}),
    "normalize": (npfast.normalize, [np.zeros((4, 5, 3), np.uint8)],
                  {"mean": (0.5, 0.5, 0.5), "std": (0.2, 0.2, 0.2)}),
    "zeros": (npfast.zeros, [], {"shape": (3, 4)}),
    "empty": (npfast.empty, [], {"shape": (3, 4)}),
}


def windows(x, kh, kw):
    """(N, C, OH, OW, kh, kw): every valid kh x kw window of x."""
    return sliding_window_view(x, (kh, kw), axis=(2, 3))


def conv2d_backward_anchor(gy, x, w):
    """(grad_input, grad_weight, grad_bias) of a valid, stride-1 conv2d, by NumPy."""
    kh, kw = w.shape[2:]
    gx = np.zeros_like(x)
    for i in range(kh):
        for j in range(kw):
            gx[:, :, i:i + gy.shape[2], j:j + gy.shape[3]] += np.einsum("nohw,oc->nchw", gy, w[:, :, i, j])
    return gx, np.einsum("nchwij,nohw->ocij", windows(x, kh, kw), gy), gy.sum(axis=(0, 2, 3))


def conv_transpose2d_anchor(x, w):
    """A stride-1, unpadded transposed convolution by NumPy: each input pixel scatters w."""
    n, _, h, wd = x.shape
    kh, kw = w.shape[2:]
    y = np.zeros((n, w.shape[1], h + kh - 1, wd + kw - 1))
    for i in range(kh):
        for j in range(kw):
            y[:, :, i:i + h, j:j + wd] += np.einsum("nchw,co->nohw", x, w[:, :, i, j])
    return y


def conv_transpose2d_backward_anchor(gy, x, w):
    """(grad_input, grad_weight, grad_bias): the valid conv2d of gy with w, x correlated with
    gy's windows, gy's sum."""
    kh, kw = w.shape[2:]
    win = windows(gy, kh, kw)  # (N, O, H, W, kh, kw)
    return (np.einsum("nohwij,coij->nchw", win, w), np.einsum("nchw,nohwij->coij", x, win),
            gy.sum(axis=(0, 2, 3)))


def batch_norm_backward_anchor(gy, x, weight, save_mean, save_invstd):
    """Training-mode gradients with weight 1, by NumPy."""
    m, s = save_mean[:, None, None], save_invstd[:, None, None]
    count = x.shape[0] * x.shape[2] * x.shape[3]
    sdy = gy.sum(axis=(0, 2, 3))
    sdyx = (gy * (x - m)).sum(axis=(0, 2, 3))
    gx = s * (gy - sdy[:, None, None] / count - (x - m) * s ** 2 * sdyx[:, None, None] / count)
    return gx, sdyx * save_invstd, sdy


def at_top_left(v):
    """(1, 2, 6, 6) zeros with v at each 2x2 window's top-left element (TOP_LEFT)."""
    z = np.zeros((1, 2, 6, 6), v.dtype)
    z[..., ::2, ::2] = v
    return z


def blocks(x):
    """(1, 2, 3, 3, 2, 2): the 2x2 windows of a (1, 2, 6, 6) input."""
    return x.reshape(1, 2, 3, 2, 3, 2).transpose(0, 1, 2, 4, 3, 5)


# name -> the GOOD call's result, computed by NumPy or SciPy from the same arguments.
ANCHOR = {
    "convert": lambda a, dtype: a.astype(dtype),
    "correlate2d": scipy.signal.correlate2d,
    "convolve2d": scipy.signal.convolve2d,
    "ndimage.correlate": scipy.ndimage.correlate,
    "ndimage.convolve": scipy.ndimage.convolve,
    "max_pool2d": lambda x, kernel_size: blocks(x).max(axis=(4, 5)),
    "avg_pool2d": lambda x, kernel_size: blocks(x).mean(axis=(4, 5)),
    "adaptive_avg_pool2d": lambda x, output_size: blocks(x).mean(axis=(4, 5)),
    "max_pool2d_backward": lambda g, idx, input_shape: at_top_left(g),
    "avg_pool2d_backward": lambda g, input_shape, kernel_size: g.repeat(2, -2).repeat(2, -1) / 4,
    "max_unpool2d": lambda v, idx, kernel_size: at_top_left(v),
    "matmul": np.matmul,
    "conv2d": lambda x, w: np.einsum("nchwij,ocij->nohw", windows(x, *w.shape[2:]), w),
    "conv2d_backward": conv2d_backward_anchor,
    "conv_transpose2d": conv_transpose2d_anchor,
    "conv_transpose2d_backward": conv_transpose2d_backward_anchor,
    "batch_norm": lambda x, rm, rv: (x - rm[:, None, None]) / np.sqrt(rv[:, None, None] + 1e-5),
    "batch_norm_backward": batch_norm_backward_anchor,
    "normalize": lambda img, mean, std: ((img / 255.0 - np.array(mean)) / np.array(std)).astype(np.float32),
    "zeros": lambda shape: np.zeros(shape),
    "empty": lambda shape: np.empty(shape),
}
# The scipy.ndimage family's anchor is SciPy's function of the same name.
ANCHOR.update({f"ndimage.{n}": getattr(scipy.ndimage, n) for n in npfast.ndimage.__all__})

# Public callables that take no array (configuration): checked by their own tests.
NOT_ARRAY_FUNCTIONS = {"config", "show_config", "get_num_threads", "set_num_threads"}

NOT_ARRAYS = [None, "abc", object(), [object()], np.zeros(3, dtype=complex),
              np.zeros(3, dtype=object), np.array(["a", "b"])]


def public_functions():
    names = {n for n in npfast.__all__ if callable(getattr(npfast, n))} - NOT_ARRAY_FUNCTIONS
    names |= {f"ndimage.{n}" for n in npfast.ndimage.__all__}
    return sorted(names)


def test_every_public_function_is_covered():
    missing = [n for n in public_functions() if n not in GOOD or n not in ANCHOR]
    assert not missing, f"add a valid call to GOOD and its anchor to ANCHOR for {missing}"


@pytest.mark.parametrize("name", sorted(GOOD))
def test_good_call_matches_the_anchor(name):
    fn, args, kwargs = GOOD[name]
    got, want = fn(*args, **kwargs), ANCHOR[name](*args, **kwargs)
    if name == "matmul":
        assert_matmul_close(got, *args)
        return
    got, want = (got, want) if isinstance(want, tuple) else ((got,), (want,))
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert isinstance(g, np.ndarray) and g.shape == w.shape and g.dtype == w.dtype, (g, w)
        if name == "empty":
            continue  # uninitialised memory: only the shape and dtype are promised
        if name in TOL:
            np.testing.assert_allclose(g, w, **tol(name, g.dtype))
        else:  # a copy, a cast, a max or a scatter: exact
            np.testing.assert_array_equal(g, w)


# Functions whose second argument, weights, SciPy takes as np.asarray(weights, np.float64):
# an object array of numbers is weights there (probe22a); test_object_weights checks them.
OBJECT_WEIGHTS = {f"ndimage.{n}" for n in ("correlate", "convolve", "correlate1d", "convolve1d")}


@pytest.mark.parametrize("name", sorted(GOOD))
@pytest.mark.parametrize("bad", range(len(NOT_ARRAYS)))
def test_non_arrays_are_type_errors(name, bad):
    fn, args, kwargs = GOOD[name]
    for i in range(len(args)):
        if name in OBJECT_WEIGHTS and i == 1 and NOT_ARRAYS[bad].__class__ is np.ndarray \
                and NOT_ARRAYS[bad].dtype == object:
            continue  # numbers held as objects are weights, as SciPy's float64 conversion
        call = list(args)
        call[i] = NOT_ARRAYS[bad]
        # scipy.ndimage raises RuntimeError for array types it does not support; npfast.ndimage
        # raises AnchorTypeError there, a TypeError and SciPy's RuntimeError (issue 22).
        with pytest.raises(TypeError):
            fn(*call, **kwargs)


# Dtypes an anchor refuses (every other dtype is accepted): npfast raises the anchor's class,
# which is also npfast's TypeError where the anchor's is RuntimeError. scipy.signal refuses
# in1 and in2 whose common dtype is bool or float16 with ValueError (its class; one such
# operand beside a wider dtype is accepted); scipy.ndimage refuses float16 with RuntimeError.
UNUSABLE = [(n, d, ValueError) for n in ("correlate2d", "convolve2d") for d in (bool, np.float16)]
UNUSABLE += [(n, np.float16, npfast.AnchorTypeError) for n in sorted(GOOD)
             if n.startswith("ndimage.")]


@pytest.mark.parametrize("name,dtype,error", UNUSABLE)
def test_unusable_dtypes_raise_the_anchors_class(name, dtype, error):
    fn, args, kwargs = GOOD[name]
    call = [a.astype(dtype) if isinstance(a, np.ndarray) and a.dtype.kind == "f" else a
            for a in args]
    anchor = ANCHOR[name]
    with pytest.raises(Exception) as theirs:
        anchor(*call, **kwargs)
    with pytest.raises(error, match="in1|in2|input|weights") as ours:
        fn(*call, **kwargs)
    assert isinstance(ours.value, theirs.type), (ours.value, theirs.value)


def accepts_out(fn):
    try:
        return "out" in inspect.signature(fn).parameters
    except (TypeError, ValueError):  # an extension function: its first doc line is the signature
        return " out:" in (fn.__doc__ or "").split("\n", 1)[0]


# The functions with an array argument (zeros and empty take a shape); convert takes any rank.
WITH_ARRAYS = sorted(n for n in GOOD if GOOD[n][1])
RANK_LIMITED = [n for n in WITH_ARRAYS if n != "convert"]


@pytest.mark.parametrize("name", RANK_LIMITED)
def test_too_many_dimensions_is_a_value_error(name):
    fn, args, kwargs = GOOD[name]
    call = list(args)
    call[0] = np.zeros((1,) * 9)
    if name in ("ndimage.correlate", "ndimage.convolve"):
        call[1] = np.ones((1,) * 9)  # any rank, with weights of the input's rank
    with pytest.raises((ValueError, TypeError)):
        fn(*call, **kwargs)


# Function-specific bad values: (name, kwargs override or positional replacement, error, words).
# The message must contain every word: the argument's name and its bad value (where the value has
# a printed form; a keyword argument's name is checked even when not listed).
BAD_VALUES = [
    ("correlate2d", {"mode": "bogus"}, ValueError, ("mode", "'bogus'")),
    ("correlate2d", {"boundary": "bogus"}, ValueError, ("boundary", "'bogus'")),
    ("correlate2d", {1: np.zeros((0, 3))}, ValueError, ("in2", "(0, 3)")),
    ("correlate2d", {1: np.zeros((3, 3, 3))}, ValueError, ("in2", "(3, 3, 3)")),
    ("correlate2d", {0: np.zeros(5)}, ValueError, ("in1", "(5,)")),
    ("convolve2d", {"fillvalue": "x"}, ValueError, ("fillvalue", "'x'")),  # SciPy's class
    # SciPy's RuntimeError; also npfast's ValueError.
    ("ndimage.correlate", {"mode": "bogus"}, npfast.AnchorValueError, ("mode", "'bogus'")),
    ("ndimage.correlate", {"origin": 5}, ValueError, ("origin", "got 5")),
    ("ndimage.correlate", {1: np.zeros((0, 3))}, npfast.AnchorValueError, ("weights", "(0, 3)")),
    ("ndimage.minimum_filter1d", {"size": 0}, ValueError, ("size", "0")),
    ("ndimage.maximum_filter1d", {"mode": "bogus"}, ValueError, ("mode", "'bogus'")),
    ("ndimage.maximum_filter1d", {"origin": 2}, ValueError, ("origin", "2")),
    ("ndimage.minimum_filter", {"size": 0}, ValueError, ("size", "0")),
    ("ndimage.minimum_filter", {"mode": "bogus"}, ValueError, ("mode", "'bogus'")),
    ("ndimage.maximum_filter", {"size": None, "footprint": np.ones((2, 2, 2), bool)}, ValueError,
     ("footprint",)),
    ("ndimage.maximum_filter", {"size": None, "footprint": np.eye(3, dtype=bool), "origin": 2},
     ValueError, ("origin", "2")),
    ("ndimage.median_filter", {"size": (3, 0)}, ValueError, ("size",)),
    ("ndimage.median_filter", {"size": None, "footprint": np.ones(3, bool)}, ValueError,
     ("footprint",)),
    ("ndimage.median_filter", {"size": None, "footprint": np.ones((0, 3), bool)}, ValueError,
     ("footprint", "length 1 or more", "(0, 3)")),
    ("ndimage.median_filter", {"mode": "bogus"}, ValueError, ("mode", "'bogus'")),
    ("ndimage.rank_filter", {"rank": 9}, ValueError, ("rank", "9")),
    ("ndimage.percentile_filter", {"percentile": 101}, ValueError, ("percentile", "101")),
    ("ndimage.correlate1d", {"mode": "bogus"}, ValueError, ("mode", "'bogus'")),
    ("ndimage.correlate1d", {"origin": 2}, ValueError, ("origin", "2")),
    ("ndimage.correlate1d", {1: np.zeros(0)}, ValueError, ("weights",)),
    ("ndimage.correlate1d", {1: np.zeros((2, 2))}, ValueError, ("weights",)),
    ("ndimage.correlate1d", {"axis": 2}, ValueError, ("axis", "2")),
    ("ndimage.convolve1d", {"mode": ["reflect"]}, ValueError, ("mode",)),
    ("ndimage.uniform_filter1d", {"size": 0}, ValueError, ("size", "0")),
    ("ndimage.uniform_filter1d", {"origin": -2}, ValueError, ("origin", "-2")),
    ("ndimage.uniform_filter", {"size": [3, 3, 3]}, ValueError, ("size",)),
    ("ndimage.uniform_filter", {"axes": (0, 0)}, ValueError, ("axes", "(0, 0)")),
    ("ndimage.uniform_filter", {"output": np.zeros((6, 6))}, ValueError, ("output",)),
    ("ndimage.gaussian_filter1d", {"sigma": -1.0}, ValueError, ("sigma", "-1.0")),
    ("ndimage.gaussian_filter1d", {"radius": -1}, ValueError, ("radius", "-1")),
    ("ndimage.gaussian_filter", {"sigma": -0.5}, ValueError, ("sigma", "-0.5")),
    ("ndimage.gaussian_filter", {"order": -1}, ValueError, ("order", "-1")),
    ("ndimage.gaussian_filter", {"axes": (0, 2)}, ValueError, ("axes", "2")),
    ("ndimage.gaussian_filter", {"mode": "bogus"}, ValueError, ("mode", "'bogus'")),
    ("ndimage.sobel", {"axis": 5}, ValueError, ("axis", "5")),
    ("ndimage.prewitt", {"mode": "bogus"}, ValueError, ("mode", "'bogus'")),
    ("ndimage.laplace", {"mode": ["wrap"] * 3}, ValueError, ("mode",)),
    ("ndimage.gaussian_laplace", {"sigma": -1.0}, ValueError, ("sigma", "-1.0")),
    ("ndimage.gaussian_gradient_magnitude", {"output": np.complex64}, TypeError, ("output",)),
    ("max_pool2d", {"kernel_size": 0}, ValueError, ("kernel_size", "(0, 0)")),
    ("max_pool2d", {"kernel_size": -3}, ValueError, ("kernel_size", "(-3, -3)")),
    ("max_pool2d", {"kernel_size": 2**62}, ValueError, ("kernel_size", str(2**62))),
    ("max_pool2d", {"stride": 0}, ValueError, ("stride", "(0, 0)")),
    ("max_pool2d", {"padding": 2**55}, ValueError, ("padding", str(2**55))),
    ("max_pool2d", {"padding": -1}, ValueError, ("padding", "(-1, -1)")),
    ("max_pool2d", {"dilation": 0}, ValueError, ("dilation", "(0, 0)")),
    ("max_pool2d", {"dilation": 2**40}, ValueError, ("dilation", str(2**40))),
    ("max_pool2d", {"kernel_size": 7}, ValueError, ("kernel_size 7",)),
    ("avg_pool2d", {"stride": 0}, ValueError, ("stride", "(0, 0)")),
    ("avg_pool2d", {"divisor_override": 0}, ValueError, ("divisor_override", "zero")),
    ("max_unpool2d", {1: np.full((1, 2, 3, 3), 36, np.int64)}, ValueError, ("indices", "36")),
    ("max_unpool2d", {1: np.full((1, 2, 3, 3), -1, np.int64)}, ValueError, ("indices", "-1")),
    ("max_pool2d_backward", {1: np.full((1, 2, 3, 3), 36, np.int64)}, ValueError, ("indices", "36")),
    ("max_pool2d_backward", {1: np.zeros((1, 2, 3, 3), np.float64)}, TypeError, ("indices", "float64")),
    ("convert", {"dtype": np.int32}, TypeError, ("dtype", "int32")),
    ("matmul", {1: img(4, 3)}, ValueError, ("b", "(4, 3)")),
    ("conv2d", {"stride": 0}, ValueError, ("stride", "(0, 0)")),
    ("conv2d", {"dilation": 0}, ValueError, ("dilation", "(0, 0)")),
    ("conv2d", {"padding": -1}, ValueError, ("padding", "(-1, -1)")),
    ("conv2d", {"padding": "bogus"}, ValueError, ("padding", "'bogus'")),
    ("conv2d", {"groups": 0}, ValueError, ("groups", "got 0")),
    # A stride of 2**40 past a 6x6 image is torch's one output (probe18c: it was a MemoryError
    # naming the stride, fuzz_conv); over 2**40 a ValueError naming it.
    ("conv2d", {"stride": 2**40 + 1}, ValueError, ("stride", str(2**40 + 1))),
    ("conv2d", {"padding": 2**40}, ValueError, ("padding", str(2**40))),  # probe15
    # A workspace the padding and dilation size past memory (probe18c: no argument named).
    ("conv2d", {"padding": 10**6, "dilation": 10**6}, MemoryError,
     ("padding", "dilation", str(10**6))),
    ("conv_transpose2d", {"padding": 10**6, "dilation": 10**6}, MemoryError,
     ("conv_transpose2d workspace", "padding", "dilation", str(10**6))),
    ("conv2d_backward", {"padding": 2**40}, ValueError, ("padding", str(2**40))),
    ("conv2d", {"groups": 3}, ValueError, ("groups", "got 3")),
    ("conv2d", {1: img(3, 5, 3, 3)}, ValueError, ("weight", "(3, 5, 3, 3)")),
    ("conv2d", {1: img(3, 2, 9, 9)}, ValueError, ("weight", "(9, 9)")),
    ("conv2d", {"bias": img(5)}, ValueError, ("bias", "(5,)")),
    ("conv2d", {"stride": 2, "padding": "same"}, ValueError, ("padding", "'same'", "stride = 2")),
    ("conv2d", {1: img(3, 2, 3, 3).astype(np.float32)}, TypeError, ("weight", "float32")),
    ("conv_transpose2d", {"stride": 0}, ValueError, ("stride", "(0, 0)")),
    ("conv_transpose2d", {"dilation": 0}, ValueError, ("dilation", "(0, 0)")),
    ("conv_transpose2d", {"padding": -1}, ValueError, ("padding", "(-1, -1)")),
    ("conv_transpose2d", {"padding": 9}, ValueError, ("input", "(-12, -12)")),
    ("conv_transpose2d", {"output_padding": 1}, ValueError, ("output_padding", "(1, 1)")),
    ("conv_transpose2d", {"groups": 0}, ValueError, ("groups", "got 0")),
    ("conv_transpose2d", {"groups": 2}, ValueError, ("groups", "got 2")),
    ("conv_transpose2d", {"stride": 2**40}, ValueError, ("stride", str(2**40))),
    ("conv_transpose2d", {1: img(4, 2, 3, 3)}, ValueError, ("weight", "(4, 2, 3, 3)")),
    ("conv_transpose2d", {"bias": img(5)}, ValueError, ("bias", "(5,)")),
    ("conv_transpose2d", {1: img(3, 2, 3, 3).astype(np.float32)}, TypeError, ("weight", "float32")),
    ("conv_transpose2d_backward", {0: img(1, 2, 5, 5)}, ValueError, ("grad_output", "(1, 2, 5, 5)")),
    ("conv_transpose2d_backward", {"output_mask": (True,)}, ValueError, ("output_mask", "(True,)")),
    ("batch_norm", {"layout": "NCWH"}, ValueError, ("layout", "'NCWH'")),
    ("batch_norm", {1: img(4)}, ValueError, ("running_mean", "(4,)")),
    ("batch_norm", {"weight": img(2)}, ValueError, ("weight", "(2,)")),
    ("batch_norm", {"eps": -1.0}, ValueError, ("eps", "-1")),
    ("batch_norm", {0: img(1, 3, 1, 1), "training": True}, ValueError, ("input", "(1, 3, 1, 1)")),
    ("batch_norm", {0: img(5)}, ValueError, ("input", "(5,)")),
    ("batch_norm", {2: img(3).astype(np.float32)}, TypeError, ("running_var", "float32")),
    ("batch_norm_backward", {"save_mean": img(4)}, ValueError, ("save_mean", "(4,)")),
    ("batch_norm_backward", {0: img(2, 3, 4, 5)}, ValueError, ("grad_output", "(2, 3, 4, 5)")),
    ("batch_norm_backward", {"layout": "bogus"}, ValueError, ("layout", "'bogus'")),
    ("batch_norm_backward", {"output": img(2, 3, 4, 1)}, ValueError, ("output", "(2, 3, 4, 1)")),
    ("conv2d", {"layout": "NWHC"}, ValueError, ("layout", "'NWHC'")),
    ("conv2d", {"layout": "nhwc"}, ValueError, ("layout", "'nhwc'")),
    ("conv2d", {"layout": 1}, ValueError, ("layout", "1")),
    ("conv2d_backward", {"layout": "CHWN"}, ValueError, ("layout", "'CHWN'")),
    ("conv_transpose2d", {"layout": "NWHC"}, ValueError, ("layout", "'NWHC'")),
    ("conv_transpose2d", {"layout": "nhwc"}, ValueError, ("layout", "'nhwc'")),
    ("conv_transpose2d_backward", {"layout": "CHWN"}, ValueError, ("layout", "'CHWN'")),
    ("conv_transpose2d_backward", {"layout": 1}, ValueError, ("layout", "1")),
    ("max_pool2d", {"layout": "NHCW"}, ValueError, ("layout", "'NHCW'")),
    ("avg_pool2d", {"layout": "channels_last"}, ValueError, ("layout", "'channels_last'")),
    # NHWC takes (N, H, W, C) or (H, W, C): a plane is not one.
    ("max_pool2d", {0: img(6, 6), "layout": "NHWC"}, ValueError, ("input", "(6, 6)")),
    ("zeros", {"shape": (-1, 3)}, ValueError, ("shape", "-1")),
    # Flags take True / False or a NumPy bool, as PyTorch (1, "no" and None refused, named).
    ("max_pool2d", {"ceil_mode": 1}, TypeError, ("ceil_mode", "1")),
    ("max_pool2d", {"return_indices": "no"}, TypeError, ("return_indices", "'no'")),
    ("avg_pool2d", {"count_include_pad": None}, TypeError, ("count_include_pad", "None")),
    ("avg_pool2d_backward", {"ceil_mode": 0}, TypeError, ("ceil_mode", "0")),
    ("batch_norm", {"training": 1}, TypeError, ("training", "1")),
    ("batch_norm", {"relu": "yes"}, TypeError, ("relu", "'yes'")),
    ("batch_norm_backward", {"training": None}, TypeError, ("training", "None")),
    ("normalize", {"to_chw": "no"}, TypeError, ("to_chw", "'no'")),
    ("normalize", {"channel_axis": 1.5}, TypeError, ("channel_axis", "1.5")),
    # probe17: a std whose scale 1 / (255 std) overflows or vanishes (one value, or NaN).
    ("normalize", {"std": 1e308}, ValueError, ("std", "1e+308")),
    ("normalize", {"std": 1e-310}, ValueError, ("std", "e-311")),
    ("normalize", {"mean": 1e300, "std": 1e-9}, ValueError, ("mean / std", "e+300")),
    ("zeros", {"shape": (2**40, 2**40)}, (ValueError, MemoryError), ("shape", str(2**40))),
    ("empty", {"shape": (2**62, 4)}, (ValueError, MemoryError), ("shape", str(2**62))),
]


@pytest.mark.parametrize("name,change,error,words", BAD_VALUES,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(BAD_VALUES)])
def test_bad_values(name, change, error, words):
    assert words and all(words), "name the argument (and its value) the message must contain"
    fn, args, kwargs = GOOD[name]
    args, kwargs = list(args), dict(kwargs)
    for k, v in change.items():
        if isinstance(k, int):
            args[k] = v
        else:
            kwargs[k] = v
    with pytest.raises(error) as info:
        fn(*args, **kwargs)
    message = str(info.value)
    # nanobind's own refusal lists the whole signature, every name and default in it.
    assert "incompatible function arguments" not in message, message
    # A keyword set to None only clears the good call's value (size=None beside a footprint).
    for word in list(words) + [k for k, v in change.items() if isinstance(k, str) and v is not None]:
        assert word in message, f"{word!r} not in {message!r}"


def test_numpy_bools_are_flags():
    x = img(1, 2, 6, 6)
    y, i = npfast.max_pool2d(x, 2, ceil_mode=np.False_, return_indices=np.True_)
    assert y.shape == i.shape == (1, 2, 3, 3)
    assert isinstance(npfast.batch_norm(x, None, None, training=np.bool_(True)), tuple)


def zero_stride(shape, dtype):
    return as_strided(np.zeros(1, dtype), shape=shape, strides=(0,) * len(shape))


# Sizes that cannot be represented or allocated: MemoryError (or ValueError when the
# arguments themselves are refused first), never a crash or a wrapped size.
HUGE = [
    ("convert", lambda: npfast.convert(zero_stride((2**31, 2**31), np.uint8), np.float32)),
    ("correlate2d", lambda: npfast.correlate2d(zero_stride((2**31, 2**31), np.uint8), np.ones((3, 3)))),
    ("correlate2d-same", lambda: npfast.correlate2d(zero_stride((2**31, 2**29), F32), np.ones((3, 3), F32), mode="same")),
    ("ndimage", lambda: npfast.ndimage.correlate(zero_stride((2**31, 2**29), F32), np.ones((3, 3), F32))),
    ("ndimage-filters", lambda: npfast.ndimage.uniform_filter(zero_stride((2**31, 2**29), F32), 3)),
    ("max_pool2d", lambda: npfast.max_pool2d(zero_stride((2**31, 2**29), F32), 2, return_indices=True)),
    ("avg_pool2d", lambda: npfast.avg_pool2d(zero_stride((2**31, 2**29), F32), 2)),
    ("max_unpool2d", lambda: npfast.max_unpool2d(np.zeros((1, 1, 1)), np.zeros((1, 1, 1), np.int64), 2**31, output_size=(2**31, 2**31))),
    ("matmul", lambda: npfast.matmul(zero_stride((2**31, 1), F32), zero_stride((1, 2**31), F32))),
    ("conv2d", lambda: npfast.conv2d(zero_stride((1, 1, 2**31, 2**29), F32), np.ones((1, 1, 1, 1), F32))),
    ("conv_transpose2d", lambda: npfast.conv_transpose2d(zero_stride((1, 1, 2**30, 2**29), F32), np.ones((1, 1, 2, 2), F32), stride=4)),
    ("batch_norm", lambda: npfast.batch_norm(zero_stride((2**31, 1, 2**31, 1), F32), None, None, training=True)),
]


@pytest.mark.parametrize("name,call", HUGE, ids=[h[0] for h in HUGE])
def test_impossible_sizes(name, call):
    with pytest.raises((MemoryError, ValueError)):
        call()


@pytest.mark.parametrize("name", [n for n in sorted(GOOD) if accepts_out(GOOD[n][0])])
def test_refused_call_leaves_out_untouched(name):
    fn, args, kwargs = GOOD[name]
    good = fn(*args, **kwargs)
    good = good[0] if isinstance(good, tuple) else good
    for bad_out in [np.full(good.shape[:-1] + (good.shape[-1] + 1,), 7.0, good.dtype),
                    np.full(good.shape, 7, np.int32 if good.dtype != np.int32 else np.float32)]:
        with pytest.raises((ValueError, TypeError)):
            fn(*args, **kwargs, out=bad_out)
        assert (bad_out == 7).all()
    # A good out= with a bad other argument: refused before anything is written.
    out = np.full(good.shape, 7, good.dtype)
    if args:
        bad_args = list(args)
        bad_args[-1] = "abc"
        with pytest.raises(TypeError):
            fn(*bad_args, **kwargs, out=out)
        assert (out == 7).all()


@pytest.mark.parametrize("name", WITH_ARRAYS)
def test_non_native_byte_order_is_read_correctly(name):
    fn, args, kwargs = GOOD[name]
    swapped = [a.astype(a.dtype.newbyteorder()) if isinstance(a, np.ndarray) else a for a in args]
    want, got = fn(*args, **kwargs), fn(*swapped, **kwargs)
    for w, g in zip(want if isinstance(want, tuple) else (want,), got if isinstance(got, tuple) else (got,)):
        if w is not None:
            np.testing.assert_array_equal(g, w)


def test_an_empty_out_is_accepted():
    # NumPy 2 can give a size-0 array zero strides; an empty batch's preallocated out= is valid
    # whatever its strides (made zero here, so the test does not lean on NumPy's choice).
    f32 = np.float32

    def empty(*shape):
        return as_strided(np.empty(1, f32), shape, (0,) * len(shape), writeable=True)

    a, b = np.ones((0, 3), f32), np.ones((3, 2), f32)
    out = empty(0, 2)
    assert npfast.matmul(a, b, out=out) is out
    out = empty(0, 3)
    assert npfast.convert(np.zeros((0, 3), np.uint8), f32, out=out) is out
    x = np.zeros((0, 3, 8, 8), f32)
    out = empty(0, 4, 8, 8)
    assert npfast.conv2d(x, np.ones((4, 3, 3, 3), f32), padding=1, out=out) is out
    assert npfast.conv_transpose2d(x, np.ones((3, 4, 3, 3), f32), padding=1, out=out) is out
    out = empty(0, 5, 3)
    assert npfast.normalize(np.zeros((0, 5, 3), np.uint8), 0.5, 0.25, out=out) is out


def test_non_native_out_is_refused():
    out = np.zeros((4, 5), ">f4")
    with pytest.raises(TypeError, match="out: must be in native byte order"):
        npfast.convert(img(4, 5), np.float32, out=out)
