"""npfast.conv_transpose2d / conv_transpose2d_backward against PyTorch's forward and autograd
(random shapes, strides, paddings, output_padding, groups, dilation, both dtypes, every ISA, both
layouts: NHWC against torch's channels_last), finite differences in float64, the unbatched form,
out=, bitwise identity across thread counts and between the layouts, and the errors."""

import numpy as np
import pytest

import npfast

from anchors import F, needs_torch, torch
from tolerances import tol


def random_case(rng):
    g = int(rng.choice([1, 1, 2, 3]))
    cin, cout = g * int(rng.integers(1, 4)), g * int(rng.integers(1, 4))
    kh, kw = (int(v) for v in rng.integers(1, 5, 2))
    sh, sw = (int(v) for v in rng.integers(1, 4, 2))
    dh, dw = (int(v) for v in rng.integers(1, 3, 2))
    ph, pw = (int(v) for v in rng.integers(0, 3, 2))
    oph, opw = int(rng.integers(0, max(sh, dh))), int(rng.integers(0, max(sw, dw)))
    n, h, w = int(rng.integers(0, 3)), int(rng.integers(1, 7)), int(rng.integers(1, 7))
    args = dict(stride=(sh, sw), padding=(ph, pw), output_padding=(oph, opw), groups=g,
                dilation=(dh, dw))
    return (n, cin, h, w), (cin, cout // g, kh, kw), args


def valid_cases(count, seed):
    """Random cases whose output is non-empty (PyTorch refuses the rest; so does npfast, below)."""
    rng = np.random.default_rng(seed)
    cases = []
    while len(cases) < count:
        xs, ws, args = random_case(rng)
        oh = (xs[2] - 1) * args["stride"][0] - 2 * args["padding"][0] + \
            args["dilation"][0] * (ws[2] - 1) + args["output_padding"][0] + 1
        ow = (xs[3] - 1) * args["stride"][1] - 2 * args["padding"][1] + \
            args["dilation"][1] * (ws[3] - 1) + args["output_padding"][1] + 1
        if oh > 0 and ow > 0:
            cases.append((xs, ws, args))
    return cases


def nhwc(a):
    return np.ascontiguousarray(a.transpose(0, 2, 3, 1))


def autograd(x, w, b, gy, args, layout="NCHW"):
    """torch's output and gradients, NCHW arrays; for "NHWC" computed on channels_last tensors."""
    fmt = torch.channels_last if layout == "NHWC" else torch.contiguous_format
    tx = torch.tensor(x).contiguous(memory_format=fmt).requires_grad_(True)
    tw = torch.tensor(w).contiguous(memory_format=fmt).requires_grad_(True)
    tb = torch.tensor(b, requires_grad=True)
    y = F.conv_transpose2d(tx, tw, tb, **args)
    y.backward(torch.tensor(gy).contiguous(memory_format=fmt))
    return y.detach().numpy(), tx.grad.numpy(), tw.grad.numpy(), tb.grad.numpy()


def check_against_autograd(cases, dtype, seed, layout="NCHW"):
    """npfast's forward and backward against torch's, in `layout` (NHWC against channels_last)."""
    rng = np.random.default_rng(seed)
    to = nhwc if layout == "NHWC" else (lambda a: a)
    for xs, ws, args in cases:
        x, w = rng.standard_normal(xs).astype(dtype), rng.standard_normal(ws).astype(dtype)
        b = rng.standard_normal(ws[1] * args["groups"]).astype(dtype)
        y = npfast.conv_transpose2d(to(x), w, b, **args, layout=layout)
        gy = rng.standard_normal(y.shape).astype(dtype)
        gy_nchw = gy.transpose(0, 3, 1, 2) if layout == "NHWC" else gy
        ty, tgx, tgw, tgb = autograd(x, w, b, gy_nchw, args, layout)
        want = (to(ty), to(tgx), tgw, tgb)
        got = (y,) + npfast.conv_transpose2d_backward(gy, to(x), w, **args, layout=layout)
        for name, g, wv in zip(("output", "grad_input", "grad_weight", "grad_bias"), got, want):
            assert g.shape == wv.shape and g.dtype == dtype, (name, args)
            scale = max(1.0, float(np.abs(wv).max(initial=0)))
            np.testing.assert_allclose(g, wv, **tol("conv_transpose2d", dtype, scale),
                                       err_msg=f"{layout} {name} {xs} {ws} {args}")


@needs_torch
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_random_shapes_against_autograd(isa, dtype):
    check_against_autograd(valid_cases(60, 0), dtype, 1)


@needs_torch
def test_issue_shapes_against_torch(isa):
    """The speed row's layer (4x4 stride 2, 128 -> 64, 16^2 -> 32^2) and a dilated one with
    output_padding >= stride (allowed by the dilation)."""
    rng = np.random.default_rng(2)
    # The last two take the im2col grad_weight path (strided, >= 16 channels per group).
    for xs, ws, args, dtype in [
            ((2, 128, 16, 16), (128, 64, 4, 4), dict(stride=2, padding=1), np.float32),
            ((2, 6, 5, 7), (6, 4, 3, 3), dict(stride=1, padding=1, output_padding=1, dilation=2),
             np.float32),
            ((3, 32, 5, 6), (32, 4, 3, 2), dict(stride=(2, 3), padding=(1, 0), groups=2,
                                                output_padding=(1, 2), dilation=(1, 2)),
             np.float64),
            ((1, 16, 40, 3), (16, 3, 2, 3), dict(stride=(3, 1), padding=(0, 1)), np.float64)]:
        x = rng.standard_normal(xs).astype(dtype)
        w = rng.standard_normal(ws).astype(dtype) * 0.1
        b = rng.standard_normal(ws[1] * args.get("groups", 1)).astype(dtype)
        y = npfast.conv_transpose2d(x, w, b, **args)
        gy = rng.standard_normal(y.shape).astype(dtype)
        want = autograd(x, w, b, gy, args)
        got = (y,) + npfast.conv_transpose2d_backward(gy, x, w, **args)
        for g, wv in zip(got, want):
            np.testing.assert_allclose(g, wv, **tol("conv_transpose2d", dtype,
                                                    float(np.abs(wv).max())))


def wide_cases(count, seed):
    """Random cases with 16-19 input channels a group: the output-phase path for NCHW too."""
    rng = np.random.default_rng(seed)
    cases = []
    for xs, ws, args in valid_cases(count, seed):
        g = args["groups"]
        cin, cout = g * int(rng.integers(16, 20)), g * int(rng.integers(1, 40))
        cases.append(((xs[0], cin) + xs[2:], (cin, cout // g) + ws[2:], args))
    return cases


@needs_torch
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_nhwc_random_shapes_against_channels_last(isa, dtype):
    # The last: more than 64 output phases, which runs conv2d's paths on NCHW copies.
    check_against_autograd(
        valid_cases(40, 10) + wide_cases(8, 11)
        + [((2, 20, 3, 4), (20, 5, 3, 2), dict(stride=(9, 10), padding=(1, 0),
                                               output_padding=(2, 3), groups=1))],
        dtype, 12, "NHWC")


@needs_torch
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_phase_path_random_shapes_against_autograd(isa, dtype):
    """NCHW with >= 16 input channels a group (the output-phase forward and grad_weight)."""
    check_against_autograd(wide_cases(12, 14), dtype, 13)


@needs_torch
def test_nhwc_issue_shape_strided_views_and_unbatched():
    """The speed row's layer in NHWC (batch 2), a non-contiguous NHWC input and out=, and the
    unbatched (H, W, C) form."""
    check_against_autograd(
        [((2, 128, 16, 16), (128, 64, 4, 4), dict(stride=2, padding=1, groups=1))], np.float32,
        15, "NHWC")
    rng = np.random.default_rng(16)
    x = rng.standard_normal((2, 7, 5, 40))[..., ::2]  # (N, H, W, C) with C strided
    w, b = rng.standard_normal((20, 6, 3, 3)), rng.standard_normal(6)
    args = dict(stride=2, padding=1, output_padding=1)
    want = nhwc(F.conv_transpose2d(torch.tensor(x.transpose(0, 3, 1, 2).copy()), torch.tensor(w),
                                   torch.tensor(b), **args).numpy())
    out = np.full((2, 14, 10, 12), 5.0)[..., ::2]
    r = npfast.conv_transpose2d(x, w, b, **args, layout="NHWC", out=out)
    assert r is out
    np.testing.assert_allclose(out, want, **tol("conv_transpose2d", np.float64))
    y1 = npfast.conv_transpose2d(x[0], w, b, **args, layout="NHWC")
    np.testing.assert_allclose(y1, want[0], **tol("conv_transpose2d", np.float64))
    gx, gw, gb = npfast.conv_transpose2d_backward(np.ones_like(y1), x[0], w, **args,
                                                  layout="NHWC")
    assert gx.shape == x[0].shape and gw.shape == w.shape and gb.shape == (6,)
    np.testing.assert_allclose(gb, np.full(6, 14.0 * 10.0))


def test_nhwc_matches_nchw_bitwise_on_the_phase_path():
    """Both layouts run the same sums on the same channels-last copy: the output and grad_weight
    are the NCHW results transposed, bit for bit."""
    rng = np.random.default_rng(17)
    x = rng.standard_normal((3, 32, 6, 5)).astype(np.float32)
    w = rng.standard_normal((32, 24, 4, 4)).astype(np.float32)
    b = rng.standard_normal(24).astype(np.float32)
    args = dict(stride=2, padding=1)
    y = npfast.conv_transpose2d(x, w, b, **args)
    gy = rng.standard_normal(y.shape).astype(np.float32)
    assert np.array_equal(nhwc(y), npfast.conv_transpose2d(nhwc(x), w, b, **args, layout="NHWC"))
    _, gw, _ = npfast.conv_transpose2d_backward(gy, x, w, **args)
    _, gw2, _ = npfast.conv_transpose2d_backward(nhwc(gy), nhwc(x), w, **args, layout="NHWC")
    assert np.array_equal(gw, gw2)


def test_finite_differences():
    """float64 gradients of sum(conv_transpose2d(x, w, b) * gy) against central differences of
    npfast's own forward."""
    rng = np.random.default_rng(3)
    args = dict(stride=(2, 1), padding=(1, 0), output_padding=(1, 0), groups=2, dilation=(1, 2))
    x, w = rng.standard_normal((2, 4, 3, 4)), rng.standard_normal((4, 1, 3, 2))
    b = rng.standard_normal(2)
    gy = rng.standard_normal(npfast.conv_transpose2d(x, w, b, **args).shape)
    gx, gw, gb = npfast.conv_transpose2d_backward(gy, x, w, **args)

    def loss(x_, w_, b_):
        return float((npfast.conv_transpose2d(x_, w_, b_, **args) * gy).sum())

    eps = 1e-6
    for arr, grad, which in ((x, gx, 0), (w, gw, 1), (b, gb, 2)):
        for i in np.ndindex(arr.shape):
            a, c = arr.copy(), arr.copy()
            a[i] += eps
            c[i] -= eps
            vals = [x, w, b]
            vals[which] = a
            hi = loss(*vals)
            vals[which] = c
            lo = loss(*vals)
            assert abs((hi - lo) / (2 * eps) - grad[i]) < 1e-6 * max(1, abs(grad[i]))


@needs_torch
def test_unbatched_out_and_masks():
    rng = np.random.default_rng(4)
    x, w = rng.standard_normal((3, 4, 5)), rng.standard_normal((3, 2, 3, 3))
    want = F.conv_transpose2d(torch.tensor(x), torch.tensor(w), stride=2).numpy()
    y = npfast.conv_transpose2d(x, w, stride=2)
    assert y.shape == want.shape == (2, 9, 11)
    np.testing.assert_allclose(y, want, **tol("conv_transpose2d", np.float64))
    out = np.full((1, 2, 9, 11), 7.0)[:, :, :, :]
    strided = np.full((1, 2, 9, 22), 7.0)[..., ::2]
    for o in (out, strided):
        r = npfast.conv_transpose2d(x[None], w, stride=2, out=o)
        assert r is o
        np.testing.assert_allclose(o[0], want, **tol("conv_transpose2d", np.float64))
    gx, gw, gb = npfast.conv_transpose2d_backward(np.ones_like(y), x, w, stride=2,
                                                  output_mask=(True, False, True))
    assert gx.shape == x.shape and gw is None and gb.shape == (2,)
    np.testing.assert_allclose(gb, [99.0, 99.0])


@pytest.mark.parametrize("layout", ["NCHW", "NHWC"])
@pytest.mark.parametrize("batch", [3, 9])  # fewer images than weight slots, and more
def test_threads_bitwise_identical(threads, layout, batch):
    rng = np.random.default_rng(5)
    x = rng.standard_normal((batch, 32, 9, 9)).astype(np.float32)
    w = rng.standard_normal((32, 16, 4, 4)).astype(np.float32)
    b = rng.standard_normal(16).astype(np.float32)
    gy = rng.standard_normal((batch, 16, 18, 18)).astype(np.float32)
    if layout == "NHWC":
        x, gy = nhwc(x), nhwc(gy)
    results = []
    for n in (1, 2):
        npfast.set_num_threads(n)
        results.append((npfast.conv_transpose2d(x, w, b, stride=2, padding=1, layout=layout),)
                       + npfast.conv_transpose2d_backward(gy, x, w, stride=2, padding=1,
                                                          layout=layout))
    for a, b in zip(*results):
        assert np.array_equal(a, b)


@needs_torch
def test_large_weight_small_images(threads):
    """Weight-gradient partials over 1 MiB a slot (tile by tile through a slot's images) and over
    16 MiB in all (fewer slots, row phases as items): against torch, and 1 vs 2 threads."""
    rng = np.random.default_rng(18)
    x = rng.standard_normal((9, 256, 3, 3)).astype(np.float32)
    w = (rng.standard_normal((256, 160, 4, 4)) * 0.05).astype(np.float32)
    b = rng.standard_normal(160).astype(np.float32)
    args = dict(stride=2, padding=1, groups=1)
    gy = rng.standard_normal((9, 160, 6, 6)).astype(np.float32)
    want = autograd(x, w, b, gy, args)
    for layout in ("NCHW", "NHWC"):
        to = nhwc if layout == "NHWC" else (lambda a: a)
        results = []
        for n in (1, 2):
            npfast.set_num_threads(n)
            results.append((npfast.conv_transpose2d(to(x), w, b, **args, layout=layout),)
                           + npfast.conv_transpose2d_backward(to(gy), to(x), w, **args,
                                                              layout=layout))
        for a, c in zip(*results):
            assert np.array_equal(a, c)
        for g, wv in zip(results[0], (to(want[0]), to(want[1]), want[2], want[3])):
            np.testing.assert_allclose(g, wv, **tol("conv_transpose2d", np.float32,
                                                    float(np.abs(wv).max())))


@needs_torch
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_winograd_grad_input(isa, dtype):
    """grad_input of 4x4 stride-2 NCHW layers with even input sizes, >= 16 channels each way and
    >= 26 tiles of 2 x 2 (Winograd F(2x2, 2x2) on grad_output's phases): paddings 0-2 (unequal
    too), non-square, channel counts off the microkernel's tile, a strided grad_output, 8 x 8
    inputs two a work item (an odd batch: the last alone); against autograd (float64
    anchor)."""
    rng = np.random.default_rng(19)
    for xs, cout, pad in [((2, 19, 8, 14), 16, 1), ((1, 33, 12, 10), 20, 0),
                          ((3, 16, 16, 8), 17, 2), ((1, 20, 8, 14), 16, (2, 1)),
                          ((3, 128, 8, 8), 64, 1), ((2, 128, 16, 16), 64, 1)]:
        x = rng.standard_normal(xs).astype(dtype)
        w = (rng.standard_normal((xs[1], cout, 4, 4)) * 0.1).astype(dtype)
        b = np.zeros(cout, dtype)
        args = dict(stride=2, padding=pad)
        shape = npfast.conv_transpose2d(x, w, b, **args).shape
        gy = rng.standard_normal(shape[:3] + (2 * shape[3],)).astype(dtype)[..., ::2]
        gx, _, _ = npfast.conv_transpose2d_backward(gy, x, w, **args,
                                                    output_mask=(True, False, False))
        want = autograd(x.astype(np.float64), w.astype(np.float64), b.astype(np.float64),
                        np.ascontiguousarray(gy, np.float64), args)[1]
        np.testing.assert_allclose(gx, want, **tol("conv_transpose2d", dtype,
                                                   float(np.abs(want).max())), err_msg=str(xs))
        # The Winograd path ran: conv2d's direct sums of the same gradient round differently.
        assert not np.array_equal(gx, npfast.conv2d(np.ascontiguousarray(gy), w, **args)), xs


@needs_torch
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_winograd_forward(isa, dtype):
    """The forward of 4x4 stride-2 NCHW layers with output sizes multiples of 4, >= 16
    channels each way and >= 26 tiles of 2 x 2 a phase (Winograd F(2x2, 2x2) on the output's
    phases): paddings 0-5 (each phase's first input row at either parity), unequal paddings,
    odd and non-square inputs, channel counts off the microkernel's tile, with and without
    bias, a strided input and out=, 8 x 8 inputs two a work item (an odd batch: the last
    alone); against torch in float64."""
    rng = np.random.default_rng(21)
    for xs, cout, pad, with_bias in [((2, 19, 9, 11), 17, 0, True), ((1, 16, 8, 14), 20, 1, False),
                                     ((1, 33, 11, 13), 16, 2, True),
                                     ((2, 16, 12, 14), 16, 3, True),
                                     ((2, 20, 20, 19), 17, (5, 4), True),
                                     ((1, 17, 15, 16), 18, (2, 1), False),
                                     ((3, 128, 8, 8), 64, 1, True),
                                     ((2, 128, 16, 16), 64, 1, True)]:
        x = rng.standard_normal(xs[:3] + (2 * xs[3],)).astype(dtype)[..., ::2]
        w = (rng.standard_normal((xs[1], cout, 4, 4)) * 0.1).astype(dtype)
        b = rng.standard_normal(cout).astype(dtype) if with_bias else None
        args = dict(stride=2, padding=pad)
        want = F.conv_transpose2d(torch.tensor(np.ascontiguousarray(x), dtype=torch.float64),
                                  torch.tensor(w, dtype=torch.float64),
                                  None if b is None else torch.tensor(b, dtype=torch.float64),
                                  **args).numpy()
        assert want.shape[2] % 4 == 0 and want.shape[3] % 4 == 0, xs
        y = npfast.conv_transpose2d(x, w, b, **args)
        np.testing.assert_allclose(y, want, **tol("conv_transpose2d", dtype,
                                                  float(np.abs(want).max())), err_msg=str(xs))
        out = np.full(want.shape[:3] + (2 * want.shape[3],), 7.0, dtype)[..., ::2]
        assert npfast.conv_transpose2d(x, w, b, **args, out=out) is out
        assert np.array_equal(out, y), xs
        # The Winograd path ran: the output phases' direct sums (NHWC) round differently.
        assert not np.array_equal(y, npfast.conv_transpose2d(nhwc(x), w, b, **args,
                                                             layout="NHWC").transpose(0, 3, 1, 2))


@pytest.mark.parametrize("batch", [1, 5])
def test_winograd_threads_bitwise(threads, batch):
    """The Winograd forward and grad_input in fixed work items (one image, or two of 8 x 8):
    the same bits on 1, 2, 3, 7 and 16 threads."""
    rng = np.random.default_rng(20)
    for xs, cout in [((batch, 24, 16, 14), 16), ((batch, 128, 8, 8), 64)]:
        x = rng.standard_normal(xs).astype(np.float32)
        w = rng.standard_normal((xs[1], cout, 4, 4)).astype(np.float32)
        b = rng.standard_normal(cout).astype(np.float32)
        gy = rng.standard_normal((batch, cout, 2 * xs[2], 2 * xs[3])).astype(np.float32)
        got = []
        for n in (1, 2, 3, 7, 16):
            npfast.set_num_threads(n)
            got.append((npfast.conv_transpose2d(x, w, b, stride=2, padding=1),
                        npfast.conv_transpose2d_backward(gy, x, w, stride=2, padding=1,
                                                         output_mask=(True, False, False))[0]))
        for g in got[1:]:
            assert np.array_equal(g[0], got[0][0]) and np.array_equal(g[1], got[0][1])


@pytest.mark.parametrize("kwargs,words", [
    (dict(stride=0), ("stride", "(0, 0)")),
    (dict(output_padding=2, stride=2), ("output_padding", "(2, 2)")),
    (dict(padding=5), ("input", "too small")),
    (dict(groups=2), ("groups", "got 2")),
    (dict(padding=-1), ("padding", "(-1, -1)")),
])
def test_errors(kwargs, words):
    x, w = np.zeros((1, 3, 2, 2)), np.zeros((3, 2, 3, 3))
    with pytest.raises(ValueError) as info:
        npfast.conv_transpose2d(x, w, **kwargs)
    for word in words:
        assert word in str(info.value)
    with pytest.raises(ValueError, match="weight"):
        npfast.conv_transpose2d(np.zeros((1, 4, 2, 2)), w)
    with pytest.raises(TypeError, match="weight"):
        npfast.conv_transpose2d(x, w.astype(np.float32))
    with pytest.raises(ValueError, match="grad_output"):
        npfast.conv_transpose2d_backward(np.zeros((1, 2, 3, 3)), x, w)


def test_output_too_large_names_its_shape():
    """probe22b: "output size: size overflows int64 (a * b)" named neither the array nor how
    big it was."""
    x, w = np.ones((1, 2, 5, 4), np.float32), np.ones((2, 2, 1, 1), np.float32)
    with pytest.raises(MemoryError, match=r"output: cannot allocate more bytes than int64 counts "
                                          r"for shape \(1, 2, 4294967297, 3221225473\)"):
        npfast.conv_transpose2d(x, w, stride=2**30)


def test_nhwc_errors_show_the_shape_passed():
    """probe22b: channels-last errors showed the permuted (N, C, H, W) shape."""
    x, w = np.ones((1, 2, 5, 4)), np.ones((4, 2, 1, 1))
    with pytest.raises(ValueError, match=r"from input shape \(1, 2, 5, 4\) is too small"):
        npfast.conv_transpose2d(x, w, None, 1, 3, layout="NHWC")
    with pytest.raises(ValueError, match=r"from input shape \(1, 2, 5, 4\) is too small"):
        npfast.conv_transpose2d_backward(np.ones((1, 2, 5, 2)), x, w, 1, 3, layout="NHWC")
    with pytest.raises(ValueError, match=r"4-d \(N, H, W, C_in\)"):
        npfast.conv_transpose2d(np.ones((1, 1, 2, 5, 4)), w, layout="NHWC")


@needs_torch
@pytest.mark.parametrize("layout", ["NCHW", "NHWC"])
def test_zero_length_output_axis_is_empty(layout):
    """An output height or width of 0 gives PyTorch's empty result, and the backward zeros; a
    negative one stays an error."""
    rng = np.random.default_rng(5)
    x = rng.standard_normal((2, 3, 2, 7)).astype(np.float32)
    w = rng.standard_normal((3, 4, 1, 2)).astype(np.float32)
    b = rng.standard_normal(4).astype(np.float32)
    xl = x.transpose(0, 2, 3, 1).copy() if layout == "NHWC" else x
    y = npfast.conv_transpose2d(xl, w, b, 1, (1, 0), layout=layout)
    want = torch.nn.functional.conv_transpose2d(torch.tensor(x), torch.tensor(w), torch.tensor(b),
                                                1, (1, 0))
    assert tuple(want.shape) == (2, 4, 0, 8)
    assert y.shape == ((2, 0, 8, 4) if layout == "NHWC" else (2, 4, 0, 8))
    gx, gw, gb = npfast.conv_transpose2d_backward(y, xl, w, 1, (1, 0), layout=layout)[:3]
    assert gx.shape == xl.shape and not gx.any()
    assert gw.shape == w.shape and not gw.any()
    assert gb is None or not gb.any()
    with pytest.raises(ValueError, match="output size"):
        npfast.conv_transpose2d(xl, w, b, 1, (2, 0), layout=layout)


@needs_torch
@pytest.mark.parametrize("layout", ["NCHW", "NHWC"])
def test_output_padding_past_every_tap(layout):
    """output_padding > padding where the padded output reaches past every row (column) the
    taps cover: no output pixel meets a tap, so the output is the bias and the gradients of
    input and weight are zero, as PyTorch's (the conv's extent went negative: a crash and
    wrapped MemoryErrors, probe13)."""
    cases = [((1, 4, 1, 2), (4, 1, 1, 1), dict(stride=(7, 4), padding=(2, 1),
                                               output_padding=(4, 1), dilation=(3, 2), groups=1)),
             ((2, 3, 1, 3), (3, 2, 1, 2), dict(stride=(5, 2), padding=(2, 0),
                                               output_padding=(4, 1), groups=1))]
    rng = np.random.default_rng(21)
    while len(cases) < 40:  # the region at random: a pad beyond the taps, op > pad
        s, p = (int(v) for v in rng.integers(2, 8, 2)), (int(v) for v in rng.integers(1, 4, 2))
        s, p = tuple(s), tuple(p)
        op = tuple(int(rng.integers(q + 1, si)) if si > q + 1 else 0 for q, si in zip(p, s))
        xs = (int(rng.integers(1, 3)), 2, int(rng.integers(1, 3)), int(rng.integers(1, 3)))
        ws = (2, int(rng.integers(1, 3)), int(rng.integers(1, 3)), int(rng.integers(1, 3)))
        oh, ow = ((xs[2 + i] - 1) * s[i] - 2 * p[i] + ws[2 + i] - 1 + op[i] + 1 for i in (0, 1))
        if oh > 0 and ow > 0:
            cases.append((xs, ws, dict(stride=s, padding=p, output_padding=op, groups=1)))
    for dtype in (np.float32, np.float64):
        check_against_autograd(cases, dtype, 22, layout)
    # An output axis of length 0 in this region: the backward's zeros (torch float32's).
    x = np.ones((1, 10, 1, 2), np.float32)
    w = np.ones((10, 2, 1, 4), np.float32)
    args = dict(stride=4, padding=(2, 1), output_padding=(3, 2), groups=2)
    xl = nhwc(x) if layout == "NHWC" else x
    y = npfast.conv_transpose2d(xl, w, **args, layout=layout)
    assert y.size == 0
    gx, gw = npfast.conv_transpose2d_backward(y, xl, w, **args, layout=layout)[:2]
    assert gx.shape == xl.shape and not gx.any() and gw.shape == w.shape and not gw.any()


@needs_torch
@pytest.mark.parametrize("shape", [(0, 2, 0, 4), (0, 2, 3, 0), (0, 2, 0, 0)])
def test_empty_plane_beside_an_empty_batch(shape):
    """PyTorch takes an empty height or width beside an empty batch (its rule: only an empty
    batch or channels); npfast refused every empty plane (review20)."""
    w, b = np.ones((2, 3, 3, 3)), np.ones(3)
    got = npfast.conv_transpose2d(np.zeros(shape), w, b)
    want = F.conv_transpose2d(torch.zeros(shape, dtype=torch.float64), torch.tensor(w),
                              torch.tensor(b))
    assert got.shape == tuple(want.shape)
    with pytest.raises(ValueError, match="empty height or width needs an empty batch"):
        npfast.conv_transpose2d(np.zeros((1,) + shape[1:]), w, b)
