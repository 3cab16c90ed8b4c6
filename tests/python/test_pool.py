"""npfast pooling against PyTorch (values, argmax indices, gradients), on every ISA path.

The `scalar` ISA runs the reference kernels, so each test also checks the oracle; the C++
tests (src/kernels/pool/test.cc) compare every SIMD kernel to it bit for bit."""

import itertools

import numpy as np
import pytest

import npfast
from npfast import _npfast

from anchors import F, needs_torch, torch
from tolerances import tol

DTYPES = [np.float32, np.float64]


@pytest.fixture(autouse=True, scope="module")
def torch_one_thread():
    # The anchor's own threads only slow these small calls down on a shared machine.
    if torch is None:
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def t(a):
    return torch.from_numpy(np.ascontiguousarray(a))


def tricky(shape, dtype, rng, specials=True):
    """Small integers (many ties, +0/-0), plus NaN and +-inf sprinkled in."""
    x = rng.integers(-4, 5, size=shape).astype(dtype)
    x[rng.random(shape) < 0.1] = -0.0
    if specials:
        x[rng.random(shape) < 0.03] = np.nan
        x[rng.random(shape) < 0.03] = np.inf
        x[rng.random(shape) < 0.03] = -np.inf
    return x


def geometries(H, W, max_k=4):
    for k, s, d, c in itertools.product(range(1, max_k + 1), [1, 2, 3, 4], [1, 2], [False, True]):
        for p in range(k // 2 + 1):
            out = [(n + 2 * p - d * (k - 1) - 1 + (s - 1 if c else 0)) // s + 1 for n in (H, W)]
            if c:
                out = [o - 1 if (o - 1) * s >= n + p else o for o, n in zip(out, (H, W))]
            if min(out) >= 1:
                yield k, s, p, d, c


def torch_max(x, *args, **kw):
    v, i = F.max_pool2d(t(x), *args, return_indices=True, **kw)
    return v.numpy(), i.numpy()


def assert_same_max(x, args, kw=None):
    kw = kw or {}
    v, i = npfast.max_pool2d(x, *args, return_indices=True, **kw)
    tv, ti = torch_max(x, *args, **kw)
    np.testing.assert_array_equal(v, tv)  # NaN == NaN here, +0 vs -0 checked below
    np.testing.assert_array_equal(np.signbit(v), np.signbit(tv))
    np.testing.assert_array_equal(i, ti)
    assert v.dtype == x.dtype and i.dtype == np.int64
    np.testing.assert_array_equal(npfast.max_pool2d(x, *args, **kw), v)


# ---------------------------------------------------------------------------------------------
# max_pool2d


@needs_torch
@pytest.mark.parametrize("dtype", DTYPES)
def test_max_pool_every_geometry_matches_torch(isa, dtype):
    rng = np.random.default_rng(0)
    # Widths below, at and above the vector widths (4, 8, 16 lanes) with remainders.
    for H, W in [(7, 9), (12, 37), (19, 70)]:
        x = tricky((2, 2, H, W), dtype, rng)
        for k, s, p, d, c in geometries(H, W):
            assert_same_max(x, (k, s, p, d, c))


@needs_torch
@pytest.mark.parametrize("dtype", DTYPES)
def test_max_pool_rectangular_windows(isa, dtype):
    rng = np.random.default_rng(1)
    x = tricky((1, 3, 23, 61), dtype, rng)
    for k, s, p, d in [((2, 3), (1, 2), (1, 1), (1, 1)), ((3, 2), (2, 3), (0, 1), (2, 1)),
                       ((1, 5), (1, 1), (0, 2), (1, 2)), ((5, 3), (3, 3), (2, 1), (1, 3)),
                       ((2, 2), (5, 7), (1, 0), (1, 1))]:
        for c in (False, True):
            assert_same_max(x, (k, s, p, d, c))


@needs_torch
@pytest.mark.parametrize("dtype", DTYPES)
def test_max_pool_ties_nan_inf(isa, dtype):
    nan, inf = np.nan, np.inf
    x = np.array([[1, 1, nan, 2, -inf, -inf, inf, inf],
                  [1, 1, 3, nan, -inf, -inf, nan, inf],
                  [0.0, -0.0, nan, nan, 5, 5, -inf, nan],
                  [-0.0, 0.0, nan, 1, 5, 5, nan, -inf]], dtype)
    for args in [(2,), (2, 1), (3, 1, 1), (2, 2, 1), (2, 2, 0, 1, True)]:
        assert_same_max(x[None, None], args)
    # Wide rows so the vector path sees the same patterns.
    wide = np.tile(x, (3, 9))
    for args in [(2,), (3, 2, 1), (3,), (2, 1), (3, 3, 1, 1, True)]:
        assert_same_max(wide[None, None], args)


@needs_torch
@pytest.mark.parametrize("dtype", DTYPES)
def test_max_pool_all_minus_inf_and_all_nan(isa, dtype):
    for fill in (-np.inf, np.nan):
        x = np.full((1, 2, 9, 40), fill, dtype)
        for args in [(2,), (3, 2, 1), (3, 1, 1, 2, True)]:
            assert_same_max(x, args)


@needs_torch
def test_max_pool_window_entirely_in_padding(isa):
    # Dilation can put every tap of a window in the padding: PyTorch gives -inf and an index
    # outside the plane; npfast matches, and the backward pass rejects that index.
    x = np.array([[[[1.0, 2.0], [3.0, 4.0]]]])
    v, i = npfast.max_pool2d(x, 2, 1, 1, 3, return_indices=True)
    tv, ti = torch_max(x, 2, 1, 1, 3)
    np.testing.assert_array_equal(v, tv)
    np.testing.assert_array_equal(i, ti)
    assert v[0, 0, 0, 0] == -np.inf and i[0, 0, 0, 0] >= 4
    with pytest.raises(ValueError, match="indices"):
        npfast.max_pool2d_backward(np.ones_like(v), i, x.shape)


@needs_torch
@pytest.mark.parametrize("dtype", DTYPES)
def test_max_pool_ranks(isa, dtype):
    rng = np.random.default_rng(2)
    x = rng.standard_normal((3, 17, 45)).astype(dtype)
    v, i = npfast.max_pool2d(x, 3, 2, 1, return_indices=True)
    tv, ti = torch_max(x, 3, 2, 1)  # torch takes (C, H, W) unbatched
    assert v.shape == (3, 9, 23)
    np.testing.assert_array_equal(v, tv)
    np.testing.assert_array_equal(i, ti)
    # A 2-D array is one plane.
    p = x[1]
    v2, i2 = npfast.max_pool2d(p, 3, 2, 1, return_indices=True)
    np.testing.assert_array_equal(v2, v[1])
    np.testing.assert_array_equal(i2, i[1])
    # N * C == 1 and a single output row.
    assert_same_max(x[:1, None, :3], (3, 1))


@needs_torch
@pytest.mark.parametrize("dtype", DTYPES)
def test_max_pool_views(isa, dtype):
    rng = np.random.default_rng(3)
    base = rng.standard_normal((4, 6, 30, 44)).astype(dtype)
    for view in [base[:, :, ::-1], base[:, :, :, ::-1], base.transpose(1, 0, 3, 2),
                 np.asfortranarray(base), base[1:3, ::2, 3:, 5:], base[..., ::2]]:
        v, i = npfast.max_pool2d(view, 3, 2, 1, return_indices=True)
        tv, ti = torch_max(view, 3, 2, 1)
        np.testing.assert_array_equal(v, tv)
        np.testing.assert_array_equal(i, ti)


def random_view(rng, shape, dtype):
    """A random array of `shape` seen through a random layout: C, Fortran, reversed axes, a
    strided slice, or a transposed copy."""
    kind = rng.integers(5)
    if kind == 1:
        return np.asfortranarray(tricky(shape, dtype, rng))
    if kind == 2:
        return tricky(shape, dtype, rng)[..., ::-1, :]
    if kind == 3:
        big = tricky(shape[:-1] + (shape[-1] * 2,), dtype, rng)
        return big[..., ::2]
    if kind == 4:
        return np.swapaxes(tricky(shape[:-2] + shape[-2:][::-1], dtype, rng), -1, -2)
    return tricky(shape, dtype, rng)


@needs_torch
def test_random_shapes_and_layouts(isa):
    rng = np.random.default_rng(20)
    done = 0
    while done < 40:
        dtype = DTYPES[rng.integers(2)]
        lead = tuple(int(v) for v in rng.integers(1, 4, size=rng.integers(0, 3)))
        H, W = (int(v) for v in rng.integers(1, 40, size=2))
        k = tuple(int(v) for v in rng.integers(1, 6, size=2))
        s = tuple(int(v) for v in rng.integers(1, 5, size=2))
        p = tuple(int(rng.integers(0, kk // 2 + 1)) for kk in k)
        d = tuple(int(v) for v in rng.integers(1, 3, size=2))
        c = bool(rng.integers(2))
        x = random_view(rng, lead + (H, W), dtype)
        batched = x if x.ndim >= 3 else x[None]
        try:
            tv, ti = torch_max(batched, k, s, p, d, c)
        except RuntimeError:
            with pytest.raises(ValueError):
                npfast.max_pool2d(x, k, s, p, d, c)
            continue
        v, i = npfast.max_pool2d(x, k, s, p, d, c, return_indices=True)
        np.testing.assert_array_equal(v, tv.reshape(v.shape))
        np.testing.assert_array_equal(i, ti.reshape(i.shape))
        try:
            ta = F.avg_pool2d(t(batched), k, s, p, c).numpy()
        except RuntimeError:
            continue
        a = npfast.avg_pool2d(np.nan_to_num(x, posinf=3, neginf=-3), k, s, p, c)
        ta = F.avg_pool2d(t(np.nan_to_num(batched, posinf=3, neginf=-3)), k, s, p, c).numpy()
        np.testing.assert_allclose(a, ta.reshape(a.shape), **tol("avg_pool2d", dtype))
        done += 1


def test_max_pool_2d_array_floor_mode(isa):
    # The case: 3001 x 200, 3 x 3 windows, remainder rows and columns dropped.
    rng = np.random.default_rng(4)
    a = rng.standard_normal((3001, 200))
    v, i = npfast.max_pool2d(a, 3, return_indices=True)
    blocks = a[:3000, :198].reshape(1000, 3, 66, 3).transpose(0, 2, 1, 3).reshape(1000, 66, 9)
    np.testing.assert_array_equal(v, blocks.max(-1))
    k = blocks.argmax(-1)
    rows = np.arange(1000)[:, None] * 3 + k // 3
    cols = np.arange(66)[None, :] * 3 + k % 3
    np.testing.assert_array_equal(i, rows * 200 + cols)


def test_threads_give_identical_results(isa, threads):
    rng = np.random.default_rng(5)
    x = rng.standard_normal((1, 1, 700, 300)).astype(np.float32)
    npfast.set_num_threads(1)
    v1, i1 = npfast.max_pool2d(x, 3, 2, 1, return_indices=True)
    a1 = npfast.avg_pool2d(x, 3, 2, 1)
    npfast.set_num_threads(2)
    v2, i2 = npfast.max_pool2d(x, 3, 2, 1, return_indices=True)
    a2 = npfast.avg_pool2d(x, 3, 2, 1)
    np.testing.assert_array_equal(v1, v2)
    np.testing.assert_array_equal(i1, i2)
    np.testing.assert_array_equal(a1, a2)


def test_empty_batch():
    x = np.zeros((0, 3, 8, 8), np.float32)
    v, i = npfast.max_pool2d(x, 2, return_indices=True)
    assert v.shape == (0, 3, 4, 4) and i.shape == (0, 3, 4, 4)
    assert npfast.avg_pool2d(x, 2).shape == (0, 3, 4, 4)


# ---------------------------------------------------------------------------------------------
# avg_pool2d


@needs_torch
@pytest.mark.parametrize("dtype", DTYPES)
def test_avg_pool_every_geometry_matches_torch(isa, dtype):
    rng = np.random.default_rng(6)
    options = itertools.cycle([(True, None), (False, None), (True, 3), (False, -2)])
    for H, W in [(7, 9), (19, 70)]:
        x = rng.standard_normal((2, 2, H, W)).astype(dtype)
        for k, s, p, d, c in geometries(H, W):
            if d != 1:
                continue
            for cip, div in [next(options), next(options)]:
                got = npfast.avg_pool2d(x, k, s, p, c, cip, div)
                want = F.avg_pool2d(t(x), k, s, p, c, cip, div).numpy()
                assert got.dtype == dtype
                np.testing.assert_allclose(got, want, **tol("avg_pool2d", dtype))


@needs_torch
@pytest.mark.parametrize("dtype", DTYPES)
def test_avg_pool_ranks_views_specials(isa, dtype):
    rng = np.random.default_rng(7)
    x = rng.standard_normal((3, 21, 50)).astype(dtype)
    x[0, 3, 7] = np.nan
    x[1, 4, 9] = np.inf
    got = npfast.avg_pool2d(x, (3, 2), (2, 1), (1, 1), True, False)
    want = F.avg_pool2d(t(x), (3, 2), (2, 1), (1, 1), True, False).numpy()
    np.testing.assert_allclose(got, want, equal_nan=True, **tol("avg_pool2d", dtype))
    np.testing.assert_allclose(npfast.avg_pool2d(x[2], 3, 3),
                               F.avg_pool2d(t(x[2:3]), 3, 3).numpy()[0], **tol("avg_pool2d", dtype))
    v = x[:, ::-1, ::2]
    np.testing.assert_allclose(npfast.avg_pool2d(v, 2), F.avg_pool2d(t(v), 2).numpy(),
                               equal_nan=True, **tol("avg_pool2d", dtype))


# ---------------------------------------------------------------------------------------------
# backward passes against autograd


@needs_torch
@pytest.mark.parametrize("dtype", DTYPES)
def test_max_pool_backward_matches_autograd(isa, dtype):
    rng = np.random.default_rng(8)
    x = rng.integers(-3, 4, size=(2, 3, 13, 22)).astype(dtype)  # ties
    for k, s, p, d, c in [(2, 2, 0, 1, False), (3, 2, 1, 1, True), (3, 1, 1, 1, False),
                          (2, 1, 1, 2, True), ((3, 2), (2, 3), (1, 0), (1, 2), False)]:
        tx = t(x).requires_grad_()
        out = F.max_pool2d(tx, k, s, p, d, c)
        g = rng.standard_normal(out.shape).astype(dtype)
        out.backward(t(g))
        _, idx = npfast.max_pool2d(x, k, s, p, d, c, return_indices=True)
        got = npfast.max_pool2d_backward(g, idx, x.shape)
        assert got.dtype == dtype and got.shape == x.shape
        np.testing.assert_allclose(got, tx.grad.numpy(), **tol("max_pool2d_backward", dtype))


@needs_torch
@pytest.mark.parametrize("dtype", DTYPES)
def test_avg_pool_backward_matches_autograd(isa, dtype):
    rng = np.random.default_rng(9)
    x = rng.standard_normal((2, 2, 11, 17)).astype(dtype)
    for k, s, p, c, cip, div in [(2, 2, 0, False, True, None), (3, 2, 1, True, True, None),
                                 (3, 2, 1, True, False, None), (3, 1, 1, False, True, 5),
                                 ((2, 3), (1, 2), (1, 1), True, False, None)]:
        tx = t(x).requires_grad_()
        out = F.avg_pool2d(tx, k, s, p, c, cip, div)
        g = rng.standard_normal(out.shape).astype(dtype)
        out.backward(t(g))
        got = npfast.avg_pool2d_backward(g, x.shape, k, s, p, c, cip, div)
        np.testing.assert_allclose(got, tx.grad.numpy(), **tol("avg_pool2d", dtype))
    # Unbatched and 2-D.
    g = rng.standard_normal((6, 9)).astype(dtype)
    got = npfast.avg_pool2d_backward(g, (11, 17), 3, 2, 1)
    tx = t(x[0, 0]).requires_grad_()
    F.avg_pool2d(tx[None], 3, 2, 1).backward(t(g[None]))
    np.testing.assert_allclose(got, tx.grad.numpy(), **tol("avg_pool2d", dtype))


def test_backward_strided_grad_output(isa):
    rng = np.random.default_rng(10)
    x = rng.standard_normal((2, 3, 10, 10))
    _, idx = npfast.max_pool2d(x, 2, return_indices=True)
    g = rng.standard_normal((2, 3, 5, 10))[..., ::2]
    np.testing.assert_array_equal(npfast.max_pool2d_backward(g, idx, x.shape),
                                  npfast.max_pool2d_backward(g.copy(), idx.copy(), x.shape))


def test_max_backward_rejects_bad_indices():
    g = np.ones((1, 1, 2, 2))
    for bad in (-1, 16, 2**40):
        idx = np.array([[[[0, 1], [2, bad]]]], np.int64)
        with pytest.raises(ValueError, match=f"indices: {bad} at \\[0, 0, 1, 1\\]"):
            npfast.max_pool2d_backward(g, idx, (1, 1, 4, 4))
    with pytest.raises(TypeError, match="indices: dtype must be int64"):
        npfast.max_pool2d_backward(g, np.zeros((1, 1, 2, 2), np.int32), (1, 1, 4, 4))
    with pytest.raises(ValueError, match="indices: shape"):
        npfast.max_pool2d_backward(g, np.zeros((1, 1, 2, 3), np.int64), (1, 1, 4, 4))
    with pytest.raises(ValueError, match="input_shape"):
        npfast.max_pool2d_backward(g, np.zeros((1, 1, 2, 2), np.int64), (2, 1, 4, 4))
    with pytest.raises(ValueError, match="grad_output: shape"):
        npfast.avg_pool2d_backward(g, (1, 1, 7, 4), 2)
    # An empty plane holds no index (probe18b: the check was skipped and an empty array came
    # back); an empty grad_output over it has nothing to check.
    with pytest.raises(ValueError, match="indices: 1000 at .* plane of 0x4"):
        npfast.max_pool2d_backward(g, np.full(g.shape, 1000, np.int64), (1, 1, 0, 4))
    e = np.ones((1, 1, 0, 2))
    assert npfast.max_pool2d_backward(e, np.zeros(e.shape, np.int64), (1, 1, 0, 4)).shape == \
        (1, 1, 0, 4)


# ---------------------------------------------------------------------------------------------
# max_unpool2d, adaptive_avg_pool2d


@needs_torch
@pytest.mark.parametrize("dtype", DTYPES)
def test_max_unpool_matches_torch(dtype):
    rng = np.random.default_rng(11)
    x = rng.standard_normal((2, 3, 9, 12)).astype(dtype)
    for k, s, p, osize in [(2, None, 0, None), (3, 2, 1, (9, 12)), (2, 2, 0, (9, 13)),
                           (3, 1, 1, (2, 3, 9, 12))]:
        v, i = npfast.max_pool2d(x, k, s, p, return_indices=True)
        got = npfast.max_unpool2d(v, i, k, s, p, osize)
        want = F.max_unpool2d(t(v), t(i), k, s, p, osize).numpy()
        np.testing.assert_array_equal(got, want)
    # output_size of 2 or 4 entries whatever the input's rank, as PyTorch (probe18b: npfast
    # took 2 or input.ndim); 3 entries a ValueError in both.
    v, i = npfast.max_pool2d(x[0], 2, return_indices=True)
    for osize in [(9, 12), (1, 3, 9, 12)]:
        want = F.max_unpool2d(t(v), t(i), 2, output_size=osize).numpy()
        np.testing.assert_array_equal(npfast.max_unpool2d(v, i, 2, output_size=osize), want)
    with pytest.raises(ValueError, match="2 or 4"):
        F.max_unpool2d(t(v), t(i), 2, output_size=(3, 9, 12))
    with pytest.raises(ValueError, match="output_size: expected 2 or 4 elements"):
        npfast.max_unpool2d(v, i, 2, output_size=(3, 9, 12))
    # Repeated indices keep the last value, as PyTorch's loop.
    v = np.array([[1.0, 2.0, 3.0]], dtype)
    i = np.array([[4, 4, 0]], np.int64)
    got = npfast.max_unpool2d(v, i, 2, output_size=(2, 5))
    assert got.shape == (2, 5) and got.ravel().tolist() == [3, 0, 0, 0, 2, 0, 0, 0, 0, 0]
    # A default width of (1 - 1) * 4 - 2 * 2 + 4 = 0: PyTorch's empty result.
    v, i = np.ones((2, 1, 3, 1), dtype), np.zeros((2, 1, 3, 1), np.int64)
    want = F.max_unpool2d(t(v), t(i), (2, 4), None, (0, 2)).numpy()
    assert want.shape == (2, 1, 6, 0)
    assert npfast.max_unpool2d(v, i, (2, 4), None, (0, 2)).shape == want.shape


def test_nhwc_backward_names_the_index_where_the_caller_put_it():
    """probe22b: a bad index in channels-last indices was named at its position in the planar
    pass's permuted view ([1, 2, 1, 0] for [1, 1, 0, 2])."""
    x = np.random.default_rng(4).random((4, 5, 5, 3)).astype(np.float32)
    v, i = npfast.max_pool2d(x, 2, return_indices=True, layout="NHWC")
    i[1, 1, 0, 2] = 99
    with pytest.raises(ValueError, match=r"indices: 99 at \[1, 1, 0, 2\] is outside the input "
                                         r"plane of 5x5"):
        npfast.max_pool2d_backward(v, i, x.shape, layout="NHWC")


def test_max_unpool_errors():
    v = np.ones((1, 1, 2, 2))
    with pytest.raises(ValueError, match="indices: 16"):
        npfast.max_unpool2d(v, np.array([[[[0, 1], [2, 16]]]]), 2)
    with pytest.raises(ValueError, match="output_size"):
        npfast.max_unpool2d(v, np.zeros((1, 1, 2, 2), np.int64), 2, output_size=(6, 4))
    with pytest.raises(ValueError, match="output_size"):
        npfast.max_unpool2d(v, np.zeros((1, 1, 2, 2), np.int64), 2, output_size=(4, 4, 4))
    # Without output_size the error names the padding that took the default size below 0
    # (probe22b: it named output_size).
    with pytest.raises(ValueError, match=r"padding: the unpooled height .* got -1 \(padding"):
        npfast.max_unpool2d(np.ones((1, 1, 1, 1)), np.zeros((1, 1, 1, 1), np.int64), 1, padding=1)
    with pytest.raises(ValueError, match="input: height and width"):  # as PyTorch
        npfast.max_unpool2d(np.ones((1, 1, 0, 3)), np.zeros((1, 1, 0, 3), np.int64), 3, 2)


@needs_torch
@pytest.mark.parametrize("dtype", DTYPES)
def test_adaptive_avg_pool_matches_torch(isa, dtype):
    rng = np.random.default_rng(12)
    x = rng.standard_normal((2, 3, 13, 20)).astype(dtype)
    for osize in [1, (1, 1), (13, 10), (5, 7), 4, (None, 6), (13, None), (26, 41), (0, 3)]:
        got = npfast.adaptive_avg_pool2d(x, osize)
        want = F.adaptive_avg_pool2d(t(x), osize).numpy()
        assert got.shape == want.shape
        np.testing.assert_allclose(got, want, **tol("avg_pool2d", dtype))
    np.testing.assert_allclose(npfast.adaptive_avg_pool2d(x[0, 0], (4, 5)),
                               F.adaptive_avg_pool2d(t(x[0, :1]), (4, 5)).numpy()[0], **tol("avg_pool2d", dtype))


@needs_torch
@pytest.mark.parametrize("dtype", DTYPES)
def test_global_average_pool_matches_torch(isa, dtype, threads):
    # Output 1 x 1: each plane's mean (summed in double), for planes of 1 element to larger
    # than a vector block, views (copied first) and values far from zero.
    rng = np.random.default_rng(13)
    for shape in [(2, 3, 1, 1), (4, 5, 7, 7), (2, 70, 3, 11), (1, 2, 56, 56), (3, 33, 17)]:
        x = (rng.standard_normal(shape) * 3 + 1e3).astype(dtype)
        for v in (x, x[..., ::-1, :], np.asfortranarray(x)):
            npfast.set_num_threads(1)
            got = npfast.adaptive_avg_pool2d(v, 1)
            npfast.set_num_threads(2)
            np.testing.assert_array_equal(npfast.adaptive_avg_pool2d(v, 1), got)
            want = F.adaptive_avg_pool2d(t(v.copy()), 1).numpy()
            assert got.shape == want.shape and got.dtype == dtype
            np.testing.assert_allclose(got, want, **tol("avg_pool2d", dtype))
            # The mean of the plane's values in double, rounded once.
            planes = v.copy().reshape(-1, v.shape[-2] * v.shape[-1])
            np.testing.assert_allclose(got.reshape(-1), planes.astype(np.float64).mean(axis=1),
                                       rtol=1e-7 if dtype == np.float32 else 1e-14)


def global_pool_views(x):
    """x (N, C, H, W) as the views a global pool meets: itself, every other channel, images in
    reverse and rows reversed (planes and rows read in place, in runs of equal stride), Fortran
    order (copied first), channels-last (read in place), channels-last of every other image, and
    channels-last with every other channel (copied first)."""
    nhwc = np.ascontiguousarray(x.transpose(0, 2, 3, 1))
    wide = np.ascontiguousarray(np.repeat(x, 2, axis=1).transpose(0, 2, 3, 1))
    twice = np.ascontiguousarray(np.concatenate([nhwc, nhwc]).reshape(2, *nhwc.shape)
                                 .transpose(1, 0, 2, 3, 4)).reshape(-1, *nhwc.shape[1:])
    return {"contiguous": x, "every other channel": np.repeat(x, 2, axis=1)[:, ::2],
            "images reversed": x[::-1].copy()[::-1], "rows reversed": x[..., ::-1, :],
            "fortran": np.asfortranarray(x),
            "channels_last": nhwc.transpose(0, 3, 1, 2),
            "channels_last every other image": twice[::2].transpose(0, 3, 1, 2),
            "channels_last every other channel": wide[..., ::2].transpose(0, 3, 1, 2)}


def check_global_pool(v, dtype):
    """npfast's 1 x 1 adaptive pool of view v against the float64 mean of each plane and
    PyTorch's. Against the float64 mean: within one rounding of T plus the double sum's own
    rounding (the plane's size times double's epsilon, relative to its mean magnitude)."""
    got = npfast.adaptive_avg_pool2d(v, 1)
    assert got.shape == v.shape[:-2] + (1, 1) and got.dtype == dtype
    x = np.asarray(v, np.float64)
    oracle = x.mean(axis=(-2, -1), keepdims=True)
    n = v.shape[-2] * v.shape[-1]
    slack = (n + 2) * np.finfo(np.float64).eps * np.abs(x).mean(axis=(-2, -1), keepdims=True)
    err = np.abs(got - oracle) - np.finfo(dtype).eps * np.abs(oracle) - slack
    assert (err <= 0).all(), f"{v.shape}: off the float64 mean by {np.abs(got - oracle).max()}"
    if torch is not None:
        want = F.adaptive_avg_pool2d(torch.from_numpy(v.copy()), 1).numpy()
        np.testing.assert_allclose(got, want, **tol("avg_pool2d", dtype))
    return got


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("hw", [(1, 1), (1, 2), (3, 1), (3, 5), (4, 4), (1, 17), (7, 7), (14, 14)])
def test_global_average_pool_small_planes(isa, dtype, hw):
    """Planes of 1, 2, 3, 15, 16, 17, 49 and 196 elements (below, at and above the kernel's
    vectors and its two-vector steps), plane counts around its 8-plane blocks, every view."""
    rng = np.random.default_rng(sum(hw))
    for n, c in [(1, 1), (1, 3), (2, 4), (1, 9), (3, 7), (2, 37)]:
        x = (rng.standard_normal((n, c) + hw) * 3 + 1e3).astype(dtype)
        for v in global_pool_views(x).values():
            check_global_pool(v, dtype)
    # a 3-D (C, H, W) input and a lone plane's NaN and infinity
    x = (rng.standard_normal((5,) + hw) * 3).astype(dtype)
    check_global_pool(x, dtype)
    check_global_pool(np.ascontiguousarray(x.transpose(1, 2, 0)).transpose(2, 0, 1), dtype)
    x[1, 0, 0], x[3, -1, -1] = np.nan, -np.inf
    got = npfast.adaptive_avg_pool2d(x, 1).ravel()
    assert np.isnan(got[1]) and got[3] == -np.inf and np.isfinite(got[[0, 2, 4]]).all()


@pytest.mark.parametrize("dtype", DTYPES)
def test_global_average_pool_threads_bitwise(dtype, threads):
    """Big enough to be split across threads (chunks of 8 planes, or of 64 channels for
    channels-last): the same bits on 1, 2, 3, 7 and 16 threads."""
    rng = np.random.default_rng(14)
    cases = [(24, 1001, 7, 7), (3, 37, 56, 56), (9, 203, 14, 14)]
    _npfast._set_core_cap_for_testing(16)
    try:
        for shape in cases:
            x = (rng.standard_normal(shape) * 3 + 1e3).astype(dtype)
            for name, v in global_pool_views(x).items():
                npfast.set_num_threads(1)
                want = check_global_pool(v, dtype)
                for nt in (2, 3, 7, 16):
                    npfast.set_num_threads(nt)
                    np.testing.assert_array_equal(npfast.adaptive_avg_pool2d(v, 1), want,
                                                  err_msg=f"{shape} {name} {nt} threads")
    finally:
        _npfast._set_core_cap_for_testing(0)


@needs_torch
@pytest.mark.parametrize("dtype", DTYPES)
def test_global_average_pool_torch_channels_last(dtype):
    """A torch channels_last tensor's array (NCHW shape, NHWC strides) pooled as torch pools it."""
    x = torch.from_numpy(np.random.default_rng(15).standard_normal((3, 70, 5, 6)).astype(dtype))
    xc = x.contiguous(memory_format=torch.channels_last)
    v = xc.numpy()
    assert not v.flags.c_contiguous
    np.testing.assert_allclose(npfast.adaptive_avg_pool2d(v, 1), F.adaptive_avg_pool2d(xc, 1).numpy(),
                               **tol("avg_pool2d", dtype))


# ---------------------------------------------------------------------------------------------
# argument checking


@pytest.mark.parametrize("fn", ["max", "avg"])
def test_bad_arguments(fn):
    pool = npfast.max_pool2d if fn == "max" else npfast.avg_pool2d
    x = np.zeros((1, 1, 6, 6), np.float32)
    cases = [
        (dict(kernel_size=0), ValueError, "kernel_size: must be >= 1"),
        (dict(kernel_size=(2, -1)), ValueError, "kernel_size"),
        (dict(kernel_size=2, stride=0), ValueError, "stride: must be >= 1"),
        (dict(kernel_size=2, padding=2), ValueError, "padding: must be at most half"),
        (dict(kernel_size=3, padding=-1), ValueError, "padding: must be >= 0"),
        (dict(kernel_size=7), ValueError, "output height would be 0"),
        (dict(kernel_size=2.0), TypeError, "kernel_size"),
        (dict(kernel_size="2"), TypeError, "kernel_size"),
        (dict(kernel_size=(1, 2, 3)), ValueError, "kernel_size"),
        (dict(kernel_size=2**70), ValueError, "kernel_size: out of the int64 range"),
        (dict(kernel_size=2**60 + 1), ValueError, "kernel_size: too large"),
        (dict(kernel_size=2, stride=2**61), ValueError, "stride: too large"),
        (dict(kernel_size=2**56, padding=2**55), ValueError, "overflow"),
    ]
    if fn == "max":
        cases += [(dict(kernel_size=2, dilation=0), ValueError, "dilation: must be >= 1"),
                  (dict(kernel_size=2**40, dilation=2**40), ValueError, "dilation")]
    else:
        cases += [(dict(kernel_size=2, divisor_override=0), ValueError, "divisor_override")]
    for kw, exc, msg in cases:
        with pytest.raises(exc, match=msg):
            pool(x, **kw)
    with pytest.raises(TypeError, match="input: dtype must be float32 or float64"):
        pool(np.zeros((4, 4), np.int32), 2)
    for bad in [np.zeros(5), np.zeros((1, 1, 1, 4, 4))]:
        with pytest.raises(ValueError, match="input: expected a 2-D"):
            pool(bad, 1)
    with pytest.raises(TypeError, match="input"):
        pool(None, 2)


def test_huge_padding_geometry_is_valid_or_clean():
    # A window wider than the padded plane still has a defined result (PyTorch's rule);
    # absurd positions are refused before any allocation.
    x = np.arange(16.0).reshape(4, 4)
    v, i = npfast.max_pool2d(x, (2**56, 2), 1, (2**55, 1), return_indices=True)
    assert v.shape == (5, 5)
    np.testing.assert_array_equal(v, [[12, 13, 14, 15, 15]] * 5)
    np.testing.assert_array_equal(i, [[12, 13, 14, 15, 15]] * 5)
    a = npfast.avg_pool2d(x, 2**30, 1, 2**29)
    assert a.shape == (5, 5)
    with pytest.raises(ValueError, match="overflow int64 indices"):
        npfast.max_pool2d(np.zeros((4, 2**10)), (2**56, 1), 1, (2**55, 0))
    # A broadcast plane too tall for the arithmetic margin is refused, not mis-indexed.
    tall = np.broadcast_to(np.zeros((1, 1), np.float32), (2**60 + 1, 1))
    with pytest.raises(ValueError, match="input: plane too large"):
        npfast.max_pool2d(tall, 1)
