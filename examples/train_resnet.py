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


# The network is npfast.nn.ResNet; its torch.nn twin (same structure and state_dict keys) is the
# one the benchmark report's train-step section times.
ResNet = nn.ResNet


def torch_resnet(model):
    """The same network in torch.nn with `model`'s current weights and buffers."""
    from npfast._bench.train_step import torch_resnet as build

    return build(model)


def make_optimizer(model, args):
    if args.optimizer == "adam":
        return nn.Adam(model, lr=args.lr)
    return nn.SGD(model, lr=args.lr, momentum=args.momentum)


def train_epoch(model, loss_fn, opt, x, y, order, batch_size):
    """One pass over x in the given order, in training mode; returns the mean training loss."""
    model.train()
    return _digits.train_epoch(model, loss_fn, opt, x, y, order, batch_size)


predict = _digits.predict


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
