"""Non-finite and huge operands on the Winograd paths: conv2d (3x3 stride 1, and dilation 2),
conv2d_backward (all three gradients), conv_transpose2d (3x3 stride 1 and 4x4 stride 2, with
backward), both layouts and dtypes. The transforms add and subtract operands, so on such
values they would give NaN where the direct sum keeps inf, and inf where it stays finite: the
operators run the direct algorithms there (docs/conv.md, winofinite), and give PyTorch's NaN /
inf pattern: that of its own direct convolution, padding as zeros (a non-finite weight times a
padded zero is NaN). oneDNN, which PyTorch runs for float32 batches, skips padded taps instead
(no NaN there), so the references run with it off. In range, Winograd still runs, with the same
bits."""

import contextlib
import warnings

import numpy as np
import pytest

import npfast
from npfast import _npfast

from anchors import F, needs_torch, torch
from tolerances import tol

# (where, value): one special value (or two) put into an operand of random data. "big" is a
# quarter of the dtype's largest: finite in the direct sums (|w|, |x| < 1.5 elsewhere), but
# past Winograd's range; "huge2" two of them, of both signs, in one image.
SPECIALS = ["inf", "-inf", "nan", "inf-inf", "big", "-big", "huge2"]


def nhwc(a):
    return np.ascontiguousarray(a.transpose(0, 2, 3, 1))


def nchw(a):
    return np.ascontiguousarray(a.transpose(0, 3, 1, 2))


def inject(a, kind, rng):
    """A copy of a (NCHW or OIHW) with the special values at random places of its first image
    / filter."""
    a = a.copy()
    big = np.finfo(a.dtype).max / 4
    first = lambda: (0, int(rng.integers(a.shape[1])), int(rng.integers(a.shape[2])),
                     int(rng.integers(a.shape[3])))
    vals = {"inf": [np.inf], "-inf": [-np.inf], "nan": [np.nan], "inf-inf": [np.inf, -np.inf],
            "big": [big], "-big": [-big], "huge2": [big, -big]}[kind]
    for v in vals:
        a[first()] = v
    return a


def same_pattern(got, want, dtype, msg):
    """NaN, +inf and -inf at the same places; the finite values close."""
    for f in (np.isnan, np.isposinf, np.isneginf):
        np.testing.assert_array_equal(f(got), f(want), err_msg=f"{msg}: {f.__name__}")
    fin = np.isfinite(want)
    scale = float(np.abs(want[fin]).max()) if fin.any() else 1.0
    np.testing.assert_allclose(got[fin], want[fin], **tol("conv2d", dtype, scale), err_msg=msg)


def data(rng, dtype, n, c, h, w, o, k=3, transposed=False):
    x = rng.uniform(-1.5, 1.5, (n, c, h, w)).astype(dtype)
    wt = rng.uniform(-1.5, 1.5, ((c, o) if transposed else (o, c)) + (k, k)).astype(dtype)
    b = rng.uniform(-1, 1, o).astype(dtype)
    return x, wt, b


def t(a):
    return torch.from_numpy(np.ascontiguousarray(a))


@contextlib.contextmanager
def direct_torch():
    """PyTorch's convolutions without oneDNN: padding as zeros, as npfast's direct paths."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with torch.backends.mkldnn.flags(enabled=False):
            yield


def with_special(x, w, b, gy, where, kind, rng, conv):
    """x, w and gy with the special value in the one `where` names, and PyTorch's leaves
    (x, w, b) after conv(x, w, b).backward(gy), and conv's output."""
    xs = inject(x, kind, rng) if where == "x" else x
    ws = inject(w, kind, rng) if where == "w" else w
    gy = inject(gy, kind, rng) if where == "gy" else gy
    leaves = [t(a).requires_grad_() for a in (xs, ws, b)]
    with direct_torch():
        y = conv(*leaves)
        y.backward(t(gy))
    return xs, ws, gy, leaves + [y]


# (N, C, H, W, O, padding, dilation): shapes that pick Winograd (asserted).
CONV_SHAPES = [(2, 16, 8, 8, 16, 1, 1), (1, 20, 9, 11, 17, 1, 1), (2, 16, 12, 16, 16, 2, 2)]


@needs_torch
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("layout", ["NCHW", "NHWC"])
@pytest.mark.parametrize("where", ["x", "w", "both"])
def test_conv2d_pattern(isa, dtype, layout, where):
    rng = np.random.default_rng(5)
    for n, c, h, w_, o, p, d in CONV_SHAPES:
        if layout == "NHWC" and d > 1:
            continue  # the dilated Winograd is NCHW only
        x, w, b = data(rng, dtype, n, c, h, w_, o)
        kw = dict(padding=p, dilation=d)
        xl = nhwc(x) if layout == "NHWC" else x
        assert _npfast._conv2d_algorithm(xl, w, layout=layout, **kw) == "winograd"
        for kind in SPECIALS:
            xs = inject(x, kind, rng) if where in ("x", "both") else x
            ws = inject(w, kind, rng) if where in ("w", "both") else w
            with direct_torch():
                want = F.conv2d(t(xs), t(ws), t(b), **kw).numpy()
            if layout == "NHWC":
                got = nchw(npfast.conv2d(nhwc(xs), ws, b, layout="NHWC", **kw))
            else:
                got = npfast.conv2d(xs, ws, b, **kw)
            same_pattern(got, want, dtype, f"{kind} in {where}, {(n, c, h, w_, o, p, d)}")
            if layout == "NCHW" and d == 1:  # the fused residual and ReLU too
                r = rng.uniform(-1, 1, want.shape).astype(dtype)
                got = npfast.conv2d(xs, ws, b, **kw, residual=r, activation="relu")
                same_pattern(got, torch.relu(torch.from_numpy(want) + t(r)).numpy(), dtype,
                             f"{kind} in {where} + residual")


@needs_torch
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("layout", ["NCHW", "NHWC"])
def test_conv2d_backward_pattern(dtype, layout):
    """All three gradients, the special values in grad_output, the input and the weights (the
    Winograd grad_input reads grad_output and the weights)."""
    rng = np.random.default_rng(6)
    for n, c, h, w_, o, p, d in CONV_SHAPES[:2]:
        x, w, b = data(rng, dtype, n, c, h, w_, o)
        gy0 = rng.uniform(-1, 1, (n, o, h, w_)).astype(dtype)
        # grad_input's convolution: grad_output with the flipped weights, padding 1.
        wf = np.ascontiguousarray(w.transpose(1, 0, 2, 3)[:, :, ::-1, ::-1])
        gyl = nhwc(gy0) if layout == "NHWC" else gy0
        assert _npfast._conv2d_algorithm(gyl, wf, padding=p, layout=layout) == "winograd"
        for where in ("gy", "x", "w"):
            for kind in SPECIALS:
                xs, ws, gy, (tx, tw, tb, _) = with_special(
                    x, w, b, gy0, where, kind, rng, lambda *a: F.conv2d(*a, padding=p))
                if layout == "NHWC":
                    gx, gw, gb = npfast.conv2d_backward(nhwc(gy), nhwc(xs), ws, padding=p,
                                                        layout="NHWC")
                    gx = nchw(gx)
                else:
                    gx, gw, gb = npfast.conv2d_backward(gy, xs, ws, padding=p)
                msg = f"{kind} in {where}, {layout}, {(n, c, h, w_, o)}"
                same_pattern(gx, tx.grad.numpy(), dtype, "grad_input: " + msg)
                same_pattern(gw, tw.grad.numpy(), dtype, "grad_weight: " + msg)
                same_pattern(gb, tb.grad.numpy(), dtype, "grad_bias: " + msg)


@needs_torch
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("bad", [np.inf, -np.inf, np.nan])
def test_conv2d_backward_nhwc_strided_nonfinite_weight(dtype, bad):
    """probe18c: NHWC grad_input with stride > 1 ran as conv_transpose2d's phases, which
    multiply zeros by the weight: NaN where torch (and the NCHW path) has 1.0."""
    rng = np.random.default_rng(18)
    for shape, k, stride, padding, groups in [((1, 4, 4, 1), 3, 2, 0, 1),
                                              ((2, 9, 11, 4), 3, 2, 1, 2),
                                              ((1, 8, 8, 3), 5, 3, 2, 3)]:
        x = rng.standard_normal(shape).astype(dtype)
        c = shape[3]
        w = rng.standard_normal((4 if groups == 1 else c, c // groups, k, k)).astype(dtype)
        w[0, 0, 0, 0] = bad
        y = npfast.conv2d(x, w, stride=stride, padding=padding, groups=groups, layout="NHWC")
        gy = rng.standard_normal(y.shape).astype(dtype)
        gx = npfast.conv2d_backward(gy, x, w, stride=stride, padding=padding, groups=groups,
                                    layout="NHWC", output_mask=(True, False, False))[0]
        tx = torch.tensor(np.moveaxis(x, -1, 1), requires_grad=True)
        F.conv2d(tx, torch.tensor(w), stride=stride, padding=padding, groups=groups).backward(
            torch.tensor(np.moveaxis(gy, -1, 1)))
        want = np.moveaxis(tx.grad.numpy(), 1, -1)
        np.testing.assert_array_equal(np.isnan(gx), np.isnan(want))
        finite = np.isfinite(want)
        np.testing.assert_array_equal(np.isinf(gx), np.isinf(want))
        np.testing.assert_allclose(gx[finite], want[finite], **tol("conv2d", dtype, 10))


@needs_torch
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("bad", [np.inf, -np.inf, np.nan])
def test_conv_transpose2d_nonfinite_weight_either_layout(dtype, bad):
    """probe20b: NHWC layers ran the phases whatever the weight, multiplying the padding's zeros
    by it: NaN where torch (and the NCHW path) has a finite value; now both layouts scatter."""
    rng = np.random.default_rng(20)
    # (N, C_in, H, W, C_out, k, stride, padding, groups); C_in 16+ runs NCHW's phases too.
    for n, c, h, w_, o, k, s, p, g in [(1, 2, 4, 4, 3, 3, 1, 1, 1), (2, 4, 5, 6, 4, 3, 2, 1, 2),
                                       (1, 16, 5, 5, 8, 3, 2, 0, 1), (1, 3, 4, 5, 6, 4, 3, 2, 3)]:
        x = rng.standard_normal((n, c, h, w_)).astype(dtype)
        w = rng.standard_normal((c, o // g, k, k)).astype(dtype)
        w[0, 0, 0, 0] = bad
        want = F.conv_transpose2d(torch.tensor(x), torch.tensor(w), stride=s, padding=p,
                                  groups=g).numpy()
        for layout in ("NCHW", "NHWC"):
            xl = nhwc(x) if layout == "NHWC" else x
            got = npfast.conv_transpose2d(xl, w, stride=s, padding=p, groups=g, layout=layout)
            got = np.moveaxis(got, -1, 1) if layout == "NHWC" else got
            msg = f"{layout} {(n, c, h, w_, o, k, s, p, g)}"
            np.testing.assert_array_equal(np.isnan(got), np.isnan(want), err_msg=msg)
            np.testing.assert_array_equal(np.isinf(got), np.isinf(want), err_msg=msg)
            finite = np.isfinite(want)
            np.testing.assert_allclose(got[finite], want[finite], **tol("conv2d", dtype, 10),
                                       err_msg=msg)


@needs_torch
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_conv_transpose2d_pattern(dtype):
    """3x3 stride 1 (conv2d's Winograd on grad_input's convolution) and 4x4 stride 2 (F(2x2,
    2x2) on the phases), forward and backward, the special values in each operand."""
    rng = np.random.default_rng(7)
    # (N, C_in, H, W, C_out, k, stride, padding)
    for n, c, h, w_, o, k, s, p in [(2, 16, 8, 8, 16, 3, 1, 1), (1, 17, 9, 10, 20, 3, 1, 1),
                                    (3, 128, 8, 8, 64, 4, 2, 1), (1, 16, 8, 14, 20, 4, 2, 1)]:
        x, w, b = data(rng, dtype, n, c, h, w_, o, k=k, transposed=True)
        if k == 3:  # the forward is conv2d's grad_input: Winograd on x and the flipped weights
            wf = np.ascontiguousarray(w.transpose(1, 0, 2, 3)[:, :, ::-1, ::-1])
            assert _npfast._conv2d_algorithm(x, wf, padding=p) == "winograd"
        args = dict(stride=s, padding=p)
        shape = npfast.conv_transpose2d(x, w, b, **args).shape
        gy0 = rng.uniform(-1, 1, shape).astype(dtype)
        for where in ("x", "w", "gy"):
            for kind in SPECIALS:
                xs, ws, gy, (tx, tw, tb, ty) = with_special(
                    x, w, b, gy0, where, kind, rng, lambda *a: F.conv_transpose2d(*a, **args))
                msg = f"{kind} in {where}, {(n, c, h, w_, o, k, s, p)}"
                same_pattern(npfast.conv_transpose2d(xs, ws, b, **args), ty.detach().numpy(),
                             dtype, "forward: " + msg)
                gx, gw, gb = npfast.conv_transpose2d_backward(gy, xs, ws, **args)
                same_pattern(gx, tx.grad.numpy(), dtype, "grad_input: " + msg)
                same_pattern(gw, tw.grad.numpy(), dtype, "grad_weight: " + msg)
                same_pattern(gb, tb.grad.numpy(), dtype, "grad_bias: " + msg)


# conv_transpose2d layers for grad_weight: (N, C_in, H, W, C_out, k, stride, padding,
# output_padding, dilation, groups). The phases run all but the last two in NHWC and those with
# 16 or more input channels a group in NCHW. They find a non-finite operand from two slices of
# their result, except where an input pixel meets no tap (1x1 padding 1, 5x5/3 padding 5): those
# check the operands. The last two run conv2d's route in both layouts (few channels; 81 phases).
CT_GW_LAYERS = [(2, 16, 10, 12, 16, 3, 1, 1, 0, 1, 1), (1, 17, 12, 13, 20, 3, 1, 0, 0, 1, 1),
                (2, 16, 8, 8, 16, 3, 1, 2, 0, 1, 1), (2, 16, 7, 9, 16, 3, 2, 1, 1, 1, 1),
                (2, 16, 7, 9, 16, 3, 2, 2, 1, 1, 1), (2, 32, 10, 10, 16, 4, 2, 1, 0, 1, 1),
                (2, 32, 9, 10, 32, 3, 1, 2, 0, 2, 2), (2, 32, 6, 7, 48, 3, 2, 1, 1, 2, 4),
                (2, 16, 9, 10, 16, 3, 1, 3, 0, 2, 1), (2, 16, 6, 7, 16, 1, 1, 1, 0, 1, 1),
                (2, 16, 6, 7, 16, 2, 3, 1, 2, 1, 1), (1, 64, 5, 5, 32, 5, 3, 2, 2, 1, 1),
                (1, 16, 5, 5, 16, 5, 3, 5, 2, 1, 1), (2, 4, 6, 7, 8, 3, 2, 1, 1, 1, 1),
                (1, 32, 4, 5, 16, 3, 9, 1, 0, 1, 1)]


@needs_torch
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("layout", ["NCHW", "NHWC"])
@pytest.mark.parametrize("where", ["x", "gy"])
def test_conv_transpose2d_grad_weight_pattern(dtype, layout, where):
    """PyTorch's grad_weight is the input against the im2col of grad_output: each input pixel
    times grad_output's padding (zeros) at the taps that fall outside it, so a non-finite input
    pixel on the border gives NaN there, and a grad_output pixel that no input pixel reaches (the
    stride past the kernel, output_padding past the padding) is in no product. The phases form
    the transposed products (each grad_output pixel times the input's padding): non-finite
    operands take conv2d's route (docs/conv.md, ctgrad). The special values at the corners, in
    the edges' middles and inside, of the first image."""
    rng = np.random.default_rng(12)
    for layer, (n, c, h, w_, o, k, s, p, op, d, g) in enumerate(CT_GW_LAYERS):
        args = dict(stride=s, padding=p, output_padding=op, dilation=d, groups=g)
        x = rng.uniform(-1.5, 1.5, (n, c, h, w_)).astype(dtype)
        w = rng.uniform(-1.5, 1.5, (c, o // g, k, k)).astype(dtype)
        gy0 = rng.uniform(-1, 1, npfast.conv_transpose2d(x, w, **args).shape).astype(dtype)
        a0 = x if where == "x" else gy0
        rows, cols = a0.shape[2] - 1, a0.shape[3] - 1
        places = [(0, 0), (0, cols), (rows, 0), (rows, cols), (0, cols // 2), (rows // 2, cols),
                  (rows, cols // 2), (rows // 2, 0), (rows // 2, cols // 2)]
        big = np.finfo(dtype).max / 4
        others = [("-inf", [-np.inf]), ("nan", [np.nan]), ("inf-inf", [np.inf, -np.inf]),
                  ("big", [big])]
        for j, (y0, x0) in enumerate(places):  # inf at each place, and one other in turn
            for kind, vals in [("inf", [np.inf]), others[(j + layer) % len(others)]]:
                a = a0.copy()
                ch = int(rng.integers(a.shape[1]))
                for i, v in enumerate(vals):  # the pair side by side, in two channels
                    a[0, (ch + i) % a.shape[1], y0, min(x0 + i, cols)] = v
                xs, gy = (a, gy0) if where == "x" else (x, a)
                tx, tw = t(xs).requires_grad_(), t(w).requires_grad_()
                with direct_torch():
                    F.conv_transpose2d(tx, tw, **args).backward(t(gy))
                if layout == "NHWC":
                    gw = npfast.conv_transpose2d_backward(nhwc(gy), nhwc(xs), w, layout="NHWC",
                                                          output_mask=(False, True, False),
                                                          **args)[1]
                else:
                    gw = npfast.conv_transpose2d_backward(gy, xs, w,
                                                          output_mask=(False, True, False),
                                                          **args)[1]
                same_pattern(gw, tw.grad.numpy(), dtype,
                             f"{kind} in {where} at {(y0, x0)}, {layout}, "
                             f"{(n, c, h, w_, o, k, s, p, op, d, g)}")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("layout", ["NCHW", "NHWC"])
def test_in_range_keeps_winograd_bits(isa, dtype, layout, threads):
    """Scaling by a power of two scales every rounding exactly, so a scaled input gives the
    scaled bits of the same algorithm: Winograd's up to its range's edge (its bits differ from
    the implicit GEMM's, checked), the implicit GEMM's past it, at 1 and 2 threads."""
    rng = np.random.default_rng(8)
    n, c, h, w_, o = 2, 16, 8, 8, 16
    x, w, _ = data(rng, dtype, n, c, h, w_, o)
    to = nhwc if layout == "NHWC" else (lambda a: a)
    conv = lambda a: npfast.conv2d(to(a), w, padding=1, layout=layout)
    big = float(np.finfo(dtype).max)
    # In range: 81 * C * max|x| * max|w| (< 1.5 each) within the largest value, with room
    # for the rounding slack. Past it: over that bound (max|x|, max|w| > 1.4 here), while the
    # direct sums' bound, 9 * C * max|x| * max|w|, stays within it.
    assert np.abs(x).max() > 1.4 and np.abs(w).max() > 1.4
    inside = 2.0 ** np.floor(np.log2(big / (81 * c * 1.5 * 1.5 * 2)))
    outside = 2.0 ** np.ceil(np.log2(big / (81 * c * 1.4 * 1.4)))
    assert outside * 1.5 * 1.5 * 9 * c < big / 2
    for nt in (1, 2):
        npfast.set_num_threads(nt)
        base = conv(x)
        np.testing.assert_array_equal(conv(x * dtype(inside)), base * dtype(inside))
        past = conv(x * dtype(outside))
        assert np.isfinite(past).all()
        # The fallback is the implicit GEMM, whose roundings differ from Winograd's.
        assert not np.array_equal(past, base * dtype(outside))
        np.testing.assert_allclose(past / dtype(outside), base, **tol("conv2d", dtype, 10.0))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_large_weights_with_a_small_input_stay_finite(isa, dtype):
    """The weight transform's intermediates reach 4.5 max|w| before G's halving, above its
    result's 2.25: weights past big / 4.5 leave Winograd however small x is (the direct sums
    here are finite), and the result is the direct one."""
    rng = np.random.default_rng(11)
    big = float(np.finfo(dtype).max)
    w = np.full((16, 16, 3, 3), 0.3 * big, dtype)
    assert not npfast.conv2d(np.zeros((1, 16, 8, 8), dtype), w, padding=1).any()
    x = rng.uniform(-1e-3, 1e-3, (1, 16, 8, 8)).astype(dtype)
    got = npfast.conv2d(x, w, padding=1)
    assert np.isfinite(got).all()
    ones = npfast.conv2d(x.astype(np.float64), np.ones(w.shape), padding=1)
    np.testing.assert_allclose(got / dtype(0.3 * big), ones, rtol=1e-4, atol=1e-9)


@needs_torch
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_batched_workspace_checks_every_image(dtype):
    """A tiny workspace bound splits the batch into chunks of one image (the range check then
    a pass over the whole input, not the first chunk's copy): an inf in the last image still
    sends the call to the direct path, and in range the bits are those of one chunk."""
    rng = np.random.default_rng(10)
    x, w, b = data(rng, dtype, 3, 16, 8, 8, 16)
    whole = npfast.conv2d(x, w, b, padding=1)
    before = _npfast._conv2d_workspace_limit(1)
    try:
        np.testing.assert_array_equal(npfast.conv2d(x, w, b, padding=1), whole)
        xs = x.copy()
        xs[2, 3, 4, 5] = np.inf
        with direct_torch():
            want = F.conv2d(t(xs), t(w), t(b), padding=1).numpy()
        same_pattern(npfast.conv2d(xs, w, b, padding=1), want, dtype, "inf in the last image")
    finally:
        _npfast._conv2d_workspace_limit(before)
