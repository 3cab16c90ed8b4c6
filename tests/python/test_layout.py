"""layout="NHWC" (channels-last) for conv2d, conv2d_backward, max_pool2d, avg_pool2d and the
pooling backward passes.

NHWC results are NCHW results transposed: bitwise where the planner runs the same algorithm
for both layouts (the NCHW-only algorithms run on transposed copies, and the implicit GEMM,
Winograd and 1x1 on the NHWC data itself with the same sums), else within conv2d's tolerance;
and they match PyTorch on memory_format=torch.channels_last tensors.
"""

import itertools

import numpy as np
import pytest

import npfast
from npfast import _npfast

from anchors import F, needs_torch, torch
from test_conv import CASES, make, random_case
from tolerances import tol

DTYPES = [np.float32, np.float64]


def nhwc(a):
    return np.ascontiguousarray(a.transpose(0, 2, 3, 1))


def nchw(a):
    return a.transpose(0, 3, 1, 2)


def torch_cl(a):
    return torch.from_numpy(np.ascontiguousarray(a)).contiguous(memory_format=torch.channels_last)


def assert_same_or_close(got, want, same, dtype, op="conv2d"):
    if same:
        np.testing.assert_array_equal(got, want)
    else:
        np.testing.assert_allclose(got, want, **tol(op, dtype))


@needs_torch
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", CASES)
def test_conv2d_nhwc_is_nchw_transposed(isa, dtype, case):
    rng = np.random.default_rng(5)
    for bias, act in ((True, None), (False, "relu")):
        x, w, b, kw = make(case, dtype, rng, bias)
        want = npfast.conv2d(x, w, b, activation=act, **kw)
        got = npfast.conv2d(nhwc(x), w, b, activation=act, layout="NHWC", **kw)
        assert got.shape == nhwc(want).shape and got.dtype == dtype
        same = (_npfast._conv2d_algorithm(x, w, **kw)
                == _npfast._conv2d_algorithm(nhwc(x), w, layout="NHWC", **kw))
        assert_same_or_close(nchw(got), want, same, dtype)
        t = F.conv2d(torch_cl(x), torch.from_numpy(w), None if b is None else torch.from_numpy(b),
                     **kw)
        if act:
            t = torch.relu(t)
        np.testing.assert_allclose(nchw(got), t.numpy(), **tol("conv2d", dtype))


@pytest.mark.parametrize("dtype", DTYPES)
def test_conv2d_winograd_nhwc_borders(isa, dtype):
    # NHWC Winograd reads the tiles inside the image in place and the border tiles through a
    # padded patch, and writes whole output runs straight into the rows: bitwise the NCHW
    # Winograd (which copies the padded input and stages every run) for every padding, odd
    # and even sizes, images whose tiles are all border tiles, with a residual and ReLU, at 1
    # and 2 threads.
    rng = np.random.default_rng(9)
    shapes = [(2, 16, 16, 9, 11, (1, 1)), (1, 16, 16, 12, 13, (0, 0)), (1, 16, 16, 13, 12, (2, 2)),
              (2, 16, 16, 8, 8, (2, 0)), (3, 16, 20, 6, 30, (1, 1)), (1, 16, 16, 14, 14, (0, 1)),
              (2, 48, 40, 15, 17, (1, 1)), (2, 17, 19, 9, 8, (1, 1)), (1, 64, 64, 28, 28, (1, 1))]
    threads, ran = npfast.get_num_threads(), 0
    try:
        for n, c, o, h, w, pad in shapes:
            x = rng.standard_normal((n, c, h, w)).astype(dtype)
            wt = rng.standard_normal((o, c, 3, 3)).astype(dtype)
            b = rng.standard_normal(o).astype(dtype)
            algos = {_npfast._conv2d_algorithm(x, wt, padding=pad),
                     _npfast._conv2d_algorithm(nhwc(x), wt, padding=pad, layout="NHWC")}
            if algos != {"winograd"}:
                continue  # the planner's choice depends on the ISA's tile (small images)
            ran += 1
            want = npfast.conv2d(x, wt, b, padding=pad)
            res = rng.standard_normal(want.shape).astype(dtype)
            want_r = npfast.conv2d(x, wt, b, padding=pad, activation="relu", residual=res)
            for t in (1, 2):
                npfast.set_num_threads(t)
                got = npfast.conv2d(nhwc(x), wt, b, padding=pad, layout="NHWC")
                np.testing.assert_array_equal(nchw(got), want, err_msg=str((n, c, o, h, w, pad)))
                got = npfast.conv2d(nhwc(x), wt, b, padding=pad, layout="NHWC", activation="relu",
                                    residual=nhwc(res))
                np.testing.assert_array_equal(nchw(got), want_r, err_msg=str((n, c, o, h, w, pad)))
    finally:
        npfast.set_num_threads(threads)
    assert ran >= 5


@needs_torch
def test_conv2d_nhwc_random_shapes(isa):
    rng = np.random.default_rng(6)
    for _ in range(40):
        case = random_case(rng, channels=[1, 3, 8, 20], dilation=4, size=16)
        dtype = np.float64 if rng.random() < 0.5 else np.float32
        x, wt, b, kw = make(case, dtype, rng, bias=rng.random() < 0.5)
        got = npfast.conv2d(nhwc(x), wt, b, layout="NHWC", **kw)
        t = F.conv2d(torch_cl(x), torch.from_numpy(wt), None if b is None else torch.from_numpy(b),
                     **kw)
        np.testing.assert_allclose(nchw(got), t.numpy(), **tol("conv2d", dtype), err_msg=str(case))
        np.testing.assert_allclose(nchw(got), _npfast._conv2d_reference(x, wt, b, **kw),
                                   **tol("conv2d", dtype), err_msg=str(case))


@pytest.mark.parametrize("dtype", DTYPES)
def test_conv2d_nhwc_non_contiguous_unbatched_and_out(isa, dtype):
    rng = np.random.default_rng(7)
    for case in [(2, 20, 12, 14, 16, 3, 3, 1, 1, 1, 1), (2, 20, 12, 14, 16, 3, 3, 2, 1, 1, 1),
                 (2, 20, 12, 14, 16, 1, 1, 1, 0, 1, 1), (2, 3, 12, 14, 16, 3, 3, 1, 1, 1, 1)]:
        x, w, b, kw = make(case, dtype, rng)
        want = nhwc(npfast.conv2d(x, w, b, **kw))
        big = np.zeros((x.shape[0], x.shape[2] * 2, x.shape[3], x.shape[1] + 3), dtype)
        view = big[:, ::2, :, 1:-2]  # strided rows and a channel offset
        view[...] = nhwc(x)
        assert not view.flags.c_contiguous
        np.testing.assert_array_equal(npfast.conv2d(view, w, b, layout="NHWC", **kw), want)
        out = np.zeros(want.shape[:3] + (want.shape[3] * 2,), dtype)[..., ::2]
        r = npfast.conv2d(nhwc(x), w, b, layout="NHWC", out=out, **kw)
        assert r is out
        np.testing.assert_array_equal(out, want)
        np.testing.assert_array_equal(npfast.conv2d(nhwc(x)[0], w, b, layout="NHWC", **kw),
                                      want[0])


@pytest.mark.parametrize("case", [(3, 32, 20, 18, 24, 3, 3, 2, 1, 1, 1),   # row phases
                                  (2, 32, 21, 19, 24, 3, 3, 1, 2, 2, 1),   # output phases
                                  (2, 32, 20, 18, 24, 3, 3, 1, 1, 1, 1)])  # Winograd
def test_conv2d_threads_bitwise_both_layouts(threads, case):
    rng = np.random.default_rng(8)
    x, w, b, kw = make(case, np.float32, rng)
    for xs, layout in ((x, "NCHW"), (nhwc(x), "NHWC")):
        results = []
        for n in (1, 2):
            npfast.set_num_threads(n)
            results.append(npfast.conv2d(xs, w, b, layout=layout, **kw))
        np.testing.assert_array_equal(results[0], results[1])


def same_grad_input_route(gy, w, kw):
    """Whether conv2d_backward's grad_input runs one algorithm in both layouts: stride 1, and
    the convolution of grad_output with the flipped weights planned alike for NCHW and NHWC
    (or not at all: padding past the kernel's reach takes GEMM + col2im in both)."""
    pair = lambda v: tuple(v) if isinstance(v, tuple) else (v, v)
    if any(s > 1 for s in pair(kw["stride"])):
        return False
    d, p, k = pair(kw["dilation"]), pair(kw["padding"]), w.shape[2:]
    q = tuple(d[i] * (k[i] - 1) - p[i] for i in range(2))
    if min(q) < 0 or gy.size == 0:
        return True
    g = kw["groups"]
    wf = np.zeros((w.shape[1] * g, w.shape[0] // g) + k, w.dtype)
    args = dict(padding=q, dilation=d, groups=g)
    return (_npfast._conv2d_algorithm(gy, wf, **args)
            == _npfast._conv2d_algorithm(nhwc(gy), wf, layout="NHWC", **args))


@pytest.mark.parametrize("case", [(9, 16, 16, 16, 32, 3, 3, 2, 1, 1, 1),   # conv_transpose2d
                                  (9, 16, 16, 16, 32, 1, 1, 2, 0, 1, 1),   # 1x1 strided
                                  (9, 16, 12, 12, 16, 3, 3, 1, 1, 1, 1)])  # implicit grad_weight
def test_conv2d_backward_nhwc_threads_bitwise(threads, case):
    rng = np.random.default_rng(10)
    x, w, _, kw = make(case, np.float32, rng, bias=False)
    gy = nhwc(rng.standard_normal(npfast.conv2d(x, w, **kw).shape).astype(np.float32))
    results = []
    for n in (1, 2):
        npfast.set_num_threads(n)
        results.append(npfast.conv2d_backward(gy, nhwc(x), w, layout="NHWC", **kw))
    for a, b in zip(*results):
        np.testing.assert_array_equal(a, b)


@needs_torch
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", CASES[::3] + CASES[-5:] + [
    (2, 16, 9, 8, 12, 1, 1, 2, 0, 1, 1),        # strided 1x1, no padding: one GEMM, odd height
    (3, 16, 12, 7, 20, 1, 1, (3, 2), 0, 1, 1)])  # uneven strides, rows evenly spaced
def test_conv2d_backward_nhwc(isa, dtype, case):
    rng = np.random.default_rng(9)
    x, w, _, kw = make(case, dtype, rng, bias=False)
    gy = rng.standard_normal(npfast.conv2d(x, w, **kw).shape).astype(dtype)
    want = npfast.conv2d_backward(gy, x, w, **kw)
    got = npfast.conv2d_backward(nhwc(gy), nhwc(x), w, layout="NHWC", **kw)
    # grad_input: strided, conv_transpose2d's NHWC phases (NCHW: GEMM + col2im); stride 1, the
    # data gradient's convolution, planned for each layout (as the forward). The same bits
    # where both run one algorithm; grad_weight and grad_bias always.
    np.testing.assert_array_equal(got[1], want[1])
    np.testing.assert_array_equal(got[2], want[2])
    assert_same_or_close(nchw(got[0]), want[0], same_grad_input_route(gy, w, kw), dtype,
                         "conv2d_backward")
    if x.shape[0] == 0:
        return
    tx = torch_cl(x).requires_grad_()
    tw = torch.from_numpy(w).requires_grad_()
    tb = torch.zeros(w.shape[0], dtype=tw.dtype, requires_grad=True)
    F.conv2d(tx, tw, tb, **kw).backward(torch_cl(gy))
    np.testing.assert_allclose(nchw(got[0]), tx.grad.numpy(), **tol("conv2d_backward", dtype))
    # grad_weight and grad_bias sum over the batch and space: atol in units of the terms' size.
    scale = max(1.0, np.sqrt(gy.size / max(w.shape[0], 1)))
    np.testing.assert_allclose(got[1], tw.grad.numpy(), **tol("conv2d_backward", dtype, scale))
    np.testing.assert_allclose(got[2], tb.grad.numpy(), **tol("conv2d_backward", dtype, scale))


# ---------------------------------------------------------------------------------------------
# Pools

POOLS = [  # (shape NCHW, kwargs)
    ((2, 5, 9, 11), dict(kernel_size=3, stride=2, padding=1)),
    ((1, 64, 20, 20), dict(kernel_size=3, stride=2, padding=1)),
    ((2, 19, 8, 9), dict(kernel_size=(2, 3), stride=(1, 2), padding=(1, 1))),
    ((3, 17, 7, 9), dict(kernel_size=2, ceil_mode=True)),
    ((1, 33, 6, 6), dict(kernel_size=(3, 1), stride=(3, 1))),
    ((2, 1, 5, 4), dict(kernel_size=2, stride=1)),
    ((0, 4, 6, 6), dict(kernel_size=2)),
]


@needs_torch
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape,kw", POOLS)
def test_max_pool2d_nhwc(isa, dtype, shape, kw):
    rng = np.random.default_rng(10)
    x = rng.standard_normal(shape).astype(dtype)
    x.flat[::7] = x.flat[::14]  # ties
    if x.size:
        x.flat[3] = np.nan
    for dil in (1, 2):
        kwd = dict(kw, dilation=dil)
        try:
            want, wi = npfast.max_pool2d(x, return_indices=True, **kwd)
        except ValueError:
            continue
        got, gi = npfast.max_pool2d(nhwc(x), return_indices=True, layout="NHWC", **kwd)
        np.testing.assert_array_equal(nchw(got), want)
        np.testing.assert_array_equal(nchw(gi), wi)
        np.testing.assert_array_equal(npfast.max_pool2d(nhwc(x), layout="NHWC", **kwd), got)
        if x.shape[0]:
            t, ti = F.max_pool2d(torch_cl(x), return_indices=True, **kwd)
            np.testing.assert_array_equal(nchw(got), t.numpy())
            np.testing.assert_array_equal(nchw(gi), ti.numpy())


@needs_torch
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape,kw", POOLS)
def test_avg_pool2d_nhwc(isa, dtype, shape, kw):
    rng = np.random.default_rng(11)
    x = rng.standard_normal(shape).astype(dtype)
    for cip, div in ((True, None), (False, None), (True, 3)):
        want = npfast.avg_pool2d(x, count_include_pad=cip, divisor_override=div, **kw)
        got = npfast.avg_pool2d(nhwc(x), count_include_pad=cip, divisor_override=div,
                                layout="NHWC", **kw)
        # Both layouts sum in T in scan order on SIMD ISAs; the scalar kernels in double.
        np.testing.assert_array_equal(nchw(got), want)
        if x.shape[0]:
            t = F.avg_pool2d(torch_cl(x), count_include_pad=cip, divisor_override=div, **kw)
            np.testing.assert_allclose(nchw(got), t.numpy(), **tol("avg_pool2d", dtype))


@needs_torch
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape,kw", POOLS)
def test_pool_backward_nhwc(isa, dtype, shape, kw):
    # The backward passes take the forward call's layout: NHWC gradients are the NCHW ones
    # transposed (bitwise), and torch's on channels_last tensors. Before, an NHWC grad_output
    # whose pooled shape equalled the input's passed the shape checks and was read as NCHW.
    rng = np.random.default_rng(13)
    x = rng.integers(-3, 4, size=shape).astype(dtype)  # ties
    _, wi = npfast.max_pool2d(x, return_indices=True, **kw)
    g = rng.standard_normal(wi.shape).astype(dtype)
    want = npfast.max_pool2d_backward(g, wi, x.shape)
    _, gi = npfast.max_pool2d(nhwc(x), return_indices=True, layout="NHWC", **kw)
    got = npfast.max_pool2d_backward(nhwc(g), gi, nhwc(x).shape, layout="NHWC")
    assert got.shape == nhwc(x).shape and got.flags.c_contiguous
    np.testing.assert_array_equal(nchw(got), want)
    args = [kw.get("kernel_size"), kw.get("stride"), kw.get("padding", 0),
            kw.get("ceil_mode", False)]
    for cip, div in ((True, None), (False, 3)):
        want = npfast.avg_pool2d_backward(g, x.shape, *args, cip, div)
        got = npfast.avg_pool2d_backward(nhwc(g), nhwc(x).shape, *args, cip, div, layout="NHWC")
        np.testing.assert_array_equal(nchw(got), want)
    if x.shape[0]:
        tx = torch_cl(x).requires_grad_()
        F.max_pool2d(tx, **kw).backward(torch_cl(g))
        got = npfast.max_pool2d_backward(nhwc(g), gi, nhwc(x).shape, layout="NHWC")
        np.testing.assert_allclose(nchw(got), tx.grad.numpy(), **tol("max_pool2d_backward", dtype))
    # The layout is checked and named; grad_output's rank too.
    with pytest.raises(ValueError, match="layout"):
        npfast.max_pool2d_backward(nhwc(g), gi, nhwc(x).shape, layout="NWHC")
    with pytest.raises(ValueError, match="grad_output"):
        npfast.avg_pool2d_backward(np.zeros((2, 2)), nhwc(x).shape, *args, layout="NHWC")


@pytest.mark.parametrize("pool", [npfast.max_pool2d, npfast.avg_pool2d])
def test_pool_nhwc_non_contiguous_and_unbatched(isa, pool):
    rng = np.random.default_rng(12)
    x = rng.standard_normal((2, 12, 10, 11))
    want = nhwc(pool(x, kernel_size=3, stride=2, padding=1))
    big = np.zeros((2, 10, 11, 24))
    big[..., ::2] = nhwc(x)
    view = big[:, ::-1, :, ::2][:, ::-1]  # channels 2 apart
    assert not view.flags.c_contiguous
    np.testing.assert_array_equal(pool(view, kernel_size=3, stride=2, padding=1, layout="NHWC"),
                                  want)
    np.testing.assert_array_equal(
        pool(nhwc(x)[1], kernel_size=3, stride=2, padding=1, layout="NHWC"), want[1])


def test_layout_default_and_errors():
    x = np.zeros((1, 4, 6, 6))
    w = np.zeros((2, 4, 3, 3))
    np.testing.assert_array_equal(npfast.conv2d(x, w, layout="NCHW"), npfast.conv2d(x, w))
    np.testing.assert_array_equal(npfast.conv2d(x, w, layout=None), npfast.conv2d(x, w))
    for fn, args in ((npfast.conv2d, (x, w)), (npfast.max_pool2d, (x, 2)),
                     (npfast.avg_pool2d, (x, 2))):
        with pytest.raises(ValueError, match="layout.*'NWHC'"):
            fn(*args, layout="NWHC")
    # NHWC reads C from the last axis: a channel mismatch names the weight.
    with pytest.raises(ValueError, match="weight"):
        npfast.conv2d(x, w, layout="NHWC")


@pytest.mark.parametrize("dtype", DTYPES)
def test_conv2d_1x1_strided_nhwc(isa, dtype, threads):
    """The strided unpadded 1x1 on NHWC (a ResNet downsample's shortcut) gathers the pixels
    it reads and runs one GEMM per block: bitwise the NCHW result (bias, ReLU, residual),
    partial blocks and uneven strides included, at any thread count."""
    rng = np.random.default_rng(23)
    for nt, (n, c, h, w, o, s) in itertools.product(
            (1, 2), [(4, 16, 32, 32, 32, 2), (3, 5, 9, 11, 7, (2, 3)), (2, 40, 17, 15, 300, 3),
                     (1, 16, 8, 8, 32, 2)]):
        npfast.set_num_threads(nt)
        x, wt, b, kw = make((n, c, h, w, o, 1, 1, s, 0, 1, 1), dtype, rng)
        assert _npfast._conv2d_algorithm(nhwc(x), wt, **kw, layout="NHWC") == "implicit_gemm"
        for bias in (None, b):
            for act in (None, "relu"):
                want = npfast.conv2d(x, wt, bias, **kw, activation=act)
                r = rng.standard_normal(want.shape).astype(dtype)
                want_r = npfast.conv2d(x, wt, bias, **kw, activation=act, residual=r)
                got = npfast.conv2d(nhwc(x), wt, bias, **kw, activation=act, layout="NHWC")
                np.testing.assert_array_equal(nchw(got), want)
                got = npfast.conv2d(nhwc(x), wt, bias, **kw, activation=act, layout="NHWC",
                                    residual=nhwc(r))
                np.testing.assert_array_equal(nchw(got), want_r)
