"""npfast.ndimage's linear filters against scipy.ndimage: every function x mode x dtype x
origin, under every ISA the CPU runs, on 1-D/2-D/3-D inputs, 1-pixel axes, filters larger
than the image, non-contiguous views, ``axes``, ``output=`` (dtype and array), the fused
passes, threads, the errors, and hypothesis properties over random shapes and views.

float64 and integer inputs are computed in double in SciPy's order, so they must equal SciPy
exactly (integer outputs truncate, so anything less would differ by one); float32 is computed
in float32 and must lie within 1e-5 of SciPy relative to the output's scale.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.ndimage as sn

import npfast
import npfast.ndimage as nn
from npfast import _npfast

# gaussian_gradient_magnitude into integer outputs takes sqrt of wrapped negative values,
# in SciPy as here.
pytestmark = pytest.mark.filterwarnings("ignore:invalid value encountered in sqrt")

DTYPES = [np.float32, np.float64, np.uint8, np.uint16, np.int32]
MODES = ["reflect", "constant", "nearest", "mirror", "wrap"]
GRID_MODES = ["grid-mirror", "grid-constant", "grid-wrap"]

# name -> (positional args after input, accepts origin)
FUNCS = {
    "correlate1d": (([0.25, -1.0, 2.0, 0.5],), True),
    "convolve1d": (([0.3, 1.2, -0.7],), True),
    "uniform_filter1d": ((4,), True),
    "uniform_filter": ((3,), True),
    "gaussian_filter1d": ((1.3,), False),
    "gaussian_filter": ((1.1,), False),
    "sobel": ((), False),
    "prewitt": ((), False),
    "laplace": ((), False),
    "gaussian_laplace": ((0.9,), False),
    "gaussian_gradient_magnitude": ((1.2,), False),
}


def make(shape, dtype, seed=0):
    rng = np.random.default_rng(seed)
    if np.dtype(dtype).kind == "f":
        return rng.uniform(-50, 50, shape).astype(dtype)
    hi = {np.uint8: 255, np.uint16: 60000, np.int32: 100000}[dtype]
    lo = -hi if dtype == np.int32 else 0
    return rng.integers(lo, hi, shape).astype(dtype)


def inputs(dtype):
    """1-D/2-D/3-D arrays, 1-pixel axes and non-contiguous views."""
    yield make((7,), dtype)
    yield make((1,), dtype)
    yield make((1, 1), dtype)
    yield make((5, 1), dtype)
    yield make((13, 17), dtype)
    yield make((4, 5, 6), dtype)
    yield make((20, 22), dtype)[::2, ::-3]
    yield make((9, 11), dtype).T


def check(got, want, x):
    """float32 results (computed in float32 wherever a pass reads and writes float32) within
    1e-5 of SciPy relative to the scale; everything else exactly SciPy's."""
    assert got.dtype == want.dtype
    assert got.shape == want.shape
    if got.dtype == np.float32:
        scale = max(float(np.abs(want).max(initial=0)), float(np.abs(x).max(initial=0)), 1e-30)
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-5 * scale)
    else:
        np.testing.assert_array_equal(got, want)


def call(mod, name, x, **kw):
    args, _ = FUNCS[name]
    return getattr(mod, name)(x, *args, **kw)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("name", sorted(FUNCS))
def test_matches_scipy(name, dtype, mode, isa):
    for x in inputs(dtype):
        kw = {"mode": mode}
        if mode == "constant":
            kw["cval"] = 3.5
        check(call(nn, name, x, **kw), call(sn, name, x, **kw), x)


@pytest.mark.parametrize("mode", GRID_MODES)
@pytest.mark.parametrize("name", sorted(FUNCS))
def test_grid_mode_aliases(name, mode):
    x = make((9, 10), np.float64)
    check(call(nn, name, x, mode=mode), call(sn, name, x, mode=mode), x)


@pytest.mark.parametrize("origin", [-2, -1, 0, 1])
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("name", [n for n, (_, o) in FUNCS.items() if o])
def test_origin(name, dtype, origin, isa):
    x = make((11, 9), dtype)
    args, _ = FUNCS[name]
    size = len(args[0]) if isinstance(args[0], list) else args[0]
    if not -(size // 2) <= origin <= (size - 1) // 2:
        with pytest.raises(ValueError, match="origin"):
            call(nn, name, x, origin=origin)
        return
    for mode in MODES:
        check(call(nn, name, x, origin=origin, mode=mode),
              call(sn, name, x, origin=origin, mode=mode), x)


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.uint8])
def test_filter_larger_than_image(dtype, isa):
    x = make((3, 2), dtype)
    w = np.linspace(-1, 1, 31)
    for mode in MODES:
        for axis in (0, 1):
            check(nn.correlate1d(x, w, axis, mode=mode), sn.correlate1d(x, w, axis, mode=mode), x)
            check(nn.uniform_filter1d(x, 20, axis, mode=mode),
                  sn.uniform_filter1d(x, 20, axis, mode=mode), x)
        check(nn.gaussian_filter(x, 5.0, mode=mode), sn.gaussian_filter(x, 5.0, mode=mode), x)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_symmetric_and_antisymmetric_weights(dtype, isa):
    x = make((40, 33), dtype)
    for w in ([1, 2, 1], [-1, 0, 1], [0.1, 0.2, 0.4, 0.2, 0.1], [-3, -1, 0, 1, 3],
              [1, 2, 3, 2, 1.0000000000000002], [5.0], [1, 2]):
        for axis in (0, 1):
            check(nn.correlate1d(x, w, axis), sn.correlate1d(x, w, axis), x)


@pytest.mark.parametrize("order", [0, 1, 2, 3])
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.uint16])
def test_gaussian_orders_truncate_radius(order, dtype, isa):
    x = make((15, 12, 4), dtype)
    check(nn.gaussian_filter(x, 1.5, order=order), sn.gaussian_filter(x, 1.5, order=order), x)
    check(nn.gaussian_filter1d(x, 2.0, axis=1, order=order, truncate=2.0),
          sn.gaussian_filter1d(x, 2.0, axis=1, order=order, truncate=2.0), x)
    check(nn.gaussian_filter1d(x, 0.7, axis=0, order=order, radius=5),
          sn.gaussian_filter1d(x, 0.7, axis=0, order=order, radius=5), x)
    kw = dict(sigma=[1.0, 0.5, 2.0], order=[order, 0, 1], mode=["wrap", "nearest", "mirror"],
              radius=[2, 3, 1])
    check(nn.gaussian_filter(x, **kw), sn.gaussian_filter(x, **kw), x)
    check(nn.gaussian_filter(x, [1.0, 0.0, 1e-16]), sn.gaussian_filter(x, [1.0, 0.0, 1e-16]), x)
    check(nn.gaussian_filter(x, 0.0), sn.gaussian_filter(x, 0.0), x)


def test_gaussian_sigma_types():
    # SciPy builds the weights with sigma as given: a float32 sigma squares in float32.
    x = make((20, 21), np.float64)
    for sigma in (1.3, np.float32(1.3), np.float64(1.3), 2, np.array(1.3), np.float32(2.7),
                  np.longdouble(1.5)):
        check(nn.gaussian_filter(x, sigma), sn.gaussian_filter(x, sigma), x)
        check(nn.gaussian_filter1d(x, sigma, order=2), sn.gaussian_filter1d(x, sigma, order=2), x)
    # longdouble weights, as float64 for the fused pass too
    sigma = [np.longdouble(1.5), 1.0]
    check(nn.gaussian_filter(x, sigma, order=1), sn.gaussian_filter(x, sigma, order=1), x)


def test_remembered_plans_keep_each_calls_meaning():
    """Filters remember their checked arguments and weights per distinct call (_ndimage_support
    .remembered). Equal values of other types keep their own meaning (a float32 sigma squares
    in float32), errors are raised every time, and nothing the caller passed is changed."""
    x = make((20, 21), np.float64)
    for sigma in (1.5, np.float32(1.5), [1.5, 2], (1.5, 2.0), [np.float32(1.5), 2], (1.5, 2),
                  [1.5, 2], np.float32(1.5)):
        for _ in range(2):
            check(nn.gaussian_filter(x, sigma), sn.gaussian_filter(x, sigma), x)
    for size in (3, 3.0, [3, 3], (3, 2), [3, 2]):
        for name in ("uniform_filter", "minimum_filter", "median_filter"):
            if name == "median_filter" and type(size) is float:  # SciPy's np.ones(sizes) refuses it
                with pytest.raises(TypeError, match="size"):
                    nn.median_filter(x, size)
                continue
            check(getattr(nn, name)(x, size), getattr(sn, name)(x, size), x)
    for _ in range(3):
        with pytest.raises(RuntimeError, match="mode"):
            nn.gaussian_filter(x, 1.0, mode="bogus")
        # Each pass's checks in pass order, as SciPy meets them: the first pass's mode before
        # the second's size (which int() refuses).
        with pytest.raises(RuntimeError, match="mode"):
            nn.uniform_filter(x, [3, np.inf], mode=["bogus", "reflect"])
        with pytest.raises(RuntimeError, match="rank"):
            nn.rank_filter(x, 9, 3)
    fp = np.ones((3, 3), bool)
    np.testing.assert_array_equal(nn.median_filter(x, footprint=fp),
                                  sn.median_filter(x, footprint=fp))
    assert fp.flags.writeable
    check(nn.sobel(x, axis=0), sn.sobel(x, axis=0), x)
    check(nn.sobel(x, axis=1), sn.sobel(x, axis=1), x)


@pytest.mark.parametrize("axes", [None, 0, -1, (0, 2), (2, 0), (1,), ()])
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int32])
def test_axes(axes, dtype):
    x = make((6, 7, 8), dtype)
    n = 3 if axes is None else len(np.atleast_1d(axes))
    per_axis = lambda v: [v] * n
    for name, args, kw in [
        ("uniform_filter", (3,), {}),
        ("uniform_filter", (per_axis(4),), {"origin": per_axis(1), "mode": per_axis("wrap")}),
        ("gaussian_filter", (1.2,), {}),
        ("gaussian_filter", (per_axis(0.8),), {"order": per_axis(1)}),
        ("laplace", (), {}),
        ("gaussian_laplace", (1.0,), {}),
        ("gaussian_gradient_magnitude", (1.1,), {}),
        # SciPy passes its sigma to gaussian_filter over every axis: one per input axis.
        ("gaussian_gradient_magnitude", ([1.1, 0.5, 0.9],), {}),
    ]:
        check(getattr(nn, name)(x, *args, axes=axes, **kw),
              getattr(sn, name)(x, *args, axes=axes, **kw), x)


def test_per_axis_modes():
    x = make((8, 9), np.float64)
    for name in ("sobel", "prewitt"):
        for axis in (0, 1, -1):
            m = ["wrap", "constant"]
            check(getattr(nn, name)(x, axis, mode=m, cval=2.0),
                  getattr(sn, name)(x, axis, mode=m, cval=2.0), x)
    check(nn.laplace(x, mode=["mirror", "nearest"]), sn.laplace(x, mode=["mirror", "nearest"]), x)
    check(nn.uniform_filter(x, [2, 5], mode=["reflect", "wrap"]),
          sn.uniform_filter(x, [2, 5], mode=["reflect", "wrap"]), x)


@pytest.mark.parametrize("out_dtype", [np.float32, np.float64, np.uint8, np.int16, np.int32,
                                       np.int64, np.int8])
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
def test_output_dtype(dtype, out_dtype):
    x = make((10, 12), dtype)
    for name in ("correlate1d", "uniform_filter", "gaussian_filter", "sobel", "laplace",
                 "gaussian_gradient_magnitude"):
        for out in (out_dtype, np.dtype(out_dtype), np.dtype(out_dtype).name):
            got, want = call(nn, name, x, output=out), call(sn, name, x, output=out)
            assert got.dtype == np.dtype(out_dtype)
            check(got, want, x)


@pytest.mark.parametrize("name", sorted(FUNCS))
def test_output_array_and_in_place(name):
    x = make((9, 10), np.float64)
    want = call(sn, name, x)
    out = np.full((9, 10), -1.0)
    got = call(nn, name, x, output=out)
    assert got is out
    np.testing.assert_array_equal(out, want)
    # A strided output and one of another dtype.
    big = np.zeros((18, 10), np.float32)
    got = call(nn, name, x, output=big[::2])
    np.testing.assert_allclose(big[::2], want.astype(np.float32), rtol=1e-6, atol=1e-4)
    assert not big[1::2].any()
    # The input itself as the output, and an overlapping view of it: as SciPy, whose
    # multi-axis sums (laplace, ...) then read the input after the first pass overwrote it.
    y, y_sp = x.copy(), x.copy()
    call(nn, name, y, output=y)
    call(sn, name, y_sp, output=y_sp)
    np.testing.assert_array_equal(y, y_sp)
    z, z_sp = np.concatenate([x, x], axis=1), np.concatenate([x, x], axis=1)
    call(nn, name, z[:, :10], output=z[:, 5:15])
    call(sn, name, z_sp[:, :10], output=z_sp[:, 5:15])
    np.testing.assert_array_equal(z, z_sp)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_in_place_tall_arrays(dtype, isa):
    # Lines read in place go in bands of positions; in place they must not read a row an
    # earlier band wrote.
    x = make((200, 70), dtype)
    for axis in (0, 1):
        for fn, arg in ((nn.correlate1d, [1.0, -2.0, 3.0, 0.5, 0.25]), (nn.uniform_filter1d, 7)):
            want = fn(x, arg, axis)
            y = x.copy()
            fn(y, arg, axis, output=y)
            np.testing.assert_array_equal(y, want)


def test_threads_do_not_change_bits(threads):
    x = make((257, 263), np.float32)
    u = make((257, 263), np.uint8)
    results = []
    for t in (1, 2, 4):
        npfast.set_num_threads(t)
        results.append([nn.gaussian_filter(x, 2.0), nn.uniform_filter(x, 5), nn.sobel(x, 0),
                        nn.gaussian_filter(u, 1.5), nn.uniform_filter(u, 4),
                        nn.gaussian_filter(x[None].repeat(3, 0), 1.0)])
    for r in results[1:]:
        for a, b in zip(results[0], r):
            np.testing.assert_array_equal(a, b)


def test_large_threaded_matches_scipy(isa):
    x = make((301, 517), np.float64)
    check(nn.gaussian_filter(x, 2.0), sn.gaussian_filter(x, 2.0), x)
    check(nn.uniform_filter(x, 5), sn.uniform_filter(x, 5), x)
    xf = x.astype(np.float32)
    check(nn.gaussian_filter(xf, 3.0), sn.gaussian_filter(xf, 3.0), xf)


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.uint8, np.int32])
def test_rows_crowding_cache_sets_match_scipy(dtype, isa, threads):
    """Passes across rows a whole page apart (4 KiB: 1024 float32, 512 float64) whose window
    holds more than 12 rows copy them before the kernel reads them (ndimage_line.h,
    rows_share_sets), and converted rows (uint8, int32) lie in scratch rows a line longer than a
    page: SciPy's results in every mode, with cval and origins, on 1 and 3 threads, and the same
    bits as the image at a pitch that crowds nothing (read in place)."""
    w = 4096 // np.dtype(dtype).itemsize if np.dtype(dtype).kind == "f" else 1024
    x = make((70, w), dtype)
    wide = np.zeros((70, w + 24), dtype)
    wide[:, :w] = x
    clear = wide[:, :w]  # the same values, rows 24 elements longer apart
    weights = np.linspace(0.5, 1.5, 15) * (1 - 2 * (np.arange(15) % 2))
    calls = [
        lambda a, **k: nn.gaussian_filter1d(a, 2.5, axis=0, **k),
        lambda a, **k: nn.correlate1d(a, weights, axis=0, origin=-3, **k),
        lambda a, **k: nn.convolve1d(a, weights[:13], axis=0, origin=2, **k),
    ]
    scipy_calls = [
        lambda a, **k: sn.gaussian_filter1d(a, 2.5, axis=0, **k),
        lambda a, **k: sn.correlate1d(a, weights, axis=0, origin=-3, **k),
        lambda a, **k: sn.convolve1d(a, weights[:13], axis=0, origin=2, **k),
    ]
    for mode in MODES:
        kw = {"mode": mode, "cval": 7.0}
        for ours, theirs in zip(calls, scipy_calls):
            want = theirs(x, **kw)
            for t in (1, 3):
                npfast.set_num_threads(t)
                got = ours(x, **kw)
                check(got, want, x)
                np.testing.assert_array_equal(got, ours(clear, **kw))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fused_passes_equal_separate_passes(dtype, isa):
    # gaussian_filter / sobel / prewitt fuse their last two passes over bands of rows: the
    # same bits as the passes one after the other. Rows 4 KiB apart (1024 floats, 512
    # doubles and their multiples) go through skewed scratch rows.
    from npfast._filters import _gaussian_weights
    for shape in [(37, 1003), (70, 9), (5, 40, 33), (150, 20), (70, 1024), (3, 20, 1024)]:
        x = make(shape, dtype)
        for mode in MODES:
            want = np.empty_like(x)
            nn.correlate1d(x, [-1, 0, 1], -2, want, mode, 2.5)
            nn.correlate1d(want, [1, 2, 1], -1, want, mode, 2.5)
            if x.ndim == 2:
                np.testing.assert_array_equal(nn.sobel(x, 0, mode=mode, cval=2.5), want)
            want = np.empty_like(x)
            nn.correlate1d(x, [-1, 0, 1], -1, want, mode, 2.5)
            for ax in range(x.ndim - 1):
                nn.correlate1d(want, [1, 1, 1], ax, want, mode, 2.5)
            if x.ndim == 2:
                np.testing.assert_array_equal(nn.prewitt(x, -1, mode=mode, cval=2.5), want)
            want = x.copy()
            for ax in range(x.ndim):
                nn.correlate1d(want, _gaussian_weights(1.7, 1, 4.0, None), ax, want, mode, 2.5)
            got = nn.gaussian_filter(x, 1.7, order=1, mode=mode, cval=2.5)
            np.testing.assert_array_equal(got, want)
            for size, origin in ((5, 0), (4, -2), (3, 1)):
                want = x.copy()
                for ax in range(x.ndim):
                    nn.uniform_filter1d(want, size, ax, want, mode, 2.5, origin)
                got = nn.uniform_filter(x, size, mode=mode, cval=2.5, origin=origin)
                np.testing.assert_array_equal(got, want)


def test_streamed_outputs_equal_separate_passes(isa, threads):
    # Fused outputs of at least 32 MiB leave through non-temporal stores (src/ops/
    # ndimage_filters.cc, kStreamBytes; gaussian's pass along rows 16 rows at a time,
    # f32_corr1d_lines_nt): the same bits as the passes one after the other, on every ISA.
    from npfast._filters import _gaussian_weights
    x = make((2049, 4099), np.float32)
    want = np.empty_like(x)
    nn.correlate1d(x, [-1, 0, 1], 0, want)
    nn.correlate1d(want, [1, 2, 1], 1, want)
    np.testing.assert_array_equal(nn.sobel(x, 0), want)
    want = x.copy()
    for ax in (0, 1):
        nn.correlate1d(want, _gaussian_weights(2.0, 0, 4.0, None), ax, want)
    np.testing.assert_array_equal(nn.gaussian_filter(x, 2.0), want)
    # Along rows first (axes (1, 0)): each row's results once, in the fused pair's ring, its
    # input prefetched; the pass across rows streams (f32_corr1d_nt), at 1 and 2 threads.
    for mode, cval in (("reflect", 0.0), ("constant", 1.5)):
        want = x.copy()
        for ax in (1, 0):
            nn.correlate1d(want, _gaussian_weights(2.0, 0, 4.0, None), ax, want, mode, cval)
        for t in (1, 2):
            npfast.set_num_threads(t)
            got = nn.gaussian_filter(x, 2.0, mode=mode, cval=cval, axes=(1, 0))
            np.testing.assert_array_equal(got, want, err_msg=f"{mode} {t} threads")
    want = x.copy()
    for ax in (0, 1):
        nn.uniform_filter1d(want, 5, ax, want)
    np.testing.assert_array_equal(nn.uniform_filter(x, 5), want)
    # 4096-wide rows (16 KiB and 32 KiB apart) take the fused pair's ring of input rows
    # (pair_fused), refilled by the pass along rows: float32 through the 16-row streamed kernel
    # and copy_rows, float64 through corr1d_line_copy; 32 MiB each, so streamed.
    for shape, dtype in (((2048, 4096), np.float32), ((1024, 4096), np.float64)):
        x = make(shape, dtype)
        want = x.copy()
        for ax in (0, 1):
            nn.correlate1d(want, _gaussian_weights(2.0, 0, 4.0, None), ax, want)
        np.testing.assert_array_equal(nn.gaussian_filter(x, 2.0), want, err_msg=str(dtype))
        if dtype == np.float32:
            # Into outputs off a 64-byte line by 1, 4 and 13 floats (np.empty_like's: 4): each
            # row's first few outputs stored plainly, the rest streamed from its first whole
            # line (the 16-row tiles; along rows first, the pass across rows' lane chunks).
            want10 = x.copy()
            for ax in (1, 0):
                nn.correlate1d(want10, _gaussian_weights(2.0, 0, 4.0, None), ax, want10)
            buf = np.empty(x.size + 32, np.float32)
            at = (-buf.ctypes.data % 64) // 4
            for off in (1, 4, 13):
                out = buf[at + off:at + off + x.size].reshape(shape)
                for axes, w in (((0, 1), want), ((1, 0), want10)):
                    out.fill(-7.0)
                    nn.gaussian_filter(x, 2.0, output=out, axes=axes)
                    np.testing.assert_array_equal(out, w, err_msg=f"offset {off} axes {axes}")


_SCIPY_STREAMED = {}


@pytest.mark.parametrize("shape,pad", [((2100, 4001), 0), ((1700, 5000), 0), ((2900, 3000), 3)])
def test_streamed_unaligned_widths_match_scipy(shape, pad, isa, threads):
    # Outputs of at least 32 MiB whose row pitch is not a multiple of the vector (4001, 5000
    # float32; 3003 through a view at an offset of 3 floats) take sobel's and
    # uniform_filter's grouped rows with shifted stores (filter1d RowStores): SciPy's result,
    # the same bits at 1, 2, 3 and 7 threads (7 into an output with its rows reversed).
    # (inf and NaN: the kernel tests; SciPy's running sums carry them along the line.)
    x = make(shape, np.float32, seed=5)
    cases = {"sobel0": lambda m, **kw: m.sobel(x, 0, **kw),
             "sobel1": lambda m, **kw: m.sobel(x, 1, **kw),
             "prewitt0": lambda m, **kw: m.prewitt(x, 0, mode="wrap", **kw),
             "uniform3": lambda m, **kw: m.uniform_filter(x, 3, **kw),
             "uniform5": lambda m, **kw: m.uniform_filter(x, (5, 3), mode="nearest", **kw)}
    for name, f in cases.items():
        key = (shape, name)
        if key not in _SCIPY_STREAMED:
            _SCIPY_STREAMED[key] = f(sn)
        want = _SCIPY_STREAMED[key]
        got = {}
        _npfast._set_core_cap_for_testing(16)
        try:
            for n in (1, 2, 3, 7):
                npfast.set_num_threads(n)
                buf = np.full((shape[0], shape[1] + pad), -7.0, np.float32)
                # 7 threads write through rows in reverse order (a negative row stride)
                out = buf[::-1, pad:] if n == 7 else buf[:, pad:]
                r = f(nn, output=out)
                assert r is None or r is out or np.shares_memory(r, out)
                got[n] = out.copy()
        finally:
            _npfast._set_core_cap_for_testing(0)
        check(got[1], want, x)
        for n in (2, 3, 7):
            assert np.array_equal(got[n], got[1]), f"{name}: {n} threads differ"


@pytest.mark.parametrize("dtype", [np.uint8, np.int16, np.uint16, np.int32, np.uint32])
def test_integer_uniform_sums_are_scipys_bits(dtype, isa, threads):
    """Integer lines sum exactly in double, so npfast sums them its own way (window sums along
    rows, running sums restarted every 64 rows across them) and must still give SciPy's bits:
    extreme values of the type, windows of 1 to 40 and 300, every mode, integer and fractional
    cval, integer and float64 outputs, both axes, 1 and 3 threads."""
    info = np.iinfo(dtype)
    rng = np.random.default_rng(5)
    x = rng.integers(info.min, info.max, (150, 90), dtype=np.int64, endpoint=True).astype(dtype)
    x[::7, ::5] = info.max
    x[3::11, 2::3] = info.min
    for size in (1, 2, 5, 9, 32, 33, 40, 300):
        for mode, cval in [("reflect", 0.0), ("constant", 3.0), ("constant", 2.5), ("constant", 0.1),
                           ("constant", -7.0), ("wrap", 0.0), ("nearest", 0.0)]:
            for axis in (0, 1):
                for out in (dtype, np.float64):
                    want = sn.uniform_filter1d(x, size, axis=axis, mode=mode, cval=cval,
                                               output=out)
                    for t in (1, 3):
                        npfast.set_num_threads(t)
                        got = nn.uniform_filter1d(x, size, axis=axis, mode=mode, cval=cval,
                                                  output=out)
                        np.testing.assert_array_equal(got, want,
                                                      err_msg=f"{size} {mode} {cval} {axis} {out}")
        want = sn.uniform_filter(x, size, mode="mirror")
        np.testing.assert_array_equal(nn.uniform_filter(x, size, mode="mirror"), want)


def test_float32_wide_uniform_windows_are_scipys_bits(isa, threads):
    """float32 windows wider than 256 sum in double as SciPy does (each float32 restart summed
    its whole window: a 20001-wide one ran 0.03x SciPy): SciPy's bits, NaN tails included,
    along and across rows, strided views, in place, the 2-D filter with one wide axis."""
    rng = np.random.default_rng(28)
    x = (rng.random((300, 280)) * 100 - 20).astype(np.float32)
    for size in (257, 300, 611):
        for mode, cval, origin in [("reflect", 0.0, 0), ("constant", 2.5, 3), ("wrap", 0.0, -7),
                                   ("nearest", 0.0, 128), ("mirror", 0.0, 0)]:
            for axis in (0, 1):
                for v in (x, x[::2, ::-1], x[3:, 5:].T):
                    kw = dict(axis=axis, mode=mode, cval=cval, origin=origin)
                    want = sn.uniform_filter1d(v, size, **kw)
                    for t in (1, 3):
                        npfast.set_num_threads(t)
                        np.testing.assert_array_equal(nn.uniform_filter1d(v, size, **kw), want,
                                                      err_msg=f"{size} {mode} {axis} {t}")
    y = x.copy()
    nn.uniform_filter1d(y, 400, axis=0, output=y)
    np.testing.assert_array_equal(y, sn.uniform_filter1d(x, 400, axis=0))
    for size in ((301, 5), (3, 401), (270, 290)):
        np.testing.assert_allclose(nn.uniform_filter(x, size, mode="nearest"),
                                   sn.uniform_filter(x, size, mode="nearest"), rtol=0, atol=1e-4)
    z = np.ones(1000, np.float32)
    z[10] = np.inf
    np.testing.assert_array_equal(nn.uniform_filter1d(z, 301), sn.uniform_filter1d(z, 301))


def test_lines_along_rows_copied_by_transposes(isa, threads):
    """float32 uniform windows of 33-256 along rows copy blocks of rows into lanes and back by
    4 x 4 transposes (pack::transpose): the same bits as the same lines read as columns
    (rows of x.T, no copy), for row pitches past the width, odd heights and widths, in place
    and into a padded output; SciPy within the float32 tolerance."""
    rng = np.random.default_rng(29)
    for shape in ((37, 101), (5, 300), (130, 67), (3, 40)):
        base = (rng.random((shape[0], shape[1] + 5)) * 50 - 10).astype(np.float32)
        x = base[:, 2:2 + shape[1]]
        for size, mode, origin in ((33, "reflect", 0), (64, "constant", 5), (100, "wrap", -9),
                                   (256, "mirror", 0), (40, "nearest", 19)):
            want = nn.uniform_filter1d(np.ascontiguousarray(x.T), size, axis=0, mode=mode,
                                       cval=1.5, origin=origin).T
            got = nn.uniform_filter1d(x, size, axis=1, mode=mode, cval=1.5, origin=origin)
            np.testing.assert_array_equal(got, want, err_msg=f"{shape} {size} {mode}")
            padded = np.full((shape[0], shape[1] + 3), 7.0, np.float32)
            nn.uniform_filter1d(x, size, axis=1, mode=mode, cval=1.5, origin=origin,
                                output=padded[:, 1:-2])
            np.testing.assert_array_equal(padded[:, 1:-2], want)
            assert (padded[:, 0] == 7).all() and (padded[:, -2:] == 7).all()
            y = x.copy()
            nn.uniform_filter1d(y, size, axis=1, mode=mode, cval=1.5, origin=origin, output=y)
            np.testing.assert_array_equal(y, want)
            ref = sn.uniform_filter1d(x.astype(np.float64), size, axis=1, mode=mode, cval=1.5,
                                      origin=origin)
            assert np.abs(got - ref).max() <= 1e-5 * np.abs(x).max()


def test_few_lines_and_short_rows(isa, threads):
    """Arrays of fewer lines than a vector's lanes ((N, 1) columns, (N, 3) series, 3-D with
    length-1 axes) filter line by line along any axis, and rows shorter than 16 side by side
    (along_lines): SciPy's bits where npfast promises them, float32 within tolerance, and the
    float32 sums' bits equal to the same lines among many (the corr1d kernels agree along and
    across rows), in place and into strided outputs, on 1 and 3 threads."""
    rng = np.random.default_rng(30)
    calls = [("uniform_filter1d", (5,)), ("uniform_filter1d", (40,)), ("uniform_filter1d", (300,)),
             ("correlate1d", ([0.5, -1.0, 2.0, 0.25, 1.5],)), ("gaussian_filter1d", (2.0,)),
             ("minimum_filter1d", (9,)), ("maximum_filter1d", (20,))]
    for dtype in (np.float32, np.float64, np.uint8, np.int32):
        wide = make((700, 12), dtype, 31)
        for c in (1, 2, 3, 5, 7):
            for x, axis in ((wide[:, :c], 0), (np.ascontiguousarray(wide[:, :c]), 0),
                            (np.ascontiguousarray(wide[:, :c].T), 1),
                            (wide[:, :c].reshape(700, 1, c), 0), (wide[::-2, :c], 0),
                            (wide[:, :c], 1), (np.ascontiguousarray(wide[::-1, :c]), 1)):
                for name, args in calls:
                    kw = dict(axis=axis, mode="reflect")
                    want = getattr(sn, name)(x, *args, **kw)
                    got = getattr(nn, name)(x, *args, **kw)
                    if dtype == np.float32 and name == "uniform_filter1d" and args[0] <= 256:
                        assert np.abs(got - want).max() <= 1e-5 * np.abs(x).max(), (name, c)
                    elif dtype == np.float32 and name in ("correlate1d", "gaussian_filter1d"):
                        # float32 sums: the same bits as these lines among many.
                        cols = np.moveaxis(x, axis, 0).reshape(x.shape[axis], -1)
                        many = np.concatenate([cols, np.zeros((len(cols), 12), dtype)], axis=1)
                        many = getattr(nn, name)(many, *args, axis=0, mode="reflect")
                        lines = np.moveaxis(got, axis, 0).reshape(x.shape[axis], -1)
                        np.testing.assert_array_equal(lines, many[:, :lines.shape[1]],
                                                      err_msg=f"{name} {c}")
                    else:
                        np.testing.assert_array_equal(got, want, err_msg=f"{name} {c} {dtype}")
                    y = np.array(x)
                    getattr(nn, name)(y, *args, output=y, **kw)
                    np.testing.assert_array_equal(y, got)
                    out = np.zeros((x.shape[0] * 2,) + x.shape[1:], got.dtype)[::2]
                    getattr(nn, name)(x, *args, output=out, **kw)
                    np.testing.assert_array_equal(out, got)


@pytest.mark.parametrize("dtype", [np.uint8, np.int16, np.uint16, np.int32])
def test_edge_pairs_through_scratch_are_scipys_bits(dtype, threads):
    """Two unfused passes whose second runs across rows (sobel / prewitt along the last axis on
    integer images) go through a scratch array of the output's dtype (correlate1d_pair): SciPy's
    bits, in place, into a padded output, into another integer dtype, on 1 and 3 threads."""
    x = make((150, 233), dtype if dtype != np.int16 else np.int32, 32).astype(dtype)
    for name in ("sobel", "prewitt"):
        for mode in ("reflect", "constant", "wrap"):
            want = getattr(sn, name)(x, axis=-1, mode=mode, cval=3.0)
            for t in (1, 3):
                npfast.set_num_threads(t)
                np.testing.assert_array_equal(getattr(nn, name)(x, axis=-1, mode=mode, cval=3.0),
                                              want, err_msg=f"{name} {mode} {t}")
            y = x.copy()
            getattr(nn, name)(y, axis=-1, mode=mode, cval=3.0, output=y)
            np.testing.assert_array_equal(y, want)
            pad = np.full((150, 240), 9, dtype)
            getattr(nn, name)(x, axis=-1, mode=mode, cval=3.0, output=pad[:, 3:236])
            np.testing.assert_array_equal(pad[:, 3:236], want)
            assert (pad[:, :3] == 9).all() and (pad[:, 236:] == 9).all()
            for out in (np.int16, np.int32):
                np.testing.assert_array_equal(
                    getattr(nn, name)(x, axis=-1, mode=mode, cval=3.0, output=out),
                    getattr(sn, name)(x, axis=-1, mode=mode, cval=3.0, output=out))


def unaligned(a):
    """A copy of `a` whose data starts one byte past an element boundary."""
    buf = np.zeros(a.nbytes + a.itemsize + 1, np.uint8)
    u = np.frombuffer(buf.data, a.dtype, a.size, offset=1).reshape(a.shape)
    u[...] = a
    return u


@pytest.mark.parametrize("dtype", [np.uint16, np.int32])
def test_unaligned_integer_images(dtype, isa):
    """Integer rows converted to double by the elementwise kernels from an array NumPy holds
    unaligned (outputs must be aligned: ValueError): SciPy's bytes."""
    x = make((37, 45), dtype)
    xu = unaligned(x)
    assert not xu.flags.aligned
    for axis in (0, 1):
        np.testing.assert_array_equal(nn.gaussian_filter1d(xu, 1.5, axis=axis),
                                      sn.gaussian_filter1d(x, 1.5, axis=axis))
        np.testing.assert_array_equal(nn.uniform_filter1d(xu, 4, axis=axis),
                                      sn.uniform_filter1d(x, 4, axis=axis))
    with pytest.raises(ValueError, match="output"):
        nn.gaussian_filter1d(x, 1.5, output=unaligned(np.zeros_like(x)))


@pytest.mark.parametrize("size", [5, 50])
def test_float32_long_lines_do_not_drift(size, isa):
    # float32 running sums restart every 64 positions; SciPy sums in double.
    x = (np.random.default_rng(4).random((3, 100_000)) * 100 + 1e4).astype(np.float32)
    for axis, a in ((1, x), (0, np.ascontiguousarray(x.T))):
        check(nn.uniform_filter1d(a, size, axis), sn.uniform_filter1d(a, size, axis), a)


# ---------------------------------------------------------------------------------------------
# Errors: SciPy's class, with the argument named.

@pytest.mark.parametrize("name", sorted(FUNCS))
def test_unknown_mode(name):
    x = make((5, 6), np.float64)
    with pytest.raises(ValueError, match="mode"):
        call(nn, name, x, mode="bogus")
    with pytest.raises(RuntimeError, match="mode"):
        call(nn, name, x, mode="bogus")
    with pytest.raises(RuntimeError):
        call(sn, name, x, mode="bogus")


@pytest.mark.parametrize("name", ["uniform_filter", "gaussian_filter", "sobel", "prewitt",
                                  "laplace", "gaussian_laplace", "gaussian_gradient_magnitude"])
def test_wrong_length_mode_sequence(name):
    x = make((5, 6), np.float64)
    with pytest.raises(RuntimeError, match="mode"):
        call(nn, name, x, mode=["reflect"] * 3)
    with pytest.raises(RuntimeError):
        call(sn, name, x, mode=["reflect"] * 3)


@pytest.mark.parametrize("name", ["uniform_filter", "gaussian_filter", "laplace",
                                  "gaussian_laplace", "gaussian_gradient_magnitude"])
def test_bad_axes(name):
    x = make((5, 6), np.float64)
    for axes, exc in [((0, 0), ValueError), ((0, -2), ValueError), ((2,), ValueError),
                      ((-3,), ValueError), ("a", TypeError)]:
        with pytest.raises(exc, match="axes"):
            call(nn, name, x, axes=axes)


def test_bad_arguments():
    x = make((5, 6), np.float64)
    cases = [
        (lambda: nn.correlate1d(x, []), RuntimeError, "weights"),
        (lambda: nn.correlate1d(x, [[1, 2]]), RuntimeError, "weights"),
        (lambda: nn.correlate1d(x, [1, 2, 3], origin=2), ValueError, "origin"),
        (lambda: nn.correlate1d(x, [1, 2, 3], axis=2), ValueError, "axis"),
        (lambda: nn.correlate1d(x, [1j, 2]), TypeError, "weights"),
        (lambda: nn.correlate1d(x.astype(complex), [1, 2]), TypeError, "input"),
        (lambda: nn.correlate1d(x, [1, 2], output=np.complex128), TypeError, "output"),
        (lambda: nn.correlate1d(x, [1, 2], output=np.zeros((5, 6), complex)), TypeError, "output"),
        (lambda: nn.correlate1d(x, [1, 2], output=np.zeros((5, 5))), RuntimeError, "output"),
        (lambda: nn.correlate1d(x, [1, 2], output="bool"), RuntimeError, "output"),
        (lambda: nn.correlate1d(x, [1, 2], cval=1j), TypeError, "cval"),
        (lambda: nn.median_filter(x, 3, mode="constant", cval="2"), TypeError, "cval"),
        (lambda: nn.percentile_filter(x, "50", size=3), TypeError, "percentile"),
        (lambda: nn.uniform_filter1d(x, 0), RuntimeError, "size"),
        (lambda: nn.uniform_filter1d(x, 3, origin=-2), ValueError, "origin"),
        (lambda: nn.uniform_filter(x, [3, 3, 3]), RuntimeError, "size"),
        (lambda: nn.uniform_filter(x, 3, origin=[0, 2]), ValueError, "origin"),
        (lambda: nn.gaussian_filter(x, -1.0), ValueError, "sigma"),
        (lambda: nn.gaussian_filter(x, [1.0, 2.0, 3.0]), RuntimeError, "sigma"),
        (lambda: nn.gaussian_filter(x, 1.0, order=-1), ValueError, "^order: must be"),
        (lambda: nn.gaussian_filter1d(x, 1.0, radius=-1), ValueError, "radius"),
        (lambda: nn.gaussian_filter1d(x, 1.0, radius=1.5), ValueError, "radius"),
        # arange(-r, r + 1) empty: SciPy's "no filter weights given" (RuntimeError), fused or not
        (lambda: nn.gaussian_filter(x, 1.0, truncate=2.0**62), RuntimeError, "weights"),
        (lambda: nn.gaussian_filter1d(x, 1.0, truncate=2.0**62), RuntimeError, "weights"),
        (lambda: nn.sobel(x, axis=3), ValueError, "axis"),
        (lambda: nn.sobel(np.float64(3.0)), ValueError, "axis"),  # 0-d: no axis -1, as SciPy
    ]
    for fn, exc, arg in cases:
        with pytest.raises(exc, match=arg):
            fn()


def test_exported():
    for name in FUNCS:
        assert name in nn.__all__
        assert callable(getattr(nn, name))


# ---------------------------------------------------------------------------------------------
# Properties (hypothesis): random shapes including 0 and 1, views with negative and odd steps,
# every function, mode, dtype, axis and origin, against SciPy.

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@st.composite
def filter_case(draw):
    dtype = draw(st.sampled_from(DTYPES))
    ndim = draw(st.integers(1, 3))
    shape = [draw(st.integers(0, 9)) for _ in range(ndim)]
    steps = [draw(st.sampled_from([1, 1, 2, -1, -3])) for _ in range(ndim)]
    base = make([max(1, n * abs(s)) for n, s in zip(shape, steps)], dtype,
                seed=draw(st.integers(0, 2**31)))
    x = base[tuple(slice(None, None, s) for s in steps)][tuple(slice(0, n) for n in shape)]
    name = draw(st.sampled_from(sorted(FUNCS)))
    kw = {"mode": draw(st.sampled_from(MODES + GRID_MODES)),
          "cval": draw(st.sampled_from([0.0, -2.5]))}
    args = FUNCS[name][0]
    if name in ("correlate1d", "convolve1d"):
        n = draw(st.integers(1, 12))
        args = (list(np.random.default_rng(n).uniform(-2, 2, n)),)
        kw["origin"] = draw(st.integers(-(n // 2), (n - 1) // 2))
    elif name in ("uniform_filter1d", "uniform_filter"):
        n = draw(st.integers(1, 12))
        args = (n,)
        kw["origin"] = draw(st.integers(-(n // 2), (n - 1) // 2))
    elif name.startswith("gaussian"):
        args = (draw(st.sampled_from([0.5, 1.0, 2.5])),)
    if name.endswith("1d") or name in ("sobel", "prewitt"):
        kw["axis"] = draw(st.integers(-ndim, ndim - 1))
    return name, x, args, kw


@settings(max_examples=150, deadline=None, derandomize=True, database=None)
@given(case=filter_case())
def test_property_matches_scipy(case):
    name, x, args, kw = case
    check(getattr(nn, name)(x, *args, **kw), getattr(sn, name)(x, *args, **kw), x)


@pytest.mark.parametrize("mode", ["constant", "reflect", ("wrap", "constant")])
def test_streamed_grouped_rows_equal_separate_passes(mode, isa):
    # 4096-wide float32 rows, 32 MiB out: sobel / prewitt along the last axis take sep3_rows'
    # streamed groups of output rows (src/ops/ndimage_filters.cc: f32_sep3_rows, columns 0 and
    # W - 1 from each input row's extended piece, groups stopping at the cval rows), uniform 5
    # f32_uniform2d_rows_nt: the same bits as the passes one after the other.
    x = make((2050, 4096), np.float32, seed=5)
    modes = (mode, mode) if isinstance(mode, str) else mode
    for name, smooth in (("sobel", [1, 2, 1]), ("prewitt", [1, 1, 1])):
        want = np.empty_like(x)
        nn.correlate1d(x, [-1, 0, 1], 1, want, modes[1], 2.5)
        nn.correlate1d(want, smooth, 0, want, modes[0], 2.5)
        got = getattr(nn, name)(x, -1, mode=mode, cval=2.5)
        np.testing.assert_array_equal(got, want, err_msg=name)
    want = x.copy()
    for ax in (0, 1):
        nn.uniform_filter1d(want, 5, ax, want, modes[ax], 2.5)
    np.testing.assert_array_equal(nn.uniform_filter(x, 5, mode=mode, cval=2.5), want)


def test_gaussian_radius_errors_name_the_argument():
    """probe18a: an infinite sigma or truncate raised a bare OverflowError (SciPy's class, no
    argument named), NaN a bare ValueError, truncate=1e300 numpy's "Maximum allowed size
    exceeded"; a huge radius numpy's MemoryError."""
    x = np.ones((5, 6))
    for kw in ({"sigma": np.inf}, {"sigma": 1.0, "truncate": np.inf},
               {"sigma": np.inf, "radius": 2}):
        with pytest.raises(OverflowError):
            sn.gaussian_filter1d(x, **kw)
        with pytest.raises(ValueError, match="sigma, truncate: .* not finite") as e:
            nn.gaussian_filter1d(x, **kw)
        assert isinstance(e.value, OverflowError)
    with pytest.raises(ValueError, match="sigma, truncate"):
        nn.gaussian_filter1d(x, np.nan)  # (gaussian_filter skips a NaN sigma, as SciPy)
    with pytest.raises(ValueError, match="truncate: the Gaussian radius 1e\\+300"):
        nn.gaussian_filter1d(x, 1.0, truncate=1e300)
    with pytest.raises(MemoryError, match="radius: the Gaussian radius"):
        nn.gaussian_filter1d(x, 1.0, radius=2**41)


@pytest.mark.parametrize("weights", [[1e39], [1e-46], [3e-41, 1.0, 3e-41], [1.0, 5e38, 1.0]])
def test_float32_weights_float32_cannot_hold(weights, isa):
    """probe18a: float32 image and output with weights outside float32's normal range: the sums
    run in double (SciPy's bits), where the float32 weights gave inf / NaN / 0 or 1.3e-5 off."""
    x = make((12, 40), np.float32)
    x[3, 5] = 1e-30
    for axis in (0, 1):
        np.testing.assert_array_equal(nn.correlate1d(x, weights, axis),
                                      sn.correlate1d(x, weights, axis))
    w = np.asarray(weights)
    np.testing.assert_array_equal(nn.correlate1d(x[None].repeat(3, 0), w, 0),
                                  sn.correlate1d(x[None].repeat(3, 0), w, 0))
    # The fused pair (gaussian_filter's two passes) takes them too.
    from npfast._filters import _correlate1d_pair
    out = np.empty_like(x)
    _correlate1d_pair(x, w, 1, "reflect", w, 0, "reflect", out, 0.0)
    want = sn.correlate1d(sn.correlate1d(x, w, 1), w, 0)
    np.testing.assert_array_equal(out, want)


def test_huge_sizes_raise_memory_error():
    """A line buffer of size + n elements whose bytes do not fit the address space raises
    MemoryError (SciPy 1.17 crashes there; its size * 8 wraps)."""
    x = np.ones((5, 6))
    for call in (lambda: nn.maximum_filter1d(x, 2**61), lambda: nn.minimum_filter1d(x, 2**62),
                 lambda: nn.uniform_filter1d(x, 2**61), lambda: nn.uniform_filter(x, 2**62),
                 lambda: nn.minimum_filter(x, 2**62)):
        with pytest.raises(MemoryError):
            call()


def test_float32_uniform_long_windows_keep_the_tolerance():
    """probe22a: float32 window sums at each restart of the running sum went left to right over
    the whole window (0.1 summed 10001 times came out 9.7e-5 off, 1025^2 windows 1.4e-5); now
    in partial sums of 64 (filter1d.h kAnchorBlock): within 1e-5 of SciPy's scale."""
    x = np.full(20000, 0.1, np.float32)
    for size in (65, 1001, 10001):
        assert np.abs(nn.uniform_filter1d(x, size) - 0.1).max() <= 1e-5 * 0.1
    y = (100 + np.random.default_rng(3).standard_normal(20000)).astype(np.float32)
    want = sn.uniform_filter1d(y.astype(np.float64), 10001, mode="nearest")
    assert np.abs(nn.uniform_filter1d(y, 10001, mode="nearest") - want).max() <= 1e-5 * 100
    z = np.full((1100, 1100), 0.1, np.float32)
    assert np.abs(nn.uniform_filter(z, 1025) - 0.1).max() <= 1e-5 * 0.1


def test_bool_order_is_a_type_error():
    """probe22a: order=True ran as order 1; SciPy raises TypeError."""
    x = np.ones((5, 5))
    for call in (lambda m: m.gaussian_filter(x, 1.0, order=True),
                 lambda m: m.gaussian_filter1d(x, 1.0, order=True),
                 lambda m: m.gaussian_filter(x, 1.0, order=[0, np.True_])):
        with pytest.raises(TypeError):
            call(sn)
        with pytest.raises(TypeError, match="order: must be an integer"):
            call(nn)


def test_object_weights():
    """probe22a: weights NumPy holds as objects (Fractions, Decimals, ints past 64 bits) were
    refused; SciPy converts them to float64 as any weights. Objects that are not numbers (and
    None, which NumPy's conversion makes a NaN) are a TypeError naming weights."""
    from decimal import Decimal
    from fractions import Fraction
    x = make((6, 7), np.float64)
    for w in ([Fraction(1, 3), 1, 2], [Decimal("0.5"), 2**70, 1], np.array([1, 2.5], object)):
        for f in ("correlate1d", "convolve1d"):
            np.testing.assert_array_equal(getattr(nn, f)(x, w), getattr(sn, f)(x, w))
    w2 = np.array([[Fraction(1, 3), 1], [2, Decimal(1)]], dtype=object)
    for f in ("correlate", "convolve"):
        np.testing.assert_allclose(getattr(nn, f)(x, w2), getattr(sn, f)(x, w2), rtol=1e-13)
    for bad in (np.array(["a", 1], object), np.array([1j, 1], object), np.array([None, 1])):
        for call in (lambda: nn.correlate1d(x, bad), lambda: nn.correlate(x, bad[None])):
            with pytest.raises(TypeError, match="weights: values that are not real numbers"):
                call()
    with pytest.raises(OverflowError):
        sn.correlate1d(x, [10**400, 1])
    with pytest.raises(OverflowError, match="weights: a value past float64's range"):
        nn.correlate1d(x, [10**400, 1])


def test_huge_uniform_window_leaves_output():
    """probe22a: the first of two passes wrote the caller's output, then the second (a window
    of 2**36, a 512 GB line buffer) ran out of memory; now the buffer is tried first and the
    error names `size`."""
    for shape, size in (((5, 6), [3, 2**36]), ((4, 5, 6), [3, 2, 2**62])):
        out = np.full(shape, 5.0)
        with pytest.raises(MemoryError, match="size: a window of"):
            nn.uniform_filter(np.ones(shape), size, output=out)
        assert (out == 5.0).all()
    with pytest.raises(MemoryError, match="size: a window of 68719476736 along axis 0"):
        nn.uniform_filter1d(np.ones((5, 6)), 2**36, axis=0)


def test_unsupported_dtypes_raise_scipys_class_too():
    """Complex outputs of real input, longdouble and object inputs: SciPy raises RuntimeError,
    npfast AnchorTypeError (a TypeError naming the argument, and a RuntimeError)."""
    x = np.ones((5, 6))
    calls = [lambda m: m.gaussian_filter(x, 1, output=np.complex128),
             lambda m: m.median_filter(x, 3, output=np.complex128),
             lambda m: m.minimum_filter(x, 3, output=np.complex64),
             lambda m: m.sobel(x, output=np.zeros(x.shape, np.complex128)),
             lambda m: m.gaussian_filter(x.astype(np.longdouble), 1),
             lambda m: m.uniform_filter(x.astype(object), 3),
             lambda m: m.median_filter(x.astype(object), 3),
             # Non-numeric outputs (probe18a: the rank filters wrote b'1.0' into an 'S8' array,
             # minimum_filter named `input` for output=object).
             lambda m: m.median_filter(x, 3, output=np.empty(x.shape, "S8")),
             lambda m: m.rank_filter(x, 1, 3, output=np.empty(x.shape, "m8[s]")),
             lambda m: m.minimum_filter1d(x, 3, output=object),
             lambda m: m.maximum_filter(x, footprint=np.eye(3), output=np.empty(x.shape, "O")),
             lambda m: m.gaussian_filter(x, 1, output=np.empty(x.shape, "U3"))]
    for call in calls:
        with pytest.raises(RuntimeError):
            call(sn)
        with pytest.raises(TypeError) as e:
            call(nn)
        assert isinstance(e.value, RuntimeError)


def test_zero_d_input_as_scipy():
    """A 0-d input has no axis to filter: the N-D filters return its copy in `output`'s dtype,
    the 1-D ones (and the edge filters, along axis -1) refuse the axis, as SciPy."""
    x = np.array(2.5)
    for name, args, kw in [("gaussian_filter", (1.0,), {}), ("uniform_filter", (3,), {}),
                           ("median_filter", (3,), {}), ("minimum_filter", (3,), {}),
                           ("maximum_filter", (3,), {"output": np.int32}),
                           ("rank_filter", (0, 3), {}), ("percentile_filter", (50, 3), {}),
                           ("laplace", (), {}), ("gaussian_laplace", (1.0,), {}),
                           ("gaussian_gradient_magnitude", (1.0,), {})]:
        got, want = getattr(nn, name)(x, *args, **kw), getattr(sn, name)(x, *args, **kw)
        assert got.shape == () and got.dtype == want.dtype and got == want, name
    for name, args in [("sobel", ()), ("correlate1d", ([1, 2],)), ("minimum_filter1d", (3,))]:
        with pytest.raises(np.exceptions.AxisError):
            getattr(nn, name)(x, *args)
