"""npfast.dask.ndimage: every filter of npfast.ndimage on dask arrays equals the in-memory call.

Every function x every mode, 2-D and 3-D, on several chunkings (one chunk, even chunks, random
chunks with pieces of 1 and 2 pixels, smaller than the halo), against ``npfast.ndimage`` on the
whole array (bit for bit, except the uniform filters' running sums: within rounding) and against
``scipy.ndimage``; a two-process ``distributed.LocalCluster`` runs a sample.
"""

from __future__ import annotations

import numpy as np
import pytest

dask = pytest.importorskip("dask")
da = pytest.importorskip("dask.array")
ndi = pytest.importorskip("scipy.ndimage")

import npfast  # noqa: E402
import npfast.dask  # noqa: E402,F401
import npfast.dask.ndimage as dn  # noqa: E402
import npfast.ndimage as nn  # noqa: E402
from test_dask import client, on_cluster, random_chunks  # noqa: E402,F401  (client: fixture)

MODES = ["reflect", "constant", "nearest", "mirror", "wrap", "grid-wrap", "grid-mirror",
         "grid-constant"]

_W3 = np.array([[0.5, -1.0, 0.25], [2.0, 0.125, -0.75], [1.0, 0.0, -0.5]])


def _cases(ndim):
    """(function name, positional args, keyword args) covering every filter, with origins,
    sizes per axis, footprints and radii chosen to make the halo asymmetric."""
    fp = np.zeros((3,) * ndim, bool)
    fp[(0,) * ndim] = fp[(1,) * ndim] = fp[(2,) + (1,) * (ndim - 1)] = True
    w = _W3 if ndim == 2 else np.arange(27.0).reshape(3, 3, 3) - 13
    return [
        ("correlate", (w,), {"origin": 1}),
        ("convolve", (w[..., :2],), {"origin": -1}),
        ("correlate1d", ([1.0, 2.0, -3.0, 4.0],), {"origin": 1}),
        ("convolve1d", ([1.0, 2.0, -3.0, 4.0], 0), {"origin": -1}),
        ("uniform_filter1d", (4, 0), {}),
        ("uniform_filter", ((3, 5) + (2,) * (ndim - 2),), {"origin": (1, -2) + (0,) * (ndim - 2)}),
        ("gaussian_filter1d", (2.0,), {"order": 1}),
        ("gaussian_filter", ((1.5, 2.5) + (1.0,) * (ndim - 2),), {}),
        ("gaussian_filter", (1.0,), {"radius": 4, "order": 2}),
        ("sobel", (0,), {}),
        ("prewitt", (-1,), {}),
        ("laplace", (), {}),
        ("gaussian_laplace", (1.2,), {}),
        ("gaussian_gradient_magnitude", (1.2,), {"truncate": 3.0}),
        ("minimum_filter1d", (4,), {"origin": 1}),
        ("maximum_filter1d", (3, 0), {"origin": -1}),
        ("minimum_filter", (), {"size": 3}),
        ("maximum_filter", (), {"size": 5, "origin": -2}),
        ("median_filter", (), {"size": 3}),
        ("median_filter", (), {"footprint": fp}),
        ("rank_filter", (1,), {"size": (2, 4) + (1,) * (ndim - 2)}),
        ("percentile_filter", (30,), {"size": 4, "origin": 1}),
    ]


_RUNNING_SUM = ("uniform_filter", "uniform_filter1d")


def _assert_matches(got, ref, name):
    assert got.shape == ref.shape and got.dtype == ref.dtype
    if name in _RUNNING_SUM:
        # A running sum carries along the whole line in memory; a chunk restarts it.
        np.testing.assert_allclose(got, ref, rtol=1e-12 if ref.dtype == np.float64 else 1e-5,
                                   atol=1e-12 if ref.dtype == np.float64 else 1e-5)
    else:
        np.testing.assert_array_equal(got, ref)


def _check_chunkings(x, chunkings, name, args, kwargs):
    """npfast.dask.ndimage.<name> on x in each chunking equals the in-memory call."""
    ref = getattr(nn, name)(x, *args, **kwargs)
    for chunks in chunkings:
        got = getattr(dn, name)(da.from_array(x, chunks=chunks), *args,
                                **kwargs).compute(scheduler="sync")
        try:
            _assert_matches(got, ref, name)
        except AssertionError as exc:
            raise AssertionError(f"{name}{args}{kwargs} chunks={chunks}") from exc


def _chunkings(shape, rng):
    return [shape, tuple(max(1, n // 3) for n in shape),
            tuple(random_chunks(rng, n, small=True) for n in shape)]


@pytest.mark.parametrize("ndim", [2, 3])
@pytest.mark.parametrize("mode", MODES)
def test_every_filter_equals_in_memory(ndim, mode):
    rng = np.random.default_rng(ndim * 100 + MODES.index(mode))
    shape = (17, 23) if ndim == 2 else (7, 9, 11)
    x = rng.standard_normal(shape)
    chunkings = _chunkings(shape, rng)
    for name, args, kwargs in _cases(ndim):
        _check_chunkings(x, chunkings, name, args, dict(kwargs, mode=mode))


@pytest.mark.parametrize("dtype", [np.float32, np.uint8, np.int32])
def test_dtypes_and_output(dtype):
    rng = np.random.default_rng(7)
    x = (rng.standard_normal((20, 26)) * 50).astype(dtype)
    d = da.from_array(x, chunks=(3, 7))
    for name, args, kwargs in _cases(2):
        for out in (None, np.float64):
            ref = getattr(nn, name)(x, *args, output=out, **kwargs)
            got = getattr(dn, name)(d, *args, output=out, **kwargs).compute(scheduler="sync")
            _assert_matches(got, ref, name)


def test_against_scipy():
    """The chunked result is SciPy's (bit for bit for the rank filters, within the linear
    filters' tolerance otherwise), on a 3-D volume chunked below the halo."""
    rng = np.random.default_rng(3)
    x = rng.standard_normal((9, 12, 10))
    d = da.from_array(x, chunks=(2, 5, 3))
    for mode in MODES:
        for name, args, kwargs in _cases(3):
            ref = getattr(ndi, name)(x, *args, mode=mode, **kwargs)
            got = getattr(dn, name)(d, *args, mode=mode, **kwargs).compute(scheduler="sync")
            assert got.shape == ref.shape
            if "filter" in name and not name.startswith(("uniform", "gaussian")):
                np.testing.assert_array_equal(got, ref, err_msg=f"{name} {mode}")
            else:
                scale = max(1.0, float(np.abs(ref).max()))
                np.testing.assert_allclose(got, ref, rtol=1e-12, atol=1e-12 * scale,
                                           err_msg=f"{name} {mode}")


def test_mode_per_axis_and_axes():
    rng = np.random.default_rng(5)
    x = rng.standard_normal((4, 15, 18)).astype(np.float32)
    d = da.from_array(x, chunks=(1, 4, 5))
    cases = [
        ("gaussian_filter", (2.0,), {"mode": ["wrap", "mirror"], "axes": (1, 2)}),
        ("uniform_filter", (5,), {"mode": ["nearest", "grid-wrap"], "axes": (2, 1)}),
        ("sobel", (1,), {"mode": ["reflect", "wrap", "constant"]}),
        ("median_filter", (), {"size": 5, "axes": (1, 2), "mode": "wrap"}),
        ("maximum_filter", (), {"size": (3, 4), "axes": (-1, -2), "origin": (1, -1)}),
        ("correlate", (_W3,), {"axes": (1, 2), "mode": "wrap"}),
    ]
    for name, args, kwargs in cases:
        ref = getattr(nn, name)(x, *args, **kwargs)
        got = getattr(dn, name)(d, *args, **kwargs).compute(scheduler="threads")
        _assert_matches(got, ref, name)


def test_halo_wider_than_the_array_wraps_again():
    x = np.random.default_rng(1).standard_normal((5, 6))
    d = da.from_array(x, chunks=(2, 1))
    for mode in ("wrap", "reflect", "mirror"):
        ref = nn.gaussian_filter(x, 3.0, mode=mode)
        got = dn.gaussian_filter(d, 3.0, mode=mode).compute(scheduler="sync")
        np.testing.assert_array_equal(got, ref)


def test_errors_at_graph_build():
    d = da.zeros((8, 8), chunks=4)
    with pytest.raises(ValueError, match="sigma"):
        dn.gaussian_filter(d, -1.0)
    with pytest.raises(ValueError, match="mode"):
        dn.uniform_filter(d, 3, mode="bogus")
    with pytest.raises(TypeError, match="output"):
        dn.median_filter(d, 3, output=np.empty((8, 8)))
    assert sorted(dn.__all__) == sorted(nn.__all__)
    for name in nn.__all__:
        assert callable(getattr(npfast.dask.ndimage, name))


def test_on_cluster(client):  # noqa: F811
    x = np.random.default_rng(2).standard_normal((40, 36)).astype(np.float32)
    for name, args, kwargs in (("gaussian_filter", (2.0,), {"mode": "wrap"}),
                               ("median_filter", (), {"size": 5}),
                               ("sobel", (0,), {})):
        ref = getattr(nn, name)(x, *args, **kwargs)
        got = on_cluster(client, lambda: getattr(dn, name)(
            da.from_array(x, chunks=(7, 9)), *args, **kwargs))
        np.testing.assert_array_equal(got, ref)


def _axes_cases(ndim):
    """(name, args, kwargs) of every function taking ``axes``, with windows, sizes and origins
    that differ per axis, for `axes` listed out of order (and negative)."""
    if ndim == 2:
        orders = [(1, 0), (-1, 0), (-1, -2)]
    else:
        orders = [(2, 0, 1), (1, 2, 0), (-1, 0), (2, 1), (-2, -3)]
    out = []
    for axes in orders:
        k = len(axes)
        # Windows of 3, 5 and 4 with origins valid for any of them (which axis gets which
        # depends on the layout); separable sizes of 1, 5 and 3 with their own origins.
        shape, origins = (3, 5, 4)[:k], (0, 1, -1)[:k]
        w = np.arange(1.0, 1.0 + np.prod(shape)).reshape(shape) - 4
        sizes, sep_origins = (1, 5, 3)[:k], (0, 2, -1)[:k]
        fp = np.ones(shape, bool)
        fp.flat[::4] = False
        full = np.ones((1, 4, 3)[:k], bool)
        for name, args, kwargs in [
                ("correlate", (w,), {"origin": origins}),
                ("convolve", (w,), {"origin": (0, -1, 1)[:k]}),
                ("uniform_filter", (sizes,), {"origin": sep_origins}),
                ("gaussian_filter", ((0.5, 2.0, 1.0)[:k],), {"radius": (1, 4, 2)[:k]}),
                ("laplace", (), {}),
                ("gaussian_laplace", ((0.7, 1.5, 1.0)[:k],), {}),
                ("gaussian_gradient_magnitude", (1.0,), {"radius": 2}),
                ("minimum_filter", (), {"size": sizes, "origin": sep_origins}),
                ("maximum_filter", (), {"footprint": full, "origin": (0, 1, -1)[:k]}),
                ("maximum_filter", (), {"footprint": fp, "origin": origins}),
                ("median_filter", (), {"size": shape, "origin": origins}),
                ("median_filter", (), {"footprint": fp}),
                ("rank_filter", (0,), {"size": shape, "origin": origins}),
                ("rank_filter", (-1,), {"footprint": full}),
                ("rank_filter", (2,), {"footprint": fp, "origin": origins}),
                ("percentile_filter", (70,), {"size": sizes})]:
            out.append((name, args, dict(kwargs, axes=axes)))
    return out


@pytest.mark.parametrize("ndim", [2, 3])
def test_axes_in_any_order(ndim):
    """SciPy lays a window's dimensions (weights, footprint, the rank filters' box of `size`)
    over the filtered axes in increasing order, whatever order `axes` lists them in, while
    separable minimum / maximum sizes and the origins follow `axes`' order: each halo must be
    that of the axis the in-memory call filters."""
    rng = np.random.default_rng(11 + ndim)
    shape = (13, 17) if ndim == 2 else (9, 11, 10)
    x = rng.standard_normal(shape)
    chunkings = [tuple(max(1, n // 4) for n in shape),
                 tuple(random_chunks(rng, n, small=True) for n in shape)]
    for name, args, kwargs in _axes_cases(ndim):
        for mode in ("reflect", "wrap", "constant"):
            _check_chunkings(x, chunkings, name, args, dict(kwargs, mode=mode))


def test_axes_order_with_a_mode_per_axis():
    """Modes per axis follow `axes`' order for the separable filters, and the axis order for
    a rank filter that becomes a separable minimum / maximum over every axis."""
    rng = np.random.default_rng(4)
    x = rng.standard_normal((12, 14, 9))
    d = da.from_array(x, chunks=(5, 3, 4))
    cases = [
        ("minimum_filter", (), {"size": (4, 1, 3), "axes": (2, 0, 1),
                                "mode": ["wrap", "reflect", "nearest"]}),
        ("maximum_filter", (), {"size": (5, 3), "axes": (-1, 0), "mode": ["reflect", "wrap"]}),
        ("uniform_filter", ((3, 5),), {"axes": (2, 1), "mode": ["wrap", "mirror"]}),
        ("gaussian_filter", ((1.0, 2.0),), {"axes": (1, 0), "mode": ["constant", "wrap"]}),
        ("rank_filter", (0,), {"size": (3, 4, 2), "axes": (1, 2, 0),
                               "mode": ["wrap", "reflect", "reflect"]}),
        ("percentile_filter", (100,), {"size": (3, 4, 2), "axes": (2, 0, 1),
                                       "mode": ["reflect", "wrap", "nearest"]}),
    ]
    for name, args, kwargs in cases:
        ref = getattr(nn, name)(x, *args, **kwargs)
        got = getattr(dn, name)(d, *args, **kwargs).compute(scheduler="sync")
        try:
            _assert_matches(got, ref, name)
        except AssertionError as exc:
            raise AssertionError(f"{name}{args}{kwargs}") from exc


@pytest.mark.parametrize("name", ["gaussian_laplace", "gaussian_gradient_magnitude"])
def test_gaussian_derivatives_mode_per_pass(name):
    """Each derivative pass smooths every axis it smooths (gaussian_laplace: the filtered
    ones; gaussian_gradient_magnitude: all) with that pass's one mode: an axis is periodic
    for a pass that wraps even when it is not that pass's derivative axis, or not filtered."""
    rng = np.random.default_rng(9)
    x = rng.standard_normal((12, 13, 11))
    modes = ["reflect", "wrap", "constant", "grid-wrap", "mirror", "nearest"]
    cases = [{"mode": m} for m in modes]
    cases += [{"mode": m, "axes": ax} for m in ("wrap", "reflect") for ax in ((0,), (2, 0))]
    cases += [{"mode": [a, b, c]} for a, b, c in
              (("reflect", "wrap", "reflect"), ("wrap", "wrap", "grid-wrap"),
               ("wrap", "nearest", "constant"), ("mirror", "constant", "wrap"))]
    cases += [{"mode": ["wrap", "reflect"], "axes": (2, 1)},
              {"mode": ["constant", "grid-wrap"], "axes": (-3, -1)}]
    for kwargs in cases:
        ref = getattr(nn, name)(x, 1.0, **kwargs)
        for chunks in ((12, 4, 11), (4, 13, 3), (5, 2, 6)):
            got = getattr(dn, name)(da.from_array(x, chunks=chunks), 1.0,
                                    **kwargs).compute(scheduler="sync")
            try:
                np.testing.assert_array_equal(got, ref)
            except AssertionError as exc:
                raise AssertionError(f"{kwargs} {chunks}") from exc


@pytest.mark.parametrize("shape,chunks", [((4, 0), (2, 1)), ((3, 0, 2), (1, 1, 1)),
                                          ((0, 5), (1, 2)), ((2, 3, 0), (1, 2, 1))])
def test_empty_axes(shape, chunks):
    x = np.zeros(shape, np.float32)
    d = da.from_array(x, chunks=chunks)
    for name, args, kwargs in _cases(len(shape)):
        ref = getattr(nn, name)(x, *args, **kwargs)
        got = getattr(dn, name)(d, *args, **kwargs)
        assert got.shape == ref.shape and got.dtype == ref.dtype, name
        assert got.compute(scheduler="sync").shape == ref.shape, name


def test_correlate2d_empty_planes():
    k = np.array([[1.0, 2.0], [3.0, -1.0], [0.5, 0.0]])
    for shape in ((0, 5), (5, 0), (0, 0), (3, 0, 4), (2, 4, 0)):
        x = np.zeros(shape)
        for name in ("correlate2d", "convolve2d"):
            for mode in ("same", "full"):
                ref = getattr(npfast, name)(x, k, mode=mode)
                got = getattr(npfast.dask, name)(da.from_array(x, chunks=2), k,
                                                 mode=mode).compute(scheduler="sync")
                assert got.dtype == ref.dtype
                np.testing.assert_array_equal(got, ref)
            with pytest.raises(ValueError):  # as the in-memory call
                getattr(npfast, name)(x, k, mode="valid")
            with pytest.raises(ValueError):
                getattr(npfast.dask, name)(da.from_array(x, chunks=2), k, mode="valid")


_MINMAX = [("minimum_filter1d", (3,), {}), ("maximum_filter1d", (4, 0), {"origin": 1}),
           ("minimum_filter", (), {"size": 3}), ("maximum_filter", (), {"size": (2, 4)}),
           ("maximum_filter", (), {"footprint": np.ones((3, 2), bool)}),
           ("rank_filter", (0,), {"size": 3}), ("rank_filter", (-1,), {"size": (3, 2)}),
           ("percentile_filter", (100,), {"size": 3}), ("percentile_filter", (0,), {"size": 4})]


def test_minmax_with_infinities_is_exact():
    """The deque's answer is the window's extreme on a line without NaN, infinities
    included (the in-memory code runs the deque on such lines too): bit for bit."""
    rng = np.random.default_rng(21)
    x = rng.standard_normal((23, 19))
    x[rng.random(x.shape) < 0.2] = np.inf
    x[rng.random(x.shape) < 0.2] = -np.inf
    for mode in MODES:
        for name, args, kwargs in _MINMAX:
            ref = getattr(nn, name)(x, *args, mode=mode, **kwargs)
            for chunks in ((1, 2), (5, 4), (random_chunks(rng, 23, True), (7, 12))):
                got = getattr(dn, name)(da.from_array(x, chunks=chunks), *args, mode=mode,
                                        **kwargs).compute(scheduler="sync")
                np.testing.assert_array_equal(got, ref, err_msg=f"{name} {mode} {chunks}")


def test_nan_windows_outside_the_deque_are_exact():
    """Footprint minimum / maximum (not all true) and every rank but the first and last scan
    the window alone: exact with NaN."""
    rng = np.random.default_rng(22)
    x = rng.standard_normal((17, 15))
    x[rng.random(x.shape) < 0.15] = np.nan
    fp = np.array([[1, 0, 1], [1, 1, 0], [0, 1, 1]], bool)
    for mode in MODES:
        for name, args, kwargs in [("minimum_filter", (), {"footprint": fp}),
                                   ("maximum_filter", (), {"footprint": fp, "origin": 1}),
                                   ("rank_filter", (0,), {"footprint": fp}),
                                   ("median_filter", (), {"size": 3}),
                                   ("rank_filter", (2,), {"size": (2, 4)}),
                                   ("percentile_filter", (80,), {"size": 3})]:
            ref = getattr(nn, name)(x, *args, mode=mode, **kwargs)
            got = getattr(dn, name)(da.from_array(x, chunks=(3, 4)), *args, mode=mode,
                                    **kwargs).compute(scheduler="sync")
            np.testing.assert_array_equal(got, ref, err_msg=f"{name} {mode}")


def test_square_medians_keep_signed_zeros_in_wide_tasks():
    """The 3x3 / 5x5 medians' value at an output, the sign of a tied zero included, is a
    function of its window alone (rank.h): tasks whose blocks and halos span a register of
    outputs or more give the in-memory bits, beside NaN windows too."""
    rng = np.random.default_rng(23)
    for dtype in (np.float32, np.float64):
        x = rng.integers(-2, 3, (40, 900)).astype(dtype)
        x[rng.random(x.shape) < 0.3] = -0.0
        x[rng.random(x.shape) < 0.002] = np.nan
        for size in (3, 5):
            ref = nn.median_filter(x, size)
            got = dn.median_filter(da.from_array(x, chunks=(13, (64, 100, 300, 436))),
                                   size).compute(scheduler="sync")
            assert got.tobytes() == ref.tobytes(), (dtype, size)


def test_minmax_deque_on_nan_lines_is_the_windows():
    """The documented exception: on a line holding a NaN, SciPy's deque answer depends on the
    line before the window, which a task does not see. Lines without NaN stay exact; on the
    others each output is the in-memory filter's on the task's window (the block and its
    halo), which may differ from the whole line's."""
    x = np.array([2.0, np.nan, 0.0])
    assert nn.minimum_filter1d(x, 3).tolist()[2] == 0.0  # SciPy's own answer
    got = dn.minimum_filter1d(da.from_array(x, chunks=1), 3).compute(scheduler="sync")
    assert np.isnan(got[2])  # the window [nan, 0] and its reflection: the deque says NaN
    rng = np.random.default_rng(23)
    y = rng.standard_normal((12, 40))
    nan_rows = [1, 5, 6, 10]
    for r in nan_rows:
        y[r, rng.integers(0, 40, 3)] = np.nan
    clean = [r for r in range(12) if r not in nan_rows]
    for mode in MODES:
        for name in ("minimum_filter1d", "maximum_filter1d"):
            ref = getattr(nn, name)(y, 5, mode=mode)
            got = getattr(dn, name)(da.from_array(y, chunks=(5, 3)), 5,
                                    mode=mode).compute(scheduler="sync")
            np.testing.assert_array_equal(got[clean], ref[clean])
            # Each output is the in-memory filter on its task's window: 3 columns and the
            # reach of 2 either side (at the array's edges, the mode's extension).
            for c0 in range(0, 40, 3):
                s, e = max(0, c0 - 2), min(40, c0 + 3 + 2)
                if mode in ("wrap", "grid-wrap"):
                    idx = np.arange(c0 - 2, c0 + 5) % 40
                    s, win = 2, y[:, idx]
                else:
                    win = y[:, s:e]
                    s = c0 - s
                    if c0 - 2 <= 0 or c0 + 5 >= 40:
                        continue  # edge windows also reach the mode's mirrored reach
                exp = getattr(nn, name)(win, 5, mode=mode)[:, s:s + min(3, 40 - c0)]
                np.testing.assert_array_equal(got[:, c0:c0 + 3], exp)


def test_uniform_filters_exact_on_integer_sums():
    """A running sum of integers is exact whatever position it starts from: integer inputs
    of uniform_filter1d, and of uniform_filter with an integer output, are bit for bit."""
    rng = np.random.default_rng(24)
    for dtype in (np.uint8, np.int16, np.int32, np.uint16):
        x = rng.integers(0, 200, (31, 45)).astype(dtype)
        d = da.from_array(x, chunks=(4, 7))
        for out in (None, np.int32, np.float64):
            for size in (3, 8, 13):
                ref = nn.uniform_filter1d(x, size, output=out, mode="wrap")
                got = dn.uniform_filter1d(d, size, output=out, mode="wrap")
                np.testing.assert_array_equal(got.compute(scheduler="sync"), ref)
        for out in (None, np.int32):
            ref = nn.uniform_filter(x, (5, 9), output=out)
            got = dn.uniform_filter(d, (5, 9), output=out).compute(scheduler="sync")
            np.testing.assert_array_equal(got, ref)


def test_uniform_filters_documented_exceptions():
    """Float inputs: a task's running sum starts at its window, the whole-line one at the
    line's start. An integer output can then differ by one where the float result lies
    within rounding of an integer; a NaN (or an infinity leaving the window) makes SciPy's sum
    NaN to the line's end, the task's only to its own window's end."""
    x = np.array([12, 21, 8, 19, 25, 24, 3]) * 0.1
    ref = nn.uniform_filter1d(x, 3, output=np.int32)
    got = dn.uniform_filter1d(da.from_array(x, chunks=1), 3,
                              output=np.int32).compute(scheduler="sync")
    assert np.abs(got.astype(np.int64) - ref).max() <= 1
    np.testing.assert_allclose(
        dn.uniform_filter1d(da.from_array(x, chunks=1), 3).compute(scheduler="sync"),
        nn.uniform_filter1d(x, 3), rtol=1e-12)
    y = np.ones(14)
    y[2] = np.nan
    ref = nn.uniform_filter1d(y, 3)
    assert np.isnan(ref[1:]).all()  # SciPy's NaN tail: to the line's end
    got = dn.uniform_filter1d(da.from_array(y, chunks=5), 3).compute(scheduler="sync")
    assert np.isnan(got[1:4]).all()  # the windows holding the NaN
    assert (got[5:] == 1.0).all()  # later tasks' sums never saw it


@pytest.mark.parametrize("name", ["correlate", "convolve"])
@pytest.mark.parametrize("bad", [np.inf, np.nan])
def test_zero_taps_on_non_finite_float32_documented_exception(name, bad):
    """float32 weights with exact-zero taps on an image holding an inf or a NaN: the in-memory
    call redoes the whole result from SciPy's double sums; a task whose window holds the value
    does the same (bit for bit), the others keep the float32 kernels' bits, within float32
    rounding (docs/ndimage.md, Dask). float64 takes SciPy's sums everywhere: bit for bit."""
    rng = np.random.default_rng(4)
    w = np.array([[0, 1, 0], [1, -4, 1], [0, 1, 0]], np.float32)
    for dtype in (np.float32, np.float64):
        x = rng.standard_normal((40, 40)).astype(dtype)
        x[0, 0] = bad
        ref = getattr(nn, name)(x, w.astype(dtype))
        got = getattr(dn, name)(da.from_array(x, chunks=10), w.astype(dtype)).compute(
            scheduler="sync")
        assert got.dtype == ref.dtype
        if dtype == np.float64:
            np.testing.assert_array_equal(got, ref)
            continue
        np.testing.assert_array_equal(got[:10, :10], ref[:10, :10])  # the task that sees it
        np.testing.assert_array_equal(np.isfinite(got), np.isfinite(ref))
        f = np.isfinite(ref)
        np.testing.assert_allclose(got[f], ref[f], rtol=0, atol=1e-5 * np.abs(ref[f]).max())
        assert not np.array_equal(got, ref)  # the documented exception: other tasks' bits


def test_zero_d_input_is_the_in_memory_copy():
    """A 0-d dask array has no axis to filter: one block, the in-memory call's result."""
    x = np.array(2.5)
    d = da.from_array(x)
    for name, args in [("gaussian_filter", (1.0,)), ("uniform_filter", (3,)),
                       ("median_filter", (3,)), ("laplace", ()), ("correlate", (np.ones(()),))]:
        got = getattr(dn, name)(d, *args).compute()
        want = getattr(nn, name)(x, *args)
        assert got.shape == () and got.dtype == want.dtype and got == want, name


def test_probe19c_wrapping_windows_longer_than_the_axis_take_it_once():
    """A wrapping reach longer than the axis takes the whole axis once (it wrapped as often as
    needed: 97^3 pieces a task for this 2^3 array, 41 s and 3.4 GB); bit for bit with the
    in-memory call, every Gaussian and the uniform filter."""
    rng = np.random.default_rng(19)
    x = rng.standard_normal((2, 3, 2))
    d = da.from_array(x, chunks=1)
    for mode in ("wrap", "grid-wrap"):
        for fn, args in (("gaussian_filter", (12,)), ("gaussian_laplace", (7.5,)),
                         ("gaussian_gradient_magnitude", (7.5,)), ("uniform_filter", (9,)),
                         ("correlate1d", (np.arange(11.0) - 5,))):
            lazy = getattr(dn, fn)(d, *args, mode=mode)
            # one piece a chunk at most: the graph stays small
            assert len(dict(lazy.__dask_graph__())) < 40, fn
            got = lazy.compute(scheduler="sync")
            assert got.tobytes() == getattr(nn, fn)(x, *args, mode=mode).tobytes(), (fn, mode)
    # Chunks of 2 on an axis of 5 with a reach of 2: windows of 6, longer than the axis.
    y = rng.standard_normal((5, 7))
    got = dn.gaussian_filter(da.from_array(y, chunks=2), 1, mode="wrap", truncate=2)
    assert got.compute(scheduler="sync").tobytes() == \
        nn.gaussian_filter(y, 1, mode="wrap", truncate=2).tobytes()


def test_probe19c_bad_radius_and_size_raise_the_in_memory_errors():
    """Arguments the halo is computed from are checked by the in-memory call first: a radius
    of [3] raised int()'s TypeError naming nothing."""
    d = da.from_array(np.arange(10.0), chunks=3)
    for fn, args, kwargs in (("gaussian_filter1d", (1,), {"radius": [3]}),
                             ("gaussian_laplace", (1,), {"radius": "a"}),
                             ("gaussian_filter", (1,), {"radius": "a"}),
                             ("uniform_filter1d", ("a",), {}),
                             ("uniform_filter", ("a",), {})):
        with pytest.raises((TypeError, ValueError)) as want:
            getattr(nn, fn)(np.arange(10.0), *args, **kwargs)
        with pytest.raises(type(want.value), match=str(want.value)[:30].replace("(", r"\(")
                           .replace("[", r"\[")):
            getattr(dn, fn)(d, *args, **kwargs)


def test_review19_derivatives_take_what_the_in_memory_call_takes():
    """A NaN sigma (or 0 with a NaN truncate) smooths nothing in memory; the dask halo
    computation raised int()'s ValueError. An infinite sigma raises the in-memory error, naming
    it (was a bare OverflowError)."""
    x = np.arange(30.0).reshape(5, 6)
    d = da.from_array(x, chunks=2)
    for fn in ("gaussian_laplace", "gaussian_gradient_magnitude"):
        for args, kw in ((([np.nan, 1],), {}), ((np.nan,), {}), ((0,), {"truncate": np.nan})):
            want = getattr(nn, fn)(x, *args, **kw)
            got = getattr(dn, fn)(d, *args, **kw).compute(scheduler="sync")
            assert got.tobytes() == want.tobytes(), (fn, args, kw)
        with pytest.raises(ValueError, match="sigma"):
            getattr(dn, fn)(d, np.inf)
