"""conv2d: npfast against PyTorch (CPU), both at the same thread count, in the same run.

Prints, per case, the median times (against torch with one thread: CPU time, which a shared
machine's other load does not inflate; else wall time), the ratio torch_time / npfast_time
(> 1: npfast faster), npfast's GFLOP/s and its fraction of the machine's peak: the FMA
throughput of the threads used, measured at the start (npfast._bench.limits.peak_flops, the
report's probe, in wall time: on a loaded machine it reads low). Times come from the report's
harness (npfast._bench.timing).

    PYTHONPATH=build/dev/python python bench/bench_conv.py [--quick] [--threads 2]
"""

import argparse
import time

import numpy as np

import npfast
from npfast._bench.limits import peak_flops
from npfast._bench.timing import compare


def _interleaved(fa, fb, repeats, min_time, clock=time.perf_counter):
    """Median seconds per call of fa and fb, timed in interleaved rounds (npfast._bench.timing)
    for about `min_time` s each, at least 5 and at most `repeats` rounds."""
    t = compare({"a": fa, "b": fb}, min_time, min_rounds=min(5, repeats), max_rounds=repeats,
                clock=clock)
    return t["a"], t["b"]


def conv_python_loop(x, w, stride):
    """What users write: loop over filters and windows."""
    c, h, wd = x.shape
    o, _, kh, kw = w.shape
    oh, ow = (h - kh) // stride + 1, (wd - kw) // stride + 1
    out = np.zeros((o, oh, ow), x.dtype)
    for f in range(o):
        for i in range(oh):
            for j in range(ow):
                out[f, i, j] = np.sum(x[:, i * stride:i * stride + kh, j * stride:j * stride + kw] * w[f])
    return out


def conv_numpy_dot(x, w, stride):
    """The vectorised NumPy version: sliding windows + one matrix product."""
    c, h, wd = x.shape
    o, _, kh, kw = w.shape
    win = np.lib.stride_tricks.sliding_window_view(x, (kh, kw), axis=(1, 2))[:, ::stride, ::stride]
    oh, ow = win.shape[1], win.shape[2]
    cols = win.transpose(1, 2, 0, 3, 4).reshape(oh * ow, c * kh * kw)
    return (cols @ w.reshape(o, -1).T).T.reshape(o, oh, ow)


# name, dtype, (N, C, H, W), (O, kh, kw), stride, padding, groups[, dilation[, layout]]; NHWC
# rows give npfast (N, H, W, C) arrays and torch memory_format=torch.channels_last tensors.
CASES = [
    ("resnet3x3 64->64 56^2 b1", np.float32, (1, 64, 56, 56), (64, 3, 3), 1, 1, 1),
    ("NHWC resnet3x3 64->64 56^2 b1", np.float32, (1, 64, 56, 56), (64, 3, 3), 1, 1, 1, 1, "NHWC"),
    ("3x3/2 64->128 56^2 b8", np.float32, (8, 64, 56, 56), (128, 3, 3), 2, 1, 1),
    ("fp64 3x3/2 64->128 56^2 b8", np.float64, (8, 64, 56, 56), (128, 3, 3), 2, 1, 1),
    # One image: more threads than images, so its output rows are split (row_split).
    ("3x3/2 64->128 56^2 b1", np.float32, (1, 64, 56, 56), (128, 3, 3), 2, 1, 1),
    ("3x3 dil2 64->64 56^2 b1", np.float32, (1, 64, 56, 56), (64, 3, 3), 1, 2, 1, 2),
    ("fp64 3x3 dil2 64->64 56^2 b1", np.float64, (1, 64, 56, 56), (64, 3, 3), 1, 2, 1, 2),
    ("resnet3x3 128->128 28^2 b8", np.float32, (8, 128, 28, 28), (128, 3, 3), 1, 1, 1),
    ("1x1 256->64 56^2 b1", np.float32, (1, 256, 56, 56), (64, 1, 1), 1, 0, 1),
    ("depthwise3x3 32ch 112^2 b1", np.float32, (1, 32, 112, 112), (32, 3, 3), 1, 1, 32),
    ("stem7x7/2 3->64 224^2 b1", np.float32, (1, 3, 224, 224), (64, 7, 7), 2, 3, 1),
    ("32x32x3 ten 2x2x3 /2", np.float32, (1, 3, 32, 32), (10, 2, 2), 2, 0, 1),
    ("fp64 resnet3x3 64->64 56^2 b1", np.float64, (1, 64, 56, 56), (64, 3, 3), 1, 1, 1),
]


def _flops(xs, ws, stride, pad, groups, dilation=1):
    n, c, h, w = xs
    o, kh, kw = ws
    eh, ew = dilation * (kh - 1) + 1, dilation * (kw - 1) + 1
    oh, ow = (h + 2 * pad - eh) // stride + 1, (w + 2 * pad - ew) // stride + 1
    return 2.0 * n * o * oh * ow * (c // groups) * kh * kw


def run(quick=False, threads=2, only=None):
    """Rows of the report; `only`: substrings of the case names to keep (all if None)."""
    import torch

    torch.set_num_threads(threads)
    npfast.set_num_threads(threads)
    peak32 = peak_flops(np.float32) / 1e9
    peak64 = peak_flops(np.float64) / 1e9
    repeats, min_time = (10, 0.2) if quick else (50, 1.0)
    # One thread: CPU time (a shared machine's other load does not inflate it); more: wall time.
    clock = time.process_time if threads == 1 else time.perf_counter
    rng = np.random.default_rng(0)
    rows = []

    def row(name, t_np, t_anchor, flops, dtype, anchor="torch"):
        peak = peak32 if dtype == np.float32 else peak64
        gflops = flops / t_np / 1e9
        rows.append(dict(name=name, times={"npfast": t_np, anchor: t_anchor}, npfast_s=t_np,
                         anchor=anchor, anchor_s=t_anchor, ratio=t_anchor / t_np, gflops=gflops,
                         fraction=gflops / peak, peak=peak))

    want = lambda name: only is None or any(o in name for o in only)
    for name, dtype, xs, ws, stride, pad, groups, *rest in CASES:
        if not want(name):
            continue
        dil, layout = (list(rest) + [1, "NCHW"][len(rest):])[:2]
        x = rng.standard_normal(xs).astype(dtype)
        w = rng.standard_normal((ws[0], xs[1] // groups, ws[1], ws[2])).astype(dtype)
        b = rng.standard_normal(ws[0]).astype(dtype)
        tx, tw, tb = (torch.from_numpy(a) for a in (x, w, b))
        if layout == "NHWC":
            x = np.ascontiguousarray(x.transpose(0, 2, 3, 1))
            tx = tx.contiguous(memory_format=torch.channels_last)
            tw = tw.contiguous(memory_format=torch.channels_last)

        def f_torch():
            with torch.no_grad():
                torch.nn.functional.conv2d(tx, tw, tb, stride, pad, dil, groups)

        f_np = lambda: npfast.conv2d(x, w, b, stride, pad, dil, groups, layout=layout)
        t_np, t_torch = _interleaved(f_np, f_torch, repeats, min_time, clock)
        row(name, t_np, t_torch, _flops(xs, ws, stride, pad, groups, dil), dtype)

    # Forward + backward of the ResNet layer against autograd.
    if not want("fwd+bwd resnet3x3"):
        return _loops(rows, row, rng, repeats, min_time, want)
    x = rng.standard_normal((1, 64, 56, 56)).astype(np.float32)
    w = rng.standard_normal((64, 64, 3, 3)).astype(np.float32)
    b = rng.standard_normal(64).astype(np.float32)
    gy = rng.standard_normal((1, 64, 56, 56)).astype(np.float32)
    tx = torch.from_numpy(x).requires_grad_()
    tw = torch.from_numpy(w).requires_grad_()
    tb = torch.from_numpy(b).requires_grad_()
    tgy = torch.from_numpy(gy)

    def fb_torch():
        tx.grad = tw.grad = tb.grad = None
        torch.nn.functional.conv2d(tx, tw, tb, 1, 1).backward(tgy)

    def fb_np():
        npfast.conv2d(x, w, b, 1, 1)
        npfast.conv2d_backward(gy, x, w, 1, 1)

    t_np, t_torch = _interleaved(fb_np, fb_torch, repeats, min_time, clock)
    row("fwd+bwd resnet3x3 64->64 56^2 b1", t_np, t_torch,
        3 * _flops((1, 64, 56, 56), (64, 3, 3), 1, 1, 1), np.float32, "torch autograd")

    return _loops(rows, row, rng, repeats, min_time, want)


def _loops(rows, row, rng, repeats, min_time, want):
    """The 32x32x3 case the way users write it without a library."""
    if not want("32x32x3 ten 2x2x3 /2 vs"):
        return rows
    x = rng.standard_normal((3, 32, 32)).astype(np.float32)
    w = rng.standard_normal((10, 3, 2, 2)).astype(np.float32)
    flops = _flops((1, 3, 32, 32), (10, 2, 2), 2, 0, 1)
    f_np = lambda: npfast.conv2d(x, w, None, 2)
    for label, fn, reps in [("python loop", conv_python_loop, 3), ("numpy dot", conv_numpy_dot, repeats)]:
        np.testing.assert_allclose(fn(x, w, 2), f_np(), rtol=1e-4, atol=1e-4)
        t_np, t_other = _interleaved(f_np, lambda: fn(x, w, 2), reps, min_time / 4)
        row("32x32x3 ten 2x2x3 /2 vs " + label, t_np, t_other, flops, np.float32, label)
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--only", nargs="*", help="substrings of the case names to run")
    args = ap.parse_args()
    rows = run(args.quick, args.threads, args.only)
    peak = max((r["peak"] for r in rows), default=0.0)
    print(f"threads={args.threads}, measured float32 peak {peak:.0f} GFLOP/s, "
          f"ratio = anchor time / npfast time")
    print(f"{'case':38s} {'npfast':>10s} {'anchor':>10s} {'ratio':>7s} {'GFLOP/s':>8s} {'peak':>6s}  anchor")
    for r in rows:
        print(f"{r['name']:38s} {r['npfast_s'] * 1e6:8.1f}us {r['anchor_s'] * 1e6:8.1f}us "
              f"{r['ratio']:6.2f}x {r['gflops']:8.1f} {100 * r['fraction']:5.1f}%  {r['anchor']}")


if __name__ == "__main__":
    main()
