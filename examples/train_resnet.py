#!/usr/bin/env python
"""Train a small ResNet on scikit-learn's digits with npfast alone.

    python examples/train_resnet.py             # train: loss, images/s per epoch, test accuracy
    python examples/train_resnet.py --compare   # also train the same network in PyTorch

The network (npfast.nn): a conv-BN-ReLU stem (3x3, 1->16), three residual stages of one basic
block each (16 @16x16, 32 @8x8 and 64 @4x4, the last two downsampling with stride 2 and a 1x1
conv-BN shortcut), global average pooling and a linear head, trained with SGD + momentum (or
--optimizer adam) and softmax cross-entropy. Every convolution, batch norm (with its ReLU fused),
pooling and matmul runs on npfast kernels. The digits ship with scikit-learn (no download):
1797 8x8 images upsampled to 16x16, split 75/25 and batched in an order fixed by --seed.

--compare builds the same network in torch.nn (torchvision's BasicBlock layout, so the
state_dict keys match), loads the npfast model's initial weights, trains it on the same batches
with torch.optim, and prints both runs' losses, images per second and test accuracy.
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import time
from pathlib import Path

import numpy as np

import npfast
from npfast import nn

WIDTHS = (16, 32, 64)


def _digits_example():
    """examples/train_digits.py, for its data loading and batch order (one copy of each)."""
    spec = importlib.util.spec_from_file_location(
        "train_digits", Path(__file__).resolve().parent / "train_digits.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_digits = _digits_example()
load_data = _digits.load_data
batch_orders = _digits.batch_orders


class ResNet(nn.Module):
    """conv-BN-ReLU stem, one BasicBlock per width (stride 1, then 2), global average pool,
    linear head. Attribute names follow torchvision's ResNet, so ``state_dict()`` keys do too."""

    def __init__(self, in_channels=1, num_classes=10, widths=WIDTHS, *, dtype=np.float32, rng=0):
        gen = np.random.default_rng(rng)
        w0 = widths[0]
        self.conv1 = nn.Conv2d(in_channels, w0, 3, 1, 1, bias=False, dtype=dtype, rng=gen)
        self.bn1 = nn.BatchNorm2d(w0, relu=True, dtype=dtype)
        stages = []
        for i, w in enumerate(widths):
            prev = widths[max(i - 1, 0)]
            stages.append(nn.Sequential(nn.BasicBlock(prev, w, 1 if i == 0 else 2, dtype=dtype,
                                                      rng=gen)))
        self.layer1, self.layer2, self.layer3 = stages
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.flatten = nn.Flatten()
        self.fc = nn.Linear(widths[-1], num_classes, dtype=dtype, rng=gen)
        self._order = [self.conv1, self.bn1, self.layer1, self.layer2, self.layer3, self.avgpool,
                       self.flatten, self.fc]

    def forward(self, x):
        for layer in self._order:
            x = layer.forward(x)
        return x

    def backward(self, grad_output, *, input_grad=True):
        g = grad_output
        for i in range(len(self._order) - 1, -1, -1):
            g = self._order[i].backward(g, input_grad=input_grad or i > 0)
        return g

    def named_children(self):
        return (kv for kv in super().named_children() if not kv[0].startswith("_order"))


def torch_resnet(model):
    """The same network in torch.nn with `model`'s current weights and buffers (float32 or
    float64, as the model)."""
    import torch
    import torch.nn.functional as F

    class Block(torch.nn.Module):
        def __init__(self, cin, cout, stride):
            super().__init__()
            self.conv1 = torch.nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
            self.bn1 = torch.nn.BatchNorm2d(cout)
            self.conv2 = torch.nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
            self.bn2 = torch.nn.BatchNorm2d(cout)
            self.downsample = None
            if stride != 1 or cin != cout:
                self.downsample = torch.nn.Sequential(
                    torch.nn.Conv2d(cin, cout, 1, stride, bias=False), torch.nn.BatchNorm2d(cout))

        def forward(self, x):
            y = self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))
            return F.relu(y + (x if self.downsample is None else self.downsample(x)))

    class Net(torch.nn.Module):
        def __init__(self, cin, classes, widths):
            super().__init__()
            self.conv1 = torch.nn.Conv2d(cin, widths[0], 3, 1, 1, bias=False)
            self.bn1 = torch.nn.BatchNorm2d(widths[0])
            layers = [torch.nn.Sequential(Block(widths[max(i - 1, 0)], w, 1 if i == 0 else 2))
                      for i, w in enumerate(widths)]
            self.layer1, self.layer2, self.layer3 = layers
            self.fc = torch.nn.Linear(widths[-1], classes)

        def forward(self, x):
            x = F.relu(self.bn1(self.conv1(x)))
            x = self.layer3(self.layer2(self.layer1(x)))
            return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))

    widths = (model.layer1[0].conv1.out_channels, model.layer2[0].conv1.out_channels,
              model.layer3[0].conv1.out_channels)
    dtype = torch.float64 if model.fc.weight.dtype == np.float64 else torch.float32
    net = Net(model.conv1.in_channels, model.fc.out_features, widths).to(dtype)
    net.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in model.state_dict().items()})
    return net


def make_optimizer(model, args):
    if args.optimizer == "adam":
        return nn.Adam(model, lr=args.lr)
    return nn.SGD(model, lr=args.lr, momentum=args.momentum)


def train_epoch(model, loss_fn, opt, x, y, order, batch_size):
    """One pass over x in the given order; returns the mean training loss."""
    model.train()
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


def train_torch(model, data, orders, args):
    """Trains torch_resnet(model) on the same batches; returns (times, losses, accuracy)."""
    import torch

    x, y, x_test, y_test = (torch.from_numpy(np.ascontiguousarray(a)) for a in data)
    net = torch_resnet(model)
    if args.optimizer == "adam":
        opt = torch.optim.Adam(net.parameters(), lr=args.lr)
    else:
        opt = torch.optim.SGD(net.parameters(), lr=args.lr, momentum=args.momentum)
    loss_fn = torch.nn.CrossEntropyLoss()
    times, losses = [], []
    for order in orders:
        net.train()
        t0 = time.perf_counter()
        total = 0.0
        for start in range(0, len(order), args.batch_size):
            idx = torch.from_numpy(order[start:start + args.batch_size])
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(net(x[idx]), y[idx])
            loss.backward()
            opt.step()
            total += loss.item() * len(idx)
        times.append(time.perf_counter() - t0)
        losses.append(total / len(order))
    net.eval()
    with torch.no_grad():
        acc = float((net(x_test).argmax(1) == y_test).double().mean())
    return times, losses, acc


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--optimizer", choices=["sgd", "adam"], default="sgd")
    p.add_argument("--lr", type=float, default=None, help="default 0.05 (sgd), 0.003 (adam)")
    p.add_argument("--momentum", type=float, default=0.9)
    p.add_argument("--seed", type=int, default=0, help="fixes split, initial weights, batch order")
    p.add_argument("--dtype", choices=["float32", "float64"], default="float32")
    p.add_argument("--threads", type=int, default=None, help="threads for npfast (and PyTorch)")
    p.add_argument("--limit", type=int, default=None,
                   help="train on the first N training images only")
    p.add_argument("--compare", action="store_true", help="also train it in PyTorch")
    args = p.parse_args(argv)
    if args.lr is None:
        args.lr = 0.003 if args.optimizer == "adam" else 0.05
    return args


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
    model = ResNet(dtype=dtype, rng=args.seed)
    start_state = {k: np.array(v) for k, v in model.state_dict().items()}
    orders = batch_orders(len(x), args.epochs, args.seed)
    print(f"npfast {npfast.__version__}, {dtype}, threads={npfast.get_num_threads()}; digits "
          f"{len(x)} train / {len(x_test)} test, {x.shape[2]}x{x.shape[3]}; {args.optimizer} "
          f"lr {args.lr}, batch {args.batch_size}")
    loss_fn = nn.CrossEntropyLoss()
    opt = make_optimizer(model, args)
    times, losses = [], []
    for epoch, order in enumerate(orders, 1):
        t0 = time.perf_counter()
        losses.append(train_epoch(model, loss_fn, opt, x, y, order, args.batch_size))
        times.append(time.perf_counter() - t0)
        print(f"epoch {epoch:2d}/{args.epochs}  loss {losses[-1]:.4f}  time {times[-1]:.3f} s  "
              f"{len(order) / times[-1]:.0f} images/s", flush=True)
    model.eval()
    accuracy = float(np.mean(predict(model.forward, x_test) == y_test))
    print(f"npfast: {len(x) / statistics.median(times):.0f} images/s (median epoch)")

    if args.compare:
        try:
            import torch
        except ImportError:
            print("PyTorch is not installed: skipping --compare")
        else:
            torch.set_num_threads(npfast.get_num_threads())
            print(f"training it in PyTorch {torch.__version__} "
                  f"(threads={torch.get_num_threads()}) ...", flush=True)
            start = ResNet(dtype=dtype, rng=args.seed).load_state_dict(start_state)
            t_times, t_losses, t_acc = train_torch(start, data, orders, args)
            print("\nepoch      npfast loss  images/s     torch loss  images/s")
            for e in range(len(times)):
                print(f"{e + 1:<9}{losses[e]:>12.4f}{len(x) / times[e]:>10.0f}"
                      f"{t_losses[e]:>15.4f}{len(x) / t_times[e]:>10.0f}")
            ratio = statistics.median(t_times) / statistics.median(times)
            print(f"median images/s: npfast {len(x) / statistics.median(times):.0f}, torch "
                  f"{len(x) / statistics.median(t_times):.0f} ({ratio:.2f}x)")
            print(f"torch test accuracy: {t_acc:.4f}")
    print(f"test accuracy: {accuracy:.4f}")
    return accuracy


if __name__ == "__main__":
    main()
