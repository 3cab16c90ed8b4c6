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
        ref = getattr(nn, name)(x, *args, mode=mode, **kwargs)
        for chunks in chunkings:
            got = getattr(dn, name)(da.from_array(x, chunks=chunks), *args, mode=mode,
                                    **kwargs).compute(scheduler="sync")
            try:
                _assert_matches(got, ref, name)
            except AssertionError as exc:
                raise AssertionError(f"{name}{args}{kwargs} mode={mode} chunks={chunks}") \
                    from exc


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
