"""maxpool: max-pool with indices, every spelling; the 3001x200 2-D case; backward."""

from __future__ import annotations

import numpy as np

import npfast

from .anchors import npfast_has, optional
from .section import Section, pct, ratio
from .spellings import maxpool_numpy, maxpool_python_loop
from .timing import compare, fmt_time

NAME = "maxpool"
TITLE = "maxpool: max_pool2d with argmax indices (PyTorch semantics)"


def run(ctx, out_dir):
    sec = Section(NAME, TITLE, columns=["case", "tool", "time", "npfast speed-up", "GB/s",
                                        "% of bw"])
    torch, why = optional("torch")
    if torch is None:
        sec.note(f"PyTorch rows skipped: {why}")
    else:
        torch.set_num_threads(npfast.get_num_threads())
    missing = npfast_has("max_pool2d")
    if missing:
        sec.note(f"npfast rows skipped: {missing}")
    bw = ctx.limits.get("bandwidth")
    batches = {"tiny": [(2, 1, 28, 28)], "quick": [(64, 1, 28, 28), (64, 16, 28, 28)],
               "full": [(64, 1, 28, 28), (64, 16, 28, 28), (256, 32, 28, 28)]}[ctx.mode]
    rng = np.random.default_rng(0)
    for shape in batches:
        for dtype in (np.float32, np.float64):
            x = rng.standard_normal(shape).astype(dtype)
            fns = {}
            if shape[0] * shape[1] <= 64:
                fns["Python loops"] = lambda: maxpool_python_loop(x, 2)
            fns["NumPy reshape + argmax"] = lambda: maxpool_nchw_numpy(x)
            if torch is not None:
                tx = torch.from_numpy(x)
                fns["torch"] = lambda: torch.nn.functional.max_pool2d(tx, 2, return_indices=True)
            if not missing:
                fns["npfast"] = lambda: npfast.max_pool2d(x, 2, return_indices=True)
            times = compare(fns, ctx.budget)
            out_n = x.size // 4
            nbytes = x.nbytes + out_n * (x.itemsize + 8)
            add_rows(sec, f"{shape} k=2 {np.dtype(dtype).name}", times, nbytes, bw)
    # The 2-D case from the report: 3001x200 float64, 3x3 windows, floor mode.
    a = rng.standard_normal((3001, 200)) if ctx.mode != "tiny" else rng.standard_normal((301, 20))
    fns = {"NumPy reshape + argmax": lambda: maxpool_numpy(a, 3)}
    if torch is not None:
        ta = torch.from_numpy(a)[None]
        fns["torch"] = lambda: torch.nn.functional.max_pool2d(ta, 3, return_indices=True)
    if not missing:
        fns["npfast"] = lambda: npfast.max_pool2d(a, 3, return_indices=True)
    times = compare(fns, ctx.budget)
    out_n = (a.shape[0] // 3) * (a.shape[1] // 3)
    add_rows(sec, f"{a.shape} float64 k=3 (2-D)", times, a.nbytes + out_n * 16, bw)
    # Backward of the MNIST-shaped batch.
    if not missing and not npfast_has("max_pool2d_backward"):
        x = rng.standard_normal(batches[-1]).astype(np.float32)
        y, idx = npfast.max_pool2d(x, 2, return_indices=True)
        g = np.ones_like(y)
        fns = {"npfast": lambda: npfast.max_pool2d_backward(g, idx, x.shape)}
        if torch is not None:
            tx = torch.from_numpy(x).requires_grad_()
            ty = torch.nn.functional.max_pool2d(tx, 2)
            tg = torch.from_numpy(g)

            def torch_bwd():
                tx.grad = None
                ty.backward(tg, retain_graph=True)

            fns["torch"] = torch_bwd
        times = compare(fns, ctx.budget)
        nbytes = x.nbytes + g.nbytes + idx.nbytes
        add_rows(sec, f"{batches[-1]} backward float32", times, nbytes, bw)
    sec.note("GB/s counts input + output + indices (backward: grad_output + indices + grad_input).")
    return sec


def maxpool_nchw_numpy(x):
    """Vectorised NumPy 2x2 max-pool with indices over a whole (N, C, H, W) batch."""
    n, c, h, w = x.shape
    b = x.reshape(n, c, h // 2, 2, w // 2, 2).transpose(0, 1, 2, 4, 3, 5).reshape(n, c, h // 2, w // 2, 4)
    arg = b.argmax(axis=-1)
    out = np.take_along_axis(b, arg[..., None], axis=-1)[..., 0]
    rows = np.arange(h // 2)[:, None] * 2 + arg // 2
    cols = np.arange(w // 2)[None, :] * 2 + arg % 2
    return out, rows * w + cols


def add_rows(sec, label, times, nbytes, bw):
    ours = times.get("npfast")
    for tool, t in times.items():
        sec.rows.append([label, tool, fmt_time(t), ratio(t, ours) if tool != "npfast" else "",
                         f"{nbytes / t / 1e9:.1f}", pct(nbytes / t, bw)])
