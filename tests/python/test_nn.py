"""npfast.nn: every layer's backward against central finite differences (float64) and against
PyTorch autograd (float32 and float64); SGD against torch.optim.SGD; the error contract. The
layers call the real npfast kernels (a missing one fails); only the tests that compare with
PyTorch take the ``torch`` fixture (skipped only where PyTorch is not installed)."""

import warnings

import numpy as np
import pytest

from npfast import _npfast, nn

from anchors import needs_torch, torch
from tolerances import tol


def rel_err(a, b):
    return np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-12)


def numeric_grad(f, arr, eps=1e-6):
    """Central differences of the scalar f() with respect to every element of arr (in place)."""
    g = np.zeros_like(arr)
    it = np.nditer(arr, flags=["multi_index"])
    for _ in it:
        i = it.multi_index
        old = arr[i]
        arr[i] = old + eps
        up = f()
        arr[i] = old - eps
        down = f()
        arr[i] = old
        g[i] = (up - down) / (2 * eps)
    return g


def check_layer(layer, x, rng, tol=1e-7):
    """Checks backward of loss = sum(forward(x) * r) against finite differences, for x and every
    parameter; r is a fixed random upstream gradient."""
    r = rng.standard_normal(layer.forward(x).shape)

    def loss():
        return float(np.sum(layer.forward(x) * r))

    loss()
    gx = layer.backward(r)
    analytic = [gx] + [g.copy() for _, g in layer.parameters()]
    numeric = [numeric_grad(loss, x)] + [numeric_grad(loss, v) for v, _ in layer.parameters()]
    assert len(analytic) == 1 + len(layer.parameters())
    for a, n in zip(analytic, numeric):
        assert a.shape == n.shape
        assert rel_err(a, n) < tol, (type(layer).__name__, rel_err(a, n))


CONV_CASES = [
    dict(cin=2, cout=3, k=3, stride=1, padding=1, dilation=1, groups=1, bias=True, hw=(6, 5)),
    dict(cin=4, cout=2, k=(2, 3), stride=(2, 1), padding=(1, 0), dilation=(1, 2), groups=2,
         bias=True, hw=(7, 8)),
    dict(cin=3, cout=3, k=1, stride=2, padding=0, dilation=1, groups=3, bias=False, hw=(5, 5)),
]


def make_conv(c, dtype, seed=0):
    return nn.Conv2d(c["cin"], c["cout"], c["k"], c["stride"], c["padding"], c["dilation"],
                     c["groups"], c["bias"], dtype=dtype, rng=seed)


@pytest.mark.parametrize("case", CONV_CASES)
def test_conv2d_finite_differences(case):
    rng = np.random.default_rng(1)
    layer = make_conv(case, np.float64)
    x = rng.standard_normal((2, case["cin"]) + case["hw"])
    check_layer(layer, x, rng)


POOL_CASES = [
    dict(kernel_size=2),
    dict(kernel_size=3, stride=2, padding=1),  # overlapping windows: gradients add up
    dict(kernel_size=(2, 3), stride=(1, 2), dilation=(2, 1), ceil_mode=True),
]


@pytest.mark.parametrize("case", POOL_CASES)
def test_max_pool2d_finite_differences(case):
    rng = np.random.default_rng(2)
    layer = nn.MaxPool2d(**case)
    x = rng.permutation(2 * 2 * 7 * 6).reshape(2, 2, 7, 6) / 10.0  # distinct values, no ties
    check_layer(layer, x, rng)
    assert layer.indices.dtype == np.int64


def test_relu_flatten_linear_finite_differences():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((3, 4, 5))
    x[np.abs(x) < 1e-3] = 0.5  # keep away from the kink
    check_layer(nn.ReLU(), x, rng)
    check_layer(nn.Flatten(), rng.standard_normal((2, 3, 4, 5)), rng)
    check_layer(nn.Linear(7, 4, dtype=np.float64, rng=0), rng.standard_normal((5, 7)), rng)
    check_layer(nn.Linear(7, 4, bias=False, dtype=np.float64, rng=0),
                rng.standard_normal((5, 7)), rng)


def test_softmax_cross_entropy_finite_differences():
    rng = np.random.default_rng(4)
    logits = rng.standard_normal((6, 5)) * 3
    labels = rng.integers(0, 5, 6)
    ce = nn.SoftmaxCrossEntropy()
    ce.forward(logits, labels)
    g = ce.backward(2.0)
    num = numeric_grad(lambda: 2.0 * ce.forward(logits, labels), logits)
    assert rel_err(g, num) < 1e-7


def test_softmax_cross_entropy_is_stable_for_large_logits():
    ce = nn.SoftmaxCrossEntropy()
    loss = ce.forward(np.array([[1000.0, 0.0], [0.0, -1000.0]], np.float32), np.array([1, 0]))
    assert np.isfinite(loss) and abs(loss - 500.0) < 1e-3
    assert np.all(np.isfinite(ce.backward()))


# --- against PyTorch autograd -----------------------------------------------------------------

def torch_grads(module_fn, x, grad_out, params):
    tx = torch.tensor(x, requires_grad=True)
    tp = [torch.tensor(p, requires_grad=True) for p in params]
    y = module_fn(tx, *tp)
    y.backward(torch.tensor(grad_out))
    return y.detach().numpy(), tx.grad.numpy(), [p.grad.numpy() for p in tp]


def compare_with_torch(layer, x, module_fn, dtype):
    rng = np.random.default_rng(5)
    y = layer.forward(x)
    g = rng.standard_normal(y.shape).astype(dtype)
    gx = layer.backward(g)
    values = [v for v, _ in layer.parameters()]
    ty, tgx, tgp = torch_grads(module_fn, x, g, values)
    np.testing.assert_allclose(y, ty, **tol("nn", dtype))
    np.testing.assert_allclose(gx, tgx, **tol("nn", dtype))
    for (_, grad), tg in zip(layer.parameters(), tgp):
        assert grad.dtype == dtype
        np.testing.assert_allclose(grad, tg, **tol("nn", dtype))


@needs_torch
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", CONV_CASES)
def test_conv2d_matches_torch(dtype, case):
    F = torch.nn.functional
    layer = make_conv(case, dtype, seed=6)
    x = np.random.default_rng(6).standard_normal((3, case["cin"]) + case["hw"]).astype(dtype)

    def fn(tx, w, b=None):
        return F.conv2d(tx, w, b, layer.stride, layer.padding, layer.dilation, layer.groups)

    compare_with_torch(layer, x, fn, dtype)


@needs_torch
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", POOL_CASES)
def test_max_pool2d_matches_torch(dtype, case):
    layer = nn.MaxPool2d(**case)
    x = np.random.default_rng(7).standard_normal((2, 3, 9, 8)).astype(dtype)
    pool = torch.nn.MaxPool2d(**case, return_indices=True)
    compare_with_torch(layer, x, lambda tx: pool(tx)[0], dtype)
    np.testing.assert_array_equal(layer.indices, pool(torch.tensor(x))[1].numpy())


@pytest.mark.parametrize("case", POOL_CASES)
def test_max_pool2d_nhwc_is_nchw_transposed(case):
    x = np.random.default_rng(9).standard_normal((2, 3, 9, 8))
    g_of = np.random.default_rng(10).standard_normal
    planar, last = nn.MaxPool2d(**case), nn.MaxPool2d(**case, layout="NHWC")
    y = planar.forward(x)
    y_last = last.forward(np.ascontiguousarray(x.transpose(0, 2, 3, 1)))
    np.testing.assert_array_equal(y_last.transpose(0, 3, 1, 2), y)
    g = g_of(y.shape)
    np.testing.assert_array_equal(
        last.backward(np.ascontiguousarray(g.transpose(0, 2, 3, 1))).transpose(0, 3, 1, 2),
        planar.backward(g))


@needs_torch
@pytest.mark.parametrize("shape", [(5,), (2, 3, 5), (4, 1, 2, 5)])
def test_linear_takes_any_leading_axes_as_torch(shape):
    rng = np.random.default_rng(11)
    lin = nn.Linear(5, 3, dtype=np.float64, rng=11)
    x = rng.standard_normal(shape)
    y = lin.forward(x)
    g = rng.standard_normal(y.shape)
    dx = lin.backward(g)
    tx = torch.tensor(x, requires_grad=True)
    tw, tb = torch.tensor(lin.weight, requires_grad=True), torch.tensor(lin.bias, requires_grad=True)
    ty = torch.nn.functional.linear(tx, tw, tb)
    ty.backward(torch.tensor(g))
    assert y.shape == tuple(ty.shape) and dx.shape == x.shape
    for ours, theirs in [(y, ty), (dx, tx.grad), (lin.grad_weight, tw.grad), (lin.grad_bias, tb.grad)]:
        np.testing.assert_allclose(ours, theirs.detach().numpy(), rtol=1e-12, atol=1e-12)
    with pytest.raises(ValueError, match="in_features"):
        lin.forward(np.zeros((2, 4)))
    with pytest.raises(ValueError, match=r"\(\.\.\., in_features\)"):
        lin.forward(np.array(1.0))


@needs_torch
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_linear_relu_flatten_match_torch(dtype):
    rng = np.random.default_rng(8)
    lin = nn.Linear(12, 5, dtype=dtype, rng=8)
    compare_with_torch(lin, rng.standard_normal((4, 12)).astype(dtype),
                       lambda tx, w, b: torch.nn.functional.linear(tx, w, b), dtype)
    compare_with_torch(nn.ReLU(), rng.standard_normal((4, 3, 5)).astype(dtype), torch.relu, dtype)
    compare_with_torch(nn.Flatten(), rng.standard_normal((4, 3, 2, 2)).astype(dtype),
                       lambda tx: tx.flatten(1), dtype)


@needs_torch
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_softmax_cross_entropy_matches_torch(dtype):
    rng = np.random.default_rng(9)
    logits = rng.standard_normal((7, 10)).astype(dtype) * 4
    labels = rng.integers(0, 10, 7)
    ce = nn.SoftmaxCrossEntropy()
    loss = ce.forward(logits, labels)
    tl = torch.tensor(logits, requires_grad=True)
    tloss = torch.nn.functional.cross_entropy(tl, torch.tensor(labels))
    tloss.backward()
    assert loss == pytest.approx(tloss.item(), rel=tol("nn", dtype)["rtol"])
    g = ce.backward()
    assert g.dtype == dtype
    np.testing.assert_allclose(g, tl.grad.numpy(), **tol("nn", dtype))


def small_net(dtype, seed=0):
    return nn.Sequential(nn.Conv2d(1, 3, 3, padding=1, dtype=dtype, rng=seed), nn.ReLU(),
                         nn.MaxPool2d(2), nn.Conv2d(3, 4, 3, dtype=dtype, rng=seed + 1), nn.ReLU(),
                         nn.Flatten(), nn.Linear(4 * 2 * 2, 5, dtype=dtype, rng=seed + 2))


def torch_copy(net):
    tn = torch.nn
    t = tn.Sequential(tn.Conv2d(1, 3, 3, padding=1), tn.ReLU(), tn.MaxPool2d(2),
                      tn.Conv2d(3, 4, 3), tn.ReLU(), tn.Flatten(), tn.Linear(16, 5))
    t = t.to(torch.from_numpy(net[0].weight).dtype)
    with torch.no_grad():
        for i in (0, 3, 6):
            t[i].weight.copy_(torch.from_numpy(net[i].weight))
            t[i].bias.copy_(torch.from_numpy(net[i].bias))
    return t


@needs_torch
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("options", [dict(momentum=0.9, weight_decay=0.01),
                                     dict(momentum=0.9, dampening=0.25),
                                     dict(momentum=0.8, nesterov=True, weight_decay=0.01)])
def test_sequential_and_sgd_train_like_torch(dtype, options):
    """Three SGD steps (momentum, dampening, nesterov, weight decay) of a small net give
    torch's weights."""
    rng = np.random.default_rng(10)
    net = small_net(dtype)
    tnet = torch_copy(net)
    opt = nn.SGD(net, lr=0.1, **options)
    topt = torch.optim.SGD(tnet.parameters(), lr=0.1, **options)
    ce = nn.SoftmaxCrossEntropy()
    for _ in range(3):
        x = rng.standard_normal((4, 1, 8, 8)).astype(dtype)
        labels = rng.integers(0, 5, 4)
        loss = ce.forward(net.forward(x), labels)
        net.backward(ce.backward(), input_grad=False)
        opt.step()
        topt.zero_grad()
        tloss = torch.nn.functional.cross_entropy(tnet(torch.tensor(x)), torch.tensor(labels))
        tloss.backward()
        topt.step()
        assert loss == pytest.approx(tloss.item(), rel=tol("sgd", dtype)["rtol"])
    for (value, _), tp in zip(net.parameters(), tnet.parameters()):
        np.testing.assert_allclose(value, tp.detach().numpy(), **tol("sgd", dtype))


def test_backward_without_input_grad_gives_the_same_parameter_grads():
    rng = np.random.default_rng(11)
    net = small_net(np.float64)
    x = rng.standard_normal((2, 1, 8, 8))
    g = rng.standard_normal(net.forward(x).shape)
    gx = net.backward(g)
    assert gx.shape == x.shape
    first = [grad.copy() for _, grad in net.parameters()]
    assert net.backward(g, input_grad=False) is None
    for a, (_, b) in zip(first, net.parameters()):
        np.testing.assert_array_equal(a, b)


def test_sgd_plain_step_and_in_place_update():
    lin = nn.Linear(3, 2, dtype=np.float64, rng=0)
    w = lin.weight
    before = w.copy()
    lin.forward(np.ones((1, 3)))
    lin.backward(np.ones((1, 2)))
    nn.SGD(lin, lr=0.5).step()
    assert lin.weight is w  # updated in place
    np.testing.assert_allclose(w, before - 0.5 * np.ones((2, 3)))


def test_init_is_seeded_and_bounded():
    a = nn.Conv2d(2, 4, 3, rng=3)
    b = nn.Conv2d(2, 4, 3, rng=np.random.default_rng(3))
    np.testing.assert_array_equal(a.weight, b.weight)
    assert a.weight.dtype == np.float32 and a.weight.shape == (4, 2, 3, 3)
    assert np.abs(a.weight).max() <= 1 / np.sqrt(18)
    lin = nn.Linear(50, 3, dtype=np.float64)
    assert lin.weight.dtype == np.float64 and np.abs(lin.weight).max() <= 1 / np.sqrt(50)


def test_errors():
    conv = nn.Conv2d(2, 4, 3)
    with pytest.raises(TypeError, match="float64"):
        conv.forward(np.zeros((1, 2, 5, 5)))
    with pytest.raises(ValueError, match="in_channels=2"):
        conv.forward(np.zeros((1, 3, 5, 5), np.float32))
    with pytest.raises(ValueError, match=r"\(N, C, H, W\) or \(C, H, W\)"):
        conv.forward(np.zeros((5, 5), np.float32))
    assert conv.forward(np.zeros((2, 5, 5), np.float32)).shape == (4, 3, 3)  # unbatched
    with pytest.raises(TypeError, match="ceil_mode"):  # a flag, not a truthy value
        nn.MaxPool2d(2, ceil_mode="no")
    # Folded in eval mode, a conv + batch norm pair on (C, H, W) input: BatchNorm2d's error.
    pair = nn.Sequential(nn.Conv2d(2, 4, 3), nn.BatchNorm2d(4))
    pair.eval()
    with pytest.raises(ValueError, match="BatchNorm2d"):
        pair.forward(np.zeros((2, 5, 5), np.float32))
    with pytest.raises(RuntimeError, match="before forward"):
        nn.Conv2d(1, 1, 1).backward(np.zeros((1, 1, 1, 1), np.float32))
    with pytest.raises(RuntimeError, match="before forward"):
        nn.MaxPool2d(2).backward(np.zeros((1, 1, 1, 1), np.float32))
    with pytest.raises(ValueError, match="groups=2"):
        nn.Conv2d(3, 4, 3, groups=2)
    with pytest.raises(ValueError, match="kernel_size"):
        nn.Conv2d(1, 1, 0)
    with pytest.raises(ValueError, match="padding"):
        nn.MaxPool2d(2, padding=-1)
    with pytest.raises(TypeError, match="dtype"):
        nn.Linear(2, 2, dtype=np.int32)
    with pytest.raises(ValueError, match="in_features=3"):
        nn.Linear(3, 2).forward(np.zeros((2, 4), np.float32))
    with pytest.raises(TypeError, match="rng"):
        nn.Linear(3, 2, rng="seed")
    with pytest.raises(TypeError, match="layer 1"):
        nn.Sequential(nn.ReLU(), lambda x: x)
    ce = nn.SoftmaxCrossEntropy()
    with pytest.raises(ValueError, match=r"\[0, 3\)"):
        ce.forward(np.zeros((2, 3)), np.array([0, 3]))
    with pytest.raises(TypeError, match="integer"):
        ce.forward(np.zeros((2, 3)), np.array([0.0, 1.0]))
    with pytest.raises(ValueError, match=r"\(2,\)"):
        ce.forward(np.zeros((2, 3)), np.array([0, 1, 2]))
    with pytest.raises(RuntimeError, match="before forward"):
        nn.SoftmaxCrossEntropy().backward()
    ce.forward(np.zeros((2, 3)), np.array([0, 1]))
    with pytest.raises(ValueError, match=r"grad must be a scalar.*\(3,\)"):
        ce.backward(np.ones(3))  # probe24b: broadcast over the classes before
    assert ce.backward(np.array(2.0)).shape == (2, 3)
    for mode in ("False", None, 1):  # probe24b: "False" left training on
        with pytest.raises(TypeError, match="mode"):
            nn.Linear(2, 2).train(mode)
    assert not nn.Linear(2, 2).train(np.bool_(False)).training
    with pytest.raises(ValueError, match="lr"):
        nn.SGD(nn.Linear(2, 2), lr=-1)
    with pytest.raises(RuntimeError, match="no gradient"):
        nn.SGD(nn.Linear(2, 2), lr=0.1).step()


# --- issue 19: BatchNorm2d, ConvTranspose2d, AdaptiveAvgPool2d, Dropout, Residual, BasicBlock,
# Adam/AdamW, train()/eval(), state_dict; the ResNet of examples/train_resnet.py ---------------

import importlib.util  # noqa: E402
import re  # noqa: E402
from pathlib import Path  # noqa: E402

import npfast  # noqa: E402

RESNET_EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "train_resnet.py"


@pytest.fixture(scope="module")
def resnet_example():
    pytest.importorskip("sklearn", reason="the example trains on sklearn.datasets.load_digits")
    spec = importlib.util.spec_from_file_location("train_resnet", RESNET_EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_conv_transpose2d_finite_differences():
    rng = np.random.default_rng(11)
    layer = nn.ConvTranspose2d(4, 6, (3, 2), stride=(2, 1), padding=(1, 0), output_padding=(1, 0),
                               groups=2, dilation=(1, 2), dtype=np.float64, rng=0)
    check_layer(layer, rng.standard_normal((2, 4, 3, 4)), rng)


@pytest.mark.parametrize("layout", ["NCHW", "NHWC"])
@pytest.mark.parametrize("relu", [False, True])
def test_batch_norm2d_finite_differences(layout, relu):
    rng = np.random.default_rng(12)
    layer = nn.BatchNorm2d(3, relu=relu, layout=layout, dtype=np.float64)
    layer.weight[:] = rng.standard_normal(3)
    layer.bias[:] = rng.standard_normal(3)
    shape = (4, 3, 2, 3) if layout == "NCHW" else (4, 2, 3, 3)
    check_layer(layer, rng.standard_normal(shape), rng, tol=1e-6)
    layer.eval()
    layer.running_var[:] = [0.5, 1.0, 2.0]
    check_layer(layer, rng.standard_normal(shape), rng, tol=1e-6)


@pytest.mark.parametrize("size", [1, (2, 3)])
def test_adaptive_avg_pool_finite_differences(size):
    rng = np.random.default_rng(13)
    check_layer(nn.AdaptiveAvgPool2d(size), rng.standard_normal((2, 3, 5, 7)), rng)


def test_residual_and_basic_block_finite_differences():
    rng = np.random.default_rng(14)
    body = nn.Sequential(nn.Conv2d(3, 3, 3, padding=1, dtype=np.float64, rng=0), nn.ReLU())
    check_layer(nn.Residual(body), rng.standard_normal((2, 3, 4, 4)), rng)
    check_layer(nn.Residual(nn.Conv2d(3, 4, 3, 2, 1, dtype=np.float64, rng=1),
                            nn.Conv2d(3, 4, 1, 2, dtype=np.float64, rng=2)),
                rng.standard_normal((2, 3, 5, 5)), rng)
    check_layer(nn.BasicBlock(2, 4, 2, dtype=np.float64, rng=3), rng.standard_normal((3, 2, 6, 6)),
                rng, tol=1e-6)


def test_dropout_train_and_eval():
    x = np.ones((1000, 10), np.float32)
    d = nn.Dropout(0.3, rng=0)
    y = d.forward(x)
    kept = y != 0
    assert 0.6 < kept.mean() < 0.8
    np.testing.assert_allclose(y[kept], 1 / 0.7, rtol=1e-6)
    np.testing.assert_array_equal(d.backward(x), y)
    d.eval()
    assert d.forward(x) is x and d.backward(x) is x


@needs_torch
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_new_layers_match_torch(dtype):
    rng = np.random.default_rng(15)
    F = torch.nn.functional
    ct = nn.ConvTranspose2d(4, 6, 4, stride=2, padding=1, groups=2, dtype=dtype, rng=0)
    compare_with_torch(ct, rng.standard_normal((2, 4, 5, 5)).astype(dtype),
                       lambda x, w, b: F.conv_transpose2d(x, w, b, stride=2, padding=1, groups=2),
                       dtype)
    bn = nn.BatchNorm2d(5, relu=True, dtype=dtype)
    bn.weight[:] = rng.standard_normal(5)
    compare_with_torch(bn, rng.standard_normal((3, 5, 4, 4)).astype(dtype),
                       lambda x, w, b: torch.relu(F.batch_norm(x, None, None, w, b, True)), dtype)
    # Channels-last layers: NHWC arrays in and out, the same weights (PyTorch's layout).
    to_nchw, to_nhwc = (lambda t: t.permute(0, 3, 1, 2)), (lambda t: t.permute(0, 2, 3, 1))
    ct = nn.ConvTranspose2d(4, 6, 3, stride=2, padding=1, output_padding=1, dtype=dtype, rng=1,
                            layout="NHWC")
    compare_with_torch(ct, rng.standard_normal((2, 5, 6, 4)).astype(dtype),
                       lambda x, w, b: to_nhwc(F.conv_transpose2d(to_nchw(x), w, b, stride=2,
                                                                  padding=1, output_padding=1)),
                       dtype)
    conv = nn.Conv2d(4, 6, 3, stride=2, padding=1, dtype=dtype, rng=2, layout="NHWC")
    compare_with_torch(conv, rng.standard_normal((2, 7, 6, 4)).astype(dtype),
                       lambda x, w, b: to_nhwc(F.conv2d(to_nchw(x), w, b, stride=2, padding=1)),
                       dtype)
    with pytest.raises(ValueError, match="channels"):
        conv.forward(rng.standard_normal((2, 4, 7, 6)).astype(dtype))
    with pytest.raises(ValueError, match="layout"):
        nn.ConvTranspose2d(4, 6, 3, layout="NCWH")
    pool = nn.AdaptiveAvgPool2d((2, 3))
    x = rng.standard_normal((2, 3, 5, 7)).astype(dtype)
    y = pool.forward(x)
    g = rng.standard_normal(y.shape).astype(dtype)
    tx = torch.tensor(x, requires_grad=True)
    F.adaptive_avg_pool2d(tx, (2, 3)).backward(torch.tensor(g))
    np.testing.assert_allclose(pool.backward(g), tx.grad.numpy(), **tol("nn", dtype))


@needs_torch
@pytest.mark.parametrize("momentum", [None, 0.3])
def test_batch_norm2d_running_stats_as_torch(momentum):
    # momentum=None: PyTorch's cumulative moving average (factor 1 / num_batches_tracked).
    rng = np.random.default_rng(17)
    ours, theirs = nn.BatchNorm2d(3, momentum=momentum, dtype=np.float64), \
        torch.nn.BatchNorm2d(3, momentum=momentum, dtype=torch.float64)
    for _ in range(4):
        x = rng.standard_normal((4, 3, 5, 5)) * 2 + 1
        ours.forward(x)
        theirs(torch.tensor(x))
    np.testing.assert_allclose(ours.running_mean, theirs.running_mean.numpy(), rtol=1e-12)
    np.testing.assert_allclose(ours.running_var, theirs.running_var.numpy(), rtol=1e-12)
    assert int(ours.num_batches_tracked) == int(theirs.num_batches_tracked) == 4
    with pytest.raises(ValueError, match="momentum"):
        nn.BatchNorm2d(3, momentum=1.5)


@needs_torch
@pytest.mark.parametrize("padding", ["same", "valid"])
def test_conv2d_string_padding_as_torch(padding):
    rng = np.random.default_rng(18)
    conv = nn.Conv2d(3, 4, (3, 4), padding=padding, dilation=(1, 2), dtype=np.float64, rng=3)
    compare_with_torch(conv, rng.standard_normal((2, 3, 9, 11)),
                       lambda x, w, b: torch.nn.functional.conv2d(x, w, b, padding=padding,
                                                                  dilation=(1, 2)), np.float64)
    with pytest.raises(ValueError, match="padding"):
        nn.Conv2d(3, 4, 3, padding="full")


@needs_torch
@pytest.mark.parametrize("layout", ["NCHW", "NHWC"])
def test_conv_layers_take_unbatched_input_as_torch(layout):
    # torch.nn.Conv2d / ConvTranspose2d take (C, H, W) and return (C_out, Ho, Wo).
    F = torch.nn.functional
    rng = np.random.default_rng(19)
    x = rng.standard_normal((3, 7, 9))
    conv = nn.Conv2d(3, 4, 3, stride=2, padding=1, dtype=np.float64, rng=4)
    convt = nn.ConvTranspose2d(3, 4, 3, stride=2, padding=1, dtype=np.float64, rng=5)
    for layer, fn in ((conv, lambda t, w, b: F.conv2d(t, w, b, 2, 1)),
                      (convt, lambda t, w, b: F.conv_transpose2d(t, w, b, 2, 1))):
        compare_with_torch(layer, x, fn, np.float64)  # NCHW: torch takes the unbatched array
        if layout == "NHWC":
            layer.layout = "NHWC"
            y = layer.forward(x.transpose(1, 2, 0))
            gx = layer.backward(np.ones_like(y))
            want = fn(torch.from_numpy(x)[None], torch.from_numpy(layer.weight),
                      torch.from_numpy(layer.bias))[0]
            np.testing.assert_allclose(y, want.numpy().transpose(1, 2, 0), **tol("nn", np.float64))
            assert gx.shape == (7, 9, 3)
    with pytest.raises(ValueError, match="H, W"):  # 2-D: neither batched nor unbatched
        conv.forward(np.zeros((7, 9)))


def test_init_matches_torch_defaults():
    ct = nn.ConvTranspose2d(8, 6, 3, groups=2, rng=0)
    bound = 1 / np.sqrt(3 * 3 * 3)  # PyTorch's fan_in for (in, out/groups, kh, kw): dim 1
    assert ct.weight.shape == (8, 3, 3, 3) and np.abs(ct.weight).max() <= bound
    assert np.abs(ct.weight).max() > 0.8 * bound
    bn = nn.BatchNorm2d(4)
    sd = bn.state_dict()
    assert list(sd) == ["weight", "bias", "running_mean", "running_var", "num_batches_tracked"]
    assert (sd["weight"] == 1).all() and (sd["bias"] == 0).all() and (sd["running_var"] == 1).all()
    assert len(bn.parameters()) == 2


def test_train_eval_state_dict_round_trip(tmp_path):
    rng = np.random.default_rng(16)
    net = nn.Sequential(nn.Conv2d(1, 4, 3, rng=0), nn.BatchNorm2d(4, relu=True),
                        nn.Dropout(0.5, rng=1), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                        nn.Linear(4, 3, rng=2))
    x = rng.standard_normal((8, 1, 6, 6)).astype(np.float32)
    net.forward(x)  # training: updates the running statistics
    assert net[1].num_batches_tracked == 1 and not (net[1].running_mean == 0).all()
    assert net.eval() is net and not net[1].training and not net[2].training
    y = net.forward(x)
    np.testing.assert_array_equal(y, net.forward(x))  # eval: deterministic, no updates
    path = tmp_path / "model.npz"
    net.save(path)
    other = nn.Sequential(nn.Conv2d(1, 4, 3, rng=5), nn.BatchNorm2d(4, relu=True),
                          nn.Dropout(0.5), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                          nn.Linear(4, 3, rng=6)).eval()
    other.load(path)
    np.testing.assert_array_equal(other.forward(x), y)
    assert sorted(np.load(path).files) == sorted(net.state_dict())
    with pytest.raises(KeyError, match="missing"):
        other.load_state_dict({})
    bad = dict(net.state_dict())
    bad["0.weight"] = np.zeros((1, 1))
    with pytest.raises(ValueError, match="0.weight"):
        other.load_state_dict(bad)


@needs_torch
@pytest.mark.parametrize("cls", ["Adam", "AdamW"])
def test_adam_matches_torch(cls):
    rng = np.random.default_rng(17)
    net = small_net(np.float64)
    tnet = torch_copy(net)
    opt = getattr(nn, cls)(net, lr=0.01, weight_decay=0.05)
    topt = getattr(torch.optim, cls)(tnet.parameters(), lr=0.01, weight_decay=0.05)
    loss_fn = nn.CrossEntropyLoss()
    for _ in range(3):
        x = rng.standard_normal((4, 1, 8, 8))
        labels = rng.integers(0, 5, 4)
        loss_fn.forward(net.forward(x), labels)
        net.backward(loss_fn.backward())
        opt.step()
        topt.zero_grad()
        torch.nn.functional.cross_entropy(tnet(torch.tensor(x)), torch.tensor(labels)).backward()
        topt.step()
    for (v, _), tp in zip(net.parameters(), tnet.parameters()):
        np.testing.assert_allclose(v, tp.detach().numpy(), **tol("sgd", np.float64))


@needs_torch
@pytest.mark.parametrize("channels_last", [True, False])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_resnet_gradients_match_torch(resnet_example, dtype, channels_last):
    """The example's whole network, training mode: output, every parameter gradient and the
    running statistics against the same network in torch.nn with the same weights."""
    rng = np.random.default_rng(18)
    model = resnet_example.ResNet(dtype=dtype, rng=0, channels_last=channels_last)
    for k, v in model.state_dict().items():  # non-trivial BN affine parameters
        if k.endswith("bn1.weight") or k.endswith("bn2.bias"):
            v[:] = rng.uniform(0.5, 1.5, v.shape)
    net = resnet_example.torch_resnet(model)
    x = rng.standard_normal((6, 1, 16, 16)).astype(dtype)
    labels = rng.integers(0, 10, 6)
    loss_fn = nn.CrossEntropyLoss()
    loss = loss_fn.forward(model.forward(x), labels)
    model.backward(loss_fn.backward(), input_grad=False)
    tloss = torch.nn.functional.cross_entropy(net(torch.tensor(x)), torch.tensor(labels))
    tloss.backward()
    t = tol("nn", dtype)
    assert abs(loss - tloss.item()) <= t["rtol"] * abs(tloss.item()) + 10 * t["atol"]
    named = dict(net.named_parameters())
    names = [k for k in model.state_dict() if k in named]
    assert len(names) == len(model.parameters()) == len(named)
    grads = {}
    for name, layer_grad in zip(names, [g for _, g in model.parameters()]):
        grads[name] = layer_grad
    for name in names:
        want = named[name].grad.numpy()
        np.testing.assert_allclose(grads[name], want,
                                   rtol=t["rtol"] * 10, atol=t["atol"] * 10 * np.abs(want).max(),
                                   err_msg=name)
    tstate = net.state_dict()
    for k, v in model.state_dict().items():
        if "running" in k:
            np.testing.assert_allclose(v, tstate[k].numpy(), **t, err_msg=k)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_resnet_channels_last_matches_nchw(dtype):
    """ResNet(channels_last=True) (NHWC layers after the input) against the NCHW network: the
    loss, input gradient, parameter gradients and running statistics of a training step, and
    the eval forward, equal up to rounding (strided layers' input gradients sum in another
    order; the rest runs the same algorithms)."""
    rng = np.random.default_rng(20)
    x = rng.standard_normal((4, 3, 16, 16)).astype(dtype)
    labels = rng.integers(0, 10, 4)
    runs = []
    for channels_last in (False, True):
        model = nn.ResNet(3, 10, dtype=dtype, rng=0, channels_last=channels_last)
        loss_fn = nn.CrossEntropyLoss()
        loss = loss_fn.forward(model.forward(x), labels)
        gx = model.backward(loss_fn.backward())
        assert gx.shape == x.shape and gx.flags.c_contiguous
        grads = [g for _, g in model.parameters()]
        state = model.state_dict()
        model.eval()
        runs.append((loss, gx, grads, {k: v.copy() for k, v in state.items()}, model.forward(x)))
    (l0, gx0, g0, s0, y0), (l1, gx1, g1, s1, y1) = runs
    t = tol("nn", dtype)
    assert abs(l0 - l1) <= t["rtol"] * abs(l0)
    np.testing.assert_allclose(gx1, gx0, rtol=t["rtol"], atol=t["atol"] * np.abs(gx0).max())
    for a, b in zip(g1, g0):
        np.testing.assert_allclose(a, b, rtol=t["rtol"], atol=t["atol"] * np.abs(b).max())
    for k in s0:
        np.testing.assert_allclose(s1[k], s0[k], **t, err_msg=k)
    np.testing.assert_allclose(y1, y0, **t)


def test_resnet_training_lowers_the_loss(resnet_example):
    x, y, _, _ = resnet_example.load_data()
    x, y = x[:256], y[:256]
    model = resnet_example.ResNet(rng=0)
    opt = nn.SGD(model, lr=0.05, momentum=0.9)
    orders = resnet_example.batch_orders(len(x), 3, 0)
    losses = [resnet_example.train_epoch(model, nn.CrossEntropyLoss(), opt, x, y, o, 32)
              for o in orders]
    assert losses[-1] < 0.7 * losses[0], losses


@needs_torch
def test_resnet_example_prints_what_it_promises(resnet_example, capsys):
    accuracy = resnet_example.main(["--limit", "64", "--epochs", "2", "--compare"])
    out = capsys.readouterr().out
    assert re.search(r"epoch  2/2  loss \d\.\d{4}  time [\d.]+ s  \d+ images/s", out)
    assert "torch test accuracy:" in out and "median images/s: npfast" in out
    assert out.rstrip().endswith(f"test accuracy: {accuracy:.4f}")


def test_fold_conv_bn_is_numpy_float64_form():
    """_folded_params (one C++ call, _npfast._fold_conv_bn) gives the bits of the NumPy float64
    form it replaced, op for op: absent affine parameters and conv bias, zero variances, NaN
    statistics (their sign included), mixed dtypes, a non-contiguous weight."""

    def numpy_form(weight, conv_bias, mean, var, gamma, beta, eps):
        scale = 1.0 / np.sqrt(var.astype(np.float64) + eps)
        if gamma is not None:
            scale *= gamma
        shift = -mean.astype(np.float64)
        if conv_bias is not None:
            shift += conv_bias
        shift *= scale
        if beta is not None:
            shift += beta
        dtype = weight.dtype
        return (weight * scale.reshape(-1, 1, 1, 1)).astype(dtype), shift.astype(dtype)

    rng = np.random.default_rng(31)
    for trial in range(120):
        wdt, sdt = rng.choice([np.float32, np.float64], 2)
        o, c, k = rng.integers(1, 70), rng.integers(1, 20), rng.choice([1, 3])
        weight = (rng.standard_normal((o, c, k, k)) * 10.0 ** rng.uniform(-3, 3)).astype(wdt)
        if trial % 7 == 0:
            weight = weight.transpose(0, 1, 3, 2)

        def channel():
            return (rng.standard_normal(o) * 10.0 ** rng.uniform(-3, 3)).astype(sdt)

        var = np.abs(channel())
        var[: o // 5] = 0
        mean = channel()
        if trial % 11 == 0:
            mean[0] = np.nan
        args = (weight, channel() if trial % 2 else None, mean, var,
                channel() if trial % 3 else None, channel() if trial % 5 else None,
                float(rng.choice([1e-5, 0.0, 1e-3])))
        with np.errstate(divide="ignore", invalid="ignore"):
            want = numpy_form(*args)
        got = _npfast._fold_conv_bn(*args)
        for w, g in zip(want, got):
            assert g.dtype == w.dtype and g.shape == w.shape
            assert g.tobytes() == np.ascontiguousarray(w).tobytes(), trial


def test_global_mean_nhwc_is_numpy_mean():
    """The ResNet head's _global_mean_nhwc(h) gives h.mean(axis=(1, 2))'s bits (NumPy sums the
    pixels in order from +0.0, then divides in float64): signed zeros, NaN, empty axes; it
    refuses the layouts where NumPy's order differs (one channel, views). test_threads checks
    it at 1-16 threads."""
    rng = np.random.default_rng(37)
    for dtype in (np.float32, np.float64):
        for shape in [(64, 8, 8, 64), (3, 5, 7, 9), (1, 1, 1, 1), (2, 7, 7, 33), (5, 0, 3, 2),
                      (0, 3, 3, 2), (4, 3, 3, 37), (2, 16, 16, 1), (2, 3, 3, 1)]:
            x = (rng.standard_normal(shape) * 10.0 ** rng.uniform(-3, 3, shape)).astype(dtype)
            x.ravel()[::17] = -0.0
            x.ravel()[5::91] = np.nan
            with np.errstate(all="ignore"), warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)  # mean of empty slice
                want = x.mean(axis=(1, 2))
            if shape[3] < 2:  # NumPy sums one channel's pixels pairwise: refused
                with pytest.raises(ValueError, match="input: .*C >= 2"):
                    _npfast._global_mean_nhwc(x)
                continue
            assert _npfast._global_mean_nhwc(x).tobytes() == want.tobytes(), shape
            # Views are NumPy's order only by accident (an H/W-swapped view is not): refused
            # (an empty one has no order).
            for v in (x[:, ::-1], x.transpose(0, 2, 1, 3)) if x.size else ():
                with pytest.raises(ValueError, match="input: .*C-contiguous"):
                    _npfast._global_mean_nhwc(v)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_resnet_eval_buffers_bitwise(dtype):
    """The eval forward writes its activations into three reused buffers: bitwise the folded
    layers called one by one with fresh outputs, and a later call leaves an earlier result
    alone."""
    rng = np.random.default_rng(23)
    model = nn.ResNet(3, 10, (8, 16, 32), dtype=dtype, rng=0).eval()
    for k, v in model.state_dict().items():
        if k.endswith(("weight", "running_var")) and "bn" in k or k.endswith("1.weight"):
            v[:] = rng.uniform(0.5, 1.5, v.shape)
        elif k.endswith(("bias", "running_mean")):
            v[:] = rng.uniform(-0.5, 0.5, v.shape)

    def conv_bn(conv, bn, h, residual=None):
        w, b = nn._folded_params(conv, bn)
        act = "relu" if bn.relu or residual is not None else None
        return npfast.conv2d(h, w, b, **dict(conv._args(), layout="NHWC"), activation=act,
                             residual=residual)

    def one_by_one(x):
        h = conv_bn(model.conv1, model.bn1, model._stem_input(x))
        for stage in (model.layer1, model.layer2, model.layer3):
            for b in stage:
                s = h if b.downsample is None else conv_bn(*b.downsample, h)
                h = conv_bn(b.conv2, b.bn2, conv_bn(b.conv1, b.bn1, h), residual=s)
        return model.fc.forward(h.mean(axis=(1, 2)))

    x1, x2 = (rng.standard_normal((3, 3, 12, 10)).astype(dtype) for _ in range(2))
    y1 = model.forward(x1)
    want = y1.copy()
    y2 = model.forward(x2)
    assert y1.tobytes() == want.tobytes() == one_by_one(x1).tobytes()
    assert y2.tobytes() == one_by_one(x2).tobytes()


@needs_torch
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_resnet_eval_matches_torch(resnet_example, dtype):
    """Eval mode folds each BatchNorm2d into the conv before it (one conv2d with scaled weights,
    the shift as bias, BN's ReLU fused): output against torch's unfolded eval forward, then the
    eval-mode backward (which unfolds) against torch autograd."""
    rng = np.random.default_rng(19)
    model = resnet_example.ResNet(dtype=dtype, rng=0)
    for k, v in model.state_dict().items():  # non-trivial affine parameters and statistics
        if k.endswith(("bn1.weight", "bn2.weight", "1.weight", "running_var")):
            v[:] = rng.uniform(0.5, 1.5, v.shape)
        elif k.endswith(("bias", "running_mean")):
            v[:] = rng.uniform(-0.5, 0.5, v.shape)
    net = resnet_example.torch_resnet(model).eval()
    model.eval()
    x = rng.standard_normal((5, 1, 16, 16)).astype(dtype)
    y = model.forward(x)
    tx = torch.tensor(x)
    ty = net(tx)
    t = tol("nn", dtype)
    np.testing.assert_allclose(y, ty.detach().numpy(), rtol=t["rtol"],
                               atol=t["atol"] * np.abs(y).max())
    # The same layers as a Sequential: NCHW, each BasicBlock's residual in conv2's epilogue.
    nchw = resnet_example.ResNet(dtype=dtype, rng=0, channels_last=False)
    nchw.load_state_dict(model.state_dict()).eval()
    chain = nn.Sequential(*[layer for _, layer in nchw.named_children()])
    np.testing.assert_allclose(chain.forward(x), y, rtol=t["rtol"],
                               atol=t["atol"] * np.abs(y).max())
    g = rng.standard_normal(y.shape).astype(dtype)
    model.backward(g, input_grad=False)
    ty.backward(torch.tensor(g))
    named = dict(net.named_parameters())
    grads = dict(zip([k for k in model.state_dict() if k in named],
                     [gr for _, gr in model.parameters()]))
    for name, grad in grads.items():
        want = named[name].grad.numpy()
        np.testing.assert_allclose(grad, want, rtol=t["rtol"] * 10,
                                   atol=t["atol"] * 10 * np.abs(want).max(), err_msg=name)


def test_residual_never_writes_its_input():
    """A body that returns its input or a view of it (Flatten of a 2-D array, Dropout in eval):
    the sum goes to a new array, as torch's out-of-place add."""
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    x0 = x.copy()
    for body in (nn.Flatten(), nn.Sequential(nn.Flatten(), nn.Flatten())):
        y = nn.Residual(body)(x)
        np.testing.assert_array_equal(y, 2 * x0)
        np.testing.assert_array_equal(x, x0)
    drop = nn.Dropout(0.5)
    drop.eval()
    np.testing.assert_array_equal(nn.Residual(drop)(x), 2 * x0)
    np.testing.assert_array_equal(x, x0)


def test_positional_arguments_mean_what_torch_means():
    # torch.nn.MaxPool2d(kernel_size, stride, padding, dilation, return_indices, ceil_mode) and
    # torch.optim.SGD(params, lr, momentum, dampening, weight_decay, nesterov).
    x = np.random.default_rng(3).standard_normal((1, 2, 7, 7)).astype(np.float32)
    out, idx = nn.MaxPool2d(3, 2, 1, 1, True)(x)
    assert out.shape == (1, 2, 4, 4) and idx.shape == out.shape and idx.dtype == np.int64
    assert nn.MaxPool2d(2, 2, 0, 1, False, True)(x).shape == (1, 2, 4, 4)  # ceil_mode 6th
    opt = nn.SGD(nn.Linear(2, 2), 0.1, 0.9, 0.5, 0.01, False)
    assert (opt.lr, opt.momentum, opt.dampening, opt.weight_decay) == (0.1, 0.9, 0.5, 0.01)
    with pytest.raises(ValueError, match="nesterov"):
        nn.SGD(nn.Linear(2, 2), 0.1, 0.9, 0.5, 0.0, True)


def test_layer_arguments_refused_where_torch_refuses_them():
    with pytest.raises(ValueError, match="same"):
        nn.Conv2d(3, 4, 3, stride=2, padding="same")
    assert nn.Conv2d(3, 4, 3, padding="same")(np.ones((1, 3, 8, 8), np.float32)).shape == (
        1, 4, 8, 8)
    with pytest.raises(IndexError, match="2 dimensions"):
        nn.Flatten()(np.ones(4, np.float32))
    assert nn.Flatten()(np.ones((4, 2, 3), np.float32)).shape == (4, 6)


@needs_torch
def test_residual_keeps_what_the_body_saved():
    """A body that keeps its output for its backward (BatchNorm2d's fused ReLU mask): the sum
    goes to a new array, so the body's gradient is torch's relu(bn(x)) + x gradient."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 3, 4, 4))
    bn = nn.BatchNorm2d(3, relu=True, dtype=np.float64)
    res = nn.Residual(bn)
    y = res.forward(x)
    g = rng.standard_normal(y.shape)
    gx = res.backward(g)
    tx = torch.tensor(x, requires_grad=True)
    tbn = torch.nn.BatchNorm2d(3).double()
    ty = torch.relu(tbn(tx)) + tx
    ty.backward(torch.tensor(g))
    np.testing.assert_allclose(y, ty.detach().numpy(), rtol=0, atol=1e-12)
    np.testing.assert_allclose(gx, tx.grad.numpy(), rtol=0, atol=1e-12)
    np.testing.assert_allclose(bn.grad_weight, tbn.weight.grad.numpy(), rtol=0, atol=1e-12)


@needs_torch
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_backward_of_an_eval_forward_after_train(dtype):
    """probe16: ``eval(); y = m(x); train(); m.backward(g)``: the gradients are those of the eval
    forward that ran (as torch's autograd gives) and the running statistics stay as they were;
    the folded conv + BN pair's backward reran it in training mode."""
    rng = np.random.default_rng(16)
    x = rng.standard_normal((4, 3, 6, 6)).astype(dtype)
    m = nn.Sequential(nn.Conv2d(3, 4, 3, dtype=dtype, rng=0), nn.BatchNorm2d(4, dtype=dtype))
    m[1].running_mean[:] = rng.standard_normal(4)
    m[1].running_var[:] = rng.random(4) + 0.5
    m[1].weight[:] = rng.standard_normal(4)
    t = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.BatchNorm2d(4)).to(
        torch.float64 if dtype == np.float64 else torch.float32)
    t.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in m.state_dict().items()})
    before = {k: np.array(v) for k, v in m.state_dict().items()}
    m.eval()
    t.eval()
    y = m.forward(x)
    tx = torch.tensor(x, requires_grad=True)
    ty = t(tx)
    m.train()
    t.train()
    g = rng.standard_normal(y.shape).astype(dtype)
    gx = m.backward(g)
    ty.backward(torch.from_numpy(g))
    np.testing.assert_allclose(gx, tx.grad.numpy(), **tol("nn", dtype))
    np.testing.assert_allclose(m[0].grad_weight, t[0].weight.grad.numpy(), **tol("nn", dtype))
    for k, v in m.state_dict().items():
        np.testing.assert_array_equal(v, before[k], err_msg=k)
    assert m.training and m[1].training  # the caller's mode kept
    # The same through ResNet's folded channels-last eval forward.
    r = nn.ResNet(rng=0, dtype=dtype)
    xr = rng.standard_normal((2, 1, 8, 8)).astype(dtype)
    state = {k: np.array(v) for k, v in r.state_dict().items()}
    r.eval()
    yr = r.forward(xr)
    r.train()
    gr = r.backward(np.ones_like(yr))
    for k, v in r.state_dict().items():
        np.testing.assert_array_equal(v, state[k], err_msg=k)
    r2 = nn.ResNet(rng=0, dtype=dtype).eval()
    r2.forward(xr)
    np.testing.assert_array_equal(gr, r2.backward(np.ones_like(yr)))


def test_probe16_shapes_and_errors():
    """probe16's findings: an empty batch through Flatten; AdaptiveAvgPool2d's gradient of the
    wrong shape or dtype refused (it was broadcast); errors that name the argument."""
    assert nn.Flatten().forward(np.zeros((0, 2, 3), np.float32)).shape == (0, 6)
    pool = nn.AdaptiveAvgPool2d(2)
    pool.forward(np.ones((2, 3, 5, 5), np.float32))
    with pytest.raises(ValueError, match=r"grad_output.*\(2, 3, 2, 2\)"):
        pool.backward(np.ones((2, 3, 3, 3), np.float32))
    with pytest.raises(ValueError, match="grad_output"):
        pool.backward(np.ones((1, 1, 1, 1), np.float32))
    with pytest.raises(TypeError, match="grad_output.*float32"):
        pool.backward(np.ones((2, 3, 2, 2)))
    with pytest.raises(ValueError, match="x has 3 channels.*num_features=4"):
        nn.BatchNorm2d(4).forward(np.ones((2, 3, 4, 4), np.float32))
    with pytest.raises(TypeError, match="x has dtype float64"):
        nn.BatchNorm2d(4).forward(np.ones((2, 4, 4, 4)))
    # No parameters and no statistics: any float dtype, as torch's.
    bare = nn.BatchNorm2d(4, affine=False, track_running_stats=False)
    assert bare.forward(np.ones((2, 4, 3, 3))).dtype == np.float64
    for layer in (nn.MaxPool2d(2), nn.Dropout(0.3), nn.Flatten(), nn.AdaptiveAvgPool2d(1)):
        with pytest.raises(TypeError, match=f"{type(layer).__name__}: x must be a numpy"):
            layer.forward([[1.0, 2.0], [3.0, 4.0]])
    with pytest.raises(TypeError, match="Dropout: x must be a floating array"):
        nn.Dropout(0.3).forward(np.ones(4, np.int64))
    # A bare (H, W) plane: torch's 2-d pooling layers refuse it.
    for layer, want in ((nn.MaxPool2d(2), r"\(N, C, H, W\)"), (nn.AdaptiveAvgPool2d(2), "3-d"),
                        (nn.MaxPool2d(2, layout="NHWC"), r"\(H, W, C\)")):
        with pytest.raises(ValueError, match=f"{type(layer).__name__}: x must be 4-d.*{want}"):
            layer.forward(np.ones((4, 4), np.float32))
        assert layer.forward(np.ones((3, 4, 4), np.float32)).ndim == 3
    # torch passes integers through where it does not drop (eval, or p = 0): review16.
    ints = np.arange(4)
    assert nn.Dropout(0.3).eval().forward(ints) is ints
    assert nn.Dropout(0.0).forward(ints) is ints
    assert nn.Adam(nn.Linear(2, 2), betas=np.array([0.8, 0.9])).betas == (0.8, 0.9)
    with pytest.raises(TypeError, match="body"):
        nn.Residual(None)
    with pytest.raises(ValueError, match="betas"):
        nn.Adam(nn.Linear(2, 2), betas=0.9)
    with pytest.raises(TypeError, match="mapping"):
        nn.Linear(2, 2).load_state_dict([1, 2])
    # A float32 conv before a float64 BN: refused in eval as in training (it was folded).
    s = nn.Sequential(nn.Conv2d(3, 4, 3, rng=0), nn.BatchNorm2d(4, dtype=np.float64))
    x = np.ones((1, 3, 5, 5), np.float32)
    for mode in (True, False):
        s.train(mode)
        with pytest.raises(TypeError, match="BatchNorm2d: x has dtype float32"):
            s.forward(x)


def test_probe19b_gradients_of_the_wrong_shape_are_refused():
    """probe19b: Linear, ReLU, Dropout and Flatten broadcast or reshaped a grad_output of the wrong
    shape into a wrong gradient, where torch raises."""
    lin = nn.Linear(3, 2, rng=0)
    lin.forward(np.ones((4, 3), np.float32))
    for bad in (np.ones((2, 4), np.float32), np.ones(8, np.float32), np.ones((4, 1), np.float32)):
        with pytest.raises(ValueError, match=r"Linear: grad_output.*\(4, 2\)"):
            lin.backward(bad)
    with pytest.raises(TypeError, match="Linear: grad_output.*float32"):
        lin.backward(np.ones((4, 2)))
    relu = nn.ReLU()
    relu.forward(np.array([[-1.0, 2.0, 3.0], [4.0, -5.0, 6.0]], np.float32))
    drop = nn.Dropout(0.5, rng=0)
    drop.forward(np.ones((2, 3), np.float32))
    flat = nn.Flatten()
    flat.forward(np.ones((2, 3, 4), np.float32))
    for layer, bad in ((relu, np.ones((2, 1), np.float32)), (relu, np.ones(3, np.float32)),
                       (drop, np.ones(3, np.float32)), (flat, np.ones((3, 8), np.float32))):
        with pytest.raises(ValueError, match=f"{type(layer).__name__}: grad_output"):
            layer.backward(bad)
    with pytest.raises(TypeError, match="ReLU: grad_output must be a numpy"):
        relu.backward(1.0)
    assert flat.backward(np.ones((2, 12), np.float32)).shape == (2, 3, 4)
    # Eval-mode Dropout passes the gradient through, still checked.
    drop.eval().forward(np.ones((2, 3), np.float32))
    with pytest.raises(ValueError, match="Dropout: grad_output"):
        drop.backward(np.ones((3, 2), np.float32))


@needs_torch
def test_probe19b_relu_at_nan_and_zero_d():
    """ReLU's gradient passes at a NaN input (torch's threshold_backward: blocked where x <= 0
    only); ReLU and Dropout give arrays for a 0-d input."""
    x = np.array([np.nan, 1.0, 0.0, -2.0], np.float32)
    relu = nn.ReLU()
    y = relu.forward(x)
    g = relu.backward(np.ones(4, np.float32))
    tx = torch.from_numpy(x.copy()).requires_grad_()
    torch.relu(tx).backward(torch.ones(4))
    np.testing.assert_array_equal(g, tx.grad.numpy())
    np.testing.assert_array_equal(y, torch.relu(torch.from_numpy(x)).numpy())
    for layer in (nn.ReLU(), nn.Dropout(0.5, rng=0)):
        out = layer.forward(np.array(3.0, np.float32))
        assert isinstance(out, np.ndarray) and out.shape == () and out.dtype == np.float32
        assert isinstance(layer.backward(np.array(1.0, np.float32)), np.ndarray)


def test_probe19b_a_refused_step_changes_nothing():
    """An optimiser step refused for a missing or misshapen gradient leaves every parameter (and
    Adam's step count) as it was; it had updated the ones before the bad one."""
    for make in (lambda m: nn.SGD(m, lr=0.1, momentum=0.9), lambda m: nn.Adam(m, lr=0.1),
                 lambda m: nn.AdamW(m, lr=0.1)):
        m = nn.Sequential(nn.Linear(3, 2, rng=0), nn.Linear(2, 2, rng=1))
        m.forward(np.ones((1, 3), np.float32))
        m.backward(np.ones((1, 2), np.float32))
        before = [v.copy() for v, _ in m.parameters()]
        opt = make(m)
        good = m[1].grad_bias
        for bad, err in ((None, RuntimeError), (np.ones(3, np.float32), ValueError)):
            m[1].grad_bias = bad
            with pytest.raises(err, match="parameter 3"):
                opt.step()
            for b, (v, _) in zip(before, m.parameters()):
                np.testing.assert_array_equal(b, v)
            assert getattr(opt, "t", 0) == 0
        m[1].grad_bias = good
        opt.step()
        assert not np.array_equal(before[0], m[0].weight)


def test_probe19b_sequential_slices_and_messages():
    s = nn.Sequential(nn.Linear(3, 4, rng=0), nn.ReLU(), nn.Linear(4, 2, rng=1))
    head = s[0:2]
    assert isinstance(head, nn.Sequential) and head[0] is s[0] and len(head) == 2
    assert head.forward(np.ones((1, 3), np.float32)).shape == (1, 4)
    # The hint to build the layer for x's dtype only where the layer can take that dtype.
    with pytest.raises(TypeError, match=r"parameters are float32; cast x$"):
        nn.Linear(3, 2).forward(np.ones((1, 3), np.int64))
    with pytest.raises(TypeError, match="or build the layer with dtype=float64"):
        nn.Linear(3, 2).forward(np.ones((1, 3)))


def test_probe19d_pool_gradients_keep_the_dtype_and_check_grad_output():
    """AdaptiveAvgPool2d (output size past 1) returned a float64 input gradient for float32 (a
    float32 network then failed in Conv2d's backward); MaxPool2d took a grad_output of another
    dtype or a list, and named `indices` for a wrong shape."""
    x = np.random.default_rng(0).standard_normal((2, 3, 8, 8)).astype(np.float32)
    net = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1, rng=0), nn.AdaptiveAvgPool2d(2),
                        nn.Flatten(), nn.Linear(16, 5, rng=1))
    y = net.forward(x)
    assert net.backward(np.ones_like(y)).dtype == np.float32
    assert net[1].backward(np.ones((2, 4, 2, 2), np.float32)).dtype == np.float32
    m = nn.MaxPool2d(2)
    y = m.forward(np.ones((2, 3, 8, 8), np.float32))
    assert m.backward(np.ones_like(y)).dtype == np.float32
    with pytest.raises(TypeError, match="MaxPool2d: grad_output.*float32"):
        m.backward(np.ones(y.shape))
    with pytest.raises(TypeError, match="MaxPool2d: grad_output must be a numpy"):
        m.backward(np.ones(y.shape).tolist())
    with pytest.raises(ValueError, match=r"MaxPool2d: grad_output.*\(2, 3, 4, 4\)"):
        m.backward(np.ones((1, 3, 4, 4), np.float32))
    with pytest.raises(TypeError, match=r"parameters are float32; cast x$"):
        nn.BatchNorm2d(3).forward(np.ones((2, 3, 4, 4), np.int32))
    with pytest.raises(TypeError, match="or build the layer with dtype=float64"):
        nn.BatchNorm2d(3).forward(np.ones((2, 3, 4, 4)))


@needs_torch
def test_review19_relu_blocks_whatever_the_gradient_and_fused_relus_agree():
    """ReLU's gradient is 0 where blocked even for a NaN or inf gradient there (it multiplied:
    NaN), and the fused ReLU (batch_norm's relu, _relu_grad_add) passes at a NaN output as the
    standalone ReLU and torch's threshold_backward do."""
    x = np.array([np.nan, -1.0, 0.0, 1.0, -0.0], np.float32)
    g = np.array([1.0, np.nan, np.inf, 1.0, np.nan], np.float32)
    relu = nn.ReLU()
    relu.forward(x)
    tx = torch.from_numpy(x.copy()).requires_grad_()
    torch.relu(tx).backward(torch.from_numpy(g.copy()))
    np.testing.assert_array_equal(relu.backward(g), tx.grad.numpy())
    y = np.maximum(x, 0)  # the fused ReLU's output: NaN, 0, 0, 1, 0
    for isa in ("avx512", "avx2", "scalar"):
        if isa not in _npfast._isas_available():
            continue
        before = _npfast._isa()
        _npfast._set_isa(isa)
        try:
            dst = np.zeros(5, np.float32)
            _npfast._relu_grad_add(dst, np.ones(5, np.float32), y)
        finally:
            _npfast._set_isa(before)
        np.testing.assert_array_equal(dst, [1, 0, 0, 1, 0])
    with pytest.raises(TypeError, match="ReLU: x must be a numpy"):
        nn.ReLU().forward([1.0, -2.0])


def test_review19_refused_forward_and_generator_parameters():
    """A Dropout forward refused for its dtype keeps the last forward's shape for backward; an
    optimiser over a parameters() generator steps (the checks spent it)."""
    d = nn.Dropout(0.5, rng=0)
    d.forward(np.ones((4, 4), np.float32))
    with pytest.raises(TypeError):
        d.forward(np.ones((1, 4), np.int32))
    with pytest.raises(ValueError, match="Dropout: grad_output"):
        d.backward(np.ones((1, 4), np.float32))

    class Gen:
        def __init__(self):
            self.w = np.ones(3)
            self.g = np.full(3, 0.5)

        def parameters(self):
            yield self.w, self.g

    for opt in (nn.SGD, nn.Adam):
        m = Gen()
        opt(m, lr=0.1).step()
        assert (m.w < 1).all(), opt


def test_probe22c_reuse_save_names(tmp_path):
    """A module object used twice (a shared ReLU, tied weights) gave wrong gradients silently:
    containers refuse it and optimisers refuse an array listed twice; save(path) without .npz
    then load(path) found no file; ResNet's errors named its layers' arguments."""
    relu = nn.ReLU()
    c1, c2 = nn.Conv2d(2, 2, 3, padding=1, rng=1), nn.Conv2d(2, 2, 3, padding=1, rng=2)
    with pytest.raises(ValueError, match="layer 3 is the same ReLU object as layer 1"):
        nn.Sequential(c1, relu, c2, relu)
    lin = nn.Linear(2, 2, bias=False, dtype=np.float64, rng=0)
    with pytest.raises(ValueError, match=r"layer 1\.body is the same Linear object as layer 0\.0"):
        nn.Sequential(nn.Sequential(lin), nn.Residual(lin))
    with pytest.raises(ValueError, match="shortcut is the same"):
        nn.Residual(lin, lin)

    class Tied(nn.Module):
        def __init__(self):
            self.a, self.b = lin, lin

        def forward(self, x):
            return self.b.forward(self.a.forward(x))

        def backward(self, g, *, input_grad=True):
            return self.a.backward(self.b.backward(g))
    t = Tied()
    t.backward(np.ones_like(t.forward(np.ones((1, 2)))))
    for opt in (nn.SGD, nn.Adam):
        with pytest.raises(ValueError, match="parameter 1 .* is listed twice"):
            opt(t, lr=0.1).step()
    m = nn.Linear(2, 3, rng=0)
    m.save(tmp_path / "ckpt")
    fresh = nn.Linear(2, 3, rng=1).load(tmp_path / "ckpt")
    np.testing.assert_array_equal(fresh.weight, m.weight)
    with pytest.raises(ValueError, match="num_classes must be an int >= 1, got 0"):
        nn.ResNet(1, 0)
    with pytest.raises(ValueError, match="widths must be an int >= 1, got 8.5"):
        nn.ResNet(1, 10, (4, 8, 8.5))
