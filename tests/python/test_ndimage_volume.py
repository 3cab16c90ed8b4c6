"""gaussian_filter, uniform_filter, sobel and prewitt on 3-D volumes: the fused sweep
(src/ops/ndimage_volume.cc) against the three 1-D passes one after the other (bit for bit: the
same kernels in the same order) and against SciPy (float64 bit for bit, float32 within 1e-5 of
the output's scale), over every mode, odd shapes, several bands and plane ranges,
non-contiguous views, orders 0-3 per axis, sigma 0 on an axis, every ISA and thread count."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.ndimage as sn

import npfast
import npfast.ndimage as nn

MODES = ["reflect", "constant", "nearest", "mirror", "wrap"]


def make(shape, dtype, seed=0):
    return np.random.default_rng(seed).uniform(-50, 50, shape).astype(dtype)


def passes(x, sigma, order=0, mode="reflect", cval=0.0, **kw):
    """The three gaussian_filter1d passes one after the other (the unfused result)."""
    sig = np.broadcast_to(np.asarray(sigma, dtype=object), (3,))
    orders = np.broadcast_to(np.asarray(order, dtype=object), (3,))
    modes = [mode] * 3 if isinstance(mode, str) else list(mode)
    out = np.empty(x.shape, x.dtype)
    src = x
    for ax in range(3):
        nn.gaussian_filter1d(src, sig[ax], ax, orders[ax], out, modes[ax], cval, **kw)
        src = out
    return out


def check_scipy(got, x, *args, **kw):
    want = sn.gaussian_filter(x, *args, **kw)
    if x.dtype == np.float64:
        np.testing.assert_array_equal(got, want)
    else:
        scale = max(np.abs(want).max(), 1e-30)
        assert np.abs(got.astype(np.float64) - want).max() <= 1e-5 * scale


# (3, 40, 2048): several bands of a gaussian's rows (since band22 a 512-wide volume is one).
SHAPES = [(5, 7, 9), (1, 1, 8), (3, 40, 33), (20, 3, 50), (9, 30, 512), (80, 12, 512),
          (2, 17, 8), (3, 40, 2048)]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("mode", MODES)
def test_fused_equals_passes_and_scipy(isa, dtype, mode):
    for i, shape in enumerate(SHAPES):
        x = make(shape, dtype, i)
        for sigma, order in [(2.0, 0), ((1.0, 0.7, 3.0), (1, 2, 3)), (1.5, (0, 3, 1)),
                             ((0.6, 2.5, 1.2), (2, 0, 2))]:
            got = nn.gaussian_filter(x, sigma, order, mode=mode, cval=1.5)
            np.testing.assert_array_equal(got, passes(x, sigma, order, mode, 1.5))
            check_scipy(got, x, sigma, order, mode=mode, cval=1.5)


def test_per_axis_modes_radius_truncate(isa):
    x = make((11, 14, 37), np.float64, 3)
    modes = ["wrap", "constant", "mirror"]
    got = nn.gaussian_filter(x, (1.2, 2.0, 0.8), mode=modes, cval=-3.0, radius=(4, 2, 7))
    np.testing.assert_array_equal(got, sn.gaussian_filter(x, (1.2, 2.0, 0.8), mode=modes,
                                                          cval=-3.0, radius=(4, 2, 7)))
    got = nn.gaussian_filter(x, 1.7, truncate=2.5, mode="nearest")
    np.testing.assert_array_equal(got, sn.gaussian_filter(x, 1.7, truncate=2.5, mode="nearest"))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_views_and_outputs(dtype):
    base = make((14, 26, 80), dtype, 5)
    views = [base[::2], base[:, ::-1], base[1:-1, 3:19, 5:70], base[::-1, ::3, :]]
    for x in views:
        got = nn.gaussian_filter(x, 1.3)
        np.testing.assert_array_equal(got, passes(np.ascontiguousarray(x), 1.3))
        check_scipy(got, x, 1.3)
        # Into a non-contiguous output (strided planes and rows: fused; strided x: unfused).
        for out in (np.empty((2,) + x.shape, dtype)[1], np.empty(x.shape[:2] + (2 * x.shape[2],),
                                                                 dtype)[:, :, ::2]):
            r = nn.gaussian_filter(x, 1.3, output=out)
            assert r is out
            np.testing.assert_array_equal(out, got)
    # In place and into other dtypes: the unfused passes, SciPy's results.
    x = make((6, 9, 40), dtype, 6)
    want = sn.gaussian_filter(x, 1.1)
    y = x.copy()
    nn.gaussian_filter(y, 1.1, output=y)
    np.testing.assert_array_equal(y, passes(x, 1.1))
    other = np.float64 if dtype == np.float32 else np.float32
    # (passes after the first read and write float32 there: computed in float32)
    got, want_other = nn.gaussian_filter(x, 1.1, output=other), sn.gaussian_filter(x, 1.1)
    assert got.dtype == other
    assert np.abs(got - want_other).max() <= 1e-5 * np.abs(want_other).max()
    np.testing.assert_allclose(want, passes(x, 1.1), rtol=0, atol=1e-5 * np.abs(want).max())


def test_sigma_zero_axis_and_integers():
    x = make((7, 12, 30), np.float32, 7)
    for sigma in [(0, 1.5, 2.0), (1.5, 0, 2.0), (1.5, 2.0, 0)]:
        check_scipy(nn.gaussian_filter(x, sigma), x, sigma)
    u = (make((7, 12, 30), np.float32, 8) + 60).astype(np.uint8)
    np.testing.assert_array_equal(nn.gaussian_filter(u, 1.4), sn.gaussian_filter(u, 1.4))


def test_threads_do_not_change_bits(threads):
    x = make((40, 37, 300), np.float32, 9)
    npfast.set_num_threads(1)
    one = nn.gaussian_filter(x, 2.0, mode="mirror")
    npfast.set_num_threads(2)
    np.testing.assert_array_equal(nn.gaussian_filter(x, 2.0, mode="mirror"), one)


def test_laplace_and_gradient_on_volumes():
    x = make((9, 20, 33), np.float64, 10)
    np.testing.assert_array_equal(nn.gaussian_laplace(x, 1.2), sn.gaussian_laplace(x, 1.2))
    np.testing.assert_array_equal(nn.gaussian_gradient_magnitude(x, 0.9),
                                  sn.gaussian_gradient_magnitude(x, 0.9))


def uniform_passes(x, size, origin=0, mode="reflect", cval=0.0):
    """The three uniform_filter1d passes one after the other (the unfused result)."""
    sizes, origins = np.broadcast_to(size, (3,)), np.broadcast_to(origin, (3,))
    modes = [mode] * 3 if isinstance(mode, str) else list(mode)
    out, src = np.empty(x.shape, x.dtype), x
    for ax in range(3):
        nn.uniform_filter1d(src, int(sizes[ax]), ax, out, modes[ax], cval, int(origins[ax]))
        src = out
    return out


UNIFORM_CASES = [(3, 0), (5, 0), ((2, 7, 4), (0, -3, 1)), ((8, 3, 32), (3, 1, -16)),
                 ((9, 3, 5), 0), ((3, 4, 33), (1, 0, 0))]  # the last two: sizes it cannot fuse


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("mode", MODES)
def test_uniform_fused_equals_passes_and_scipy(isa, dtype, mode):
    for i, shape in enumerate(SHAPES):
        x = make(shape, dtype, i)
        for size, origin in UNIFORM_CASES:
            got = nn.uniform_filter(x, size, mode=mode, cval=2.5, origin=origin)
            np.testing.assert_array_equal(got, uniform_passes(x, size, origin, mode, 2.5))
            want = sn.uniform_filter(x, size, mode=mode, cval=2.5, origin=origin)
            if dtype == np.float64:
                np.testing.assert_array_equal(got, want)
            else:
                assert np.abs(got.astype(np.float64) - want).max() <= 1e-5 * np.abs(want).max()


def edge_passes(x, name, axis, order, mode="reflect", cval=0.0):
    """sobel / prewitt as correlate1d passes in `order` (the unfused result)."""
    smooth = {"sobel": [1, 2, 1], "prewitt": [1, 1, 1]}[name]
    modes = [mode] * 3 if isinstance(mode, str) else list(mode)
    out, src = np.empty(x.shape, x.dtype), x
    for ax in order:
        nn.correlate1d(src, [-1, 0, 1] if ax == axis else smooth, ax, out, modes[ax], cval)
        src = out
    return out


@pytest.mark.parametrize("name", ["sobel", "prewitt"])
@pytest.mark.parametrize("mode", MODES)
def test_edges_on_volumes(isa, name, mode):
    """float64: SciPy's bits (axis 0, SciPy's pass order 0, 1, 2, fused). float32: the passes
    in axis order 0, 1, 2 for every axis (fused), within 1e-5 of SciPy; with a 'constant' mode
    and a nonzero cval, SciPy's order (there the order changes the border values)."""
    f, g = getattr(nn, name), getattr(sn, name)
    for i, shape in enumerate(SHAPES):
        for axis in range(3):
            x = make(shape, np.float64, i)
            for cval in (0.0, 1.5):
                np.testing.assert_array_equal(f(x, axis, mode=mode, cval=cval),
                                              g(x, axis, mode=mode, cval=cval))
                x32 = x.astype(np.float32)
                got = f(x32, axis, mode=mode, cval=cval)
                keep = mode == "constant" and cval != 0
                order = [axis] + [a for a in range(3) if a != axis] if keep else [0, 1, 2]
                np.testing.assert_array_equal(got, edge_passes(x32, name, axis, order, mode, cval))
                want = g(x32.astype(np.float64), axis, mode=mode, cval=cval)
                scale = 16 * np.abs(x).max()
                assert np.abs(got - want).max() <= 1e-5 * scale
                # In place: the same order, so the same bits.
                y = x32.copy()
                assert f(y, axis, output=y, mode=mode, cval=cval) is y
                np.testing.assert_array_equal(y, got)


def test_edges_non_finite_float32():
    """The reordered float32 passes give SciPy's NaN / inf pattern: a sum of terms is NaN
    exactly when it holds infinities of both signs, whatever the order of the passes."""
    x = make((6, 9, 20), np.float32, 11)
    x[2, 4, 5], x[3, 4, 7], x[2, 6, 12], x[4, 1, 0], x[0, 8, 19] = np.inf, -np.inf, np.inf, np.nan, -np.inf
    for axis in range(3):
        got = nn.sobel(x, axis, mode="mirror")
        want = sn.sobel(x.astype(np.float64), axis, mode="mirror")
        np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
        np.testing.assert_array_equal(np.isinf(got) * np.sign(got), np.isinf(want) * np.sign(want))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_uniform_and_edge_views_threads(threads, dtype):
    base = make((30, 26, 300), dtype, 12)
    for x in (base[::2], base[:, ::-1], base[1:-1, 3:19, 5:270], base[::-1, ::3, :]):
        want = uniform_passes(np.ascontiguousarray(x), (3, 5, 7))
        for th in (1, 2):
            npfast.set_num_threads(th)
            np.testing.assert_array_equal(nn.uniform_filter(x, (3, 5, 7)), want)
            out = np.empty(x.shape[:2] + (2 * x.shape[2],), dtype)[:, :, ::2]
            nn.sobel(x, 1, output=out)
            np.testing.assert_array_equal(out, nn.sobel(np.ascontiguousarray(x), 1))


def test_edges_float32_order_whatever_the_spelling():
    """probe21a: a byte-swapped float32 input or output, and a NumPy scalar cval of 0, take the
    axis order as native float32 with cval 0.0 does (they took SciPy's order: other bits)."""
    x = make((9, 20, 40), np.float32, 13)
    want = nn.sobel(x, 1)
    np.testing.assert_array_equal(nn.sobel(x.astype(">f4"), 1), want)
    o = np.empty(x.shape, ">f4")
    assert nn.sobel(x, 1, output=o) is o
    np.testing.assert_array_equal(o, want)
    want = nn.prewitt(x, 2, mode="constant", cval=0.0)
    for cval in (np.float32(0), np.int32(0), np.float64(-0.0), False, 0):
        np.testing.assert_array_equal(nn.prewitt(x, 2, mode="constant", cval=cval), want)


@pytest.mark.parametrize("name", ["uniform", "sobel", "gaussian", "gaussian wide"])
def test_volume_partitions_and_per_axis_modes(threads, name):
    """review21: per-axis modes reach the right axes, and the blocks' plane ranges (at least two
    a thread, evened out; 16 threads through the test core cap) never change the bits. "gaussian
    wide": 1024-wide rows, whose bands (their size set by the thread count, band22) are one at
    one thread, two at two, four at three, and the unfused passes from seven."""
    from npfast import _npfast
    modes = ["wrap", "constant", "mirror"]
    x = make((12, 60, 1024) if name == "gaussian wide" else (64, 21, 40), np.float32, 14)
    if name == "uniform":
        run = lambda: nn.uniform_filter(x, (3, 5, 4), mode=modes, cval=1.5)  # noqa: E731
        want = uniform_passes(x, (3, 5, 4), 0, modes, 1.5)
        ref = sn.uniform_filter(x, (3, 5, 4), mode=modes, cval=1.5)
    elif name == "sobel":
        run = lambda: nn.sobel(x, 2, mode=modes, cval=0.0)  # noqa: E731
        want = edge_passes(x, "sobel", 2, [0, 1, 2], modes, 0.0)
        ref = sn.sobel(x.astype(np.float64), 2, mode=modes, cval=0.0)
    else:
        sigma = 2.0 if name == "gaussian wide" else 1.5
        run = lambda: nn.gaussian_filter(x, sigma, mode=modes, cval=1.5)  # noqa: E731
        want = passes(x, sigma, 0, modes, 1.5)
        ref = sn.gaussian_filter(x, sigma, mode=modes, cval=1.5)
    assert np.abs(want - ref).max() <= 1e-5 * 16 * np.abs(x).max()
    try:
        _npfast._set_core_cap_for_testing(16)
        for th in (1, 2, 3, 7, 16):
            npfast.set_num_threads(th)
            np.testing.assert_array_equal(run(), want)
    finally:
        _npfast._set_core_cap_for_testing(0)
