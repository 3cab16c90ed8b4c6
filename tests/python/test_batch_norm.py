"""npfast.batch_norm / batch_norm_backward against PyTorch's forward and autograd (random shapes,
both dtypes, both layouts, training and eval, the fused ReLU, every ISA), the running-statistics
update over several steps, finite differences in float64, large means, bitwise identity across
thread counts, and the errors."""

import numpy as np
import pytest

import npfast

from anchors import F, needs_torch, torch
from tolerances import tol

LAYOUTS = ["NCHW", "NHWC"]


def to_layout(a, layout):
    """An NCHW array in the given layout (channels last for NHWC), C-contiguous."""
    return np.ascontiguousarray(np.moveaxis(a, 1, -1)) if layout == "NHWC" else a


def from_layout(a, layout):
    return np.moveaxis(a, -1, 1) if layout == "NHWC" else a


def torch_bn(x, rm, rv, w, b, gy, training, relu, momentum=0.1, eps=1e-5):
    """PyTorch's output, updated running statistics and gradients (NCHW)."""
    trm, trv = torch.tensor(rm.copy()), torch.tensor(rv.copy())
    tx = torch.tensor(x, requires_grad=True)
    tw, tb = torch.tensor(w, requires_grad=True), torch.tensor(b, requires_grad=True)
    y = F.batch_norm(tx, trm, trv, tw, tb, training=training, momentum=momentum, eps=eps)
    if relu:
        y = torch.relu(y)
    y.backward(torch.tensor(gy))
    return (y.detach().numpy(), trm.numpy(), trv.numpy(), tx.grad.numpy(), tw.grad.numpy(),
            tb.grad.numpy())


def npfast_bn(x, rm, rv, w, b, gy, training, relu, layout, momentum=0.1, eps=1e-5):
    rm, rv = rm.copy(), rv.copy()
    xl = to_layout(x, layout)
    res = npfast.batch_norm(xl, rm, rv, w, b, training=training, momentum=momentum, eps=eps,
                            relu=relu, layout=layout)
    if training:
        y, mean, invstd = res
    else:
        y, mean = res, rm
        invstd = (1 / np.sqrt(rv.astype(np.float64) + eps)).astype(x.dtype)
    gx, gw, gb = npfast.batch_norm_backward(to_layout(gy, layout), xl, w, mean, invstd,
                                            training=training, output=y if relu else None,
                                            layout=layout)
    return from_layout(y, layout), rm, rv, from_layout(gx, layout), gw, gb


def random_inputs(rng, shape, dtype, offset=0.0):
    c = shape[1]
    x = (rng.standard_normal(shape) * 2 + offset).astype(dtype)
    w, b = rng.standard_normal(c).astype(dtype), rng.standard_normal(c).astype(dtype)
    rm = rng.standard_normal(c).astype(dtype)
    rv = rng.uniform(0.5, 2, c).astype(dtype)
    return x, rm, rv, w, b


def assert_matches(got, want, dtype, what):
    names = ("output", "running_mean", "running_var", "grad_input", "grad_weight", "grad_bias")
    for name, g, wv in zip(names, got, want):
        op = "batch_norm" if name in ("output", "running_mean", "running_var") else \
            "batch_norm_backward"
        scale = max(1.0, float(np.abs(wv).max(initial=0)))
        np.testing.assert_allclose(g, wv, **tol(op, dtype, scale), err_msg=f"{name} {what}")


@needs_torch
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("relu", [False, True])
def test_random_shapes_against_autograd(isa, dtype, layout, training, relu):
    rng = np.random.default_rng(0)
    shapes = [tuple(int(v) for v in rng.integers(1, 7, 4)) for _ in range(6)]
    shapes = [(s[0] + 1,) + s[1:] for s in shapes] + [(3, 70, 5, 41), (2, 17, 1, 1), (4, 9, 13)]
    for shape in shapes:
        x, rm, rv, w, b = random_inputs(rng, shape, dtype)
        gy = rng.standard_normal(shape).astype(dtype)
        got = npfast_bn(x, rm, rv, w, b, gy, training, relu, layout)
        want = torch_bn(x, rm, rv, w, b, gy, training, relu)
        assert_matches(got, want, dtype, f"{shape} {layout} training={training} relu={relu}")


@needs_torch
@pytest.mark.parametrize("layout", LAYOUTS)
def test_running_statistics_over_several_steps(layout):
    rng = np.random.default_rng(1)
    c = 5
    rm, rv = np.zeros(c, np.float32), np.ones(c, np.float32)
    trm, trv = torch.zeros(c), torch.ones(c)
    for step in range(6):
        x = (rng.standard_normal((8, c, 4, 3)) * (step + 1) + step).astype(np.float32)
        npfast.batch_norm(to_layout(x, layout), rm, rv, training=True, momentum=0.2,
                          layout=layout)
        F.batch_norm(torch.tensor(x), trm, trv, training=True, momentum=0.2)
        np.testing.assert_allclose(rm, trm.numpy(), **tol("batch_norm", np.float32))
        np.testing.assert_allclose(rv, trv.numpy(), **tol("batch_norm", np.float32, 10))


@needs_torch
def test_large_mean_is_stable():
    """Values around 1e4 with unit spread: the shifted one-pass sums keep the variance."""
    rng = np.random.default_rng(2)
    x = (rng.standard_normal((16, 3, 8, 8)) + 1e4).astype(np.float32)
    y, mean, invstd = npfast.batch_norm(x, None, None, training=True)
    x64 = x.astype(np.float64)
    var = x64.var(axis=(0, 2, 3))
    np.testing.assert_allclose(1 / invstd.astype(np.float64) ** 2 - 1e-5, var, rtol=1e-5)
    np.testing.assert_allclose(mean, x64.mean(axis=(0, 2, 3)), rtol=1e-7)
    np.testing.assert_allclose(y.std(axis=(0, 2, 3)), 1, rtol=1e-3)


@needs_torch
@pytest.mark.parametrize("layout", ["NCHW", "NHWC"])
@pytest.mark.parametrize("first", [np.inf, -np.inf])
def test_infinite_first_value(layout, first):
    """A channel whose first value is +-inf: mean +-inf and variance NaN, as torch (probe18b:
    the shift by the first value made every x - x0 inf - inf, a NaN mean)."""
    x = (np.arange(16, dtype=np.float32) / 7).reshape(4, 2, 2, 1)
    x[0, 0, 0, 0] = first
    rm, rv = np.zeros(2, np.float32), np.ones(2, np.float32)
    _, mean, _ = npfast.batch_norm(to_layout(x, layout), rm, rv, training=True, layout=layout)
    trm, trv = torch.zeros(2), torch.ones(2)
    F.batch_norm(torch.tensor(x), trm, trv, training=True)
    assert mean[0] == first and rm[0] == trm[0].item() and np.isnan(rv[0]) and trv[0].isnan()
    np.testing.assert_allclose(rm[1:], trm.numpy()[1:], **tol("batch_norm", np.float32))
    np.testing.assert_allclose(rv[1:], trv.numpy()[1:], **tol("batch_norm", np.float32, 10))


@needs_torch
@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("n", [4, 40])  # the kernels' scalar tails and their vector bodies
def test_relu_masked_infinite_input_makes_weight_grad_nan(layout, n):
    """probe24c: a -inf input that the fused ReLU masks still enters grad_weight as
    0 * (x - mean) = NaN, as torch's autograd (the scalar tails had skipped it)."""
    x = np.linspace(0.5, 2.0, n).reshape(1, 1, 1, n)
    x[0, 0, 0, 0] = -np.inf
    rm, rv, w, b = np.array([0.5]), np.array([1.0]), np.array([2.0]), np.array([0.1])
    gy = np.ones_like(x)
    *_, gx, gw, gb = torch_bn(x, rm, rv, w, b, gy, False, True)
    y = npfast.batch_norm(to_layout(x, layout), rm.copy(), rv.copy(), w, b, training=False,
                          relu=True, layout=layout)
    invstd = 1 / np.sqrt(rv + 1e-5)
    got = npfast.batch_norm_backward(to_layout(gy, layout), to_layout(x, layout), w, rm, invstd,
                                     training=False, layout=layout, output=y)
    assert np.isnan(gw).all() and np.isnan(got[1]).all()
    np.testing.assert_allclose(from_layout(got[0], layout), gx, rtol=1e-12)
    np.testing.assert_allclose(got[2], gb, rtol=1e-12)


@needs_torch
@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_eval_gradient_ignores_nonfinite_inputs(layout, dtype):
    """probe20b: eval's input gradient is g * w * invstd, with no x in it; the kernel's
    k * (x - mean) term with k = 0 made it NaN at inf / NaN inputs where torch is finite."""
    x = np.arange(24, dtype=dtype).reshape(2, 3, 2, 2) / 5
    x[0, 0, 0, 0], x[1, 2, 1, 1], x[0, 1, 1, 0] = np.inf, np.nan, -np.inf
    rm, rv = np.array([0.1, -0.2, 0.3], dtype), np.array([1.5, 0.5, 2.0], dtype)
    w, b = np.array([0.5, -2.0, 1.25], dtype), np.zeros(3, dtype)
    gy = np.linspace(-1, 1, x.size, dtype=dtype).reshape(x.shape)
    for relu in (False, True):
        *_, gx, _, _ = torch_bn(x, rm, rv, w, b, gy, False, relu)
        y = npfast.batch_norm(to_layout(x, layout), rm.copy(), rv.copy(), w, b, training=False,
                              relu=relu, layout=layout)
        invstd = (1 / np.sqrt(rv.astype(np.float64) + 1e-5)).astype(dtype)
        got = npfast.batch_norm_backward(to_layout(gy, layout), to_layout(x, layout), w, rm,
                                         invstd, training=False, layout=layout,
                                         output=y if relu else None)[0]
        got = from_layout(got, layout)
        assert np.isfinite(gx).all() or relu
        np.testing.assert_array_equal(np.isnan(got), np.isnan(gx))
        np.testing.assert_allclose(got, gx, **tol("batch_norm", dtype))


@needs_torch
@pytest.mark.parametrize("layout", LAYOUTS)
def test_variance_past_double_range(layout):
    """probe20b: |x - mean| past ~1e154 squares to inf: variance inf as torch's (output 0,
    running_var inf), not inf - inf = NaN."""
    x = np.array([1e200, -1e200, 3e200, -3e200]).reshape(2, 2, 1, 1)
    rm, rv = np.zeros(2), np.ones(2)
    y, mean, invstd = npfast.batch_norm(to_layout(x, layout), rm, rv, training=True,
                                        layout=layout)
    trm, trv = torch.zeros(2, dtype=torch.float64), torch.ones(2, dtype=torch.float64)
    ty = F.batch_norm(torch.tensor(x), trm, trv, training=True)
    np.testing.assert_array_equal(from_layout(y, layout), ty.numpy())
    np.testing.assert_array_equal(rv, trv.numpy())
    np.testing.assert_array_equal(rm, trm.numpy())
    assert np.isinf(rv).all() and (invstd == 0).all()


def test_finite_differences():
    """float64, training with the fused ReLU: gradients of sum(bn(x) * gy) against central
    differences of npfast's own forward."""
    rng = np.random.default_rng(3)
    x, rm, rv, w, b = random_inputs(rng, (3, 2, 2, 3), np.float64)
    gy = rng.standard_normal(x.shape)
    for layout in LAYOUTS:
        xl, gyl = to_layout(x, layout), to_layout(gy, layout)

        def loss(x_, w_, b_):
            return float((npfast.batch_norm(x_, None, None, w_, b_, training=True, relu=True,
                                            layout=layout)[0] * gyl).sum())

        y, mean, invstd = npfast.batch_norm(xl, None, None, w, b, training=True, relu=True,
                                            layout=layout)
        grads = npfast.batch_norm_backward(gyl, xl, w, mean, invstd, output=y, layout=layout)
        eps = 1e-6
        for which, arr in enumerate((xl, w, b)):
            for i in np.ndindex(arr.shape):
                hi, lo = arr.copy(), arr.copy()
                hi[i] += eps
                lo[i] -= eps
                vals_hi, vals_lo = [xl, w, b], [xl, w, b]
                vals_hi[which], vals_lo[which] = hi, lo
                fd = (loss(*vals_hi) - loss(*vals_lo)) / (2 * eps)
                assert abs(fd - grads[which][i]) < 1e-5 * max(1, abs(fd)), (layout, which, i)


def test_threads_bitwise_identical(threads):
    rng = np.random.default_rng(4)
    x = rng.standard_normal((8, 16, 40, 40)).astype(np.float32)
    gy = rng.standard_normal(x.shape).astype(np.float32)
    for layout in LAYOUTS:
        xl, gyl = to_layout(x, layout), to_layout(gy, layout)
        results = []
        for n in (1, 2):
            npfast.set_num_threads(n)
            rm, rv = np.zeros(16, np.float32), np.ones(16, np.float32)
            y, m, s = npfast.batch_norm(xl, rm, rv, training=True, layout=layout)
            results.append((y, m, s, rm, rv) + npfast.batch_norm_backward(gyl, xl, None, m, s,
                                                                          layout=layout))
        for a, b in zip(*results):
            assert np.array_equal(a, b)


def test_layouts_agree_and_weight_defaults():
    rng = np.random.default_rng(5)
    x = rng.standard_normal((4, 6, 5, 7))
    y1, m1, s1 = npfast.batch_norm(x, None, None, training=True)
    y2, m2, s2 = npfast.batch_norm(to_layout(x, "NHWC"), None, None, training=True, layout="NHWC")
    np.testing.assert_allclose(from_layout(y2, "NHWC"), y1, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(m1, m2, rtol=1e-13)
    y3 = npfast.batch_norm(x, m1, 1 / s1 ** 2 - 1e-5, np.ones(6), np.zeros(6))
    np.testing.assert_allclose(y3, y1, rtol=1e-9, atol=1e-9)


@needs_torch
@pytest.mark.parametrize("shape", [(0, 3, 4, 4), (2, 3, 0, 4), (0, 3)])
@pytest.mark.parametrize("layout", LAYOUTS)
def test_empty_batch_in_training(shape, layout):
    """PyTorch's one-value rule lets an empty batch through: an empty output, the running
    statistics untouched, zero grad_weight / grad_bias; the batch's statistics are NaN."""
    x = np.zeros(shape, np.float32)
    rm, rv = np.full(3, 0.5, np.float32), np.full(3, 2.0, np.float32)
    tx = torch.from_numpy(x).requires_grad_()
    tw, tb = torch.ones(3, requires_grad=True), torch.ones(3, requires_grad=True)
    trm, trv = torch.from_numpy(rm.copy()), torch.from_numpy(rv.copy())
    F.batch_norm(tx, trm, trv, tw, tb, training=True).sum().backward()
    xl = to_layout(x, layout)
    y, m, s = npfast.batch_norm(xl, rm, rv, np.ones(3, np.float32), np.ones(3, np.float32),
                                training=True, layout=layout)
    assert y.shape == xl.shape and np.isnan(m).all() and np.isnan(s).all()
    np.testing.assert_array_equal(rm, trm.numpy())
    np.testing.assert_array_equal(rv, trv.numpy())
    gx, gw, gb = npfast.batch_norm_backward(xl, xl, np.ones(3, np.float32), m, s, layout=layout)
    assert gx.shape == xl.shape
    np.testing.assert_array_equal(gw, tw.grad.numpy())
    np.testing.assert_array_equal(gb, tb.grad.numpy())


@pytest.mark.parametrize("call,error,words", [
    (lambda x, c: npfast.batch_norm(x, c, c, layout="bogus"), ValueError, ("layout", "'bogus'")),
    (lambda x, c: npfast.batch_norm(x, np.zeros(4), c), ValueError, ("running_mean", "(4,)")),
    (lambda x, c: npfast.batch_norm(x, None, c), TypeError, ("running_mean", "None")),
    (lambda x, c: npfast.batch_norm(x[:1, :, :1, :1], None, None, training=True), ValueError,
     ("more than 1 value",)),
    (lambda x, c: npfast.batch_norm(x, c.astype(np.float32), c.copy(), training=True), TypeError,
     ("running_mean", "float32")),
    (lambda x, c: npfast.batch_norm(x, c, c, eps=-1.0), ValueError, ("eps",)),
    (lambda x, c: npfast.batch_norm(x, c, c, eps="x"), TypeError, ("eps: expected a real number",)),
    # PyTorch counts the values per channel from the shape, also without channels.
    (lambda x, c: npfast.batch_norm(np.ones((1, 0, 1, 1)), None, None, training=True), ValueError,
     ("more than 1 value",)),
    (lambda x, c: npfast.batch_norm(x, c, c, momentum=None), TypeError, ("momentum",)),
    # PyTorch's rules: both running statistics or neither; eps > 0 when training.
    (lambda x, c: npfast.batch_norm(x, c.copy(), None, training=True), ValueError,
     ("running_mean, running_var", "running_var None")),
    (lambda x, c: npfast.batch_norm(x, None, None, training=True, eps=0.0), ValueError,
     ("eps", "positive when training")),
    (lambda x, c: npfast.batch_norm_backward(x, x, None, c, c, output_mask=(1, 2)), ValueError,
     ("output_mask",)),
    (lambda x, c: npfast.batch_norm_backward(x[:, :2], x, None, c, c), ValueError,
     ("grad_output",)),
    # probe22b: running statistics written while weight / bias / residual are read.
    (lambda x, c: npfast.batch_norm(x, c, c + 1, c, None, True), ValueError,
     ("running_mean: must not share memory",)),
    (lambda x, c: (lambda v: npfast.batch_norm(x, c.copy(), v, None, v, True))(c + 1),
     ValueError, ("running_var: must not share memory",)),
])
def test_errors(call, error, words):
    x, c = np.ones((2, 3, 4, 4)), np.ones(3)
    with pytest.raises(error) as info:
        call(x, c)
    for word in words:
        assert word in str(info.value)


def test_per_channel_and_two_phase_paths_agree_bitwise():
    """NCHW with >= 4 channels of <= 512 KiB runs one item per channel (both passes), fewer
    channels the two-phase partition: each channel's result must be the same bits either way."""
    rng = np.random.default_rng(6)
    x = (rng.standard_normal((5, 4, 30, 31)) + 3).astype(np.float32)
    gy = rng.standard_normal(x.shape).astype(np.float32)
    w, b = rng.standard_normal(4).astype(np.float32), rng.standard_normal(4).astype(np.float32)
    y4, m4, s4 = npfast.batch_norm(x, None, None, w, b, training=True, relu=True)
    g4 = npfast.batch_norm_backward(gy, x, w, m4, s4, output=y4)
    x3, gy3 = np.ascontiguousarray(x[:, :3]), np.ascontiguousarray(gy[:, :3])
    y3, m3, s3 = npfast.batch_norm(x3, None, None, w[:3], b[:3], training=True, relu=True)
    g3 = npfast.batch_norm_backward(gy3, x3, w[:3], m3, s3, output=y3)
    assert np.array_equal(y4[:, :3], y3) and np.array_equal(m4[:3], m3)
    assert np.array_equal(s4[:3], s3)
    assert np.array_equal(g4[0][:, :3], g3[0])
    assert np.array_equal(g4[1][:3], g3[1]) and np.array_equal(g4[2][:3], g3[2])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("layout", LAYOUTS)
def test_residual(isa, dtype, layout):
    """residual= is `y + residual` after the normalisation, then the ReLU: bitwise the separate
    NumPy passes, in training and eval, on the per-channel and the two-phase paths, any strides
    of the residual; the statistics are unchanged."""
    rng = np.random.default_rng(7)
    for shape in ((5, 4, 30, 31), (3, 3, 5, 6), (2, 16, 9, 8)):
        x, rm, rv, w, b = random_inputs(rng, shape, dtype, offset=1.0)
        xl = to_layout(x, layout)
        r = rng.standard_normal(xl.shape).astype(dtype)
        for training in (True, False):
            kw = dict(training=training, layout=layout)
            plain = npfast.batch_norm(xl, rm.copy(), rv.copy(), w, b, **kw)
            y = plain[0] if training else plain
            for relu in (False, True):
                want = y + r if not relu else np.maximum(y + r, 0)
                for res in (r, np.asfortranarray(r)):
                    got = npfast.batch_norm(xl, rm.copy(), rv.copy(), w, b, **kw, relu=relu,
                                            residual=res)
                    if training:
                        assert all(np.array_equal(g, p) for g, p in zip(got[1:], plain[1:]))
                        got = got[0]
                    np.testing.assert_array_equal(got, want, err_msg=f"{shape} {training}")
    x = np.ones((2, 3, 4, 4))
    with pytest.raises(ValueError, match="residual"):
        npfast.batch_norm(x, np.zeros(3), np.ones(3), residual=np.ones((2, 3, 4)))
    with pytest.raises(ValueError, match="residual: shape"):
        npfast.batch_norm(x, np.zeros(3), np.ones(3), residual=np.ones((2, 3, 4, 5)))
    with pytest.raises(TypeError, match="residual"):
        npfast.batch_norm(x, np.zeros(3), np.ones(3), residual=np.ones((2, 3, 4, 4), np.float32))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_relu_grad_add(isa, dtype):
    """The private _relu_grad_add (nn.BasicBlock's shortcut gradient): dst += grad where not
    output <= 0 (everywhere without output), in place, any strides of grad and output, sizes
    around the blocks; bitwise NumPy's add of the masked gradient (up to the sign of a zero)."""
    rng = np.random.default_rng(8)
    for n in (1, 17, 16384, 40000):
        g = rng.standard_normal(n).astype(dtype)
        y = np.maximum(rng.standard_normal(n), 0).astype(dtype)
        y[::7] = np.nan  # NaN passes, as torch's threshold_backward (review19)
        d0 = rng.standard_normal(n).astype(dtype)
        for out in (y, None):
            want = d0 + (g if out is None else np.where(out <= 0, 0, g))
            for gg in (g, np.repeat(g, 2)[::2]):
                d = d0.copy()
                assert npfast._npfast._relu_grad_add(d, gg, out) is None
                np.testing.assert_array_equal(d, want, err_msg=f"{n} {out is None}")
    d = np.zeros((2, 3), dtype)
    with pytest.raises(ValueError, match="dst: shape"):
        npfast._npfast._relu_grad_add(d, np.zeros((3, 2), dtype))
    with pytest.raises(TypeError, match="dst"):
        npfast._npfast._relu_grad_add(d.astype(np.float16), np.zeros((2, 3), dtype))
    with pytest.raises(ValueError, match="C-contiguous"):
        npfast._npfast._relu_grad_add(np.zeros((3, 2), dtype).T, np.zeros((2, 3), dtype))
    with pytest.raises(ValueError, match="share memory"):
        npfast._npfast._relu_grad_add(d, d)
