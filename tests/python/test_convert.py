"""npfast.convert against NumPy, for every dtype pair and every ISA path."""

import numpy as np
import pytest

import npfast

SOURCES = [np.uint8, np.int8, np.uint16, np.int16, np.int32, np.int64, np.float32, np.float64]


def sample(dtype, shape, rng):
    if np.issubdtype(dtype, np.integer):
        info = np.iinfo(dtype)
        return rng.integers(info.min, info.max, size=shape, endpoint=True, dtype=dtype)
    return (rng.standard_normal(shape) * 100).astype(dtype)


def expected(a, dtype, scale, offset):
    # Extended precision stands in for the exact value, so the fused (more accurate) result
    # is what is being checked, not NumPy's two roundings.
    wide = (a.astype(np.longdouble) * np.longdouble(scale) + np.longdouble(offset)).astype(np.float64)
    if dtype == np.uint8:
        return np.clip(np.nan_to_num(np.rint(wide), nan=0.0), 0, 255).astype(np.uint8)
    return wide.astype(dtype)


@pytest.mark.parametrize("src", SOURCES)
@pytest.mark.parametrize("dst", [np.float32, np.float64])
def test_float_results_within_one_ulp(isa, src, dst):
    rng = np.random.default_rng(0)
    for shape in [(0,), (1,), (7,), (33,), (5, 17), (3, 4, 65)]:
        a = sample(src, shape, rng)
        got = npfast.convert(a, dst, scale=1 / 255, offset=0.25)
        want = expected(a, dst, 1 / 255, 0.25)
        assert got.dtype == dst and got.shape == a.shape
        np.testing.assert_array_max_ulp(got, want, maxulp=1)


@pytest.mark.parametrize("src", [np.float32, np.float64])
def test_to_uint8_rounds_and_saturates(isa, src):
    a = np.array([-5, -0.5, 0.4, 0.5, 1.5, 2.5, 127.5, 254.5, 255.4, 300, np.inf, -np.inf, np.nan],
                 dtype=src)
    got = npfast.convert(a, np.uint8)
    assert got.tolist() == [0, 0, 0, 0, 2, 2, 128, 254, 255, 255, 255, 0, 0]


def test_views_and_orders(isa):
    rng = np.random.default_rng(1)
    base = sample(np.uint8, (40, 50), rng)
    for view in [base.T, base[::-1], base[::3, ::-2], np.asfortranarray(base), base[5:6, 7:8],
                 base.reshape(10, 4, 50)[:, 1, :]]:
        got = npfast.convert(view, np.float32, 2.0, -1.0)
        np.testing.assert_array_max_ulp(got, expected(view, np.float32, 2.0, -1.0), maxulp=1)


def test_zero_dim_and_lists():
    assert npfast.convert(np.uint8(7), np.float64).item() == 7.0
    assert npfast.convert([[1, 2], [3, 4]], np.float32, 0.5).tolist() == [[0.5, 1.0], [1.5, 2.0]]


def test_out_argument(isa):
    a = np.arange(100, dtype=np.uint8).reshape(10, 10)
    out = np.empty((10, 10), np.float64)
    res = npfast.convert(a, np.float64, 2.0, out=out)
    assert res is out
    np.testing.assert_array_equal(out, a * 2.0)
    strided = np.zeros((10, 20), np.float64)[:, ::2]
    npfast.convert(a, np.float64, out=strided)
    np.testing.assert_array_equal(strided, a)


def test_in_place_same_itemsize():
    a = np.linspace(0, 1, 37, dtype=np.float32)
    want = a * 3 + 1
    npfast.convert(a, np.float32, 3.0, 1.0, out=a)
    np.testing.assert_array_max_ulp(a, want, maxulp=1)


def test_large_threaded_matches_single(threads):
    a = np.random.default_rng(2).integers(0, 256, size=(3000, 1401), dtype=np.uint8)  # 16.8 MB out: threaded
    npfast.set_num_threads(1)
    one = npfast.convert(a, np.float32, 1 / 255)
    npfast.set_num_threads(2)
    two = npfast.convert(a, np.float32, 1 / 255)
    assert np.array_equal(one, two)


@pytest.mark.parametrize("bad", [np.complex64, np.bool_, "U3", object])
def test_bad_source_dtype(bad):
    a = np.zeros(3, dtype=bad)
    with pytest.raises(TypeError, match="a: unsupported dtype"):
        npfast.convert(a, np.float32)


@pytest.mark.parametrize("bad", [np.int32, np.complex128, "not-a-dtype"])
def test_bad_target_dtype(bad):
    with pytest.raises(TypeError, match="dtype"):
        npfast.convert(np.zeros(3, np.uint8), bad)


def test_bad_out_leaves_it_untouched():
    a = np.arange(6, dtype=np.uint8)
    out = np.full(5, -1.0)
    with pytest.raises(ValueError, match=r"out: shape must be \(6,\), got \(5,\)"):
        npfast.convert(a, np.float64, out=out)
    assert (out == -1).all()
    out32 = np.full(6, -1.0, np.float32)
    with pytest.raises(TypeError, match="out: dtype must be float64, got float32"):
        npfast.convert(a, np.float64, out=out32)
    assert (out32 == -1).all()
    ro = np.full(6, -1.0)
    ro.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        npfast.convert(a, np.float64, out=ro)
    with pytest.raises(TypeError, match="out: expected a numpy.ndarray"):
        npfast.convert(a, np.float64, out=[0.0] * 6)


def test_ragged_input_is_numpys_value_error():
    # probe23b: NumPy's ValueError for an inhomogeneous list came back as a TypeError.
    with pytest.raises(ValueError, match="a: cannot convert"):
        npfast.convert([[1, 2], [3]], np.float32)
    with pytest.raises(TypeError, match="a: unsupported dtype object"):
        npfast.convert(object(), np.float32)


def test_partial_overlap_refused():
    buf = np.zeros(16, np.float64)
    out = buf[4:12]
    with pytest.raises(ValueError, match="out: must not share memory"):
        npfast.convert(buf.view(np.float32)[:8], np.float64, out=buf[2:10])  # bytes 0-32 vs 16-80
    assert (buf == 0).all()
    del out


def test_string_and_object_inputs_are_type_errors():
    with pytest.raises(TypeError):
        npfast.convert("abc", np.float32)
    with pytest.raises(TypeError):
        npfast.convert(None, np.float32)
    with pytest.raises(TypeError):
        npfast.convert([object()], np.float32)
    # scale / offset: real numbers only, named in the message; out= stays untouched.
    a, out = np.arange(4, dtype=np.uint8), np.full(4, 7.0, np.float32)
    for kw, bad in [("scale", "x"), ("offset", 1j), ("scale", True), ("offset", None),
                    ("scale", np.True_)]:
        with pytest.raises(TypeError, match=kw + ": expected a real number"):
            npfast.convert(a, np.float32, out=out, **{kw: bad})
    assert (out == 7).all()
    # An int past float64's range is a value error naming the argument (probe19b: it read "expected
    # a real number").
    with pytest.raises(ValueError, match="scale: out of the float64 range"):
        npfast.convert(a, np.float32, 10**400, out=out)
    assert (out == 7).all()
    np.testing.assert_array_equal(npfast.convert(a, np.float64, np.float32(0.5), np.int64(1)),
                                  a * 0.5 + 1)


@pytest.mark.parametrize("src", [np.uint8, np.int16, np.float32])
@pytest.mark.parametrize("dst", [np.float32, np.float64])
def test_streaming_path_matches_cached_path(isa, src, dst):
    # Outputs of 16 MiB and more take the non-temporal-store kernels; halves of the same array
    # stay below that and take the plain ones: the bits must agree. (Every dtype pair of the
    # streaming kernels is checked against the reference in src/kernels/elementwise/test.cc.)
    n = (16 << 20) // np.dtype(dst).itemsize + 4099
    a = sample(src, (n,), np.random.default_rng(5))[1:]  # odd offset: unaligned head
    big = npfast.convert(a, dst, 0.37, 1.5)
    half = len(a) // 2 + 1 if dst != np.uint8 else len(a) // 3
    parts = [npfast.convert(a[i:i + half], dst, 0.37, 1.5) for i in range(0, len(a), half)]
    assert np.array_equal(big, np.concatenate(parts), equal_nan=dst != np.uint8)
