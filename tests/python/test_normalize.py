"""npfast.normalize against the NumPy formula (and PyTorch), every layout and ISA path."""

import numpy as np
import pytest

import npfast
from anchors import needs_torch, torch
from tolerances import tol

MEAN = [0.485, 0.456, 0.406]
STD = [0.229, 0.224, 0.225]


def reference(img, mean, std, channel_axis=-1, to_chw=False):
    """(img / 255 - mean) / std in float64, channels along channel_axis."""
    shape = [1] * img.ndim
    shape[channel_axis] = -1
    m = np.asarray(mean, np.float64).reshape(shape) if np.ndim(mean) else mean
    s = np.asarray(std, np.float64).reshape(shape) if np.ndim(std) else std
    y = (img / 255.0 - m) / s
    if to_chw:
        y = np.moveaxis(y, channel_axis, img.ndim - 3)
    return y


def check(got, want, dtype):
    assert got.dtype == dtype and got.shape == want.shape
    if dtype == np.float32:
        np.testing.assert_array_max_ulp(got, want.astype(np.float32), maxulp=1)
    else:
        np.testing.assert_allclose(got, want, **tol("normalize", dtype))


def image(shape, seed=0):
    return np.random.default_rng(seed).integers(0, 256, size=shape, dtype=np.uint8)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(1, 1, 3), (5, 7, 3), (31, 17, 3), (64, 65, 3)])
def test_hwc(isa, dtype, shape):
    img = image(shape)
    check(npfast.normalize(img, MEAN, STD, dtype=dtype), reference(img, MEAN, STD), dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(5, 7, 3), (2, 9, 33, 3), (3, 40, 41, 4)])
def test_to_chw(isa, dtype, shape):
    img = image(shape)
    C = shape[-1]
    mean, std = MEAN[:C] + [0.5] * (C - 3), STD[:C] + [0.25] * (C - 3)
    got = npfast.normalize(img, mean, std, dtype=dtype, to_chw=True)
    check(got, reference(img, mean, std, to_chw=True), dtype)
    assert got.flags.c_contiguous


@pytest.mark.parametrize("channel_axis", [0, 1, -2, 2])
@pytest.mark.parametrize("to_chw", [False, True])
def test_other_channel_axes(isa, channel_axis, to_chw):
    img = image((3, 4, 5))
    C = img.shape[channel_axis]
    mean = np.linspace(0.2, 0.6, C)
    std = np.linspace(0.1, 0.3, C)
    got = npfast.normalize(img, mean, std, channel_axis=channel_axis, to_chw=to_chw)
    check(got, reference(img, mean, std, channel_axis, to_chw), np.float32)


@pytest.mark.parametrize("C", [1, 2, 5, 8, 9])
def test_channel_counts(isa, C):
    img = image((11, 13, C))
    mean, std = np.linspace(0.1, 0.9, C), np.linspace(0.5, 1.5, C)
    check(npfast.normalize(img, mean, std), reference(img, mean, std), np.float32)
    check(npfast.normalize(img, mean, std, to_chw=True), reference(img, mean, std, to_chw=True),
          np.float32)


def test_views(isa):
    base = image((40, 50, 3))
    for view in [base[::-1], base[:, ::3], base[5:30, 7:9], np.asfortranarray(base),
                 base.transpose(1, 0, 2), base[..., ::-1]]:
        for to_chw in [False, True]:
            got = npfast.normalize(view, MEAN, STD, to_chw=to_chw)
            check(got, reference(view, MEAN, STD, to_chw=to_chw), np.float32)


def test_scalar_stats_and_1d():
    img = image((10, 3))
    check(npfast.normalize(img, 0.5, 0.25), reference(img, 0.5, 0.25), np.float32)
    v = image((20,))
    check(npfast.normalize(v, [0.5], [2.0]), reference(v, [0.5], [2.0]), np.float32)
    # One value of either broadcasts against the other's per-channel values (NumPy's rule).
    img = image((6, 5, 3))
    check(npfast.normalize(img, MEAN, 0.5), reference(img, MEAN, 0.5), np.float32)
    check(npfast.normalize(img, 0.5, STD), reference(img, 0.5, STD), np.float32)


def test_out_argument():
    img = image((8, 9, 3))
    out = np.empty((3, 8, 9), np.float32)
    res = npfast.normalize(img, MEAN, STD, to_chw=True, out=out)
    assert res is out
    check(out, reference(img, MEAN, STD, to_chw=True), np.float32)
    strided = np.zeros((3, 8, 18), np.float64)[:, :, ::2]
    npfast.normalize(img, MEAN, STD, dtype=np.float64, to_chw=True, out=strided)
    check(strided, reference(img, MEAN, STD, to_chw=True), np.float64)


def test_empty():
    assert npfast.normalize(image((0, 5, 3)), MEAN, STD).shape == (0, 5, 3)
    assert npfast.normalize(image((4, 0, 3)), MEAN, STD, to_chw=True).shape == (3, 4, 0)


def test_big_threaded_and_streaming_match_single(threads):
    img = image((1100, 1300, 3), seed=3)  # 17 MB float32 output: the streaming path
    npfast.set_num_threads(1)
    one = npfast.normalize(img, MEAN, STD)
    one_chw = npfast.normalize(img, MEAN, STD, to_chw=True)
    npfast.set_num_threads(2)
    two = npfast.normalize(img, MEAN, STD)
    two_chw = npfast.normalize(img, MEAN, STD, to_chw=True)
    assert np.array_equal(one, two) and np.array_equal(one_chw, two_chw)
    assert np.array_equal(one.transpose(2, 0, 1), one_chw)
    check(one[::37], reference(img[::37], MEAN, STD), np.float32)


@needs_torch
def test_matches_torch():
    img = image((32, 48, 3))
    t = torch.from_numpy(img).permute(2, 0, 1).to(torch.float64) / 255.0
    t = (t - torch.tensor(MEAN, dtype=torch.float64)[:, None, None]) / torch.tensor(
        STD, dtype=torch.float64)[:, None, None]
    got = npfast.normalize(img, MEAN, STD, to_chw=True, dtype=np.float64)
    np.testing.assert_allclose(got, t.numpy(), **tol("normalize", np.float64))


@pytest.mark.parametrize("bad", [np.float32, np.uint16, np.int8])
def test_non_uint8_image_is_type_error(bad):
    with pytest.raises(TypeError, match="image: dtype must be uint8"):
        npfast.normalize(np.zeros((2, 2, 3), bad), MEAN, STD)


def test_bad_dtype():
    with pytest.raises(TypeError, match="dtype: must be float32 or float64"):
        npfast.normalize(image((2, 2, 3)), MEAN, STD, dtype=np.uint8)


def test_bad_arguments_leave_out_untouched():
    img = image((4, 5, 3))
    out = np.full((4, 5, 3), -1.0, np.float32)
    cases = [
        (dict(mean=[0.5, 0.5], std=[1, 1]), ValueError, "mean, std: need 1 or 3"),
        (dict(mean=MEAN, std=[1, 0, 1]), ValueError, "std: must be finite and non-zero"),
        (dict(mean=MEAN, std=[1, np.inf, 1]), ValueError, "std"),
        (dict(mean=[0, np.nan, 0], std=STD), ValueError, "mean: must be finite"),
        (dict(mean=MEAN, std=STD[:2]), ValueError, "same length"),
        (dict(mean=[], std=[]), ValueError, "must not be empty"),
        (dict(mean=[[0.5]], std=[[1.0]]), TypeError, "mean"),
        (dict(mean=MEAN, std=STD, channel_axis=3), ValueError, "channel_axis: 3 is out of range"),
        (dict(mean=MEAN, std=STD, to_chw=True, out=out[:, :, :2]), ValueError, "out: shape"),
        (dict(mean=MEAN, std=STD, to_chw=True), ValueError, r"out: shape must be \(3, 4, 5\)"),
        (dict(mean="abc", std=STD), TypeError, "mean"),
    ]
    for kwargs, exc, msg in cases:
        kwargs.setdefault("out", out)
        with pytest.raises(exc, match=msg):
            npfast.normalize(img, **kwargs)
        assert (out == -1).all(), kwargs
    # Empty stats fit an image without channels, as NumPy's spelling (probe22b).
    empty = npfast.normalize(image((4, 5, 0)), [], [])
    assert empty.shape == (4, 5, 0) and empty.dtype == np.float32
    with pytest.raises(ValueError, match="mean: must not be empty"):
        npfast.normalize(img, [], [0.5])
    with pytest.raises(ValueError, match="to_chw: needs an image with at least 3 dimensions"):
        npfast.normalize(image((4, 3)), MEAN, STD, to_chw=True)
    with pytest.raises(TypeError, match="out: dtype must be float32"):
        npfast.normalize(img, MEAN, STD, out=np.zeros((4, 5, 3)))
    with pytest.raises(ValueError, match="out: must not share memory"):
        buf = np.zeros(240, np.uint8)
        npfast.normalize(buf[:60].reshape(4, 5, 3), MEAN, STD,
                         out=buf.view(np.float32).reshape(4, 5, 3))


def test_stats_must_be_numbers():
    """probe19b: strings in mean / std were parsed as numbers (a forced cast); bools and complex
    numbers are refused as convert's scale is. Integers and floats are taken."""
    img = np.full((1, 1, 3), 128, np.uint8)
    out = np.full((1, 1, 3), 7.0, np.float32)
    for arg in ("mean", "std"):
        for bad in ("0.5", ["0.5", 0.5, 0.5], b"1", True, [1j, 1, 1], [None, 1, 1]):
            stats = {"mean": 0.5, "std": 0.25, arg: bad}
            with pytest.raises(TypeError, match=f"{arg}: expected a (real )?number"):
                npfast.normalize(img, stats["mean"], stats["std"], out=out)
    assert (out == 7).all()
    np.testing.assert_allclose(npfast.normalize(img, 0, [1, 2, 4]),
                               [[[128 / 255, 64 / 255, 32 / 255]]], rtol=1e-6)
    # Real numbers of other types, one by one as convert's scale (review19): Fractions,
    # Decimals, an object array of floats; an int past float64's range names the argument.
    from decimal import Decimal
    from fractions import Fraction
    want = npfast.normalize(img, 0.5, [0.25, 0.5, 1.0])
    for mean, std in ((Fraction(1, 2), [Decimal("0.25"), 0.5, 1]),
                      (np.array([0.5], dtype=object), np.array([0.25, 0.5, 1.0], dtype=object))):
        np.testing.assert_array_equal(npfast.normalize(img, mean, std), want)
    with pytest.raises(TypeError, match="mean: expected a real number"):
        npfast.normalize(img, np.array(["0.5"], dtype=object), 1)
    with pytest.raises(ValueError, match="std: out of the float64 range"):
        npfast.normalize(img, 0.5, 10**400)
