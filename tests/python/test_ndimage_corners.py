"""npfast.ndimage against scipy.ndimage where SciPy's C code decides the answer: taps it skips,
its C casts of special values into wide unsigned outputs, the fill value of its window filters,
and `output=` left untouched by a call that fails."""

import warnings

import numpy as np
import pytest
import scipy.ndimage as sn

from npfast import ndimage as ni

# Taps SciPy's NI_Correlate skips (|w| <= DBL_EPSILON, NaN) beside ordinary ones.
SKIPPED_TAP_WEIGHTS = [
    np.array([[0, 1, 0], [1, -4, 1], [0, 1, 0]]),  # integer zeros
    np.array([[0.0, 1, 0], [1, -4, 1], [0, 1, 0]]),
    np.full((3, 3), 1e-17),
    np.array([[1.0, np.nan], [2e-16, -1]]),
    np.array([[-0.0, 0.0, 2.5]]),
    np.zeros((2, 3)),
]


def _special_image(shape, dtype, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape) * 1e3
    flat = x.reshape(-1)
    idx = rng.choice(flat.size, 4, replace=False)
    flat[idx] = [np.inf, -np.inf, np.nan, 1e300]
    return x.astype(dtype)


@pytest.mark.parametrize("wdtype", [None, np.float32])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_2d_correlate_skips_the_taps_scipy_skips(isa, dtype, wdtype):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # 1e300 to float32, inf - inf
        for i, w in enumerate(SKIPPED_TAP_WEIGHTS):
            w = w if wdtype is None else w.astype(wdtype)
            for shape in [(5, 5), (17, 40)]:
                x = _special_image(shape, dtype, i)
                for mode in ["reflect", "constant", "wrap"]:
                    for ours, theirs in [(ni.correlate, sn.correlate), (ni.convolve, sn.convolve)]:
                        for output in [None, np.float32, np.float64]:
                            want = theirs(x, w, output=output, mode=mode, cval=np.inf)
                            got = ours(x, w, output=output, mode=mode, cval=np.inf)
                            # SciPy's sums, rounded once: its bits, NaNs where its NaNs are.
                            np.testing.assert_array_equal(got, want)


def test_2d_correlate_tiny_and_zero_taps_probe_cases(isa):
    x = np.ones((5, 5))
    x[2, 2] = np.inf
    lap = np.array([[0, 1, 0], [1, -4, 1], [0, 1, 0.0]])
    for dtype in [np.float32, np.float64]:
        xd = x.astype(dtype)
        got = ni.correlate(xd, lap.astype(dtype))
        assert np.isnan(got).sum() == np.isnan(sn.correlate(xd, lap.astype(dtype))).sum() == 0
        out = np.empty_like(xd)
        assert ni.correlate(xd, lap.astype(dtype), output=out) is out
        np.testing.assert_array_equal(out, sn.correlate(xd, lap.astype(dtype)))
    y = np.arange(1.0, 26).reshape(5, 5) * 1e3
    assert ni.correlate(y, np.full((3, 3), 1e-17))[2, 2] == 0.0


VALUES = np.array([np.nan, np.inf, -np.inf, -5.5, -1.0, -0.7, 0.7, -2.0**31 - 1, 2.0**31 + 3,
                   2.0**32 + 7, 2.0**63, 2.0**63 + 2**12, 1.5 * 2**63, 2.0**64 - 2**11, 2.0**64,
                   -2.0**63, -2.0**63 - 2**12, -1.5 * 2**63, -2.0**64 + 2**11, -2.0**64, 1e20,
                   -1e20, 1e30, -1e30])
X1 = VALUES.reshape(1, -1)
X2 = np.stack([VALUES, VALUES])
X3 = np.stack([VALUES] * 3)
COLUMN2 = np.ones((2, 1), bool)
COLUMN3 = np.ones((3, 1), bool)
DIAGONAL = np.array([[1, 0], [0, 1]], bool)

# One call per SciPy code path that casts double results into the output: NI_Correlate,
# the line buffers (1-D passes), NI_MinOrMaxFilter, NI_RankFilter.
CAST_CALLS = {
    "correlate": lambda m, o: m.correlate(X1, np.ones((1, 1)), output=o),
    "correlate_3d": lambda m, o: m.correlate(X1[None], np.ones((1, 1, 1)), output=o),
    "correlate1d": lambda m, o: m.correlate1d(X1, [1.0], output=o),
    "convolve1d": lambda m, o: m.convolve1d(X1, [1.0, 0.0], output=o),
    "gaussian_filter": lambda m, o: m.gaussian_filter(X1, 1e-4, output=o),
    "sobel": lambda m, o: m.sobel(X3, output=o),
    "minimum_filter1d": lambda m, o: m.minimum_filter1d(X2, 2, axis=0, output=o),
    "maximum_filter_separable": lambda m, o: m.maximum_filter(X2, footprint=COLUMN2, output=o),
    "maximum_filter_footprint": lambda m, o: m.maximum_filter(X3, footprint=DIAGONAL, output=o,
                                                              mode="nearest"),
    "rank_filter": lambda m, o: m.rank_filter(X3, 1, footprint=COLUMN3, output=o),
    "median_filter": lambda m, o: m.median_filter(X3, footprint=COLUMN3, output=o),
}


@pytest.mark.parametrize("out", [np.uint8, np.int8, np.uint16, np.int16, np.uint32, np.int32,
                                 np.uint64, np.int64, bool])
@pytest.mark.parametrize("call", sorted(CAST_CALLS))
def test_special_values_cast_into_integer_outputs_as_scipy(isa, call, out):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        want = CAST_CALLS[call](sn, out)
        got = CAST_CALLS[call](ni, out)
    assert got.dtype == want.dtype
    np.testing.assert_array_equal(got, want)
    if np.dtype(out).itemsize > 1:  # an output array in the other byte order: the same values
        swapped = np.empty(want.shape, np.dtype(out).newbyteorder())
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            got = CAST_CALLS[call](ni, swapped)
        assert got is swapped
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("dtype", [np.uint32, np.uint64, np.uint16, np.int8])
def test_window_filters_cast_cval_to_the_input_dtype(isa, dtype):
    x = np.full((4, 4), 10, dtype)
    calls = [("maximum_filter", (), {"footprint": DIAGONAL}),
             ("minimum_filter", (), {"footprint": np.array([[1, 1], [0, 1]], bool)}),
             ("median_filter", (), {"size": 3}),
             ("rank_filter", (-2,), {"size": 3})]
    for cval in [-1.0, -5.5, np.nan, 2.0**33, 300.0, -1e19, 1e30]:
        for name, args, kw in calls:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                want = getattr(sn, name)(x, *args, mode="constant", cval=cval, **kw)
                got = getattr(ni, name)(x, *args, mode="constant", cval=cval, **kw)
            np.testing.assert_array_equal(got, want, err_msg=f"{name} cval={cval}")


def test_probe_uint32_maximum_filter_border():
    got = ni.maximum_filter(np.full((4, 4), 10, np.uint32), footprint=[[1, 0], [0, 1]],
                            mode="constant", cval=-1.0)
    assert got[0, 0] == 4294967295 and got[3, 3] == 10


# Each call fails on an argument of a later axis (or pass) than the first one it filters.
FAILING_CALLS = [
    ("laplace", (), {"mode": ["reflect", "xx"]}),
    ("gaussian_laplace", (1.0,), {"mode": ["reflect", "xx"]}),
    ("gaussian_gradient_magnitude", (1.0,), {"mode": ["reflect", "zz"]}),
    ("sobel", (), {"mode": ["reflect", "xx"]}),
    ("prewitt", (0,), {"mode": ["constant", "q"]}),
    ("uniform_filter", (3,), {"mode": ["reflect", "bogus"]}),
    ("uniform_filter", (3,), {"origin": [0, 5]}),
    ("gaussian_filter", (1.0,), {"mode": ["reflect", "nope"]}),
    ("gaussian_filter", (1.0,), {"order": [0, -1]}),
    ("gaussian_filter", (1.0,), {"radius": [2, -1]}),
    ("minimum_filter", (), {"size": 3, "mode": ["wrap", "bad"]}),
    ("maximum_filter", (), {"size": 3, "origin": [0, 9]}),
]


@pytest.mark.parametrize("ndim", [2, 3])
@pytest.mark.parametrize("case", range(len(FAILING_CALLS)))
def test_a_failing_call_leaves_output_untouched(ndim, case):
    name, args, kw = FAILING_CALLS[case]
    kw = dict(kw)
    for key in ("mode", "origin", "order", "radius"):  # the bad value on the last axis
        if key in kw and ndim == 3:
            kw[key] = [kw[key][0]] + list(kw[key])
    x = np.random.default_rng(0).standard_normal((6, 7, 5)[:ndim])
    out = np.full(x.shape, -99.0)
    with pytest.raises((ValueError, RuntimeError)):
        getattr(ni, name)(x, *args, output=out, **kw)
    assert (out == -99.0).all(), f"{name} wrote output before raising"


def test_rank_error_names_the_rank_given():
    with pytest.raises(ValueError, match="got -10"):
        ni.rank_filter(np.ones((5, 5)), -10, size=3)
    with pytest.raises(ValueError, match="got 9"):
        ni.rank_filter(np.ones((5, 5)), 9, size=3)


def test_zero_sigma_is_a_value_error_and_scipys_zero_division():
    x = np.ones(5)
    for sigma in [0.0, 0, 1e-170]:
        with pytest.raises(ZeroDivisionError):
            sn.gaussian_filter1d(x, sigma)
        with pytest.raises(ValueError, match="sigma"):
            ni.gaussian_filter1d(x, sigma)
        with pytest.raises(ZeroDivisionError):
            ni.gaussian_filter1d(x, sigma, order=1)
    # A NumPy scalar sigma of 0 divides without raising in SciPy: NaN weights, as npfast's.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        np.testing.assert_array_equal(ni.gaussian_filter1d(x, np.float64(0.0)),
                                      sn.gaussian_filter1d(x, np.float64(0.0)))


def test_zero_taps_of_a_float32_pair_into_the_input_itself(isa):
    # The float32 kernels' result holds a NaN, so it is made again from SciPy's sums: from the
    # input as it was, though the output is the input.
    sobel = np.array([[1, 2, 1], [0, 0, 0], [-1, -2, -1]], np.float32)
    x = np.random.default_rng(3).standard_normal((9, 11)).astype(np.float32)
    x[4, 5] = np.inf
    want = sn.correlate(x, sobel)
    got = ni.correlate(x, sobel, output=x)
    assert got is x
    np.testing.assert_array_equal(x, want)


def test_in_place_with_a_length1_axis_of_any_stride():
    # review24: out='s length-1 axes get the C-order stride in the checks; the input's keep
    # theirs, and the in-place test compared them, so output=x was refused as an overlap.
    base = np.random.default_rng(5).standard_normal((6, 10)).astype(np.float32)
    for x in (base[::2][:1], base[:, ::2][:, :1]):
        want = sn.gaussian_filter(x, 1.0)
        assert ni.gaussian_filter(x, 1.0, output=x) is x
        np.testing.assert_allclose(x, want, rtol=1e-5, atol=1e-6)


def test_early_checks_keep_scipys_accepted_arguments():
    # The checks made before the first pass accept what the passes accept: SciPy's int(size).
    x = np.random.default_rng(4).standard_normal((6, 7, 5))
    np.testing.assert_array_equal(ni.uniform_filter(x, 3.0), sn.uniform_filter(x, 3.0))
    np.testing.assert_array_equal(ni.uniform_filter(x, [3.0, 1, 2], mode=["wrap", "reflect",
                                                                          "grid-wrap"]),
                                  sn.uniform_filter(x, [3.0, 1, 2], mode=["wrap", "reflect",
                                                                          "grid-wrap"]))
    np.testing.assert_array_equal(ni.laplace(x, mode=["wrap", "nearest", "mirror"]),
                                  sn.laplace(x, mode=["wrap", "nearest", "mirror"]))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_zero_taps_keep_the_fast_kernels_on_finite_values(isa, dtype, threads):
    """Exact-zero taps: a finite image (and cval) keeps the fused kernels' result; an inf in the
    image, or an infinite cval that 'constant' reads, gives SciPy's sums bit for bit. The
    operator's scan flags it wherever it sits (first / last row, border columns, any band)."""
    from npfast import _npfast
    rng = np.random.default_rng(3)
    lap = np.array([[0, 1, 0], [1, -4, 1], [0, 1, 0]], dtype)
    for shape in [(7, 9), (300, 257)]:
        x = rng.standard_normal(shape).astype(dtype)
        fused = _npfast._ndimage_correlate(x, lap, "reflect", 0.0, (0, 0), False, None)
        np.testing.assert_array_equal(ni.correlate(x, lap), fused)
        assert _npfast._ndimage_correlate(x, lap, "reflect", 0.0, (0, 0), False, None,
                                          check_finite=True)[1]
        want = sn.correlate(x, lap, mode="constant", cval=np.inf)
        np.testing.assert_array_equal(ni.correlate(x, lap, mode="constant", cval=np.inf), want)
        for r, c in [(0, 0), (shape[0] - 1, shape[1] - 1), (shape[0] // 2, 1), (1, shape[1] // 2)]:
            y = x.copy()
            y[r, c] = np.inf
            np.testing.assert_array_equal(ni.correlate(y, lap), sn.correlate(y, lap))
            assert not _npfast._ndimage_correlate(y, lap, "reflect", 0.0, (0, 0), False, None,
                                                  check_finite=True)[1]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_zero_taps_scan_sees_every_row(isa, dtype, threads):
    """The scan checks the rows new to each output group, several a call: an inf in any one row
    (at a column that moves from the left border to the right one) raises the flag, for a 3x3
    and a 9x9 stencil (a first group of 4 + 8 rows, more than one call) and a strided view."""
    from npfast import _npfast
    rng = np.random.default_rng(8)
    for k in (3, 9):
        w = np.zeros((k, k), dtype)
        w[k // 2, :] = 1
        w[:, k // 2] = 1
        base = rng.standard_normal((37, 150)).astype(dtype)
        for view in (lambda a: a, lambda a: a[:, ::2]):
            x = view(base)
            assert _npfast._ndimage_correlate(x, w, "reflect", 0.0, (0, 0), False, None,
                                              check_finite=True)[1]
            for r in range(x.shape[0]):
                y = x.copy()
                y[r, (r * 7) % x.shape[1]] = np.inf
                assert not _npfast._ndimage_correlate(y, w, "reflect", 0.0, (0, 0), False, None,
                                                      check_finite=True)[1], (k, r)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_zero_rows_of_rank_one_weights(isa, dtype):
    """Rank-one weights run as two passes; an along-row result that overflows to inf from finite
    input meets a zero row's 0 in the pass down the columns. SciPy skips that row: finite."""
    big = np.finfo(dtype).max / 4
    w = np.outer([1, 0, 1, 0, 1], [1, 1, 1, 1, 1]).astype(dtype)
    x = np.ones((8, 8), dtype)
    x[3] = big
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        for mode in ["reflect", "constant"]:
            np.testing.assert_array_equal(ni.correlate(x, w, mode=mode), sn.correlate(x, w, mode=mode))
            np.testing.assert_array_equal(ni.convolve(x, w, mode=mode), sn.convolve(x, w, mode=mode))
