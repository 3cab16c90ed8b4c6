"""Property tests (hypothesis): random shapes including 0 and 1, views with odd and negative
strides, Fortran order, both float dtypes and random parameters, against SciPy, PyTorch and
NumPy: convert, normalize, correlate2d/convolve2d, ndimage, max/avg pooling and their backward
passes, max_unpool2d, adaptive_avg_pool2d, conv2d forward and backward, matmul. Examples are
derandomized so CI is reproducible."""

from __future__ import annotations

import numpy as np
import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

import scipy.ndimage as ndimage  # noqa: E402
import scipy.signal as signal  # noqa: E402

import npfast  # noqa: E402
from anchors import F, needs_torch, torch  # noqa: E402
from tolerances import assert_matmul_close, filter_scale, tol  # noqa: E402

PROFILE = settings(max_examples=60, deadline=None, derandomize=True, database=None)


@st.composite
def views(draw, dtype, ndim, min_side=0, max_side=9):
    """An array of `ndim` dims that is often a view: sliced with steps (negative too),
    transposed, or Fortran-ordered."""
    shape = [draw(st.integers(min_side, max_side)) for _ in range(ndim)]
    steps = [draw(st.sampled_from([1, 1, 2, -1, -2, 3])) for _ in range(ndim)]
    base_shape = [max(1, n * abs(s)) for n, s in zip(shape, steps)]
    seed = draw(st.integers(0, 2**31))
    base = np.random.default_rng(seed).standard_normal(base_shape)
    if np.issubdtype(dtype, np.integer):
        base = base * 50
    base = base.astype(dtype)
    if draw(st.booleans()):
        base = np.asfortranarray(base)
    v = base[tuple(slice(None, None, s) for s in steps)]
    v = v[tuple(slice(0, n) for n in shape)]
    if ndim == 2 and draw(st.booleans()):
        v = v.T
    return v


float_dtypes = st.sampled_from([np.float32, np.float64])


@PROFILE
@given(data=st.data(), src=st.sampled_from([np.uint8, np.int16, np.int32, np.float32, np.float64]),
       dst=float_dtypes, ndim=st.integers(0, 3), scale=st.floats(-1e3, 1e3), offset=st.floats(-1e3, 1e3))
def test_convert_matches_extended_precision(data, src, dst, ndim, scale, offset):
    a = data.draw(views(src, ndim))
    got = npfast.convert(a, dst, scale, offset)
    want = (a.astype(np.longdouble) * np.longdouble(scale) + np.longdouble(offset)).astype(np.float64).astype(dst)
    assert got.shape == a.shape and got.dtype == dst
    np.testing.assert_array_max_ulp(got, want, maxulp=1)


def close(op, got, want, dtype, scale=None):
    """Within op's tolerance (tests/python/tolerances.py); scale defaults to max(1, max |want|)."""
    if scale is None:
        scale = max(1.0, float(np.abs(want).max(initial=0)))
    np.testing.assert_allclose(got, want, **tol(op, dtype, scale))


@PROFILE
@given(data=st.data(), dtype=float_dtypes, mode=st.sampled_from(["full", "same", "valid"]),
       boundary=st.sampled_from(["fill", "wrap", "symm"]), fill=st.floats(-3, 3),
       conv=st.booleans())
def test_corr2d_matches_scipy_signal(data, dtype, mode, boundary, fill, conv):
    x = data.draw(views(dtype, 2, min_side=1, max_side=12))
    k = data.draw(views(dtype, 2, min_side=1, max_side=5))
    ours = npfast.convolve2d if conv else npfast.correlate2d
    theirs = signal.convolve2d if conv else signal.correlate2d
    if mode == "valid" and not (all(a >= b for a, b in zip(x.shape, k.shape)) or
                                all(a <= b for a, b in zip(x.shape, k.shape))):
        with pytest.raises(ValueError):
            ours(x, k, mode=mode, boundary=boundary, fillvalue=fill)
        return
    got = ours(x, k, mode=mode, boundary=boundary, fillvalue=fill)
    want = theirs(x.astype(np.float64), k.astype(np.float64), mode=mode, boundary=boundary, fillvalue=fill)
    assert got.dtype == dtype and got.shape == want.shape
    close(ours.__name__, got, want, dtype, filter_scale(x, k))


@PROFILE
@given(data=st.data(), dtype=float_dtypes,
       mode=st.sampled_from(["reflect", "constant", "nearest", "mirror", "wrap"]),
       cval=st.floats(-3, 3), conv=st.booleans())
def test_ndimage_matches_scipy(data, dtype, mode, cval, conv):
    x = data.draw(views(dtype, 2, min_side=1, max_side=12))
    k = data.draw(views(dtype, 2, min_side=1, max_side=5))
    origin = [data.draw(st.integers(-(n // 2), (n - 1) // 2)) for n in k.shape]
    ours = npfast.ndimage.convolve if conv else npfast.ndimage.correlate
    theirs = ndimage.convolve if conv else ndimage.correlate
    got = ours(x, k, mode=mode, cval=cval, origin=origin)
    want = theirs(x.astype(np.float64), k.astype(np.float64), mode=mode, cval=cval, origin=origin)
    close("ndimage.correlate", got, want, dtype, filter_scale(x, k))



@st.composite
def pool_params(draw):
    k = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    s = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    d = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    p = (draw(st.integers(0, k[0] // 2)), draw(st.integers(0, k[1] // 2)))
    return k, s, p, d, draw(st.booleans())


@needs_torch
@PROFILE
@given(data=st.data(), dtype=float_dtypes, params=pool_params(), ndim=st.sampled_from([2, 3, 4]),
       specials=st.booleans())
def test_max_pool2d_matches_torch(data, dtype, params, ndim, specials):
    k, s, p, d, ceil = params
    lead = [data.draw(st.integers(0, 3)) for _ in range(ndim - 2)]
    plane = data.draw(views(dtype, 2, min_side=1, max_side=10))
    x = np.broadcast_to(plane, tuple(lead) + plane.shape).copy() if lead else plane
    if lead and x.size:
        x = x + np.arange(x.size, dtype=dtype).reshape(x.shape) % 3  # planes differ
    if specials and x.size:
        flat = x.reshape(-1)
        flat[data.draw(st.integers(0, flat.size - 1))] = data.draw(st.sampled_from([np.nan, np.inf, -np.inf]))
        flat[::7] = flat[0]  # ties
    # torch takes no (H, W) input; npfast treats it as one plane.
    tx = torch.from_numpy(np.array(x if ndim > 2 else x[None], copy=True, order="C"))
    try:
        want, want_idx = F.max_pool2d(tx, k, s, p, d, ceil_mode=ceil, return_indices=True)
        if ndim == 2:
            want, want_idx = want[0], want_idx[0]
    except RuntimeError:
        if x.size == 0:  # torch refuses empty channel dims; npfast returns an empty result
            try:  # (or refuses the window sizes, as torch would on a non-empty input)
                got, idx = npfast.max_pool2d(x, k, s, p, d, ceil, return_indices=True)
            except ValueError:
                return
            assert got.size == 0 and idx.size == 0
            return
        with pytest.raises(ValueError):
            npfast.max_pool2d(x, k, s, p, d, ceil, return_indices=True)
        return
    got, idx = npfast.max_pool2d(x, k, s, p, d, ceil, return_indices=True)
    np.testing.assert_array_equal(got, want.numpy())
    np.testing.assert_array_equal(idx, want_idx.numpy())


@needs_torch
@PROFILE
@given(data=st.data(), dtype=float_dtypes, params=pool_params(), include_pad=st.booleans())
def test_avg_pool2d_matches_torch(data, dtype, params, include_pad):
    k, s, p, _, ceil = params
    x = data.draw(views(dtype, 2, min_side=1, max_side=10))[None]
    tx = torch.from_numpy(np.array(x, copy=True, order="C"))
    try:
        want = F.avg_pool2d(tx, k, s, p, ceil_mode=ceil, count_include_pad=include_pad).numpy()
    except RuntimeError:
        with pytest.raises(ValueError):
            npfast.avg_pool2d(x, k, s, p, ceil, include_pad)
        return
    got = npfast.avg_pool2d(x, k, s, p, ceil, include_pad)
    close("avg_pool2d", got, want, dtype, max(1.0, float(np.abs(x).max(initial=0))))


@st.composite
def laid_out(draw, a):
    """`a`'s values in a view with odd or negative steps, sometimes Fortran-ordered: the layouts
    a sliced or flipped gradient or index array arrives in."""
    steps = [draw(st.sampled_from([1, 1, 2, -1, -2])) for _ in range(a.ndim)]
    base = np.zeros([max(1, n * abs(s)) for n, s in zip(a.shape, steps)], a.dtype)
    if draw(st.booleans()):
        base = np.asfortranarray(base)
    v = base[tuple(slice(None, None, s) for s in steps)][tuple(slice(0, n) for n in a.shape)]
    v[...] = a
    return v


@st.composite
def pool_input(draw, dtype, min_side=1):
    """(..., H, W) with 0 to 2 leading axes (0 and 1 sizes included); rounded values now and then
    so that windows tie."""
    shape = [draw(st.integers(0, 3)) for _ in range(draw(st.integers(0, 2)))]
    shape += [draw(st.integers(min_side, 10)), draw(st.integers(min_side, 10))]
    x = np.random.default_rng(draw(st.integers(0, 2**31))).standard_normal(shape)
    if draw(st.booleans()):
        x = np.round(x)
    return x.astype(dtype)


def torch_plane(x):
    """torch pools (C, H, W) or (N, C, H, W); npfast also takes one (H, W) plane."""
    return torch.from_numpy(np.array(x if x.ndim > 2 else x[None], copy=True, order="C"))


def npfast_shape(t, x):
    """The shape npfast gives for torch result `t` of input `x` (no plane axis for (H, W))."""
    return tuple(t.shape)[1:] if x.ndim == 2 else tuple(t.shape)


@needs_torch
@PROFILE
@given(data=st.data(), dtype=float_dtypes, params=pool_params())
def test_max_pool2d_backward_matches_torch(data, dtype, params):
    k, s, p, d, ceil = params
    x = data.draw(pool_input(dtype))
    tx = torch_plane(x).requires_grad_()
    try:
        ty, tidx = F.max_pool2d(tx, k, s, p, d, ceil_mode=ceil, return_indices=True)
    except RuntimeError:
        return  # refused shapes are the forward test's business
    gy = np.random.default_rng(ty.numel()).standard_normal(tuple(ty.shape)).astype(dtype)
    ty.backward(torch.from_numpy(gy))
    want = tx.grad.numpy().reshape(x.shape)
    gy, idx = gy.reshape(npfast_shape(ty, x)), tidx.numpy().reshape(npfast_shape(ty, x))
    got = npfast.max_pool2d_backward(data.draw(laid_out(gy)), data.draw(laid_out(idx)), x.shape)
    # Overlapping windows choose one element many times: summed in output order, as torch.
    assert got.dtype == dtype
    np.testing.assert_array_equal(got, want)


@needs_torch
@PROFILE
@given(data=st.data(), dtype=float_dtypes, params=pool_params(), include_pad=st.booleans(),
       divisor=st.sampled_from([None, None, 1, 3, -2]))
def test_avg_pool2d_backward_matches_torch(data, dtype, params, include_pad, divisor):
    k, s, p, _, ceil = params
    x = data.draw(pool_input(dtype))
    tx = torch_plane(x).requires_grad_()
    args = dict(ceil_mode=ceil, count_include_pad=include_pad, divisor_override=divisor)
    try:
        ty = F.avg_pool2d(tx, k, s, p, **args)
    except RuntimeError:
        return
    gy = np.random.default_rng(ty.numel()).standard_normal(tuple(ty.shape)).astype(dtype)
    ty.backward(torch.from_numpy(gy))
    gy = gy.reshape(npfast_shape(ty, x))
    got = npfast.avg_pool2d_backward(data.draw(laid_out(gy)), x.shape, k, s, p, **args)
    assert got.dtype == dtype
    close("avg_pool2d_backward", got, tx.grad.numpy().reshape(x.shape), dtype)


@needs_torch
@PROFILE
@given(data=st.data(), dtype=float_dtypes, params=pool_params(), resize=st.booleans())
def test_max_unpool2d_matches_torch(data, dtype, params, resize):
    k, s, p, _, ceil = params
    x = data.draw(pool_input(dtype))
    try:
        _, tidx = F.max_pool2d(torch_plane(x), k, s, p, ceil_mode=ceil, return_indices=True)
    except RuntimeError:
        return
    # Values differ from the pooled ones, so an index chosen twice shows which write survives.
    rng = np.random.default_rng(tidx.numel())
    vals = torch.from_numpy(rng.standard_normal(tuple(tidx.shape)).astype(dtype))
    size = None
    if resize:  # each side strictly within `stride` of the default, PyTorch's rule
        default = [(n - 1) * st_ - 2 * pd + kk for n, st_, pd, kk in zip(tidx.shape[-2:], s, p, k)]
        size = tuple(n + data.draw(st.integers(-st_ + 1, st_ - 1)) for n, st_ in zip(default, s))
    shape = npfast_shape(tidx, x)
    v = data.draw(laid_out(vals.numpy().reshape(shape)))
    idx = data.draw(laid_out(tidx.numpy().reshape(shape)))
    try:
        want = F.max_unpool2d(vals, tidx, k, s, p, output_size=size).numpy()
    except (RuntimeError, ValueError):  # an index past the (smaller) output plane, a bad size
        with pytest.raises(ValueError):
            npfast.max_unpool2d(v, idx, k, s, p, output_size=size)
        return
    if want.size == 0:  # torch returns an empty plane unchecked; npfast refuses a 0 side
        try:
            assert npfast.max_unpool2d(v, idx, k, s, p, output_size=size).size == 0
        except ValueError:
            pass
        return
    got = npfast.max_unpool2d(v, idx, k, s, p, output_size=size)
    assert got.dtype == dtype and got.shape == npfast_shape(torch.from_numpy(want), x)
    # Reference: each plane written in C order, so a repeated index keeps the last value.
    # (torch's CPU kernel keeps any one of them, so it is compared where no index repeats.)
    ref = np.zeros(got.shape, dtype).reshape(-1, got.shape[-2] * got.shape[-1])
    hits = np.zeros(ref.shape, np.int64)
    for plane, (vp, ip) in enumerate(zip(v.reshape(ref.shape[0], -1), idx.reshape(ref.shape[0], -1))):
        for value, i in zip(vp, ip):
            ref[plane, i] = value
            hits[plane, i] += 1
    np.testing.assert_array_equal(got, ref.reshape(got.shape))
    once = hits.reshape(got.shape) <= 1
    np.testing.assert_array_equal(got[once], want.reshape(got.shape)[once])


@needs_torch
@PROFILE
@given(data=st.data(), dtype=float_dtypes,
       size=st.one_of(st.integers(0, 6), st.tuples(st.one_of(st.none(), st.integers(0, 6)),
                                                   st.one_of(st.none(), st.integers(0, 6)))))
def test_adaptive_avg_pool2d_matches_torch(data, dtype, size):
    x = data.draw(laid_out(data.draw(pool_input(dtype))))
    try:
        want = F.adaptive_avg_pool2d(torch_plane(x), size).numpy()
    except RuntimeError:
        if x.size == 0:  # torch refuses some empty leading axes; npfast returns an empty result
            assert npfast.adaptive_avg_pool2d(x, size).size == 0
            return
        with pytest.raises(ValueError):
            npfast.adaptive_avg_pool2d(x, size)
        return
    got = npfast.adaptive_avg_pool2d(x, size)
    assert got.dtype == dtype
    close("adaptive_avg_pool2d", got, want.reshape(got.shape), dtype)


@st.composite
def conv_case(draw):
    groups = draw(st.sampled_from([1, 1, 2, 3]))
    cg, og = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    kh, kw = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    padding = (draw(st.integers(0, 2)), draw(st.integers(0, 2)))
    n = draw(st.integers(0, 2))
    h = draw(st.integers(max(1, (kh - 1) * dilation[0] + 1 - 2 * padding[0]), 10))
    w = draw(st.integers(max(1, (kw - 1) * dilation[1] + 1 - 2 * padding[1]), 10))
    return n, groups, cg, og, kh, kw, h, w, stride, dilation, padding, draw(st.booleans())


@needs_torch
@PROFILE
@given(case=conv_case(), dtype=float_dtypes, seed=st.integers(0, 2**31))
def test_conv2d_forward_backward_match_torch(case, dtype, seed):
    n, groups, cg, og, kh, kw, h, w, stride, dilation, padding, with_bias = case
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, groups * cg, h, w)).astype(dtype)
    wt = rng.standard_normal((groups * og, cg, kh, kw)).astype(dtype)
    b = rng.standard_normal(groups * og).astype(dtype) if with_bias else None
    if rng.integers(2):
        x = np.asfortranarray(x)  # a non-contiguous layout
    args = dict(stride=stride, padding=padding, dilation=dilation, groups=groups)
    tx = torch.from_numpy(np.array(x, order="C")).requires_grad_()
    tw = torch.from_numpy(wt).requires_grad_()
    tb = torch.from_numpy(b).requires_grad_() if with_bias else None
    ty = F.conv2d(tx, tw, tb, **args)
    y = npfast.conv2d(x, wt, b, **args)
    close("conv2d", y, ty.detach().numpy(), dtype)
    gy = rng.standard_normal(y.shape).astype(dtype)
    ty.backward(torch.from_numpy(gy))
    gx, gw, gb = npfast.conv2d_backward(gy, x, wt, **args)
    close("conv2d_backward", gx, tx.grad.numpy(), dtype)
    close("conv2d_backward", gw, tw.grad.numpy(), dtype)
    if with_bias:
        close("conv2d_backward", gb, tb.grad.numpy(), dtype)


@PROFILE
@given(data=st.data(), dtype=float_dtypes, batch=st.sampled_from([None, 1, 3]))
def test_matmul_matches_numpy(data, dtype, batch):
    a = data.draw(views(dtype, 2, min_side=0, max_side=40))  # often a strided view
    k, n = a.shape[1], data.draw(st.integers(0, 40))
    b = np.random.default_rng(k * 1000 + n).standard_normal((k, n)).astype(dtype)
    if batch:
        a = np.stack([a + i for i in range(batch)])
    assert_matmul_close(npfast.matmul(a, b), a, b)


@PROFILE
@given(data=st.data(), dtype=float_dtypes, to_chw=st.booleans())
def test_normalize_matches_numpy(data, dtype, to_chw):
    h, w, c = data.draw(st.integers(0, 9)), data.draw(st.integers(0, 9)), data.draw(st.integers(1, 4))
    img = np.random.default_rng(h * 100 + w).integers(0, 256, (h, w, c), dtype=np.uint8)
    mean = data.draw(st.lists(st.floats(0, 1), min_size=c, max_size=c))
    std = data.draw(st.lists(st.floats(0.05, 1), min_size=c, max_size=c))
    got = npfast.normalize(img, mean, std, dtype=dtype, to_chw=to_chw)
    want = (img / 255.0 - np.array(mean)) / np.array(std)
    if to_chw:
        want = want.transpose(2, 0, 1)
    assert got.shape == want.shape and got.dtype == dtype
    close("normalize", got, want.astype(dtype), dtype)
