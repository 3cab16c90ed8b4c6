"""examples/train_digits.py: one short epoch lowers the loss; the whole network's gradients match
finite differences in float64; the plain-NumPy and PyTorch versions of --compare compute the
same training run; the script prints what it promises. The network runs on the real npfast
kernels."""

import importlib.util
import re
from pathlib import Path

import numpy as np
import pytest

from npfast import nn

from anchors import needs_torch
from tolerances import tol

pytest.importorskip("sklearn", reason="the example trains on sklearn.datasets.load_digits")

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "train_digits.py"


@pytest.fixture(scope="module")
def td():
    spec = importlib.util.spec_from_file_location("train_digits", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def data(td):
    return td.load_data()


def test_data_split_is_fixed_and_standardised(td, data):
    x, y, x_test, y_test = data
    assert x.shape == (1348, 1, 16, 16) and x_test.shape == (449, 1, 16, 16)
    assert x.dtype == np.float32 and y.dtype == np.int64
    assert abs(float(x.mean())) < 1e-3 and abs(float(x.std()) - 1) < 1e-3
    again = td.load_data()
    np.testing.assert_array_equal(again[3], y_test)
    assert set(np.unique(y)) == set(range(10))


def test_one_epoch_on_a_subset_lowers_the_loss(td, data):
    x, y = data[0][:320], data[1][:320]
    model = td.build_model()
    ce = nn.SoftmaxCrossEntropy()
    before = ce.forward(model.forward(x), y)
    order = td.batch_orders(len(x), 1, 0)[0]
    opt = nn.SGD(model, lr=0.05, momentum=0.9)
    mean_train_loss = td.train_epoch(model, ce, opt, x, y, order, 32)
    after = ce.forward(model.forward(x), y)
    assert before > 2.0  # about log(10) at the start
    assert after < 0.85 * before, (before, after)  # 10 steps: 2.32 -> 1.80 with seed 0
    assert mean_train_loss < before


def test_whole_network_gradients_match_finite_differences(td):
    """Every parameter of a tiny instance of the example's network (channels 2 and 3, 8x8
    images, batch 3), float64, central differences; random inputs so no max-pool ties."""
    rng = np.random.default_rng(0)
    model = td.build_model(channels=(2, 3), image_size=8, dtype=np.float64, rng=1)
    x = rng.standard_normal((3, 1, 8, 8))
    labels = np.array([3, 7, 0])
    ce = nn.SoftmaxCrossEntropy()

    def loss():
        return ce.forward(model.forward(x), labels)

    loss()
    gx = model.backward(ce.backward())
    eps = 1e-6
    checked = 0
    for value, grad in [(x, gx)] + model.parameters():
        grad = grad.copy()
        flat = value.reshape(-1)  # a view: the loop perturbs the parameter in place
        for i in range(flat.size):
            old = flat[i]
            flat[i] = old + eps
            up = loss()
            flat[i] = old - eps
            down = loss()
            flat[i] = old
            numeric = (up - down) / (2 * eps)
            analytic = grad.reshape(-1)[i]
            assert abs(analytic - numeric) <= 1e-7 + 1e-5 * abs(numeric), (value.shape, i)
            checked += 1
    assert checked == 192 + (2 * 9 + 2) + (3 * 2 * 9 + 3) + (10 * 12 + 10)


def same_training(td):
    """npfast's per-epoch losses on a float64 subset, and what --compare's other networks need to
    repeat that run: the same start weights, batches and hyper-parameters."""
    x, y, x_test, y_test = td.load_data(dtype=np.float64)
    subset = (x[:64], y[:64], x_test[:32], y_test[:32])
    start = td.build_model(dtype=np.float64, rng=5)
    model = td.build_model(dtype=np.float64, rng=5)
    orders = td.batch_orders(64, 2, 5)
    ce = nn.SoftmaxCrossEntropy()
    opt = nn.SGD(model, lr=0.05, momentum=0.9)
    losses = [td.train_epoch(model, ce, opt, subset[0], subset[1], o, 16) for o in orders]

    class Args:
        lr, momentum, batch_size = 0.05, 0.9, 16

    return losses, (start, subset, orders, Args)


# --compare's NumPy (im2col, reshape pooling) and PyTorch networks, started from the same weights
# with the same batches, give npfast's per-epoch losses. In float64, where rounding cannot flip a
# max-pool tie (flat background gives many), the runs agree to ~1e-15.
def test_numpy_version_computes_the_same_training(td):
    losses, run = same_training(td)
    _, np_losses, np_acc = td.train_numpy(*run)
    np.testing.assert_allclose(np_losses, losses, **tol("train_digits", np.float64))
    assert losses[1] < losses[0]
    assert 0 <= np_acc <= 1


@needs_torch
def test_torch_version_computes_the_same_training(td):
    losses, run = same_training(td)
    _, t_losses, _ = td.train_torch(*run)
    np.testing.assert_allclose(t_losses, losses, **tol("train_digits", np.float64))


def test_script_prints_epochs_and_accuracy(td, capsys):
    accuracy = td.main(["--epochs", "1", "--limit", "96"])
    out = capsys.readouterr().out
    assert re.search(r"^epoch  1/1  loss \d+\.\d{4}  time \d+\.\d{3} s$", out, re.M)
    line = re.search(r"^test accuracy: (\d\.\d{4})$", out, re.M)
    assert line and float(line.group(1)) == pytest.approx(accuracy, abs=5e-5)
    assert accuracy > 0.1  # better than chance after one epoch on 96 images
