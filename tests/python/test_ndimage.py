"""npfast.ndimage.correlate / convolve against scipy.ndimage on every ISA path."""

import numpy as np
import pytest
import scipy.ndimage as nd

from npfast import ndimage
from tolerances import filter_scale, tol

MODES = ["reflect", "constant", "nearest", "mirror", "wrap"]


def close(got, want, x, k):
    """float32 results carry float32 rounding; the bound scales with sum |k| * max |x|."""
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, **tol("correlate2d", got.dtype, filter_scale(x, k)))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_random_shapes_modes_origins(isa, dtype):
    rng = np.random.default_rng(0)
    for trial in range(16):
        kh, kw = rng.integers(1, 8, 2)
        H, W = rng.integers(1, 5, 2) if trial % 4 == 3 else rng.integers(1, 40, 2)
        x = rng.standard_normal((H, W)).astype(dtype)
        k = rng.standard_normal((kh, kw)).astype(dtype)
        origin = (int(rng.integers(-(kh // 2), (kh - 1) // 2 + 1)),
                  int(rng.integers(-(kw // 2), (kw - 1) // 2 + 1)))
        for mode in MODES:
            for ours, theirs in [(ndimage.correlate, nd.correlate), (ndimage.convolve, nd.convolve)]:
                want = theirs(x.astype(float), k.astype(float), mode=mode, cval=-0.5, origin=origin)
                got = ours(x, k, mode=mode, cval=-0.5, origin=origin)
                assert got.dtype == dtype
                close(got, want, x, k)


def test_scalar_origin_and_grid_synonyms():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((20, 23))
    k = rng.standard_normal((5, 4))
    for o in [-2, 0, 1]:
        close(ndimage.correlate(x, k, origin=o), nd.correlate(x, k, origin=o), x, k)
    for ours, theirs in [("grid-mirror", "reflect"), ("grid-constant", "constant"), ("grid-wrap", "wrap")]:
        close(ndimage.convolve(x, k, mode=ours, cval=2.0), nd.convolve(x, k, mode=theirs, cval=2.0), x, k)


def test_views_dtypes_and_output():
    rng = np.random.default_rng(2)
    base = rng.standard_normal((30, 40)).astype(np.float32)
    k = rng.standard_normal((3, 3)).astype(np.float32)
    for v in [base.T, base[::-1, ::2], np.asfortranarray(base)]:
        close(ndimage.correlate(v, k, mode="mirror"), nd.correlate(v.astype(float), k.astype(float),
                                                                    mode="mirror"), v, k)
    xi = rng.integers(0, 255, (10, 12)).astype(np.uint8)
    got = ndimage.correlate(xi, np.ones((3, 3)) / 9)
    assert got.dtype == np.uint8  # the input's dtype, SciPy's sums truncated: SciPy's bytes
    np.testing.assert_array_equal(got, nd.correlate(xi, np.ones((3, 3)) / 9))
    out = np.empty((30, 40), np.float32)
    assert ndimage.correlate(base, k, out) is out
    close(out, nd.correlate(base.astype(float), k.astype(float)), base, k)


@pytest.mark.parametrize("dtype", [np.uint8, np.int16, np.int32, bool])
def test_integer_outputs_are_scipys_bytes(dtype):
    # An integer (or bool) output truncates the sums, so a last-bit difference becomes a unit
    # one: a box filter's 1/9 weights on a uint8 image differ from fused multiply-adds in about
    # 2.5% of the pixels. The 2-D path makes SciPy's own sums there (f64_corr2d_scipy), as the
    # N-D path does; weights with a tiny tap (SciPy skips |w| <= DBL_EPSILON) included.
    rng = np.random.default_rng(5)
    x = rng.integers(0, 2 if dtype is bool else 256, (150, 170)).astype(dtype)
    tiny = np.full((3, 3), 1 / 9)
    tiny[0, 1] = 1e-17
    for w in [np.ones((3, 3)) / 9, np.ones((5, 5)) / 25, np.ones((1, 7)) / 7, tiny]:
        for mode in ["reflect", "constant", "nearest", "mirror", "wrap"]:
            for name in ["correlate", "convolve"]:
                for x_ in (x, x[::-1, 1:]):
                    want = getattr(nd, name)(x_, w, mode=mode, cval=2.0)
                    got = getattr(ndimage, name)(x_, w, mode=mode, cval=2.0)
                    assert got.dtype == want.dtype == x.dtype
                    np.testing.assert_array_equal(got, want, err_msg=f"{name} {w.shape} {mode}")


@pytest.mark.parametrize("out", [np.int32, np.uint8, np.int16, bool])
def test_float32_pairs_into_integer_outputs_are_scipys_bytes(out):
    # A float32 image with float32 weights into an integer output: SciPy's double sums of the
    # weights as doubles, truncated, at every rank (the float32 kernels would round first:
    # 100 * 25 * float32(1/25) sums to 99.99... in double, 100 in float32).
    for shape, ws in [((20, 30), (5, 5)), ((2, 10, 12), (1, 5, 5)), ((40,), (5,))]:
        x = np.full(shape, 100, np.float32)
        x.flat[::7] = 3
        wk = np.full(ws, np.float32(1 / 25))
        for name in ["correlate", "convolve"]:
            want = getattr(nd, name)(x, wk, output=out)
            got = getattr(ndimage, name)(x, wk, output=out)
            assert got.dtype == want.dtype
            np.testing.assert_array_equal(got, want, err_msg=f"{name} {shape}")


def test_byte_order_does_not_change_the_result():
    rng = np.random.default_rng(6)
    x = rng.standard_normal((30, 40)).astype(np.float32)
    for w in (rng.standard_normal((3, 3)), rng.standard_normal((3, 3)).astype(np.float32)):
        want = ndimage.correlate(x, w)
        for xs, ws in ((x.astype(">f4"), w), (x, w.astype(w.dtype.newbyteorder()))):
            np.testing.assert_array_equal(ndimage.correlate(xs, ws), want)
        out = np.empty(x.shape, ">f4")
        ndimage.correlate(x, w, output=out)
        np.testing.assert_array_equal(out, want)


def test_float32_images_of_other_ranks_are_scipys_bits():
    # A float32 image with float64 weights in ranks other than 2 runs SciPy's own loop
    # (float32 pairs and float64 ones of 3+ dimensions take the row kernels: below): SciPy's
    # bits.
    rng = np.random.default_rng(7)
    for shape, ws in [((6, 7, 8), (3, 3, 3)), ((500,), (7,))]:
        x = rng.standard_normal(shape).astype(np.float32)
        w = rng.standard_normal(ws) / 7
        np.testing.assert_array_equal(ndimage.correlate(x, w), nd.correlate(x, w))


def test_bad_input():
    x = np.ones((6, 6))
    with pytest.raises(ValueError, match="origin"):
        ndimage.correlate(x, np.ones((3, 3)), origin=2)
    with pytest.raises(ValueError, match="origin"):
        ndimage.convolve(x, np.ones((4, 4)), origin=(0, -3))
    # SciPy's classes (issue 22): RuntimeError for these arguments, as scipy.ndimage raises.
    with pytest.raises(RuntimeError, match="origin"):
        ndimage.correlate(x, np.ones((3, 3)), origin=(0, 0, 0))
    with pytest.raises(RuntimeError, match="mode"):
        ndimage.correlate(x, np.ones((3, 3)), mode="symm")
    with pytest.raises(RuntimeError, match="weights"):
        ndimage.correlate(np.ones((2, 3, 4)), np.ones((3, 3)))
    with pytest.raises(RuntimeError, match="weights"):
        ndimage.correlate(x, np.ones(3))
    with pytest.raises(RuntimeError, match="weights"):
        ndimage.correlate(x, np.ones((3, 0)))
    with pytest.raises(RuntimeError, match="input"):
        ndimage.correlate(np.array([["x"]]), np.ones((1, 1)))
    with pytest.raises(RuntimeError, match="output"):
        ndimage.correlate(x, np.ones((3, 3)), np.empty((5, 6)))


def test_reflect_far_past_a_small_image_follows_correlate1d():
    # SciPy 1.17's N-d correlate reads out of bounds for mode='reflect' when an index falls an
    # exact multiple (>= 2) of the period 2n before the start (e.g. n = 2, index -8). npfast
    # keeps the periodic extension, which is what scipy.ndimage.correlate1d computes.
    x = np.array([[1.0, 2.0]])
    for origin in [0, 9]:
        for j in range(19):
            w = np.zeros((1, 19))
            w[0, j] = 1.0
            want = nd.correlate1d(x, w[0], axis=1, mode="reflect", origin=origin)
            got = ndimage.correlate(x, w, mode="reflect", origin=(0, origin))
            np.testing.assert_array_equal(got, want)


def test_origin_and_cval_spellings():
    """probe21d: an origin given as a NumPy array (or a 0-d one) and a cval given as a 0-d
    array or a Decimal, as the other filters take them."""
    from decimal import Decimal

    a = np.arange(30.0).reshape(5, 6)
    w = np.ones((3, 2))
    np.testing.assert_array_equal(ndimage.correlate(a, w, origin=np.array([1, 0])),
                                  nd.correlate(a, w, origin=[1, 0]))
    np.testing.assert_array_equal(ndimage.correlate(a, w, origin=np.array(-1)),
                                  nd.correlate(a, w, origin=-1))
    for cval in (np.array(2.0), Decimal("1.5")):
        np.testing.assert_array_equal(ndimage.correlate(a, w, mode="constant", cval=cval),
                                      nd.correlate(a, w, mode="constant", cval=float(cval)))
    with pytest.raises(TypeError, match="cval"):
        ndimage.correlate(a, w, mode="constant", cval="1")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_volumes_take_the_row_kernels(isa, threads, dtype):
    # Inputs of 3 or more dimensions whose weights share their dtype run corr2d's row kernels,
    # one call an output row over the rows its window reads (src/ops/correlate_nd.cc): within
    # the linear filters' tolerance of SciPy for every mode, origin, convolve and view; the
    # same bits on 1 and 3 threads; and a (1, kh, kw) window over a stack gives the 2-D path's
    # bits plane by plane (the kernels' arithmetic: SciPy's double loop, which ran these
    # before, rounds differently).
    import npfast
    rng = np.random.default_rng(26)
    for trial in range(10):
        nd_ = 3 if trial < 8 else 4
        shape = tuple(int(n) for n in rng.integers(1, 9, nd_))
        ks = tuple(int(n) for n in rng.integers(1, 5, nd_))
        x = rng.standard_normal(shape).astype(dtype)
        k = rng.standard_normal(ks).astype(dtype)
        origin = tuple(int(rng.integers(-(n // 2), (n - 1) // 2 + 1)) for n in ks)
        for mode in MODES + ["grid-wrap"]:
            for ours, theirs in [(ndimage.correlate, nd.correlate), (ndimage.convolve, nd.convolve)]:
                want = theirs(x.astype(float), k.astype(float), mode=mode, cval=0.75, origin=origin)
                npfast.set_num_threads(1)
                got = ours(x, k, mode=mode, cval=0.75, origin=origin)
                assert got.dtype == dtype
                close(got, want, x, k)
                npfast.set_num_threads(3)
                np.testing.assert_array_equal(ours(x, k, mode=mode, cval=0.75, origin=origin), got)
    # Views in and out.
    x = rng.standard_normal((5, 9, 31)).astype(dtype)[:, ::2, ::3]
    k = rng.standard_normal((3, 2, 3)).astype(dtype)
    out = np.empty((5, 5, 22), dtype)[:, :, ::2]
    ndimage.correlate(x, k, output=out)
    close(out, nd.correlate(x.astype(float), k.astype(float)), x, k)
    # A stack with a (1, kh, kw) window: the 2-D kernels' bits.
    stack = rng.standard_normal((4, 37, 45)).astype(dtype)
    w = rng.standard_normal((3, 5)).astype(dtype)
    got = ndimage.correlate(stack, w[None], mode="mirror")
    for p in range(4):
        np.testing.assert_array_equal(got[p], ndimage.correlate(stack[p], w, mode="mirror"))


def test_volumes_with_zero_taps_read_infs_as_scipy():
    # Zero taps (a 3-D Laplacian's corners) multiply every value in the kernels: an inf read
    # there would make a NaN SciPy's loop, which skips the tap, does not. The operator reports a
    # non-finite value read, and the call is made again from SciPy's sums.
    k = np.zeros((3, 3, 3), np.float32)
    k[1, 1, :] = k[1, :, 1] = k[:, 1, 1] = 1
    k[1, 1, 1] = -6
    x = np.random.default_rng(27).standard_normal((6, 7, 8)).astype(np.float32)
    x[2, 3, 4] = np.inf
    np.testing.assert_array_equal(ndimage.correlate(x, k), nd.correlate(x, k))
    np.testing.assert_array_equal(ndimage.correlate(x[:, :, :3], k, mode="constant", cval=np.inf),
                                  nd.correlate(x[:, :, :3], k, mode="constant", cval=np.inf))
