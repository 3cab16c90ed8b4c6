"""conv_transpose2d: npfast against PyTorch (CPU), same thread count, same process.

Issue 19's layer (4x4 stride 2, padding 1, 128 -> 64 channels, 16^2 -> 32^2, batch 16,
float32): the forward, the whole backward (grad_input + grad_weight + grad_bias) and each
gradient alone (torch's convolution_backward with the same output_mask), in interleaved rounds
(npfast._bench.timing). Ratio = torch time / npfast time (> 1: npfast faster). With one thread
the clock is CPU time (a shared machine's other load does not inflate it); with more, wall time.

    PYTHONPATH=build/dev/python python bench/bench_conv_transpose.py [--threads 2] \
        [--layout NHWC] [--dtype float64] [--budget 2]
"""

import argparse
import time

import numpy as np
import torch

import npfast
from npfast._bench.timing import compare


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--layout", choices=("NCHW", "NHWC"), default="NCHW")
    ap.add_argument("--dtype", choices=("float32", "float64"), default="float32")
    ap.add_argument("--budget", type=float, default=2.0, help="seconds per case")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    npfast.set_num_threads(a.threads)
    clock = time.process_time if a.threads == 1 else time.perf_counter
    n, cin, cout, hw = 16, 128, 64, 16
    dt = np.dtype(a.dtype)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, cin, hw, hw)).astype(dt)
    w = (rng.standard_normal((cin, cout, 4, 4)) * 0.05).astype(dt)
    b = rng.standard_normal(cout).astype(dt)
    gy = rng.standard_normal((n, cout, 2 * hw, 2 * hw)).astype(dt)
    tx, tw, tb, tgy = (torch.from_numpy(v) for v in (x, w, b, gy))
    if a.layout == "NHWC":
        x, gy = (np.ascontiguousarray(v.transpose(0, 2, 3, 1)) for v in (x, gy))
        tx, tw, tgy = (v.contiguous(memory_format=torch.channels_last) for v in (tx, tw, tgy))
    args = dict(stride=2, padding=1, layout=a.layout)
    out = npfast.conv_transpose2d(x, w, b, **args)

    def npf_bwd(mask):
        return lambda: npfast.conv_transpose2d_backward(gy, x, w, **args, output_mask=mask)

    def torch_bwd(mask):
        return lambda: torch.ops.aten.convolution_backward(
            tgy, tx, tw, [cout], [2, 2], [1, 1], [1, 1], True, [0, 0], 1, list(mask))

    def torch_fwd():
        with torch.no_grad():
            return torch.nn.functional.conv_transpose2d(tx, tw, tb, stride=2, padding=1)

    cases = [("forward", lambda: npfast.conv_transpose2d(x, w, b, **args, out=out), torch_fwd)]
    for label, mask in (("backward (all three)", (True, True, True)),
                        ("grad_input", (True, False, False)),
                        ("grad_weight", (False, True, False)), ("grad_bias", (False, False, True))):
        cases.append((label, npf_bwd(mask), torch_bwd(mask)))
    print(f"conv_transpose2d 4x4/2 {cin}->{cout} {hw}->{2 * hw} batch {n} {a.dtype} {a.layout}, "
          f"{a.threads} thread(s), {'CPU' if a.threads == 1 else 'wall'} time")
    for label, ours, theirs in cases:
        t = compare({"npfast": ours, "torch": theirs}, a.budget, clock=clock)
        print(f"  {label:22s} npfast {t['npfast'] * 1e3:8.2f} ms   torch {t['torch'] * 1e3:8.2f} ms"
              f"   ratio {t['torch'] / t['npfast']:5.2f}x", flush=True)


if __name__ == "__main__":
    main()
