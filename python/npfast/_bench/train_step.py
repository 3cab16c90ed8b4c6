"""train-step: one training step of npfast.nn.ResNet (examples/train_resnet.py) against the same
network in torch eager mode, split into forward, backward and the SGD update; inference; and the
layers issue 19 added (batch_norm training forward + backward, conv_transpose2d)."""

from __future__ import annotations

import os

import numpy as np

import npfast
from npfast import nn

from .anchors import npfast_has, optional
from .plots import line_plot
from .section import Section, ratio
from .timing import compare, fmt_time

NAME = "train_step"
TITLE = "train-step: ResNet training step (forward, backward, SGD) and its new layers"

PHASES = ("forward", "backward", "step", "whole step", "inference")


def torch_resnet(model):
    """npfast.nn.ResNet `model` as torch.nn (torchvision's BasicBlock structure, so the
    state_dict keys match), with the model's current weights and buffers, in its dtype."""
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
            self.layer1, self.layer2, self.layer3 = (
                torch.nn.Sequential(Block(widths[max(i - 1, 0)], w, 1 if i == 0 else 2))
                for i, w in enumerate(widths))
            self.fc = torch.nn.Linear(widths[-1], classes)

        def forward(self, x):
            x = F.relu(self.bn1(self.conv1(x)))
            x = self.layer3(self.layer2(self.layer1(x)))
            return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))

    widths = tuple(getattr(model, f"layer{i}")[0].conv1.out_channels for i in (1, 2, 3))
    dtype = torch.float64 if model.fc.weight.dtype == np.float64 else torch.float32
    net = Net(model.conv1.in_channels, model.fc.out_features, widths).to(dtype)
    net.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in model.state_dict().items()})
    return net


def run(ctx, out_dir):
    sec = Section(NAME, TITLE, columns=["case", "tool", "time", "npfast speed-up"])
    torch, why_torch = optional("torch")
    if torch is None:
        sec.note(f"PyTorch rows skipped: {why_torch}")
    else:
        torch.set_num_threads(npfast.get_num_threads())
    missing = npfast_has("batch_norm", "conv_transpose2d", "nn.ResNet")
    if missing:
        sec.skipped = missing
        return sec
    n, size = (4, 16) if ctx.mode == "tiny" else (64, 32)
    per_phase = resnet_rows(ctx, sec, torch, n, size)
    plot = line_plot(os.path.join(out_dir, "train_step.png"),
                     f"ResNet (16/32/64) batch {n} of {size}x{size}x3: time per batch",
                     "phase (0 forward, 1 backward, 2 SGD step, 3 whole step, 4 inference)",
                     "ms", {tool: (list(range(len(PHASES))), [1e3 * t if t else None for t in ts])
                            for tool, ts in per_phase.items()})
    if plot:
        sec.plots.append(plot)
    layer_rows(ctx, sec, torch)
    sec.note("speed-up = torch time / npfast time in the same run (torch eager, same threads); "
             "the whole step is forward + loss + backward + SGD (momentum 0.9), timed as one.")
    return sec


def resnet_rows(ctx, sec, torch, n, size):
    rng = np.random.default_rng(0)
    model = nn.ResNet(3, 10, rng=0)
    x = rng.standard_normal((n, 3, size, size)).astype(np.float32)
    labels = rng.integers(0, 10, n)
    loss_fn = nn.CrossEntropyLoss()
    opt = nn.SGD(model, lr=0.01, momentum=0.9)
    net = torch_resnet(model) if torch is not None else None

    def np_forward():
        return loss_fn.forward(model.forward(x), labels)

    def np_backward():
        model.backward(loss_fn.backward(), input_grad=False)

    def np_whole():
        np_forward()
        np_backward()
        opt.step()

    def np_forward_backward():
        np_forward()
        np_backward()

    np_whole()
    fns = {"forward": {"npfast": np_forward}, "forward+backward": {"npfast": np_forward_backward},
           "step": {"npfast": opt.step}, "whole step": {"npfast": np_whole}}
    if net is not None:
        tx, ty = torch.from_numpy(x), torch.from_numpy(labels)
        topt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9)

        def t_forward():
            return torch.nn.functional.cross_entropy(net(tx), ty)

        def t_forward_backward():
            topt.zero_grad(set_to_none=True)
            t_forward().backward()

        def t_whole():
            t_forward_backward()
            topt.step()

        t_whole()
        fns["forward"]["torch"] = t_forward
        fns["forward+backward"]["torch"] = t_forward_backward
        fns["step"]["torch"] = topt.step
        fns["whole step"]["torch"] = t_whole
    label = f"ResNet batch {n} {size}x{size}x3 float32"
    per_phase = {tool: [] for tool in fns["forward"]}
    measured = {}
    for phase in ("forward", "forward+backward", "step", "whole step"):
        measured[phase] = compare(fns[phase], ctx.budget)
    # The backward alone: forward+backward less the forward, alike for both tools (torch's
    # backward needs a fresh graph per call).
    measured["backward"] = {tool: max(measured["forward+backward"][tool] - t, 1e-9)
                            for tool, t in measured["forward"].items()}
    for phase in ("forward", "backward", "step", "whole step"):
        add(sec, f"{label} {phase}" + (" (derived)" if phase == "backward" else ""),
            measured[phase])
        for tool in per_phase:
            per_phase[tool].append(measured[phase].get(tool))
    model.eval()
    inf = {"npfast": lambda: model.forward(x)}
    if net is not None:
        net.eval()

        def t_inf():
            with torch.no_grad():
                return net(tx)

        inf["torch"] = t_inf
    times = compare(inf, ctx.budget)
    add(sec, f"{label} inference forward", times)
    for tool in per_phase:
        per_phase[tool].append(times.get(tool))
    model.train()
    return per_phase


def layer_rows(ctx, sec, torch):
    tiny = ctx.mode == "tiny"
    rng = np.random.default_rng(1)
    shape = (2, 8, 8, 8) if tiny else (32, 64, 56, 56)
    x = rng.standard_normal(shape).astype(np.float32)
    gy = rng.standard_normal(shape).astype(np.float32)
    c = shape[1]
    rm, rv = np.zeros(c, np.float32), np.ones(c, np.float32)
    w, b = np.ones(c, np.float32), np.zeros(c, np.float32)

    def bn():
        y, m, s = npfast.batch_norm(x, rm, rv, w, b, training=True)
        npfast.batch_norm_backward(gy, x, w, m, s)

    fns = {"npfast": bn}
    if torch is not None:
        tx = torch.from_numpy(x).requires_grad_()
        tw, tb = torch.from_numpy(w).requires_grad_(), torch.from_numpy(b).requires_grad_()
        trm, trv, tg = torch.from_numpy(rm.copy()), torch.from_numpy(rv.copy()), torch.from_numpy(gy)

        def t_bn():
            tx.grad = tw.grad = tb.grad = None
            torch.nn.functional.batch_norm(tx, trm, trv, tw, tb, training=True).backward(tg)

        fns["torch"] = t_bn
    add(sec, f"batch_norm training fwd+bwd {shape} float32", compare(fns, ctx.budget))

    n, cin, cout, hw = (2, 16, 8, 8) if tiny else (16, 128, 64, 16)
    xt = rng.standard_normal((n, cin, hw, hw)).astype(np.float32)
    wt = (rng.standard_normal((cin, cout, 4, 4)) * 0.05).astype(np.float32)
    gyt = rng.standard_normal((n, cout, 2 * hw, 2 * hw)).astype(np.float32)
    fwd = {"npfast": lambda: npfast.conv_transpose2d(xt, wt, stride=2, padding=1)}
    bwd = {"npfast": lambda: npfast.conv_transpose2d_backward(gyt, xt, wt, stride=2, padding=1,
                                                              output_mask=(True, True, False))}
    if torch is not None:
        txt, twt, tgy = torch.from_numpy(xt), torch.from_numpy(wt), torch.from_numpy(gyt)
        ct = torch.nn.functional.conv_transpose2d

        def t_fwd():
            with torch.no_grad():
                return ct(txt, twt, stride=2, padding=1)

        def t_bwd():
            return torch.ops.aten.convolution_backward(
                tgy, txt, twt, None, [2, 2], [1, 1], [1, 1], True, [0, 0], 1, [True, True, False])

        fwd["torch"], bwd["torch"] = t_fwd, t_bwd
    label = f"conv_transpose2d 4x4/2 {cin}->{cout} {hw}->{2 * hw} batch {n} float32"
    add(sec, f"{label} forward", compare(fwd, ctx.budget))
    add(sec, f"{label} backward", compare(bwd, ctx.budget))


def add(sec, label, times):
    ours = times.get("npfast")
    for tool, t in times.items():
        sec.rows.append([label, tool, fmt_time(t), ratio(t, ours) if tool != "npfast" else ""])
