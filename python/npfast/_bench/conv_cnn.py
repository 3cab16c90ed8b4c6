"""conv-cnn: the CNN convolution: the 32x32x3 case in every spelling, then ResNet-style layers."""

from __future__ import annotations

import numpy as np

import npfast
from npfast import _npfast

from .anchors import npfast_has, optional
from .section import Section, pct, ratio
from .spellings import conv_cnn_numpy_dot, conv_cnn_python_loop
from .timing import compare, fmt_time

NAME = "conv_cnn"
TITLE = "conv-cnn: NCHW conv2d (PyTorch semantics), forward and backward"

# name, N, C, H, W, O, k, stride, padding, groups
LAYERS = [
    ("ResNet 3x3 64->64 @56, N=1", 1, 64, 56, 56, 64, 3, 1, 1, 1),
    ("3x3 128->128 @28, N=8", 8, 128, 28, 28, 128, 3, 1, 1, 1),
    ("1x1 256->64 @56, N=1", 1, 256, 56, 56, 64, 1, 1, 0, 1),
    ("depthwise 3x3 32ch @112, N=1", 1, 32, 112, 112, 32, 3, 1, 1, 32),
    ("stem 7x7/2 3->64 @224, N=1", 1, 3, 224, 224, 64, 7, 2, 3, 1),
]


def shrink(layer, mode):
    if mode != "tiny":
        return layer
    name, n, c, h, w, o, k, s, p, g = layer
    c2, o2 = max(1, c // 16), max(1, o // 16)
    if g > 1:
        c2 = o2 = g2 = max(1, g // 16)
        return (name, 1, c2, 12, 12, o2, k, s, p, g2)
    return (name, 1, c2, 12, 12, o2, k, s, p, 1)


def flops(n, c, oh, ow, o, k, groups):
    return 2.0 * n * o * oh * ow * (c // groups) * k * k


def run(ctx, out_dir):
    sec = Section(NAME, TITLE, columns=["case", "tool", "time", "npfast speed-up", "GFLOP/s",
                                        "% of peak"])
    torch, why_torch = optional("torch")
    if torch is None:
        sec.note(f"PyTorch rows skipped: {why_torch}")
    else:
        torch.set_num_threads(npfast.get_num_threads())
    missing = npfast_has("conv2d")
    if missing:
        sec.note(f"npfast rows skipped: {missing}")
    small_case(ctx, sec, torch, missing)
    for layer in LAYERS:
        for dtype in ([np.float32, np.float64] if layer is LAYERS[0] else [np.float32]):
            layer_case(ctx, sec, torch, missing, shrink(layer, ctx.mode), dtype, backward=False)
    missing_bwd = missing or npfast_has("conv2d_backward")
    layer_case(ctx, sec, torch, missing_bwd, shrink(LAYERS[0], ctx.mode), np.float32,
               backward=True)
    # A first layer trains its weights only: its input is the data, which needs no gradient.
    stem = next(layer for layer in LAYERS if layer[0].startswith("stem"))
    layer_case(ctx, sec, torch, missing_bwd, shrink(stem, ctx.mode), np.float32,
               backward="weight")
    sec.note("speed-up = other tool's time / npfast's time, measured in the same run; % of peak "
             "uses the FMA peak measured above for the dtype.")
    sec.note("GFLOP/s counts the direct convolution's 2*N*O*(C/groups)*kH*kW*OH*OW flops for "
             "every tool; npfast runs 3x3 stride-1 layers as Winograd F(2x2,3x3), which does "
             "2.25x fewer multiply-adds, so its effective rate can exceed the FMA peak (marked "
             "'(Winograd)', not noise).")
    return sec


def small_case(ctx, sec, torch, missing):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 32, 32))
    w = rng.standard_normal((10, 3, 2, 2))
    fns = {"Python loops": lambda: conv_cnn_python_loop(x, w, 2),
           "NumPy as_strided + dot": lambda: conv_cnn_numpy_dot(x, w, 2)}
    if torch is not None:
        tx, tw = torch.from_numpy(x)[None], torch.from_numpy(w)

        def torch_fn():
            with torch.no_grad():
                return torch.nn.functional.conv2d(tx, tw, stride=2)

        fns["torch"] = torch_fn
    if not missing:
        fns["npfast"] = lambda: npfast.conv2d(x, w, stride=2)
    times = compare(fns, ctx.budget)
    fl = flops(1, 3, 16, 16, 10, 2, 1)
    add_rows(sec, "32x32x3, ten 2x2x3 filters, stride 2 (float64)", times, fl, ctx.limits.get("flops_f64"))


def layer_case(ctx, sec, torch, missing, layer, dtype, backward):
    name, n, c, h, w, o, k, s, p, g = layer
    rng = np.random.default_rng(1)
    x = rng.standard_normal((n, c, h, w)).astype(dtype)
    wt = (rng.standard_normal((o, c // g, k, k)) * 0.1).astype(dtype)
    oh, ow = (h + 2 * p - k) // s + 1, (w + 2 * p - k) // s + 1
    # Forward + grad_input + grad_weight, or forward + grad_weight for a first layer.
    fl = flops(n, c, oh, ow, o, k, g) * (2 if backward == "weight" else 3 if backward else 1)
    fns = {}
    if torch is not None:
        tx, tw = torch.from_numpy(x), torch.from_numpy(wt)
        conv = torch.nn.functional.conv2d
        if backward:
            txg = tx.clone().requires_grad_(backward != "weight")
            twg = tw.clone().requires_grad_()
            gy = torch.ones((n, o, oh, ow), dtype=tx.dtype)

            def torch_fn():
                txg.grad = twg.grad = None
                conv(txg, twg, stride=s, padding=p, groups=g).backward(gy)
        else:
            def torch_fn():
                with torch.no_grad():
                    return conv(tx, tw, stride=s, padding=p, groups=g)
        fns["torch"] = torch_fn
    if not missing:
        if backward:
            gy_np = np.ones((n, o, oh, ow), dtype=dtype)

            def ours():
                npfast.conv2d(x, wt, stride=s, padding=p, groups=g)
                npfast.conv2d_backward(gy_np, x, wt, stride=s, padding=p, groups=g,
                                       output_mask=(backward != "weight", True, False))
        else:
            def ours():
                return npfast.conv2d(x, wt, stride=s, padding=p, groups=g)
        fns["npfast"] = ours
    if not fns:
        return
    times = compare(fns, ctx.budget)
    peak = ctx.limits.get("flops_f32" if dtype == np.float32 else "flops_f64")
    label = f"{name} {np.dtype(dtype).name}" + (
        " fwd+grad_weight (first layer)" if backward == "weight" else " fwd+bwd" if backward else "")
    winograd = not missing and _npfast._conv2d_algorithm(x, wt, stride=s, padding=p,
                                                         groups=g) == "winograd"
    add_rows(sec, label, times, fl, peak, winograd)


def add_rows(sec, label, times, fl, peak, winograd=False):
    ours = times.get("npfast")
    for tool, t in times.items():
        effective = "Winograd" if winograd and tool == "npfast" else ""
        sec.rows.append([label, tool, fmt_time(t), ratio(t, ours) if tool != "npfast" else "",
                         f"{fl / t / 1e9:.1f}", pct(fl / t, peak, effective)])
