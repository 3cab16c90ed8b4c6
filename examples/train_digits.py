#!/usr/bin/env python
"""Train a small LeNet-style CNN on scikit-learn's 8x8 digits with npfast alone.

    python examples/train_digits.py             # train: loss and time per epoch, test accuracy
    python examples/train_digits.py --compare   # also time the same network in NumPy and PyTorch

The network (npfast.nn): conv 3x3 (1->16) -> ReLU -> max-pool 2 -> conv 3x3 (16->32) -> ReLU ->
max-pool 2 -> linear (512->10) -> softmax cross-entropy, on the digits upsampled to 16x16,
trained with SGD + momentum. Forward and backward run on npfast kernels (conv2d,
conv2d_backward, max_pool2d with indices, max_pool2d_backward, matmul); ReLU, softmax and the
update are NumPy. The data set ships with scikit-learn (no download); the split (75% train,
25% test), the initial weights and the batch order are fixed by --seed.

--compare trains the same network, from the same initial weights and with the same batches,
written as people write it in plain NumPy (as_strided im2col + np.dot, reshape-max pooling)
and, if it is installed, in PyTorch, and prints the time per epoch of each side by side.
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import time

import numpy as np

import npfast
from npfast import nn

IMAGE_SIZE = 16  # the 8x8 digits, upsampled 2x (nearest neighbour)
CHANNELS = (16, 32)


def load_data(size=IMAGE_SIZE, seed=0, dtype=np.float32, test_fraction=0.25):
    """The digits as (N, 1, size, size) arrays, standardised with the training set's statistics.

    Returns x_train, y_train, x_test, y_test; labels are int64. ``size`` is a multiple of 8."""
    from sklearn.datasets import load_digits

    if size % 8:
        raise ValueError(f"size must be a multiple of 8, got {size}")
    digits = load_digits()
    x = npfast.convert(digits.images, dtype, scale=1 / 16)  # pixel values 0..16 -> 0..1
    f = size // 8
    x = x.repeat(f, axis=1).repeat(f, axis=2)[:, None]
    y = digits.target.astype(np.int64)
    order = np.random.default_rng(seed).permutation(len(x))
    n_test = int(round(len(x) * test_fraction))
    test, train = order[:n_test], order[n_test:]
    mean, std = x[train].mean(), x[train].std()
    x = ((x - mean) / std).astype(dtype)
    return x[train], y[train], x[test], y[test]


def build_model(channels=CHANNELS, image_size=IMAGE_SIZE, dtype=np.float32, rng=0):
    """The LeNet-style network as an npfast.nn.Sequential (image_size divisible by 4)."""
    rng = np.random.default_rng(rng)
    c1, c2 = channels
    s = image_size // 4
    return nn.Sequential(
        nn.Conv2d(1, c1, 3, padding=1, dtype=dtype, rng=rng), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(c1, c2, 3, padding=1, dtype=dtype, rng=rng), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(c2 * s * s, 10, dtype=dtype, rng=rng))


def batch_orders(n, epochs, seed):
    """The shuffled sample order of each epoch, shared by every implementation."""
    rng = np.random.default_rng(seed + 1)
    return [rng.permutation(n) for _ in range(epochs)]


def train_epoch(model, loss_fn, opt, x, y, order, batch_size):
    """One pass over x in the given order; returns the mean training loss."""
    total = 0.0
    for start in range(0, len(order), batch_size):
        idx = order[start:start + batch_size]
        loss = loss_fn.forward(model.forward(x[idx]), y[idx])
        model.backward(loss_fn.backward(), input_grad=False)
        opt.step()
        total += loss * len(idx)
    return total / len(order)


def predict(forward, x, batch_size=256):
    return np.concatenate([forward(x[i:i + batch_size]).argmax(axis=1)
                           for i in range(0, len(x), batch_size)])


# --- the same network in plain NumPy, the way a from-scratch implementation writes it ----------
# Only what this network needs: 3x3 convolutions with stride 1 and padding 1, 2x2 pooling.

def _im2col(x, k, pad):
    """(N, C, H, W) -> (N*Ho*Wo, C*k*k) patches, via a strided view of the padded input."""
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    n, c, hp, wp = xp.shape
    ho, wo = hp - k + 1, wp - k + 1
    s = xp.strides
    view = np.lib.stride_tricks.as_strided(xp, (n, ho, wo, c, k, k),
                                           (s[0], s[2], s[3], s[1], s[2], s[3]))
    return view.reshape(n * ho * wo, c * k * k), (n, c, ho, wo)


class NumpyConv:
    """k x k convolution, stride 1, as a matrix product of im2col patches and the weights."""

    def __init__(self, layer):
        self.w, self.b = layer.weight.copy(), layer.bias.copy()
        self.k, self.pad = layer.kernel_size[0], layer.padding[0]

    def forward(self, x):
        self.cols, (n, _, ho, wo) = _im2col(x, self.k, self.pad)
        self.x_shape = x.shape
        out = np.dot(self.cols, self.w.reshape(len(self.w), -1).T) + self.b
        return out.reshape(n, ho, wo, -1).transpose(0, 3, 1, 2)

    def backward(self, grad, input_grad=True):
        o = len(self.w)
        g = grad.transpose(0, 2, 3, 1).reshape(-1, o)
        self.gw = np.dot(g.T, self.cols).reshape(self.w.shape)
        self.gb = g.sum(axis=0)
        if not input_grad:
            return None
        n, c, h, w = self.x_shape
        k, p = self.k, self.pad
        ho, wo = h + 2 * p - k + 1, w + 2 * p - k + 1
        gcols = np.dot(g, self.w.reshape(o, -1)).reshape(n, ho, wo, c, k, k)
        gx = np.zeros((n, c, h + 2 * p, w + 2 * p), grad.dtype)
        for i in range(k):  # col2im: add each kernel tap's patch gradients back
            for j in range(k):
                gx[:, :, i:i + ho, j:j + wo] += gcols[:, :, :, :, i, j].transpose(0, 3, 1, 2)
        return gx[:, :, p:p + h, p:p + w]

    def params(self):
        return [(self.w, self.gw), (self.b, self.gb)]


class NumpyPool:
    """2x2 max-pooling by reshape; the gradient goes to the first maximum of each window (as in
    PyTorch: plain ``mask = x == max`` would also feed ties, common here in flat background)."""

    def forward(self, x):
        n, c, h, w = self.shape = x.shape
        windows = (x.reshape(n, c, h // 2, 2, w // 2, 2).transpose(0, 1, 2, 4, 3, 5)
                   .reshape(n, c, h // 2, w // 2, 4))
        self.arg = windows.argmax(axis=4)
        return np.take_along_axis(windows, self.arg[..., None], axis=4)[..., 0]

    def backward(self, grad):
        n, c, h, w = self.shape
        g = (self.arg[..., None] == np.arange(4)) * grad[..., None]
        return (g.reshape(n, c, h // 2, w // 2, 2, 2).transpose(0, 1, 2, 4, 3, 5)
                .reshape(n, c, h, w))


class NumpyLeNet:
    """The network of build_model, starting from that model's current weights."""

    def __init__(self, model):
        conv1, conv2, linear = model[0], model[3], model[7]
        self.conv1, self.conv2 = NumpyConv(conv1), NumpyConv(conv2)
        self.pool1, self.pool2 = NumpyPool(), NumpyPool()
        self.lw, self.lb = linear.weight.copy(), linear.bias.copy()

    def forward(self, x):
        a1 = self.conv1.forward(x)
        self.m1 = a1 > 0
        p1 = self.pool1.forward(np.maximum(a1, 0))
        a2 = self.conv2.forward(p1)
        self.m2 = a2 > 0
        p2 = self.pool2.forward(np.maximum(a2, 0))
        self.flat_shape = p2.shape
        self.flat = p2.reshape(len(p2), -1)
        return np.dot(self.flat, self.lw.T) + self.lb

    def backward(self, grad):
        self.glw, self.glb = np.dot(grad.T, self.flat), grad.sum(axis=0)
        g = np.dot(grad, self.lw).reshape(self.flat_shape)
        g = self.pool2.backward(g) * self.m2
        g = self.conv2.backward(g)
        g = self.pool1.backward(g) * self.m1
        self.conv1.backward(g, input_grad=False)

    def parameters(self):
        linear = [(self.lw, self.glw), (self.lb, self.glb)]
        return self.conv1.params() + self.conv2.params() + linear


def train_numpy(model, data, orders, args):
    x, y, x_test, y_test = data
    net = NumpyLeNet(model)
    loss_fn = nn.SoftmaxCrossEntropy()  # NumPy only
    opt = nn.SGD(net, lr=args.lr, momentum=args.momentum)
    times, losses = [], []
    for order in orders:
        t0 = time.perf_counter()
        total = 0.0
        for start in range(0, len(order), args.batch_size):
            idx = order[start:start + args.batch_size]
            total += loss_fn.forward(net.forward(x[idx]), y[idx]) * len(idx)
            net.backward(loss_fn.backward())
            opt.step()
        times.append(time.perf_counter() - t0)
        losses.append(total / len(order))
    return times, losses, float(np.mean(predict(net.forward, x_test) == y_test))


def train_torch(model, data, orders, args):
    import torch

    x, y, x_test, y_test = (torch.from_numpy(np.ascontiguousarray(a)) for a in data)
    c1, c2 = model[0].out_channels, model[3].out_channels
    tnet = torch.nn.Sequential(
        torch.nn.Conv2d(1, c1, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(c1, c2, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Flatten(), torch.nn.Linear(model[7].in_features, 10)).to(x.dtype)
    with torch.no_grad():
        for i in (0, 3, 7):
            tnet[i].weight.copy_(torch.from_numpy(model[i].weight))
            tnet[i].bias.copy_(torch.from_numpy(model[i].bias))
    opt = torch.optim.SGD(tnet.parameters(), lr=args.lr, momentum=args.momentum)
    loss_fn = torch.nn.CrossEntropyLoss()
    times, losses = [], []
    for order in orders:
        t0 = time.perf_counter()
        total = 0.0
        for start in range(0, len(order), args.batch_size):
            idx = torch.from_numpy(order[start:start + args.batch_size])
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(tnet(x[idx]), y[idx])
            loss.backward()
            opt.step()
            total += loss.item() * len(idx)
        times.append(time.perf_counter() - t0)
        losses.append(total / len(order))
    with torch.no_grad():
        acc = float((tnet(x_test).argmax(1) == y_test).double().mean())
    return times, losses, acc


@contextlib.contextmanager
def blas_threads(n):
    """Caps NumPy's BLAS at n threads (via threadpoolctl, when installed) for a like-for-like
    comparison; n None leaves it alone."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        threadpool_limits = None
    if n is None or threadpool_limits is None:
        yield
        return
    with threadpool_limits(limits=n, user_api="blas"):
        yield


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--lr", type=float, default=0.05)
    p.add_argument("--momentum", type=float, default=0.9)
    p.add_argument("--seed", type=int, default=0, help="fixes split, initial weights, batch order")
    p.add_argument("--dtype", choices=["float32", "float64"], default="float32")
    p.add_argument("--threads", type=int, default=None,
                   help="threads for npfast (and, with --compare, NumPy's BLAS and PyTorch)")
    p.add_argument("--limit", type=int, default=None,
                   help="train on the first N training images only")
    p.add_argument("--compare", action="store_true", help="also time plain NumPy and PyTorch")
    return p.parse_args(argv)


def main(argv=None):
    """Runs the example; returns the npfast model's test accuracy."""
    args = parse_args(argv)
    if args.threads is not None:
        npfast.set_num_threads(args.threads)
    dtype = np.dtype(args.dtype)
    data = load_data(seed=args.seed, dtype=dtype)
    if args.limit is not None:
        data = (data[0][:args.limit], data[1][:args.limit]) + data[2:]
    x, y, x_test, y_test = data
    model = build_model(dtype=dtype, rng=args.seed)
    orders = batch_orders(len(x), args.epochs, args.seed)
    print(f"npfast {npfast.__version__}, {dtype}, threads={npfast.get_num_threads()}; digits "
          f"{len(x)} train / {len(x_test)} test, {x.shape[2]}x{x.shape[3]}")
    loss_fn = nn.SoftmaxCrossEntropy()
    opt = nn.SGD(model, lr=args.lr, momentum=args.momentum)
    times, losses = [], []
    t_start = time.perf_counter()
    for epoch, order in enumerate(orders, 1):
        t0 = time.perf_counter()
        losses.append(train_epoch(model, loss_fn, opt, x, y, order, args.batch_size))
        times.append(time.perf_counter() - t0)
        print(f"epoch {epoch:2d}/{args.epochs}  loss {losses[-1]:.4f}  time {times[-1]:.3f} s",
              flush=True)
    accuracy = float(np.mean(predict(model.forward, x_test) == y_test))
    print(f"trained in {time.perf_counter() - t_start:.1f} s")

    if args.compare:
        results = {"npfast": (times, losses, accuracy)}
        print("training the same network in plain NumPy ...", flush=True)
        start_model = build_model(dtype=dtype, rng=args.seed)  # the npfast run's initial weights
        with blas_threads(args.threads):
            results["numpy"] = train_numpy(start_model, data, orders, args)
        try:
            import torch
        except ImportError:
            print("PyTorch is not installed: skipping it")
        else:
            torch.set_num_threads(npfast.get_num_threads())
            print(f"training it in PyTorch {torch.__version__} "
                  f"(threads={torch.get_num_threads()}) ...", flush=True)
            results["torch"] = train_torch(start_model, data, orders, args)
        print_comparison(results, dtype)
    print(f"test accuracy: {accuracy:.4f}")
    return accuracy


def print_comparison(results, dtype):
    """Time per epoch of each implementation side by side, with its training loss (the runs
    start from the same weights and see the same batches, so the losses should agree)."""
    names = list(results)
    cell = "{:>20}"
    print("\ntime per epoch in seconds (training loss)")
    print(f"{'epoch':<9}" + "".join(cell.format(n) for n in names))
    for e in range(len(results["npfast"][0])):
        row = (cell.format(f"{results[n][0][e]:.3f} ({results[n][1][e]:.4f})") for n in names)
        print(f"{e + 1:<9}" + "".join(row))
    med = {n: statistics.median(results[n][0]) for n in names}
    print(f"{'median':<9}" + "".join(cell.format(f"{med[n]:.3f}") for n in names))
    ratios = (cell.format(f"{med[n] / med['npfast']:.2f}x") for n in names)
    print(f"{'/ npfast':<9}" + "".join(ratios))
    print(f"{'accuracy':<9}" + "".join(cell.format(f"{results[n][2]:.4f}") for n in names))
    if dtype == np.float32:
        print("(float32 losses drift apart once rounding flips a max-pool tie; "
              "in float64 they agree)")


if __name__ == "__main__":
    main()
