"""npfast.ndimage's rank filters against scipy.ndimage, value for value: every function ×
mode × dtype × origin, sizes and footprints (larger than the image too), NaN-holding inputs,
1-, 2- and 3-D arrays, axes, output= arrays and dtypes, non-contiguous views, every ISA
(the `isa` fixture), and SciPy's exception classes for bad arguments.

One documented difference is tested as such: SciPy sends 1-D inputs of rank filters through
a second algorithm (_rank_filter_1d) whose answers for windows with a NaN, and for windows
longer than the line under reflect/mirror/wrap (where it reads past the array), are not
NI_Select's; npfast's 1-D answers equal SciPy's for the same values laid out as one row of a
2-D array.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import scipy.ndimage as ndi

import npfast
import npfast.ndimage as nd

MODES = ["reflect", "constant", "nearest", "mirror", "wrap", "grid-mirror", "grid-constant",
         "grid-wrap"]
DTYPES = [np.float32, np.float64, np.uint8, np.uint16, np.int32]


def sample(rng, shape, dtype, nan=0.0):
    if np.dtype(dtype).kind == "f":
        x = rng.integers(-6, 7, size=shape).astype(dtype) + (rng.random(shape) < 0.5) * 0.25
        x = x.astype(dtype)
        x[rng.random(shape) < 0.05] = -0.0
        if nan:
            x[rng.random(shape) < nan] = np.nan
            x[rng.random(shape) < nan / 2] = np.inf
        return x
    info = np.iinfo(dtype)
    lo, hi = max(info.min, -1000), min(info.max, 1000)
    return rng.integers(lo, hi + 1, size=shape).astype(dtype)


def same(got, want):
    assert got.dtype == want.dtype, (got.dtype, want.dtype)
    assert got.shape == want.shape
    np.testing.assert_array_equal(got, want)


def rand_shape(rng, ndim):
    return tuple(int(rng.choice([1, 2, 3, 5, 8, 13])) for _ in range(ndim))


# ---------------------------------------------------------------------------------------------
# minimum_filter1d / maximum_filter1d


@pytest.mark.parametrize("name", ["minimum_filter1d", "maximum_filter1d"])
def test_filter1d_random_cases(isa, name):
    rng = np.random.default_rng(1)
    ours, theirs = getattr(nd, name), getattr(ndi, name)
    for _ in range(250):
        ndim = int(rng.integers(1, 4))
        shape = rand_shape(rng, ndim)
        dtype = DTYPES[int(rng.integers(len(DTYPES)))]
        x = sample(rng, shape, dtype, nan=0.1 if rng.random() < 0.5 else 0.0)
        size = int(rng.integers(1, 18))
        origin = int(rng.integers(-(size // 2), (size - 1) // 2 + 1))
        axis = int(rng.integers(-ndim, ndim))
        mode = MODES[int(rng.integers(len(MODES)))]
        cval = float(rng.choice([0.0, -2.5, 7.0, np.nan]))
        kw = dict(size=size, axis=axis, mode=mode, cval=cval, origin=origin)
        same(ours(x, **kw), theirs(x, **kw))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("mode", MODES)
def test_filter1d_every_mode_and_dtype(mode, dtype):
    rng = np.random.default_rng(2)
    x = sample(rng, (9, 40), dtype, nan=0.05)
    for size in (2, 3, 5, 41, 90):
        for origin in {-(size // 2), 0, (size - 1) // 2}:
            for axis in (0, 1):
                for fn in ("minimum_filter1d", "maximum_filter1d"):
                    kw = dict(size=size, axis=axis, mode=mode, cval=3.0, origin=origin)
                    same(getattr(nd, fn)(x, **kw), getattr(ndi, fn)(x, **kw))


def test_filter1d_nan_positions_match_scipys_deque(isa):
    n = np.nan
    x = np.array([[1, n, 3, 2, 0, 5, 4], [n, 1, 2, 3, 4, 5, 6], [5, 4, 3, n, 2, 1, 0]])
    for fn in ("minimum_filter1d", "maximum_filter1d"):
        for size in (2, 3, 4):
            for mode in ("constant", "reflect"):
                kw = dict(size=size, mode=mode, cval=-9)
                same(getattr(nd, fn)(x, **kw), getattr(ndi, fn)(x, **kw))
                same(getattr(nd, fn)(x.T, axis=0, **kw), getattr(ndi, fn)(x.T, axis=0, **kw))


def test_filter1d_outputs_and_views():
    rng = np.random.default_rng(3)
    x = sample(rng, (20, 30), np.float64, nan=0.02) * 10.3
    for out_dtype in (np.float32, np.int32, np.uint8, np.int16, np.float64):
        same(nd.maximum_filter1d(x, 4, output=out_dtype), ndi.maximum_filter1d(x, 4, output=out_dtype))
    out = np.zeros((20, 30), np.float32)
    got = nd.minimum_filter1d(x, 3, axis=0, output=out)
    assert got is out
    same(out, ndi.minimum_filter1d(x, 3, axis=0, output=np.float32))
    for view in (x[::2, ::-3], x.T, np.asfortranarray(x), x[3:17, 5:6]):
        same(nd.minimum_filter1d(view, 5, axis=0), ndi.minimum_filter1d(view, 5, axis=0))
        same(nd.maximum_filter1d(view, 5), ndi.maximum_filter1d(view, 5))
    y = x.copy()
    nd.minimum_filter1d(y, 3, output=y)  # in place, as SciPy allows
    same(y, ndi.minimum_filter1d(x, 3))


# ---------------------------------------------------------------------------------------------
# minimum_filter / maximum_filter


@pytest.mark.parametrize("name", ["minimum_filter", "maximum_filter"])
def test_filter_random_cases(isa, name):
    rng = np.random.default_rng(4)
    ours, theirs = getattr(nd, name), getattr(ndi, name)
    for _ in range(120):
        ndim = int(rng.integers(1, 4))
        shape = rand_shape(rng, ndim)
        dtype = DTYPES[int(rng.integers(len(DTYPES)))]
        x = sample(rng, shape, dtype, nan=0.1 if rng.random() < 0.5 else 0.0)
        mode = MODES[int(rng.integers(len(MODES)))]
        cval = float(rng.choice([0.0, -2.0, 300.0]))
        if rng.random() < 0.5:
            size = [int(rng.integers(1, 7)) for _ in range(ndim)]
            origin = [int(rng.integers(-(s // 2), (s - 1) // 2 + 1)) for s in size]
            modes = [MODES[int(rng.integers(len(MODES)))] for _ in range(ndim)]
            kw = dict(size=size, origin=origin, mode=modes if rng.random() < 0.5 else mode)
        else:
            fshape = [int(rng.integers(1, 5)) for _ in range(ndim)]
            fp = rng.random(fshape) < 0.6
            fp.flat[0] = True
            origin = [int(rng.integers(-(s // 2), (s - 1) // 2 + 1)) for s in fshape]
            kw = dict(footprint=fp, origin=origin, mode=mode)
        kw["cval"] = cval
        same(ours(x, **kw), theirs(x, **kw))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("mode", MODES)
def test_filter_every_mode_and_dtype(mode, dtype):
    rng = np.random.default_rng(5)
    x = sample(rng, (11, 17), dtype, nan=0.05)
    fp = np.array([[0, 1, 0], [1, 1, 1], [0, 1, 1]], bool)
    for fn in ("minimum_filter", "maximum_filter"):
        for kw in (dict(size=3), dict(size=(2, 5), origin=(-1, 2)), dict(size=25),
                   dict(footprint=fp), dict(footprint=fp, origin=(1, -1))):
            kw.update(mode=mode, cval=-1.0)
            same(getattr(nd, fn)(x, **kw), getattr(ndi, fn)(x, **kw))


def test_filter_axes_and_outputs():
    rng = np.random.default_rng(6)
    x = sample(rng, (6, 7, 8), np.float32, nan=0.03)
    fp = np.array([[1, 0], [1, 1]], bool)
    for fn in ("minimum_filter", "maximum_filter"):
        for kw in (dict(size=3, axes=(0, 2)), dict(size=(2, 4), axes=(2, 1), origin=(0, 1)),
                   dict(footprint=fp, axes=(0, 1)), dict(size=3, axes=-1),
                   dict(size=4, output=np.uint8), dict(footprint=fp, axes=(1, 2), output=np.int32),
                   dict(size=1)):
            same(getattr(nd, fn)(x, **kw), getattr(ndi, fn)(x, **kw))
        for view in (x[:, ::2, ::-1], x.transpose(2, 0, 1)):
            same(getattr(nd, fn)(view, size=(3, 2, 2)), getattr(ndi, fn)(view, size=(3, 2, 2)))


# ---------------------------------------------------------------------------------------------
# median_filter / rank_filter / percentile_filter


def scipy_rank(name, x, *args, **kw):
    """SciPy's answer through NI_RankFilter: 1-D inputs as one row of a 2-D array (see the
    module docstring), every per-axis argument given a leading axis."""
    if x.ndim != 1:
        return getattr(ndi, name)(x, *args, **kw)
    kw = dict(kw)
    if kw.get("size") is not None:
        s = kw["size"]
        kw["size"] = (1, s if np.isscalar(s) else s[0])
    if kw.get("footprint") is not None:
        kw["footprint"] = np.asarray(kw["footprint"])[None, :]
    if "origin" in kw:
        o = kw["origin"]
        kw["origin"] = (0, o if np.isscalar(o) else o[0])
    if "output" in kw and isinstance(kw["output"], np.ndarray):
        kw["output"] = kw["output"][None, :]
    return getattr(ndi, name)(x[None, :], *args, **kw)[0]


def rank_case(rng, x):
    ndim = x.ndim
    mode = MODES[int(rng.integers(len(MODES)))]
    cval = float(rng.choice([0.0, -2.0, 1.5]))
    if rng.random() < 0.5:
        size = [int(rng.integers(1, 6)) for _ in range(ndim)]
        origin = [int(rng.integers(-(s // 2), (s - 1) // 2 + 1)) for s in size]
        n = int(np.prod(size))
        kw = dict(size=size, origin=origin, mode=mode, cval=cval)
    else:
        fshape = [int(rng.integers(1, 5)) for _ in range(ndim)]
        fp = rng.random(fshape) < 0.6
        fp.flat[int(rng.integers(fp.size))] = True
        origin = [int(rng.integers(-(s // 2), (s - 1) // 2 + 1)) for s in fshape]
        n = int(fp.sum())
        kw = dict(footprint=fp, origin=origin, mode=mode, cval=cval)
    return kw, n


@pytest.mark.parametrize("name", ["median_filter", "rank_filter", "percentile_filter"])
def test_rank_random_cases(isa, name):
    rng = np.random.default_rng(7)
    for _ in range(120):
        ndim = int(rng.integers(1, 4))
        shape = rand_shape(rng, ndim)
        dtype = DTYPES[int(rng.integers(len(DTYPES)))]
        x = sample(rng, shape, dtype, nan=0.1 if rng.random() < 0.5 else 0.0)
        kw, n = rank_case(rng, x)
        if name == "median_filter":
            args = ()
        elif name == "rank_filter":
            args = (int(rng.integers(-n, n)),)
        else:
            args = (float(rng.choice([0, 10, 33.3, 50, 90, 100, -25])),)
        same(getattr(nd, name)(x, *args, **kw), scipy_rank(name, x, *args, **kw))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("mode", MODES)
def test_median_every_mode_and_dtype(mode, dtype):
    rng = np.random.default_rng(8)
    x = sample(rng, (12, 37), dtype, nan=0.05)
    for kw in (dict(size=3), dict(size=5), dict(size=(3, 5)), dict(size=(5, 5), origin=(2, -2)),
               dict(size=(4, 4)), dict(footprint=np.eye(3, dtype=bool)), dict(size=40)):
        kw.update(mode=mode, cval=2.0)
        same(nd.median_filter(x, **kw), ndi.median_filter(x, **kw))
        same(nd.rank_filter(x, 2, **kw), ndi.rank_filter(x, 2, **kw))
        same(nd.percentile_filter(x, 70, **kw), ndi.percentile_filter(x, 70, **kw))


def test_small_medians_with_nan_match_ni_select(isa):
    # The 3x3 / 5x5 networks hand windows with a NaN to NI_Select: many NaN positions.
    rng = np.random.default_rng(9)
    for dtype in (np.float32, np.float64):
        x = sample(rng, (40, 70), dtype, nan=0.08)
        for size in (3, 5, 7):  # 7: the 49-value network
            same(nd.median_filter(x, size=size), ndi.median_filter(x, size=size))
            same(nd.rank_filter(x, 3, size=size), ndi.rank_filter(x, 3, size=size))
            s3 = x[None].repeat(2, 0)
            same(nd.median_filter(s3, size=(1, size, size)), ndi.median_filter(s3, size=(1, size, size)))
    u = sample(rng, (33, 50), np.uint8)
    for size in (3, 5):
        same(nd.median_filter(u, size=size, mode="constant", cval=-1), ndi.median_filter(u, size=size, mode="constant", cval=-1))


def column_strided(a):
    """The values of `a` as a view whose columns are not contiguous: the rank filters' slab path."""
    wide = np.empty(a.shape[:-1] + (2 * a.shape[-1],), a.dtype)
    wide[..., ::2] = a
    return wide[..., ::2]


def test_byte_networks_read_in_place(isa):
    # Byte images of >= 384 columns and >= 4 MiB read interior rows in place (smaller ones take
    # the slab path, docs/ndimage-speed.md "net16"): every mode and origin and the edge patches
    # bit for bit against the slab path, and against SciPy at both edges; row-strided and
    # reversed views, output= views and stacks as well.
    rng = np.random.default_rng(12)
    u = sample(rng, (12, 360000), np.uint8)  # 4.1 MiB
    slab = column_strided(u)
    # Each mode with one window; the scalar kernels (0.5 s a 4 MiB call) on a third of them.
    shapes = [dict(size=3), dict(size=5, origin=(-2, 2)), dict(size=3, origin=(1, -1)),
              dict(size=(1, 5)), dict(footprint=np.eye(3, dtype=bool))]
    step = 3 if isa == "scalar" else 1
    for i, mode in list(enumerate(MODES))[::step]:
        kw = dict(shapes[i % len(shapes)], mode=mode, cval=7)
        same(nd.median_filter(u, **kw), nd.median_filter(slab, **kw))
        if i < 2:
            same(nd.rank_filter(u, 1, **kw), nd.rank_filter(slab, 1, **kw))
    for kw in (dict(size=3, mode="mirror"), dict(size=5, origin=(-2, 2), mode="constant", cval=7)):
        got = nd.median_filter(u, **kw)
        same(got[:, :4990], ndi.median_filter(u[:, :5000], **kw)[:, :4990])
        same(got[:, -4990:], ndi.median_filter(u[:, -5000:], **kw)[:, -4990:])
    small = sample(rng, (23, 517), np.uint8)  # the slab path against SciPy
    for mode in MODES:
        kw = dict(size=5, origin=(-2, 2), mode=mode, cval=7)
        same(nd.median_filter(small, **kw), ndi.median_filter(small, **kw))
    big = sample(rng, (24, 380000), np.uint8)
    for v in (big[::2, :360000], big[:, ::-1][:, :370000], big[::-1, :200000])[::step]:
        same(nd.median_filter(v, 3), nd.median_filter(column_strided(v), 3))
    out = np.zeros((12, 360100), np.uint8)[:, 40:360040]
    nd.median_filter(u, 5, output=out)
    same(out, nd.median_filter(slab, 5))
    # Rows within 64 bytes of a multiple of 4 KiB apart take the slab path for the 3x3 median
    # (median3_rows's strips of rows would share L1 sets, docs/ndimage-speed.md "med23"), rows
    # 4 KiB + 100 elements apart read in place; 16- and 32-bit images take the same kernel.
    for p in (sample(rng, (1030, 4096), np.uint8), sample(rng, (520, 4096), np.uint16),
              sample(rng, (260, 4096), np.int32)):
        padded = np.zeros((p.shape[0], p.shape[1] + 100), p.dtype)
        padded[:, :p.shape[1]] = p
        for mode in MODES[::step]:
            got = nd.median_filter(p, 3, mode=mode)
            same(got, nd.median_filter(padded[:, :p.shape[1]], 3, mode=mode))
            same(got, nd.median_filter(column_strided(p), 3, mode=mode))
        got = nd.median_filter(p, 3)  # reflect: the first rows' windows need no others
        same(got[:40], ndi.median_filter(p[:41], 3)[:40])
    # Stacks: footprints 1 long on the leading axes read each image in place, others not.
    s4 = sample(rng, (2, 3, 18, 80000), np.uint8)
    for mode, size in (("reflect", (1, 1, 3, 3)), ("constant", (1, 1, 5, 5))):
        for v in (s4, s4[::-1, :, ::2], s4.transpose(1, 0, 2, 3))[::step]:
            same(nd.median_filter(v, size=size, mode=mode, cval=3),
                 nd.median_filter(column_strided(v), size=size, mode=mode, cval=3))
    s4 = sample(rng, (2, 3, 9, 400), np.uint8)
    for v in (s4, s4[::-1, :, ::2], s4.transpose(1, 0, 2, 3)):
        same(nd.median_filter(v, size=(1, 2, 3, 3), mode="wrap"),
             ndi.median_filter(v, size=(1, 2, 3, 3), mode="wrap"))


def full_range(rng, shape, dtype):
    """Integers over the dtype's whole range, a third of them at its two ends (a signed compare
    on unsigned lanes, or the reverse, fails there), many ties."""
    info = np.iinfo(dtype)
    x = rng.integers(info.min, info.max, size=shape, endpoint=True).astype(dtype)
    ends = rng.random(shape)
    x[ends < 0.15] = info.max - rng.integers(0, 3, size=int((ends < 0.15).sum()))
    x[ends > 0.85] = info.min + rng.integers(0, 3, size=int((ends > 0.85).sum()))
    return x


@pytest.mark.parametrize("dtype", [np.int64, np.uint64])
def test_64_bit_rank_into_other_output_dtypes(dtype):
    """probe18a: SciPy's NI_RankFilter casts the selected double to the input's type and back
    before the output's; for 64-bit integers near the top (2^63 - 1 rounds to 2^63, cast back
    INT64_MIN) npfast wrote the double straight into the output."""
    info = np.iinfo(dtype)
    rng = np.random.default_rng(5)
    images = [np.full((3, 3), info.max, dtype), np.full((3, 3), info.min, dtype),
              rng.integers(info.min, info.max, (20, 30), dtype=dtype, endpoint=True)]
    for x in images:
        for out in (np.float64, np.float32, np.int32, np.int64, np.uint64, np.uint8, np.bool_):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)  # NumPy's cast of NaN / inf
                for f in (lambda m: m.median_filter(x, 3, output=out),
                          lambda m: m.rank_filter(x, 2, 3, output=out),
                          lambda m: m.percentile_filter(x, 30, footprint=np.eye(3), output=out)):
                    np.testing.assert_array_equal(f(nd), f(ndi), err_msg=f"{dtype} -> {out}")


@pytest.mark.parametrize("dtype", [np.ulonglong, np.uint, np.uintc, ">u8", ">u4"])
def test_unsigned_32_64_bit_cval_cast_any_spelling(dtype):
    """SciPy casts cval to the input's type first (-1 is the largest uint64); review17: a
    type test missed np.ulonglong ('Q', the same dtype as uint64) and skipped the cast."""
    x = np.arange(20).reshape(4, 5).astype(dtype)
    for cval in (-1, -1e19, 1e20, 2.0**64, 3.7):
        for f in (lambda m: m.median_filter(x, 3, mode="constant", cval=cval),
                  lambda m: m.minimum_filter(x, footprint=np.eye(3), mode="constant", cval=cval),
                  lambda m: m.rank_filter(x, 1, 3, mode="constant", cval=cval)):
            np.testing.assert_array_equal(f(nd), f(ndi), err_msg=f"{dtype} cval {cval}")


_TUNE_SCRIPT = """
import numpy as np, scipy.ndimage as ndi, npfast, npfast.ndimage as nd
rng = np.random.default_rng(3)
x = rng.standard_normal((40, 150)).astype(np.float32)
x[rng.random(x.shape) < 0.05] = 0.0
x[rng.random(x.shape) < 0.05] = -0.0
x[rng.random(x.shape) < 0.01] = np.nan
v = rng.standard_normal((12, 14, 40)).astype(np.float32)
cross = np.array([[0, 1, 0], [1, 1, 1], [0, 1, 0]], bool)
for got, want in [(nd.median_filter(x, 5), ndi.median_filter(x, 5)),
                  (nd.median_filter(x, 7), ndi.median_filter(x, 7)),
                  (nd.rank_filter(x, 3, 5), ndi.rank_filter(x, 3, 5)),
                  (nd.rank_filter(x, 2, 3), ndi.rank_filter(x, 2, 3)),
                  (nd.median_filter(x, footprint=cross), ndi.median_filter(x, footprint=cross)),
                  (nd.median_filter(v, 3), ndi.median_filter(v, 3))]:
    np.testing.assert_array_equal(got, want)
print("ok", npfast.config()["isa"])
"""


@pytest.mark.parametrize("tune", ["amd", "intel"])
@pytest.mark.parametrize("isa_cap", ["avx512", "avx2"])
def test_networks_under_either_tuning(tune, isa_cap):
    """The operator's choice of the float32 `_keys` networks (tune_amd(), read once per
    process) under both settings, so a CI machine of either vendor runs both (review17)."""
    import os
    import subprocess
    import sys
    env = dict(os.environ, NPFAST_TUNE=tune, NPFAST_ISA=isa_cap)
    proc = subprocess.run([sys.executable, "-c", _TUNE_SCRIPT], env=env, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.startswith("ok")


def test_integer_networks(isa):
    # 16- and 32-bit integers (int8 and int16 computed as int32) take the sorting networks for
    # windows of 3, 5, 7, 9, 25 and 27 values, the square medians included: SciPy's values over
    # each type's whole range, every rank kind, modes and origins; wide images read in place
    # against the slab path.
    rng = np.random.default_rng(21)
    for dtype in (np.uint16, np.int16, np.int32, np.int8):
        x = full_range(rng, (23, 70), dtype)
        for kw in (dict(size=3), dict(size=5), dict(size=7), dict(size=(1, 3)), dict(size=(5, 1)),
                   dict(size=(1, 7)), dict(footprint=np.eye(3, dtype=bool)),
                   dict(size=3, origin=(1, -1), mode="constant", cval=-3),
                   dict(size=5, mode="wrap")):
            n = int(np.count_nonzero(kw["footprint"])) if "footprint" in kw else int(
                np.prod(np.broadcast_to(kw["size"], (2,))))
            same(nd.median_filter(x, **kw), ndi.median_filter(x, **kw))
            for r in (1, n - 2):
                same(nd.rank_filter(x, r, **kw), ndi.rank_filter(x, r, **kw))
        v = full_range(rng, (6, 9, 40), dtype)
        same(nd.median_filter(v, 3, mode="nearest"), ndi.median_filter(v, 3, mode="nearest"))
        line = full_range(rng, (500,), dtype)
        for size in (3, 5, 7, 9, 25, 27, 49):
            same(nd.median_filter(line, size), ndi.median_filter(line, size))
    step = 2 if isa == "scalar" else 1
    for dtype in (np.uint16, np.int32)[::step]:
        big = full_range(rng, (8, (4 << 20) // (8 * np.dtype(dtype).itemsize) + 100), dtype)
        slab = column_strided(big)
        for kw in (dict(size=3), dict(size=5, origin=(2, -2), mode="mirror"))[::step]:
            same(nd.median_filter(big, **kw), nd.median_filter(slab, **kw))
        same(nd.median_filter(big, 3)[:, :990], ndi.median_filter(big[:, :1000], 3)[:, :990])


def test_float_networks_read_in_place(isa):
    # Float images wide enough for the networks to read interior rows in place (each row three
    # calls: 64 outputs, the rest, 64): against SciPy, and bit for bit (signed zeros of tied
    # windows, NaN windows beside others) against the slab path (one call a row), which a
    # column-strided view takes; 770 columns is just past where rows go in place.
    rng = np.random.default_rng(13)
    for dtype in (np.float32, np.float64):
        x = sample(rng, (21, 1400), dtype, nan=0.002)
        x[rng.random(x.shape) < 0.3] = 0.0
        x[rng.random(x.shape) < 0.3] = -0.0
        wide = np.empty((21, 2800), dtype)
        wide[:, ::2] = x
        for mode in MODES:
            for w, strided in ((x, wide[:, ::2]), (x[:, 3:1300], wide[:, 6:2600:2]),
                               (x[:, 5:775], wide[:, 10:1550:2])):
                for kw in (dict(size=3), dict(size=5), dict(size=3, origin=(1, -1)),
                           dict(size=(3, 5)), dict(footprint=np.eye(3, dtype=bool))):
                    kw.update(mode=mode, cval=-0.0)
                    got = nd.median_filter(w, **kw)
                    same(got, ndi.median_filter(w, **kw))
                    assert got.tobytes() == nd.median_filter(strided, **kw).tobytes(), (dtype, mode, kw)
    # Outputs of 16 MiB and more take the prefetching kernels.
    big = sample(rng, (1100, 4100), np.float32, nan=0.0001)  # 18 MB: clear of the edge
    same(nd.median_filter(big, 3), ndi.median_filter(big, 3))


def test_long_lines_keep_one_calls_bits():
    # A line longer than a slab piece whose last piece would be shorter than a register: it
    # joins the piece before, so the 1-D path (a run of 9 or 25 values is a square median to the
    # kernels) gives the bits of the 2-D path's one call over the row, signed zeros included.
    rng = np.random.default_rng(3)
    for dtype, n in ((np.float32, 131079), (np.float64, 65540)):
        x = rng.choice(np.array([-0.0, 0.0, 0.0, -0.0, 1.0], dtype), n)
        for size in (9, 25):
            got = nd.median_filter(x, size)
            assert got.tobytes() == nd.median_filter(x[None], size=(1, size))[0].tobytes()
            same(got, ndi.median_filter(x, size))


def test_rank_one_dimensional_direct():
    # Without NaN and with windows no longer than the line SciPy's 1-D path agrees with
    # NI_Select: compare with it directly.
    rng = np.random.default_rng(10)
    for dtype in DTYPES:
        x = sample(rng, (30,), dtype)
        for mode in MODES:
            for size in (3, 4, 7):
                same(nd.median_filter(x, size=size, mode=mode), ndi.median_filter(x, size=size, mode=mode))
                same(nd.rank_filter(x, 1, size=size, mode=mode, origin=1),
                     ndi.rank_filter(x, 1, size=size, mode=mode, origin=1))


def test_rank_outputs_views_and_in_place():
    rng = np.random.default_rng(11)
    x = sample(rng, (15, 21), np.float64, nan=0.03) * 7.7
    for out_dtype in (np.float32, np.int32, np.uint8):
        same(nd.median_filter(x, 3, output=out_dtype), ndi.median_filter(x, 3, output=out_dtype))
    out = np.empty((15, 21), np.float32)
    assert nd.rank_filter(x, 3, size=(2, 3), output=out) is out
    same(out, ndi.rank_filter(x, 3, size=(2, 3), output=np.float32))
    for view in (x[::2, ::-1], x.T, x[2:9, 4:5]):
        same(nd.median_filter(view, 3), ndi.median_filter(view, 3))
    y = x.copy()
    nd.median_filter(y, 5, output=y)
    same(y, ndi.median_filter(x, 5))
    z = sample(rng, (5, 6, 7), np.int32)
    same(nd.median_filter(z, size=3, axes=(0, 2)), ndi.median_filter(z, size=3, axes=(0, 2)))
    same(nd.percentile_filter(z, 20, size=(2, 4), axes=(2, 1)),
         ndi.percentile_filter(z, 20, size=(2, 4), axes=(2, 1)))


def test_one_pixel_and_large_windows():
    rng = np.random.default_rng(12)
    for shape in ((1,), (1, 1), (1, 1, 1), (1, 9), (9, 1)):
        x = sample(rng, shape, np.float32)
        for mode in MODES:
            same(nd.minimum_filter(x, size=4, mode=mode), ndi.minimum_filter(x, size=4, mode=mode))
            same(nd.maximum_filter1d(x, 6, mode=mode), ndi.maximum_filter1d(x, 6, mode=mode))
            same(nd.median_filter(x, size=3, mode=mode), scipy_rank("median_filter", x, size=3, mode=mode))


def test_one_dimensional_nan_follows_ni_select():
    x = np.array([1.0, np.nan, 3.0, 2.0, np.nan, 0.0, 5.0, 4.0])
    for size in (3, 4, 5):
        for r in range(1, size - 1):
            same(nd.rank_filter(x, r, size=size), ndi.rank_filter(x[None], r, size=(1, size))[0])


# ---------------------------------------------------------------------------------------------
# Errors: SciPy's classes (npfast's AnchorValueError is also a ValueError), argument named


def scipy_error(fn, *args, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            fn(*args, **kw)
        except Exception as e:  # noqa: BLE001 - the class is what is compared
            return type(e)
    return None


X = np.arange(30, dtype=np.float64).reshape(5, 6)
BAD = [
    ("minimum_filter1d", (X, 0), {}, "size"),
    ("maximum_filter1d", (X, 3), {"mode": "bogus"}, "mode"),
    ("minimum_filter1d", (X, 3), {"origin": 2}, "origin"),
    ("minimum_filter1d", (X, 3), {"axis": 2}, "axis"),
    ("minimum_filter", (X,), {}, "size"),
    ("minimum_filter", (X,), {"size": 3, "mode": "bogus"}, "mode"),
    ("maximum_filter", (X,), {"footprint": np.ones((3, 3, 3), bool)}, "footprint"),
    ("maximum_filter", (X,), {"footprint": np.array([[1, 0], [0, 1]], bool), "origin": 2},
     "origin"),
    ("maximum_filter", (X,), {"footprint": np.zeros((2, 2), bool)}, "footprint"),
    ("maximum_filter", (X,), {"size": (3, 3, 3)}, "size"),
    ("median_filter", (X,), {"footprint": np.ones((3,), bool)}, "footprint"),
    ("median_filter", (X,), {"size": 3, "mode": "bogus"}, "mode"),
    ("median_filter", (X,), {"size": 3, "mode": ["reflect", "wrap"]}, "mode"),
    ("rank_filter", (X, 9), {"size": 3}, "rank"),
    ("rank_filter", (X, -10), {"size": 3}, "rank"),
    ("percentile_filter", (X, 150), {"size": 3}, "percentile"),
    ("percentile_filter", (X, -101), {"size": 3}, "percentile"),
    ("median_filter", (X,), {"size": 3, "origin": 2}, "origin"),
    ("median_filter", (X,), {"size": 3, "output": np.zeros((5, 5))}, "output"),
]


@pytest.mark.parametrize("name,args,kw,text", BAD, ids=[f"{b[0]}-{i}" for i, b in enumerate(BAD)])
def test_bad_arguments_raise_scipys_class(name, args, kw, text):
    want = scipy_error(getattr(ndi, name), *args, **kw)
    assert want is not None
    with pytest.raises(want) as info:
        getattr(nd, name)(*args, **kw)
    assert text in str(info.value)


def test_size_below_one_is_refused():
    # SciPy's minimum_filter copies the input for size 0; npfast names the bad size.
    with pytest.raises(ValueError, match="size"):
        nd.minimum_filter(X, size=0)
    with pytest.raises(ValueError, match="size"):
        nd.median_filter(X, size=(3, 0))


def test_size_and_footprint_warns():
    with pytest.warns(UserWarning, match="footprint"):
        nd.median_filter(X, size=3, footprint=np.ones((2, 2), bool))
    with pytest.warns(UserWarning, match="footprint"):
        nd.minimum_filter(X, size=3, footprint=np.ones((2, 2), bool))


def test_unsupported_inputs():
    with pytest.raises(TypeError, match="input"):
        nd.median_filter(np.zeros((3, 3), complex), 3)
    with pytest.raises(TypeError, match="input"):
        nd.minimum_filter1d(np.array(["a", "b"]), 2)


def test_byte_histogram_path(isa):
    # uint8 rectangles of 16 or more values take Huang's histogram (but 25 and 49 values, the
    # networks): every rank, modes, 1-D, stacks, and a footprint with holes beside it.
    rng = np.random.default_rng(13)
    x = sample(rng, (23, 41), np.uint8)
    for size in ((7, 7), (7, 8), (4, 4), (2, 9), (9, 3)):
        n = size[0] * size[1]
        for r in (1, n // 3, n // 2, n - 2):
            for mode in ("reflect", "constant", "wrap"):
                same(nd.rank_filter(x, r, size=size, mode=mode, cval=-3),
                     ndi.rank_filter(x, r, size=size, mode=mode, cval=-3))
    same(nd.median_filter(x, size=7, output=np.float32), ndi.median_filter(x, size=7, output=np.float32))
    same(nd.percentile_filter(x[None].repeat(3, 0), 40, size=(1, 5, 6)),
         ndi.percentile_filter(x[None].repeat(3, 0), 40, size=(1, 5, 6)))
    line = sample(rng, (200,), np.uint8)
    same(nd.median_filter(line, size=21), ndi.median_filter(line, size=21))


@pytest.mark.parametrize("dtype", DTYPES)
def test_fused_2d_minmax_bands(isa, dtype):
    # 2-D sizes run both passes fused over 32-row bands: several bands, windows crossing them,
    # long horizontal windows, strided rows, and the cases that fall back (output dtype,
    # columns not contiguous, in place).
    rng = np.random.default_rng(14)
    x = sample(rng, (75, 45), dtype, nan=0.02)
    for mode in ("reflect", "constant", "nearest", "mirror", "wrap"):
        for size, origin in (((3, 5), (0, 0)), ((7, 20), (-3, 9)), ((40, 2), (19, -1)),
                             ((2, 17), (0, -8))):
            for fn in ("minimum_filter", "maximum_filter"):
                kw = dict(size=size, origin=origin, mode=mode, cval=5)
                same(getattr(nd, fn)(x, **kw), getattr(ndi, fn)(x, **kw))
    same(nd.minimum_filter(x[::2], size=4, mode=["wrap", "constant"], cval=-1),
         ndi.minimum_filter(x[::2], size=4, mode=["wrap", "constant"], cval=-1))
    same(nd.maximum_filter(x[:, ::-1], size=4), ndi.maximum_filter(x[:, ::-1], size=4))
    same(nd.maximum_filter(x, size=4, output=np.float64), ndi.maximum_filter(x, size=4, output=np.float64))
    y = x.copy()
    nd.minimum_filter(y, size=(5, 3), output=y)
    same(y, ndi.minimum_filter(x, size=(5, 3)))


def test_long_lines_with_nan(isa):
    # SciPy's deque answer on a line with a NaN depends on the whole line: lines far longer
    # than any block, along every axis, through the fused and the per-axis paths.
    rng = np.random.default_rng(15)
    for dtype in (np.float32, np.float64):
        x = sample(rng, (300, 70), dtype, nan=0.01)
        for fn in ("minimum_filter1d", "maximum_filter1d"):
            for axis in (0, 1):
                same(getattr(nd, fn)(x, 5, axis=axis), getattr(ndi, fn)(x, 5, axis=axis))
        for fn in ("minimum_filter", "maximum_filter"):
            same(getattr(nd, fn)(x, size=(5, 3)), getattr(ndi, fn)(x, size=(5, 3)))
            same(getattr(nd, fn)(x, size=(30, 21)), getattr(ndi, fn)(x, size=(30, 21)))
    u = sample(rng, (300, 70), np.uint16)
    same(nd.maximum_filter1d(u, 9, axis=0), ndi.maximum_filter1d(u, 9, axis=0))


def test_strided_outputs_and_empty_inputs():
    rng = np.random.default_rng(16)
    x = sample(rng, (40, 36), np.float32, nan=0.01)
    calls = [("minimum_filter1d", (4,), {}), ("maximum_filter1d", (3,), {"axis": 0}),
             ("minimum_filter", (), {"size": 3}), ("maximum_filter", (), {"size": (4, 2)}),
             ("maximum_filter", (), {"footprint": np.eye(3, dtype=bool)}),
             ("median_filter", (), {"size": 3}), ("median_filter", (), {"size": 5}),
             ("rank_filter", (2,), {"size": (2, 3)}), ("percentile_filter", (80,), {"size": 4})]
    for name, args, kw in calls:
        want = getattr(ndi, name)(x, *args, **kw)
        big = np.full((80, 36, 2), 7, np.float32)
        out = big[::2, ::-1, 1]
        got = getattr(nd, name)(x, *args, output=out, **kw)
        assert got is out
        same(out, want)
        assert (big[1::2] == 7).all() and (big[::2, :, 0] == 7).all()
        for shape in ((0, 5), (3, 0)):
            e = np.zeros(shape, np.float32)
            same(getattr(nd, name)(e, *args, **kw), getattr(ndi, name)(e, *args, **kw))


def test_thread_count_does_not_change_results(threads):
    import npfast
    rng = np.random.default_rng(17)
    x = sample(rng, (300, 257), np.float32, nan=0.001)
    u = sample(rng, (300, 257), np.uint8)
    calls = [lambda: nd.minimum_filter(x, size=5), lambda: nd.maximum_filter1d(x, 7, axis=0),
             lambda: nd.median_filter(x, size=3), lambda: nd.median_filter(u, size=7),
             lambda: nd.rank_filter(x, 3, footprint=np.eye(4, dtype=bool))]
    npfast.set_num_threads(1)
    one = [c() for c in calls]
    npfast.set_num_threads(2)
    for c, want in zip(calls, one):
        same(c(), want)


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.uint8])
def test_network_window_sizes(isa, dtype):
    # Windows of 3, 5, 7, 9, 25 and 27 values of any shape run the sorting networks (every
    # rank; NaN windows through NI_Select): 1-D sizes, a cross, a 4x4 footprint with holes,
    # a 3x3x3 cube.
    rng = np.random.default_rng(18)
    cross = np.array([[0, 1, 0], [1, 1, 1], [0, 1, 0]], bool)
    holes = np.zeros((4, 4), bool)
    holes.flat[[0, 2, 5, 7, 8, 10, 13, 14, 15]] = True
    seven = np.ones((3, 3), bool)
    seven[0, 0] = seven[2, 2] = False
    x = sample(rng, (19, 23), dtype, nan=0.05)
    for fp in (cross, holes, seven):
        n = int(fp.sum())
        for r in (1, n // 2, n - 2):
            for mode in ("reflect", "constant", "wrap"):
                kw = dict(footprint=fp, mode=mode, cval=1.5)
                same(nd.rank_filter(x, r, **kw), ndi.rank_filter(x, r, **kw))
    line = sample(rng, (50,), dtype, nan=0.05)
    for size in (3, 5, 7):
        same(nd.median_filter(line, size=size), scipy_rank("median_filter", line, size=size))
        same(nd.rank_filter(line, 1, size=size), scipy_rank("rank_filter", line, 1, size=size))
    vol = sample(rng, (7, 9, 20), dtype, nan=0.03)
    same(nd.median_filter(vol, size=3), ndi.median_filter(vol, size=3))
    same(nd.percentile_filter(vol, 30, size=3, mode="nearest"),
         ndi.percentile_filter(vol, 30, size=3, mode="nearest"))


# ---------------------------------------------------------------------------------------------
# Properties (hypothesis, derandomized): any small view, dtype, window, origin, mode, rank


def _hypothesis_rank_property():
    hypothesis = pytest.importorskip("hypothesis")
    from hypothesis import given, settings
    from hypothesis import strategies as st

    @st.composite
    def cases(draw):
        ndim = draw(st.integers(1, 3))
        shape = [draw(st.integers(0, 9)) for _ in range(ndim)]
        steps = [draw(st.sampled_from([1, 2, -1, -3])) for _ in range(ndim)]
        dtype = draw(st.sampled_from(DTYPES))
        rng = np.random.default_rng(draw(st.integers(0, 2**31)))
        base = sample(rng, [max(1, n * abs(s)) for n, s in zip(shape, steps)], dtype,
                      nan=draw(st.sampled_from([0.0, 0.1])))
        x = base[tuple(slice(None, None, s) for s in steps)][tuple(slice(0, n) for n in shape)]
        if draw(st.booleans()) and ndim > 1:
            x = x.T
        size = [draw(st.integers(1, 6)) for _ in range(x.ndim)]
        origin = [draw(st.integers(-(s // 2), (s - 1) // 2)) for s in size]
        mode = draw(st.sampled_from(MODES))
        name = draw(st.sampled_from(["minimum_filter", "maximum_filter", "median_filter",
                                     "rank_filter", "percentile_filter"]))
        n = int(np.prod(size))
        args = ((draw(st.integers(-n, n - 1)),) if name == "rank_filter" else
                (draw(st.floats(-100, 100)),) if name == "percentile_filter" else ())
        return name, x, args, dict(size=size, origin=origin, mode=mode, cval=-1.5)

    @settings(max_examples=150, deadline=None, derandomize=True, database=None)
    @given(cases())
    def check(case):
        name, x, args, kw = case
        if name in ("minimum_filter", "maximum_filter"):
            want = getattr(ndi, name)(x, *args, **kw)
        else:
            want = scipy_rank(name, x, *args, **kw)
        same(getattr(nd, name)(x, *args, **kw), want)

    return check


def test_property_any_view_window_and_rank():
    _hypothesis_rank_property()()


def test_uint16_histogram_path(isa):
    # uint16 footprints take the sorted tiles, and the two-level histogram rectangles of 36 or
    # more values over data spanning at most 4096 and of more than 8192 values: values spread over the whole range and clustered, every rank
    # region, modes, 1-D, stacks.
    rng = np.random.default_rng(19)
    spread = rng.integers(0, 65536, size=(21, 37)).astype(np.uint16)
    clustered = np.where(rng.random((21, 37)) < 0.5, 1000, 65000).astype(np.uint16)
    clustered += rng.integers(0, 3, size=(21, 37)).astype(np.uint16)
    for x in (spread, clustered):
        for size in ((7, 7), (4, 5), (1, 17)):
            n = size[0] * size[1]
            for r in (1, n // 2, n - 2):
                for mode in ("reflect", "constant"):
                    same(nd.rank_filter(x, r, size=size, mode=mode, cval=70000),
                         ndi.rank_filter(x, r, size=size, mode=mode, cval=70000))
        same(nd.median_filter(x[None].repeat(2, 0), size=(1, 5, 4)),
             ndi.median_filter(x[None].repeat(2, 0), size=(1, 5, 4)))
    line = rng.integers(0, 65536, size=300).astype(np.uint16)
    same(nd.median_filter(line, size=31), ndi.median_filter(line, size=31))
    low = rng.integers(100, 4000, size=(21, 37)).astype(np.uint16)  # spans 4096: the histogram
    for size in ((6, 7), (9, 9), (1, 40)):
        n = size[0] * size[1]
        for r in (1, n // 2, n - 2):
            same(nd.rank_filter(low, r, size=size, mode="wrap"),
                 ndi.rank_filter(low, r, size=size, mode="wrap"))
    for x in (spread, clustered):  # the histogram ('nearest': SciPy's reflect reads past)
        for r in (0, 4100, 8199):
            same(nd.rank_filter(x, r, size=(2, 4100), mode="nearest"),
                 ndi.rank_filter(x, r, size=(2, 4100), mode="nearest"))


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int32, np.int16, np.uint32, np.int64,
                                   np.uint16, np.uint8])
def test_sorted_tile_path(isa, dtype, threads):
    # Boxes and footprints that no network takes, over every kernel type (int16 as int32,
    # uint32 and int64 as float64; bytes' rectangles of 16+ values take Huang's histogram):
    # rank_tile, each tile's values sorted once. Distinct values spread
    # wide and few clustered ones (ties, -0.0, NaN and inf for floats), every rank region,
    # modes, windows wider or taller than the image, several tiles each way on 1 and 2 threads,
    # stacks, 1-D lines, strided views and another output dtype.
    rng = np.random.default_rng(25)
    shape = (23, 41)
    if np.dtype(dtype).kind == "f":
        spread = (rng.standard_normal(shape) * 1e3).astype(dtype)
    else:
        info = np.iinfo(dtype)
        spread = rng.integers(max(info.min, -10**9), min(info.max, 10**9), size=shape).astype(dtype)
    clustered = sample(rng, shape, dtype, nan=0.04)
    for x in (spread, clustered):
        for size in ((4, 4), (2, 3), (9, 8), (1, 17), (17, 1), (30, 50)):
            n = size[0] * size[1]
            for r in (0, n // 2, n - 1):
                mode = MODES[(r + size[0]) % len(MODES)]
                same(nd.rank_filter(x, r, size=size, mode=mode, cval=-3.5),
                     ndi.rank_filter(x, r, size=size, mode=mode, cval=-3.5))
    big = sample(rng, (170, 290), dtype, nan=0.002)
    if np.dtype(dtype).kind == "f":
        big += (rng.random(big.shape) * 1e-3).astype(dtype)
    want = ndi.median_filter(big, size=(9, 11))
    for n in (1, 2):
        npfast.set_num_threads(n)
        same(nd.median_filter(big, size=(9, 11)), want)
    stack = np.stack([clustered, spread])
    same(nd.median_filter(stack, size=(1, 6, 6)), ndi.median_filter(stack, size=(1, 6, 6)))
    line = spread.ravel()
    same(nd.median_filter(line, size=31), ndi.median_filter(line, size=31))
    view = big[::2, 1::3]
    same(nd.percentile_filter(view, 30, size=(4, 6)), ndi.percentile_filter(view, 30, size=(4, 6)))
    out = np.empty(big.shape, np.float64)
    same(nd.median_filter(big, size=8, output=out), ndi.median_filter(big, size=8, output=np.float64))
    # Footprints other than boxes: a disk, a ring, a sparse cross, random ones with holes and
    # empty rows, origins.
    yy, xx = np.mgrid[-5:6, -5:6]
    disk = yy ** 2 + xx ** 2 <= 25
    ring = disk & (yy ** 2 + xx ** 2 >= 9)
    cross = (yy == 0) | (xx == 0)
    holes = rng.random((6, 9)) < 0.5
    holes[2] = False
    holes[0, 0] = True
    # Tall footprints slide down the columns (fewer runs that way) unless a NaN is there.
    tall = rng.random((13, 4)) < 0.6
    tall[6] = True
    for fp in (np.ones((19, 1), bool), np.ones((12, 3), bool), tall):
        for x in (spread, clustered, big[:60, :70]):
            n = int(fp.sum())
            for r in (0, n // 2, n - 1):
                same(nd.rank_filter(x, r, footprint=fp, mode="mirror"),
                     ndi.rank_filter(x, r, footprint=fp, mode="mirror"))
        if np.dtype(dtype).kind == "f":  # a NaN fill: the windows it reaches keep C order
            for mode in ("constant", "grid-constant"):
                same(nd.rank_filter(spread, 5, footprint=fp, mode=mode, cval=np.nan),
                     ndi.rank_filter(spread, 5, footprint=fp, mode=mode, cval=np.nan))
    if np.dtype(dtype).kind == "f":  # review25b's case: rows 1 gave 30..34 for 25..29
        x = np.arange(40, dtype=dtype).reshape(8, 5)[::-1].copy()
        fp = np.ones((7, 2), bool)
        same(nd.rank_filter(x, 5, footprint=fp, mode="constant", cval=np.nan),
             ndi.rank_filter(x, 5, footprint=fp, mode="constant", cval=np.nan))
    for fp in (disk, ring, cross, holes):
        n = int(fp.sum())
        for x in (spread, clustered):
            for r in (0, n // 2, n - 1):
                same(nd.rank_filter(x, r, footprint=fp, origin=(1, -1)),
                     ndi.rank_filter(x, r, footprint=fp, origin=(1, -1)))
        same(nd.median_filter(big, footprint=fp), ndi.median_filter(big, footprint=fp))


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.float32])
def test_rectangles_of_more_than_4096_values(isa, dtype):
    # The scalar ISA's histogram kernels (NI_Select over the rectangle) once returned without
    # writing for windows over 4096 values: a 65 x 65 uint8 median was uninitialised memory.
    rng = np.random.default_rng(26)
    x = sample(rng, (9, 70), dtype)
    for size in ((65, 65), (1, 4100)):  # 'nearest': SciPy's reflect reads past short axes
        same(nd.median_filter(x, size=size, mode="nearest"),
             ndi.median_filter(x, size=size, mode="nearest"))


@pytest.mark.parametrize("dtype", [np.float32, np.uint8, np.int32])
def test_fused_last_two_axes_of_volumes(isa, dtype):
    # Volumes: the first pass into a scratch array, the last two fused per plane (several
    # bands a plane); NaN volumes fall back to the passes; 4-D too.
    rng = np.random.default_rng(20)
    for nan in (0.0, 0.01):
        v = sample(rng, (5, 70, 33), dtype, nan=nan)
        for fn in ("minimum_filter", "maximum_filter"):
            for kw in (dict(size=3), dict(size=(2, 5, 4), origin=(0, -2, 1), mode="wrap"),
                       dict(size=(1, 40, 3), mode="constant", cval=2.0), dict(size=(3, 1, 6)),
                       dict(size=3, axes=(1, 2)), dict(size=3, axes=(2, 1))):
                same(getattr(nd, fn)(v, **kw), getattr(ndi, fn)(v, **kw))
        h = sample(rng, (2, 3, 40, 9), dtype, nan=nan)
        same(nd.maximum_filter(h, size=3, mode="mirror"), ndi.maximum_filter(h, size=3, mode="mirror"))


def bits(a):
    return a.view(np.uint64 if a.dtype == np.float64 else np.uint32) if a.dtype.kind == "f" else a


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.uint8, np.int32])
def test_fused_volume_sweep(isa, dtype, threads, monkeypatch):
    # minmax22: the three passes of a volume (its last three axes) in one sweep, the fold
    # across planes first for each row a block reads: SciPy's values bit for bit (signed zeros),
    # several row blocks a plane (1024-wide rows: 64-row blocks), per-axis modes with a cval,
    # origins, 16 planes (17: the passes), views with negative and doubled plane strides,
    # output=, 4-D (two leading axes of planes), any thread count; a NaN or an infinity in a
    # later block or a cval of NaN: the passes, as SciPy.
    from npfast import _npfast
    swept = []  # (sizes given, answered) of each _minmax_filter2d call
    real = _npfast._minmax_filter2d

    def spy(*args):
        swept.append((len(args[1]), real(*args)))
        return swept[-1][1]
    monkeypatch.setattr(_npfast, "_minmax_filter2d", spy)
    # Volumes under 5 MiB keep the passes (faster in cache); this test's sweep them.
    rng = np.random.default_rng(22)
    small = sample(rng, (8, 20, 30), dtype)
    swept.clear()
    same(nd.maximum_filter(small, 3), ndi.maximum_filter(small, 3))
    assert swept[0] == (3, False)
    _npfast._set_minmax_sweep_bytes_for_testing(0)
    try:
        run_volume_sweep(rng, dtype, swept)
    finally:
        _npfast._set_minmax_sweep_bytes_for_testing(-1)


def run_volume_sweep(rng, dtype, swept):
    from npfast import _npfast
    v = sample(rng, (7, 150, 1024), dtype)
    cases = [dict(size=3), dict(size=(2, 5, 4), origin=(0, -2, 1), mode="wrap"),
             dict(size=(3, 2, 3), mode=["constant", "nearest", "mirror"], cval=2.0),
             dict(size=(4, 3, 2), origin=(-2, 0, 0), mode=["constant", "reflect", "wrap"]),
             dict(size=(16, 3, 3)), dict(size=(17, 3, 3))]
    for fn in ("minimum_filter", "maximum_filter"):
        for kw in cases:
            want = getattr(ndi, fn)(v, **kw)
            swept.clear()
            np.testing.assert_array_equal(bits(getattr(nd, fn)(v, **kw)), bits(want))
            assert swept[0] == (3, kw["size"] != (17, 3, 3)), (kw, swept)
    for view in (v[::-1, :40], v[::2, :40, ::-1][..., ::1], v[:, :40].transpose(0, 1, 2)):
        view = np.ascontiguousarray(view) if view.strides[-1] < 0 else view
        np.testing.assert_array_equal(bits(nd.maximum_filter(view, (3, 3, 5))),
                                      bits(ndi.maximum_filter(view, (3, 3, 5))))
    out = np.full(v.shape, 7, dtype)
    assert nd.minimum_filter(v, 3, output=out) is out
    np.testing.assert_array_equal(bits(out), bits(ndi.minimum_filter(v, 3)))
    h = sample(rng, (2, 5, 40, 30), dtype)
    np.testing.assert_array_equal(bits(nd.maximum_filter(h, (1, 3, 2, 3), mode="mirror")),
                                  bits(ndi.maximum_filter(h, (1, 3, 2, 3), mode="mirror")))
    if dtype == np.float32:  # an output past 16 MiB with 8 KiB rows: the streamed pair kernel
        big = sample(rng, (3, 700, 2048), dtype)
        np.testing.assert_array_equal(bits(nd.minimum_filter(big, (2, 3, 3))),
                                      bits(ndi.minimum_filter(big, (2, 3, 3))))
    want = ndi.maximum_filter(v, (3, 4, 3), mode="nearest")
    try:
        _npfast._set_core_cap_for_testing(16)
        for th in (1, 2, 3, 7, 16):
            npfast.set_num_threads(th)
            np.testing.assert_array_equal(bits(nd.maximum_filter(v, (3, 4, 3), mode="nearest")),
                                          bits(want))
    finally:
        _npfast._set_core_cap_for_testing(0)
    if np.dtype(dtype).kind == "f":
        for at, value in (((6, 140, 1000), np.nan), ((3, 70, 5), np.inf), ((0, 0, 0), -np.inf)):
            w = v.copy()
            w[at] = value
            for fn in ("minimum_filter", "maximum_filter"):
                swept.clear()
                same(getattr(nd, fn)(w, 3), getattr(ndi, fn)(w, 3))
                assert swept[0] == (3, False)  # the passes (the pair after the first: its
                # input may have lost the NaN, as SciPy's deque drops some)
        same(nd.minimum_filter(v, 3, mode="constant", cval=np.nan),
             ndi.minimum_filter(v, 3, mode="constant", cval=np.nan))


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.uint8, np.uint16, np.int32])
def test_fused_2d_minmax_rows(isa, dtype):
    # Vertical windows up to 16 run row by row through the whole image (one fold of the k0 rows
    # per output row, fused with the horizontal fold on rows too wide for L1, row blocks split
    # across threads): signed zeros as SciPy's deque picks them
    # (bit for bit), many row blocks, long horizontal windows, per-axis modes; an infinity or
    # a NaN anywhere, or an infinite / NaN cval read by constant mode, takes the whole-line
    # passes instead.
    rng = np.random.default_rng(21)
    x = sample(rng, (70, 3000), dtype)
    for fn in ("minimum_filter", "maximum_filter"):
        for kw in (dict(size=5), dict(size=(16, 3), origin=(7, -1), mode="wrap"),
                   dict(size=(2, 21), mode=["mirror", "constant"], cval=3.0),
                   dict(size=(9, 1)), dict(size=(3, 4), mode="nearest")):
            got, want = getattr(nd, fn)(x, **kw), getattr(ndi, fn)(x, **kw)
            same(got, want)
            np.testing.assert_array_equal(bits(got), bits(want))
    if dtype in (np.float32, np.float64):
        for bad in (np.inf, -np.inf, np.nan):
            # 50 wide: the separate row passes; 2000: the fused row kernel (kRowsInL1), one
            # output row a call (320 KB of output is not streamed, so never a pair: those are
            # test_fused_2d_minmax_pairs_check_every_row's): the bad row among a block's first
            # rows, or a later row's newest.
            for w, col, row in ((50, 3, 17), (2000, 3, 17), (2000, 1997, 17), (2000, 1000, 17),
                                (2000, 5, 0), (2000, 1990, 2), (2000, 7, 4), (2000, 9, 5),
                                (2000, 1500, 18)):
                y = x[:40, :w].copy()
                y[row, col] = bad
                for fn in ("minimum_filter", "maximum_filter"):
                    same(getattr(nd, fn)(y, size=(5, 3)), getattr(ndi, fn)(y, size=(5, 3)))
            z = x[:40, :50]
            for mode in ("constant", ["constant", "reflect"], ["reflect", "constant"]):
                kw = dict(size=(3, 5), mode=mode, cval=bad)
                same(nd.minimum_filter(z, **kw), ndi.minimum_filter(z, **kw))


def test_fused_2d_minmax_streams_big_outputs(isa):
    # Outputs of 16 MiB and more are written with streaming stores.
    rng = np.random.default_rng(22)
    x = sample(rng, (1100, 4001), np.float32)
    got = nd.maximum_filter(x, size=5)
    np.testing.assert_array_equal(bits(got), bits(ndi.maximum_filter(x, size=5)))
    out = np.empty((1100, 4002), np.float32)[:, 1:]  # rows not aligned to a register
    nd.minimum_filter(x, size=(3, 6), mode="wrap", output=out)
    np.testing.assert_array_equal(bits(out), bits(ndi.minimum_filter(x, size=(3, 6), mode="wrap")))


def test_fused_2d_minmax_pairs_check_every_row(keep_isa, threads):
    # Streamed outputs (>= 16 MiB) take two output rows a call (minmax_2d_pair) in row blocks of
    # 256 KiB of output (16 rows of 4001 float32, 8 of float64). With size 5 a block's first
    # call checks all its input rows (r0 - 2 .. r0 + 3), the next calls only the pair's two new
    # ones (r0 + i + 2, the pair's first, and r0 + i + 3, its second): a NaN in any of them takes
    # the whole-line passes. One NaN missed often still gives SciPy's values, so the row gets
    # NaN pairs and NaNs beside the window's extreme: a skipped check changes outputs. The ISAs
    # loop inside, so that SciPy runs once a case.
    import npfast
    from npfast import _npfast
    rng = np.random.default_rng(23)
    for dtype, h in ((np.float32, 1100), (np.float64, 550)):
        x = rng.standard_normal((h, 8002)).astype(dtype)[:, ::2]
        if dtype == np.float64:
            x = np.ascontiguousarray(x)  # float32 strided, float64 contiguous
        for fn in ("minimum_filter", "maximum_filter"):
            extreme = -100.0 if fn == "minimum_filter" else 100.0
            # block 0's first rows (only its first call checks row 1; a later block's first
            # rows are also rows of a pair in the block before), a pair's first and second rows
            for row in (1, 4, 5):
                y = x.copy()
                y[row, 100:102] = np.nan
                y[row, [300, 302]] = np.nan
                y[row, 301] = extreme
                y[row, 500] = np.nan
                y[row, 501] = extreme
                want = getattr(ndi, fn)(y, size=5)
                isas = npfast.config()["isas_available"]
                for isa in isas:
                    _npfast._set_isa(isa)
                    for n in (1, 2) if row != 4 and isa == isas[-1] else (2,):
                        npfast.set_num_threads(n)
                        same(getattr(nd, fn)(y, size=5), want)
    # int32: no NaN, the plain pair path
    x = rng.integers(-1000, 1000, (1100, 4001)).astype(np.int32)
    for fn in ("minimum_filter", "maximum_filter"):
        want = getattr(ndi, fn)(x, size=5)
        for isa in npfast.config()["isas_available"]:
            _npfast._set_isa(isa)
            same(getattr(nd, fn)(x, size=5), want)


def test_fused_2d_minmax_streamed_odd_rows_and_whole_lines(keep_isa):
    # Streamed outputs (>= 16 MiB), pairs of rows a call: a block's odd last row takes the
    # one-row kernel; rows of whole 64-byte lines at a 64-byte-aligned output (npfast's new
    # outputs) take the `_lines` pair kernel for windows 3 and 5, their edge lines written by
    # the operator; other windows (7, 9, k0 == 1) the streaming pair kernel. 4096 wide: blocks
    # of 16 rows, the last of 1025 alone; 4369 wide: blocks of 15 rows, each with an odd last
    # row. Signed zeros bit for bit; a NaN in the last row takes the whole-line passes.
    import npfast
    from npfast import _npfast
    rng = np.random.default_rng(24)
    for shape in ((1025, 4096), (961, 4369)):
        x = rng.standard_normal(shape).astype(np.float32)
        x[::7, ::5] = -0.0
        x[3::7, 2::5] = 0.0
        cases = [(x, size, fn) for size in (5, 3, (3, 5), (5, 3), 7, (9, 3), (1, 5))
                 for fn in ("minimum_filter", "maximum_filter")]
        y = x.copy()
        y[-1, 77] = np.nan
        cases.append((y, 7, "maximum_filter"))
        for img, size, fn in cases:
            want = getattr(ndi, fn)(img, size=size)
            for isa in npfast.config()["isas_available"]:
                _npfast._set_isa(isa)
                got = getattr(nd, fn)(img, size=size)
                same(got, want)
                np.testing.assert_array_equal(bits(got), bits(want))
        # into a given output: rows at 64-byte lines, and shifted off them by 4 and 16 bytes
        # (np.empty_like's; with 4096 wide rows the `_lines` kernel, the rows' shared end lines
        # joined); then rows 4 bytes off a line at a padded pitch of whole lines (not adjacent,
        # 4369 no whole number of lines: the end lines plainly)
        buf = np.empty(x.size + 32, np.float32)
        at = (-buf.ctypes.data % 64) // 4
        pitch = -(-shape[1] // 16) * 16 + (16 if shape[1] % 16 == 0 else 0)
        pbuf = np.empty(shape[0] * pitch + 32, np.float32)
        p0 = (-pbuf.ctypes.data % 64) // 4 + 1
        padded = pbuf[p0:p0 + shape[0] * pitch].reshape(shape[0], pitch)[:, :shape[1]]
        outs = [buf[off:off + x.size].reshape(shape) for off in (at, at + 1, at + 4)] + [padded]
        for out in outs:
            for size in (5, 7):
                out.fill(7)
                nd.minimum_filter(x, size=size, mode="wrap", output=out)
                np.testing.assert_array_equal(bits(out),
                                              bits(ndi.minimum_filter(x, size=size, mode="wrap")))


def test_fused_2d_minmax_streamed_planes_off_a_line():
    # A 3-D stack into an output whose planes are not a whole number of 64-byte lines apart:
    # each plane's rows sit at another offset into a line than out.data's, so the `_lines`
    # kernel (edges placed from out.data's offset) must not be taken. Before: outputs never
    # written (planes 16 bytes off), and a streaming store off alignment (4 bytes off: SIGSEGV).
    rng = np.random.default_rng(25)
    n, h, w = 120, 9, 4096  # 17.7 MB of float32: a streamed output
    x = rng.standard_normal((n, h, w)).astype(np.float32)
    want = ndi.minimum_filter(x, size=(1, 3, 3))
    for lead, pad in ((4, 4), (0, 1)):
        raw = np.empty(n * (h * w + pad) + 64, np.float32)
        o0 = (-raw.ctypes.data) % 64 // 4 + lead
        out = raw[o0:o0 + n * (h * w + pad)].reshape(n, h * w + pad)[:, :h * w].reshape(n, h, w)
        out.fill(7)
        nd.minimum_filter(x, size=(1, 3, 3), output=out)
        same(out, want)


@pytest.mark.parametrize("nthreads", [1, 2, 7])
def test_footprint_filters_into_their_own_input(nthreads, threads):
    """output=input: the window operators read rows that other rows' outputs (other threads')
    overwrite, so they read a copy, and the result is SciPy's out-of-place one at every thread
    count (the separable passes, which read each block before writing it, run in place)."""
    npfast.set_num_threads(nthreads)
    rng = np.random.default_rng(21)
    cross = np.array([[0, 1, 0], [1, 1, 1], [0, 1, 0]], bool)
    for shape, dtype in (((400, 300), np.float64), ((30, 24), np.float32), ((700, 900), np.uint8),
                         ((5, 40, 50), np.float32), ((3000,), np.float64)):
        x = sample(rng, shape, dtype)
        fp = cross if x.ndim == 2 else None
        for name, args, kw in (("median_filter", (), dict(size=3)),
                               ("median_filter", (), dict(size=7)),
                               ("rank_filter", (2,), dict(size=3)),
                               ("percentile_filter", (60,), dict(size=5)),
                               ("minimum_filter", (), dict(size=5)),
                               ("maximum_filter", (), dict(footprint=fp) if fp is not None
                                else dict(size=3))):
            want = getattr(ndi, name)(x, *args, **kw)
            y = x.copy()
            got = getattr(nd, name)(y, *args, output=y, **kw)
            assert got is y
            same(y, want)


@pytest.mark.parametrize("name", ["minimum_filter", "median_filter", "uniform_filter",
                                  "gaussian_filter", "sobel", "correlate", "convolve"])
@pytest.mark.parametrize("bad", [[0.0] * 9, (3, 3), 5])
def test_output_neither_dtype_nor_array_is_scipys_runtime_error(name, bad):
    """probe20a: SciPy raises RuntimeError ("output shape not correct") for an output= that is
    not None, a dtype or an ndarray; npfast raised a plain TypeError."""
    x = np.ones((3, 3))
    args = {"sobel": (), "gaussian_filter": (1.0,), "correlate": (np.ones((2, 2)),),
            "convolve": (np.ones((2, 2)),)}.get(name, (3,))
    with pytest.raises(RuntimeError, match="output") as err:
        getattr(nd, name)(x, *args, output=bad)
    assert isinstance(err.value, TypeError)
    with pytest.raises(RuntimeError):
        getattr(ndi, name)(x, *args, output=bad)

