"""The bad-input contract, for every public function (README, "Errors").

Each public function has a valid call here; the tests derive bad calls from it:
every array argument replaced by things that are not usable arrays (TypeError), the
function-specific bad values (ValueError / TypeError / MemoryError, with the argument named in
the message), sizes that cannot be represented (MemoryError, never a crash), and a refused call
with ``out=`` leaves ``out`` untouched. A test fails if a public function has no entry here.
"""

from __future__ import annotations

import inspect

import numpy as np
import pytest
from numpy.lib.stride_tricks import as_strided

import npfast

F32 = np.float32


def img(*shape, dtype=np.float64):
    return np.random.default_rng(0).standard_normal(shape).astype(dtype)


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
    "max_pool2d": (npfast.max_pool2d, [img(1, 2, 6, 6)], {"kernel_size": 2}),
    "avg_pool2d": (npfast.avg_pool2d, [img(1, 2, 6, 6)], {"kernel_size": 2}),
    "adaptive_avg_pool2d": (npfast.adaptive_avg_pool2d, [img(1, 2, 6, 6)], {"output_size": 3}),
    "max_pool2d_backward": (npfast.max_pool2d_backward,
                            [img(1, 2, 3, 3), np.zeros((1, 2, 3, 3), np.int64)],
                            {"input_shape": (1, 2, 6, 6)}),
    "avg_pool2d_backward": (npfast.avg_pool2d_backward, [img(1, 2, 3, 3)],
                            {"input_shape": (1, 2, 6, 6), "kernel_size": 2}),
    "max_unpool2d": (npfast.max_unpool2d, [img(1, 2, 3, 3), np.zeros((1, 2, 3, 3), np.int64)],
                     {"kernel_size": 2}),
}

# Optional families join the table when they are built.
if hasattr(npfast, "matmul"):
    GOOD["matmul"] = (npfast.matmul, [img(4, 5), img(5, 3)], {})
if hasattr(npfast, "conv2d"):
    GOOD["conv2d"] = (npfast.conv2d, [img(1, 2, 6, 6), img(3, 2, 3, 3)], {})
    GOOD["conv2d_backward"] = (npfast.conv2d_backward,
                               [img(1, 3, 4, 4), img(1, 2, 6, 6), img(3, 2, 3, 3)], {})
if hasattr(npfast, "normalize"):
    GOOD["normalize"] = (npfast.normalize,
                         [np.zeros((4, 5, 3), np.uint8)], {"mean": (0.5, 0.5, 0.5), "std": (0.2, 0.2, 0.2)})
# The rank filters (python/npfast/_rank_filters.py).
for _n, _kw in [("minimum_filter1d", {"size": 3}), ("maximum_filter1d", {"size": 3}),
                ("minimum_filter", {"size": 3}), ("maximum_filter", {"size": 3}),
                ("median_filter", {"size": 3}), ("rank_filter", {"rank": 2, "size": 3}),
                ("percentile_filter", {"percentile": 30, "size": 3})]:
    GOOD[f"ndimage.{_n}"] = (getattr(npfast.ndimage, _n), [img(6, 7)], _kw)
if hasattr(npfast, "zeros"):
    GOOD["zeros"] = (npfast.zeros, [], {"shape": (3, 4)})
    GOOD["empty"] = (npfast.empty, [], {"shape": (3, 4)})

# Public callables that take no array (configuration): checked by their own tests.
NOT_ARRAY_FUNCTIONS = {"config", "show_config", "get_num_threads", "set_num_threads"}

NOT_ARRAYS = [None, "abc", object(), [object()], np.zeros(3, dtype=complex),
              np.zeros(3, dtype=object), np.array(["a", "b"])]


def public_functions():
    names = {n for n in npfast.__all__ if callable(getattr(npfast, n))} - NOT_ARRAY_FUNCTIONS
    names |= {f"ndimage.{n}" for n in npfast.ndimage.__all__}
    for mod in ("memory",):
        if hasattr(npfast, mod):
            names.discard(mod)
    return sorted(names)


def test_every_public_function_is_covered():
    missing = [n for n in public_functions() if n not in GOOD]
    assert not missing, f"add a valid call to GOOD for {missing}"


@pytest.mark.parametrize("name", sorted(GOOD))
def test_good_call_works(name):
    fn, args, kwargs = GOOD[name]
    fn(*args, **kwargs)


@pytest.mark.parametrize("name", sorted(GOOD))
@pytest.mark.parametrize("bad", range(len(NOT_ARRAYS)))
def test_non_arrays_are_type_errors(name, bad):
    fn, args, kwargs = GOOD[name]
    for i in range(len(args)):
        call = list(args)
        call[i] = NOT_ARRAYS[bad]
        with pytest.raises(TypeError):
            fn(*call, **kwargs)


@pytest.mark.parametrize("name", sorted(GOOD))
def test_too_many_dimensions_is_a_value_error(name):
    fn, args, kwargs = GOOD[name]
    if not args or name == "convert":
        pytest.skip("takes any number of dimensions")
    call = list(args)
    call[0] = np.zeros((1,) * 9)
    with pytest.raises((ValueError, TypeError)):
        fn(*call, **kwargs)


# Function-specific bad values: (name, kwargs override or positional replacement, error, text).
BAD_VALUES = [
    ("correlate2d", {"mode": "bogus"}, ValueError, "mode"),
    ("correlate2d", {"boundary": "bogus"}, ValueError, "boundary"),
    ("correlate2d", {1: np.zeros((0, 3))}, ValueError, "in2"),
    ("correlate2d", {1: np.zeros((3, 3, 3))}, ValueError, "in2"),
    ("correlate2d", {0: np.zeros(5)}, ValueError, "in1"),
    ("convolve2d", {"fillvalue": "x"}, (TypeError, ValueError), "fillvalue"),
    ("ndimage.correlate", {"mode": "bogus"}, ValueError, "mode"),
    ("ndimage.correlate", {"origin": 5}, ValueError, "origin"),
    ("ndimage.correlate", {1: np.zeros((0, 3))}, ValueError, "weights"),
    ("ndimage.minimum_filter1d", {"size": 0}, ValueError, "size"),
    ("ndimage.maximum_filter1d", {"mode": "bogus"}, ValueError, "mode"),
    ("ndimage.maximum_filter1d", {"origin": 2}, ValueError, "origin"),
    ("ndimage.minimum_filter", {"size": 0}, ValueError, "size"),
    ("ndimage.minimum_filter", {"mode": "bogus"}, ValueError, "mode"),
    ("ndimage.maximum_filter", {"size": None, "footprint": np.ones((2, 2, 2), bool)}, ValueError,
     "footprint"),
    ("ndimage.maximum_filter", {"size": None, "footprint": np.eye(3, dtype=bool), "origin": 2},
     ValueError, "origin"),
    ("ndimage.median_filter", {"size": (3, 0)}, ValueError, "size"),
    ("ndimage.median_filter", {"size": None, "footprint": np.ones(3, bool)}, ValueError,
     "footprint"),
    ("ndimage.median_filter", {"mode": "bogus"}, ValueError, "mode"),
    ("ndimage.rank_filter", {"rank": 9}, ValueError, "rank"),
    ("ndimage.percentile_filter", {"percentile": 101}, ValueError, "percentile"),
    ("ndimage.correlate1d", {"mode": "bogus"}, ValueError, "mode"),
    ("ndimage.correlate1d", {"origin": 2}, ValueError, "origin"),
    ("ndimage.correlate1d", {1: np.zeros(0)}, ValueError, "weights"),
    ("ndimage.correlate1d", {1: np.zeros((2, 2))}, ValueError, "weights"),
    ("ndimage.correlate1d", {"axis": 2}, ValueError, "axis"),
    ("ndimage.convolve1d", {"mode": ["reflect"]}, ValueError, "mode"),
    ("ndimage.uniform_filter1d", {"size": 0}, ValueError, "size"),
    ("ndimage.uniform_filter1d", {"origin": -2}, ValueError, "origin"),
    ("ndimage.uniform_filter", {"size": [3, 3, 3]}, ValueError, "size"),
    ("ndimage.uniform_filter", {"axes": (0, 0)}, ValueError, "axes"),
    ("ndimage.uniform_filter", {"output": np.zeros((6, 6))}, ValueError, "output"),
    ("ndimage.gaussian_filter1d", {"sigma": -1.0}, ValueError, "sigma"),
    ("ndimage.gaussian_filter1d", {"radius": -1}, ValueError, "radius"),
    ("ndimage.gaussian_filter", {"sigma": -0.5}, ValueError, "sigma"),
    ("ndimage.gaussian_filter", {"order": -1}, ValueError, "order"),
    ("ndimage.gaussian_filter", {"axes": (0, 2)}, ValueError, "axes"),
    ("ndimage.gaussian_filter", {"mode": "bogus"}, ValueError, "mode"),
    ("ndimage.sobel", {"axis": 5}, ValueError, "axis"),
    ("ndimage.prewitt", {"mode": "bogus"}, ValueError, "mode"),
    ("ndimage.laplace", {"mode": ["wrap"] * 3}, ValueError, "mode"),
    ("ndimage.gaussian_laplace", {"sigma": -1.0}, ValueError, "sigma"),
    ("ndimage.gaussian_gradient_magnitude", {"output": np.complex64}, TypeError, "output"),
    ("max_pool2d", {"kernel_size": 0}, ValueError, "kernel_size"),
    ("max_pool2d", {"kernel_size": -3}, ValueError, "kernel_size"),
    ("max_pool2d", {"kernel_size": 2**62}, ValueError, "kernel_size"),
    ("max_pool2d", {"stride": 0}, ValueError, "stride"),
    ("max_pool2d", {"padding": 2**55}, ValueError, "padding"),
    ("max_pool2d", {"padding": -1}, ValueError, "padding"),
    ("max_pool2d", {"dilation": 0}, ValueError, "dilation"),
    ("max_pool2d", {"dilation": 2**40}, ValueError, ""),
    ("max_pool2d", {"kernel_size": 7}, ValueError, ""),
    ("avg_pool2d", {"stride": 0}, ValueError, "stride"),
    ("avg_pool2d", {"divisor_override": 0}, ValueError, "divisor_override"),
    ("max_unpool2d", {1: np.full((1, 2, 3, 3), 36, np.int64)}, ValueError, "indices"),
    ("max_unpool2d", {1: np.full((1, 2, 3, 3), -1, np.int64)}, ValueError, "indices"),
    ("max_pool2d_backward", {1: np.full((1, 2, 3, 3), 36, np.int64)}, ValueError, "indices"),
    ("max_pool2d_backward", {1: np.zeros((1, 2, 3, 3), np.float64)}, TypeError, "indices"),
    ("convert", {"dtype": np.int32}, TypeError, "dtype"),
    ("matmul", {1: img(4, 3)}, ValueError, ""),
    ("conv2d", {"stride": 0}, ValueError, "stride"),
    ("conv2d", {"dilation": 0}, ValueError, "dilation"),
    ("conv2d", {"padding": -1}, ValueError, "padding"),
    ("conv2d", {"padding": "bogus"}, ValueError, "padding"),
    ("conv2d", {"groups": 0}, ValueError, "groups"),
    ("conv2d", {"stride": 2**40}, (MemoryError, ValueError), ""),  # found by fuzz_conv
    ("conv2d", {"groups": 3}, ValueError, "groups"),
    ("conv2d", {1: img(3, 5, 3, 3)}, ValueError, ""),
    ("conv2d", {1: img(3, 2, 9, 9)}, ValueError, ""),
    ("conv2d", {"bias": img(5)}, ValueError, "bias"),
    ("conv2d", {"stride": 2, "padding": "same"}, ValueError, "padding"),
    ("conv2d", {1: img(3, 2, 3, 3).astype(np.float32)}, TypeError, ""),
    ("zeros", {"shape": (-1, 3)}, ValueError, "shape"),
    ("zeros", {"shape": (2**40, 2**40)}, (ValueError, MemoryError), ""),
    ("empty", {"shape": (2**62, 4)}, (ValueError, MemoryError), ""),
]


@pytest.mark.parametrize("name,change,error,text", BAD_VALUES,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(BAD_VALUES)])
def test_bad_values(name, change, error, text):
    if name not in GOOD:
        pytest.skip(f"npfast.{name} is not built")
    fn, args, kwargs = GOOD[name]
    args, kwargs = list(args), dict(kwargs)
    for k, v in change.items():
        if isinstance(k, int):
            args[k] = v
        else:
            kwargs[k] = v
    with pytest.raises(error) as info:
        fn(*args, **kwargs)
    assert text in str(info.value)


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
]


@pytest.mark.parametrize("name,call", HUGE, ids=[h[0] for h in HUGE])
def test_impossible_sizes(name, call):
    base = name.split("-")[0]
    if base not in GOOD and base != "ndimage":
        pytest.skip(f"npfast.{base} is not built")
    with pytest.raises((MemoryError, ValueError)):
        call()


@pytest.mark.parametrize("name", sorted(GOOD))
def test_refused_call_leaves_out_untouched(name):
    fn, args, kwargs = GOOD[name]
    if not accepts_out(fn):
        pytest.skip("no out= argument")
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


def accepts_out(fn):
    try:
        return "out" in inspect.signature(fn).parameters
    except (TypeError, ValueError):  # an extension function: its first doc line is the signature
        return " out:" in (fn.__doc__ or "").split("\n", 1)[0]


@pytest.mark.parametrize("name", sorted(GOOD))
def test_non_native_byte_order_is_read_correctly(name):
    fn, args, kwargs = GOOD[name]
    if not args:
        pytest.skip("no array argument")
    swapped = [a.astype(a.dtype.newbyteorder()) if isinstance(a, np.ndarray) else a for a in args]
    want, got = fn(*args, **kwargs), fn(*swapped, **kwargs)
    for w, g in zip(want if isinstance(want, tuple) else (want,), got if isinstance(got, tuple) else (got,)):
        if w is not None:
            np.testing.assert_array_equal(g, w)


def test_non_native_out_is_refused():
    out = np.zeros((4, 5), ">f4")
    with pytest.raises(TypeError, match="out: must be in native byte order"):
        npfast.convert(img(4, 5), np.float32, out=out)
