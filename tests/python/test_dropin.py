"""Drop-in behaviour (issue 22): every dtype and argument form SciPy, PyTorch and NumPy accept,
and their exception classes. One test per item of the issue, each against the anchor itself."""

import numpy as np
import pytest
import scipy.ndimage as sn
import scipy.signal as ss

import npfast

INT_DTYPES = [np.uint8, np.int8, np.uint16, np.int16, np.uint32, np.int32, np.uint64, np.int64,
              np.longlong, np.ulonglong, np.intc, np.uintc, np.int_, np.uint]
MODES = ["reflect", "constant", "nearest", "mirror", "wrap", "grid-mirror", "grid-constant",
         "grid-wrap"]


def _ints(rng, shape, dtype):
    info = np.iinfo(dtype)
    return rng.integers(max(info.min, -50), min(info.max, 50), shape).astype(dtype)


# 1. uint32 / uint64 (every integer width) and the dtypes np.empty / np.zeros take.
@pytest.mark.parametrize("dtype", INT_DTYPES)
def test_every_integer_dtype_is_accepted(dtype):
    rng = np.random.default_rng(1)
    x = _ints(rng, (7, 9), dtype)
    k = rng.standard_normal((3, 2))
    xf = x.astype(np.float64)
    # scipy.ndimage's rule: the input's dtype, SciPy's sums truncated as SciPy does (its values
    # wherever C defines the cast: not for a negative sum into an unsigned type) ...
    got = npfast.ndimage.correlate(x, k)
    assert got.dtype == dtype
    defined = sn.correlate(xf, k) > -1 if x.dtype.kind == "u" else np.ones(x.shape, bool)
    np.testing.assert_array_equal(got[defined], sn.correlate(x, k)[defined])
    # ... and scipy.signal's: float64.
    for ours, theirs in [(npfast.correlate2d, ss.correlate2d), (npfast.convolve2d, ss.convolve2d)]:
        got = ours(x, k, "same", "symm")
        assert got.dtype == np.float64
        np.testing.assert_allclose(got, theirs(xf, k, "same", "symm"), rtol=1e-12, atol=1e-12)
    # Integer kernels too.
    ki = _ints(rng, (2, 2), dtype)
    np.testing.assert_allclose(npfast.correlate2d(xf, ki), ss.correlate2d(xf, ki.astype(float)),
                               rtol=1e-12)
    # convert: NumPy's astype takes every integer dtype (computed in float64 as documented).
    big = _ints(rng, (5, 301), dtype)[:, ::2]
    for to, tol in ((np.float32, 1e-7), (np.float64, 1e-15)):  # one fused multiply-add
        np.testing.assert_allclose(npfast.convert(big, to, scale=0.5, offset=2.0),
                                   (big.astype(np.float64) * 0.5 + 2.0).astype(to), rtol=tol)


@pytest.mark.parametrize("dtype", [bool, np.uint32, np.uint64, np.longlong, np.float16,
                                   np.complex64, np.complex128, np.int8, np.float32])
@pytest.mark.parametrize("fn", ["empty", "zeros"])
def test_empty_and_zeros_take_numpy_dtypes(fn, dtype):
    a = getattr(npfast, fn)((3, 4), dtype)
    want = getattr(np, fn)((3, 4), dtype)
    assert a.dtype == want.dtype and a.shape == (3, 4) and a.flags.c_contiguous
    if fn == "zeros":
        np.testing.assert_array_equal(a, want)
    with pytest.raises(TypeError, match="dtype"):
        getattr(npfast, fn)(3, object)


# 2. np.longlong (int64 with its own type number) everywhere, indices included.
def test_longlong_arrays_are_int64():
    assert np.dtype(np.longlong).num != np.dtype(np.int64).num  # the case issue 22 is about
    x = np.arange(12, dtype=np.longlong).reshape(3, 4)
    np.testing.assert_array_equal(npfast.correlate2d(x, [[1]]), x.astype(np.float64))
    np.testing.assert_array_equal(npfast.ndimage.correlate(x, np.ones((1, 1))), x)
    np.testing.assert_array_equal(npfast.convert(x, np.float32), x.astype(np.float32))
    img = np.random.default_rng(2).standard_normal((1, 2, 6, 6)).astype(np.float32)
    out, idx = npfast.max_pool2d(img, 2, return_indices=True)
    idx_ll = idx.astype(np.longlong)
    np.testing.assert_array_equal(npfast.max_unpool2d(out, idx_ll, 2),
                                  npfast.max_unpool2d(out, idx, 2))
    np.testing.assert_array_equal(npfast.max_pool2d_backward(out, idx_ll, img.shape),
                                  npfast.max_pool2d_backward(out, idx, img.shape))


# 3. SciPy's exception classes, and no message naming a private function.
@pytest.mark.parametrize("fillvalue", [1j, [1, 2], [], "zero", [[1j]]])
def test_bad_fillvalue_raises_scipy_class(fillvalue):
    with pytest.raises(ValueError) as theirs:
        ss.convolve2d([[1.0]], [[1.0, 2.0]], fillvalue=fillvalue)
    assert theirs.type is ValueError
    for fn in (npfast.convolve2d, npfast.correlate2d):
        with pytest.raises(ValueError, match="fillvalue") as ours:
            fn([[1.0]], [[1.0, 2.0]], fillvalue=fillvalue)
        assert "_npfast" not in str(ours.value) and "()" not in str(ours.value)
    # A one-element array is a scalar, as SciPy.
    np.testing.assert_array_equal(npfast.convolve2d([[1.0]], [[1.0, 2.0]], fillvalue=[3]),
                                  ss.convolve2d([[1.0]], [[1.0, 2.0]], fillvalue=[3]))


@pytest.mark.parametrize("kwargs", [
    dict(mode=["nearest", "reflect"]), dict(mode=["nearest"]), dict(mode="symm"),
    dict(weights=np.ones(3)), dict(weights=np.ones((2, 0))), dict(origin=[0, 0, 0]),
    dict(output=np.zeros((2, 2))), dict(axes=(0, 0)), dict(axes=(0, 5)), dict(origin=5),
    dict(input=np.ones((3, 3), np.float16)), dict(output=np.float16), dict(cval="a"),
])
@pytest.mark.parametrize("name", ["correlate", "convolve"])
def test_ndimage_errors_have_scipy_classes(name, kwargs):
    args = dict(input=np.arange(20.0).reshape(4, 5), weights=np.ones((2, 2)))
    args.update(kwargs)
    with pytest.raises(Exception) as theirs:
        getattr(sn, name)(**args)
    with pytest.raises(Exception) as ours:
        getattr(npfast.ndimage, name)(**args)
    assert isinstance(ours.value, theirs.type), (ours.value, theirs.value)
    # Where SciPy raises RuntimeError, npfast's class is one of the two anchor classes: also
    # npfast's ValueError / TypeError (README, "Errors").
    if theirs.type is RuntimeError:
        assert ours.type in (npfast.AnchorValueError, npfast.AnchorTypeError)
    else:
        assert ours.type is theirs.type, (ours.value, theirs.value)
    assert "_ndimage" not in str(ours.value) and "_npfast" not in str(ours.value)


def test_torch_anchored_errors_are_torchs_class_too():
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    x = np.ones((1, 2, 5, 5), np.float32)
    w = np.ones((2, 2, 2, 2), np.float32)
    calls = [
        (npfast.conv2d, F.conv2d, (x, w), dict(stride=0)),
        (npfast.conv2d, F.conv2d, (x, w), dict(stride=(2, 2, 2))),
        (npfast.conv2d, F.conv2d, (x, w), dict(padding="bogus")),
        (npfast.conv2d, F.conv2d, (x, w), dict(groups=3)),
        (npfast.conv2d, F.conv2d, (x, w), dict(bias=np.ones(2, np.float64))),
        (npfast.conv2d, F.conv2d, (x, np.ones((2, 2, 9, 9), np.float32)), {}),
        (npfast.max_pool2d, F.max_pool2d, (x,), dict(kernel_size=0)),
        (npfast.max_pool2d, F.max_pool2d, (x,), dict(kernel_size=2, padding=2)),
        (npfast.avg_pool2d, F.avg_pool2d, (x,), dict(kernel_size=9)),
        (npfast.adaptive_avg_pool2d, F.adaptive_avg_pool2d, (x,), dict(output_size=(1, 2, 3))),
    ]
    for ours, theirs, args, kw in calls:
        targs = [torch.from_numpy(a) for a in args]
        tkw = {k: torch.from_numpy(v) if isinstance(v, np.ndarray) else v for k, v in kw.items()}
        with pytest.raises(Exception) as t:
            theirs(*targs, **tkw)
        with pytest.raises(Exception) as e:
            ours(*args, **kw)
        assert isinstance(e.value, t.type), (ours.__name__, kw, e.value, t.value)
        # ... and still npfast's own class (README, "Errors").
        assert isinstance(e.value, (ValueError, TypeError))
    assert issubclass(npfast.AnchorValueError, ValueError)
    assert issubclass(npfast.AnchorTypeError, TypeError)


# 4. PyTorch's 1-element tuples (and lists) for conv2d's stride, padding and dilation.
def test_conv2d_takes_one_element_tuples_as_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(4)
    x = rng.standard_normal((2, 3, 11, 10)).astype(np.float32)
    w = rng.standard_normal((4, 3, 3, 2)).astype(np.float32)
    for kw in [dict(stride=(2,)), dict(padding=(1,)), dict(dilation=(2,)),
               dict(stride=[3], padding=[2], dilation=[2]), dict(stride=(2, 1), padding=(1,))]:
        want = torch.nn.functional.conv2d(torch.from_numpy(x), torch.from_numpy(w), **kw).numpy()
        got = npfast.conv2d(x, w, **kw)
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)
        g = npfast.conv2d_backward(np.ones_like(got), x, w, **kw)
        assert g[0].shape == x.shape
    # The same parser everywhere: nn layers and the private helper npfast.dask uses.
    assert npfast.nn.Conv2d(3, 4, (3,), stride=[2]).stride == (2, 2)
    assert npfast._npfast._pair((5,), "stride") == (5, 5)
    with pytest.raises(ValueError, match="stride"):
        npfast.conv2d(x, w, stride=(1, 1, 1))
    with pytest.raises(TypeError, match="stride"):
        npfast.conv2d(x, w, stride=(1.5,))


# 5. conv2d names what it takes for a bias of the wrong kind.
@pytest.mark.parametrize("bias_dtype", [np.complex64, np.complex128, object])
def test_conv2d_bias_dtype_message(bias_dtype):
    x = np.ones((1, 1, 4, 4), np.float32)
    w = np.ones((2, 1, 2, 2), np.float32)
    with pytest.raises(TypeError, match="bias") as e:
        npfast.conv2d(x, w, bias=np.ones(2, bias_dtype))
    assert "integer" not in str(e.value) and "float32 or float64" in str(e.value)


# 6. ndimage.correlate / convolve on N-D arrays with axes= and any output=.
def test_ndimage_nd_axes_and_output_dtypes_match_scipy():
    rng = np.random.default_rng(6)
    checked = 0
    for _ in range(150):
        ndim = int(rng.integers(0, 5))
        shape = tuple(int(s) for s in rng.integers(1, 7, ndim))
        dtype = rng.choice([np.float64, np.float32, np.int16, np.uint32, np.uint64, np.longlong,
                            bool])
        x = np.abs(rng.standard_normal(shape) * 5).astype(dtype)
        naxes = int(rng.integers(1, ndim + 1)) if ndim else 0
        axes = tuple(int(a) for a in rng.permutation(ndim)[:naxes]) if naxes else None
        wnd = len(axes) if axes is not None else ndim
        w = rng.standard_normal(tuple(int(s) for s in rng.integers(1, 5, wnd)))
        # Origins valid for the axis each one lands on (SciPy: axes[i] when only some axes are
        # filtered, axis i otherwise).
        wshape = dict(zip(sorted(axes) if axes else range(ndim), w.shape))
        targets = axes if axes is not None and len(axes) < ndim else range(wnd)
        origin = [int(rng.integers(-(wshape[a] // 2), (wshape[a] - 1) // 2 + 1)) for a in targets]
        out_dtype = rng.choice([None, np.float64, np.float32, np.int32, np.uint8])
        for mode in MODES:
            for name in ("correlate", "convolve"):
                kw = dict(mode=mode, cval=1.25, origin=origin, axes=axes)
                want = getattr(sn, name)(x, w, output=out_dtype, **kw)
                got = getattr(npfast.ndimage, name)(x, w, output=out_dtype, **kw)
                # Without output: the input's dtype, as SciPy.
                expected_dtype = np.dtype(x.dtype if out_dtype is None else out_dtype)
                assert got.dtype == want.dtype == expected_dtype and got.shape == x.shape
                if expected_dtype.kind in "iub":
                    # SciPy's sums truncated as SciPy does: its bytes, wherever C defines the
                    # cast (not for a negative sum into an unsigned type or bool).
                    sums = getattr(sn, name)(x, w, output=np.float64, **kw)
                    defined = sums > -1 if expected_dtype.kind in "ub" else np.ones(x.shape, bool)
                    np.testing.assert_array_equal(got[defined], want[defined])
                else:
                    tol = 1e-5 if expected_dtype == np.float32 else 1e-12
                    np.testing.assert_allclose(got, want, rtol=tol, atol=tol)
                checked += 1
    assert checked > 1000
    # float32 in, float32 weights: npfast's documented float32 result (2-D kernels) ...
    x = rng.standard_normal((2, 6, 7)).astype(np.float32)
    w = rng.standard_normal((3, 3)).astype(np.float32)
    got = npfast.ndimage.correlate(x, w, axes=(1, 2))
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, sn.correlate(x, w, axes=(1, 2)), rtol=1e-5, atol=1e-5)
    # ... and with float64 weights too (SciPy's float32 result; computed in float32).
    for w64 in (w.astype(np.float64), np.ones((3, 3)) / 9):
        got = npfast.ndimage.correlate(x[0], w64)
        assert got.dtype == np.float32
        np.testing.assert_allclose(got, sn.correlate(x[0], w64), rtol=1e-5, atol=1e-5)
    # ... and output= as an array of another dtype, or the input itself (SciPy allows both).
    out = np.empty(x.shape, np.float64)
    assert npfast.ndimage.convolve(x, w, output=out, axes=(2, 1)) is out
    np.testing.assert_allclose(out, sn.convolve(x, w, output=np.float64, axes=(2, 1)),
                               rtol=1e-12, atol=1e-12)
    y = x.astype(np.float64)
    want = sn.correlate(y, w, axes=(0, 2))
    assert npfast.ndimage.correlate(y, w, output=y, axes=(0, 2)) is y
    np.testing.assert_allclose(y, want, rtol=1e-12, atol=1e-12)


def test_ndimage_nd_float64_is_scipys_algorithm_exactly():
    rng = np.random.default_rng(61)
    x = rng.standard_normal((6, 7, 8))
    w = rng.standard_normal((3, 2, 4))
    w[0, 0, 0] = 1e-17  # SciPy skips |w| <= DBL_EPSILON
    for mode in MODES:
        for name in ("correlate", "convolve"):
            np.testing.assert_array_equal(getattr(npfast.ndimage, name)(x, w, mode=mode, cval=-2),
                                          getattr(sn, name)(x, w, mode=mode, cval=-2))


# 7. matmul with any number of broadcast batch dimensions, 1-D operands included.
def test_matmul_broadcasts_batch_dimensions_as_numpy():
    rng = np.random.default_rng(7)
    cases = [((2, 3, 4, 5), (3, 5, 6)), ((2, 1, 4, 5), (1, 3, 5, 6)), ((5,), (2, 3, 5, 6)),
             ((2, 3, 4, 5), (5,)), ((1, 1, 1, 4, 5), (5, 2)), ((2, 2, 2, 2, 3, 4), (2, 1, 2, 4, 3)),
             ((3, 0, 4, 5), (5, 2)), ((2, 3, 4, 0), (2, 3, 0, 2)), ((4, 5), (2, 2, 5, 1))]
    for dtype, tol in [(np.float64, 1e-12), (np.float32, 1e-5)]:
        for sa, sb in cases:
            a = rng.standard_normal(sa).astype(dtype)
            b = rng.standard_normal(sb).astype(dtype)
            want = np.matmul(a, b)
            got = npfast.matmul(a, b)
            assert got.shape == want.shape and got.dtype == want.dtype
            np.testing.assert_allclose(got, want, rtol=tol, atol=tol)
    # Strided and broadcast (zero-stride) operands, and out=.
    a = rng.standard_normal((3, 4, 6, 5))[:, ::2, ::-1, :]
    b = np.broadcast_to(rng.standard_normal((5, 3)), (3, 2, 5, 3))
    out = np.empty((3, 2, 6, 3))[..., :]
    assert npfast.matmul(a, b, out=out) is out
    np.testing.assert_allclose(out, a @ b, rtol=1e-12, atol=1e-12)
    with pytest.raises(ValueError, match="broadcast"):
        npfast.matmul(np.ones((2, 3, 4, 5)), np.ones((3, 2, 5, 4)))
    with pytest.raises(ValueError, match="inner"):
        npfast.matmul(np.ones((2, 2, 4, 5)), np.ones((2, 2, 4, 5)))


# bool, float16 and byte-swapped outputs against the anchors (issue 22 follow-up).
LINEAR = [("gaussian_filter", (1.3,), {}), ("gaussian_filter", (1.0,), dict(order=1)),
          ("uniform_filter", (3,), {}), ("uniform_filter", (4,), {}),
          ("correlate1d", ([1, -2.5, 1],), {}), ("convolve1d", ([1, 2],), {}),
          ("sobel", (), {}), ("prewitt", (), {}), ("laplace", (), {}),
          ("gaussian_laplace", (1.0,), {}), ("gaussian_gradient_magnitude", (1.0,), {}),
          ("uniform_filter1d", (3,), {}), ("gaussian_filter1d", (1.0,), dict(order=2))]


@pytest.mark.parametrize("name,args,kwargs", LINEAR)
@pytest.mark.parametrize("shape", [(20,), (7, 9), (5, 6, 4)])
def test_linear_filters_take_bool_as_scipy(name, args, kwargs, shape):
    # SciPy computes in double and stores (npy_bool)(double), an unsigned char: the result's
    # bytes (not only its truth values) equal SciPy's, as bool input, bool output and in place.
    rng = np.random.default_rng(5)
    x = rng.random(shape) > 0.5
    for out in [None, bool]:
        kw = dict(kwargs) if out is None else dict(kwargs, output=out)
        want = getattr(sn, name)(x, *args, **kw)
        got = getattr(npfast.ndimage, name)(x, *args, **kw)
        assert got.dtype == want.dtype == np.bool_
        np.testing.assert_array_equal(got.view(np.uint8), want.view(np.uint8))
    xf = rng.random(shape) * 3 - 1
    want = getattr(sn, name)(xf, *args, output=bool, **kwargs)
    got = getattr(npfast.ndimage, name)(xf, *args, output=bool, **kwargs)
    np.testing.assert_array_equal(got.view(np.uint8), want.view(np.uint8))
    theirs, ours = x.copy(), x.copy()
    getattr(sn, name)(theirs, *args, output=theirs, **kwargs)
    getattr(npfast.ndimage, name)(ours, *args, output=ours, **kwargs)
    np.testing.assert_array_equal(ours.view(np.uint8), theirs.view(np.uint8))


@pytest.mark.parametrize("name", ["gaussian_filter", "uniform_filter", "median_filter",
                                  "maximum_filter", "correlate", "sobel"])
def test_ndimage_float16_is_scipys_runtime_error(name):
    args = {"gaussian_filter": (1.0,), "uniform_filter": (3,), "median_filter": (3,),
            "maximum_filter": (3,), "correlate": (np.ones((2, 2)),), "sobel": ()}[name]
    half = np.ones((4, 5), np.float16)
    for call in [lambda m: getattr(m, name)(half, *args),
                 lambda m: getattr(m, name)(np.ones((4, 5)), *args, output=np.float16)]:
        with pytest.raises(RuntimeError):
            call(sn)
        with pytest.raises(npfast.AnchorTypeError, match="float16"):
            call(npfast.ndimage)


@pytest.mark.parametrize("name", ["gaussian_filter", "uniform_filter1d", "median_filter",
                                  "minimum_filter", "correlate", "laplace"])
@pytest.mark.parametrize("output", [">f4", ">f8", ">i4", np.dtype(">f8")])
def test_ndimage_byte_swapped_output_dtype(name, output):
    args = {"gaussian_filter": (1.0,), "uniform_filter1d": (3,), "median_filter": (3,),
            "minimum_filter": (3,), "correlate": (np.ones((2, 2)),), "laplace": ()}[name]
    x = np.random.default_rng(6).random((6, 7)) * 10
    want = getattr(sn, name)(x, *args, output=output)
    got = getattr(npfast.ndimage, name)(x, *args, output=output)
    assert got.dtype == want.dtype and not got.dtype.isnative
    # float32 results are computed in float32 (docs/ndimage.md): within one rounding.
    np.testing.assert_allclose(got, want, rtol=1e-6 if got.dtype.itemsize == 4 else 1e-15,
                               atol=1e-6)


@pytest.mark.parametrize("fn,anchor", [(npfast.correlate2d, ss.correlate2d),
                                       (npfast.convolve2d, ss.convolve2d)])
def test_signal_bool_and_float16_as_scipy(fn, anchor):
    rng = np.random.default_rng(7)
    b, h = rng.random((5, 6)) > 0.5, rng.random((5, 6)).astype(np.float16)
    # Both operands bool or float16: SciPy's ValueError, naming the argument.
    for x, k in [(b, b[:2, :2]), (h, h[:2, :2]), (b, h[:2, :2])]:
        with pytest.raises(ValueError):
            anchor(x, k)
        with pytest.raises(ValueError, match="in1|in2") as e:
            fn(x, k)
        assert not isinstance(e.value, TypeError)
    # Beside a wider dtype, accepted and exact (npfast's float64 / float32 result rule).
    for x, k in [(b, np.arange(4.0).reshape(2, 2)), (np.arange(30).reshape(5, 6), b[:2, :3]),
                 (h, np.ones((2, 2), np.float32)), (rng.random((4, 4)), h[:2, :2])]:
        want = anchor(x.astype(np.float64), k.astype(np.float64), "same", "symm")
        np.testing.assert_allclose(fn(x, k, "same", "symm"), want, rtol=1e-6)


@pytest.mark.parametrize("name", ["correlate", "convolve"])
def test_ndimage_correlate_bool_output_bytes_as_scipy(name):
    rng = np.random.default_rng(8)
    x, k = rng.random((6, 7)) * 4 - 2, rng.random((3, 2)) * 3 - 1.5
    for inp in [x, x > 0, (x * 10).astype(np.int16)]:
        want = getattr(sn, name)(inp, k, output=bool)
        got = getattr(npfast.ndimage, name)(inp, k, output=bool)
        assert got.dtype == np.bool_
        np.testing.assert_array_equal(got.view(np.uint8), want.view(np.uint8))


@pytest.mark.parametrize("name,args", [("median_filter", (3,)), ("maximum_filter", (3,)),
                                       ("minimum_filter1d", (3,)), ("percentile_filter", (30, 3)),
                                       ("rank_filter", (2, 3))])
def test_rank_filters_bool_output_bytes_as_scipy(name, args):
    rng = np.random.default_rng(9)
    for x in [rng.random((6, 7)) * 4 - 2, rng.random((6, 7)) > 0.5]:
        for out in [None, bool]:
            want = getattr(sn, name)(x, *args, output=out)
            got = getattr(npfast.ndimage, name)(x, *args, output=out)
            assert got.dtype == want.dtype
            np.testing.assert_array_equal(got.view(np.uint8), want.view(np.uint8))


def test_signal_fillvalue_none_is_nan_as_scipy():
    x, k = np.arange(12.0).reshape(3, 4), np.ones((2, 2))
    for fn, anchor in [(npfast.correlate2d, ss.correlate2d), (npfast.convolve2d, ss.convolve2d)]:
        np.testing.assert_array_equal(fn(x, k, fillvalue=None), anchor(x, k, fillvalue=None))
        np.testing.assert_array_equal(fn(x, k, "same", fillvalue=None),
                                      anchor(x, k, "same", fillvalue=None))
