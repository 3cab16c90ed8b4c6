"""npfast.nn: a small layer API for training CNNs on NumPy arrays with npfast's kernels.

The classic from-scratch NumPy network, made fast: each layer has ``forward(x)`` and
``backward(grad_output)``; ``forward`` keeps what ``backward`` needs, ``backward`` stores the
parameter gradients on the layer (``grad_weight``, ``grad_bias``) and returns the gradient with
respect to the layer's input. ``Sequential`` chains layers and ``SGD`` updates their parameters.

    import numpy as np
    from npfast import nn

    model = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Flatten(), nn.Linear(8 * 4 * 4, 10))
    loss_fn = nn.SoftmaxCrossEntropy()
    opt = nn.SGD(model, lr=0.05, momentum=0.9)
    loss = loss_fn.forward(model.forward(x), labels)   # x: (N, 1, 8, 8) float32
    model.backward(loss_fn.backward())
    opt.step()

The heavy work goes through npfast: ``conv2d`` / ``conv2d_backward`` (Conv2d),
``conv_transpose2d`` / ``conv_transpose2d_backward`` (ConvTranspose2d), ``batch_norm`` /
``batch_norm_backward`` (BatchNorm2d, with an optional fused ReLU), ``max_pool2d`` with indices /
``max_pool2d_backward`` (MaxPool2d), ``adaptive_avg_pool2d`` (AdaptiveAvgPool2d) and ``matmul``
(Linear). ReLU, Flatten, Dropout, the residual addition, the softmax and the SGD / Adam updates
are a few NumPy element-wise operations. ``BasicBlock`` and ``ResNet`` (examples/train_resnet.py)
are built from these layers; ``train()`` / ``eval()`` switch BatchNorm2d and Dropout, and
``state_dict()`` / ``save()`` / ``load()`` move the weights as ``.npz`` with PyTorch's names. Layers work in float32 or
float64 (the ``dtype`` of their parameters); inputs must have that dtype. Arrays are NCHW, and
weights have PyTorch's layouts and default initialisation, so a model converts to and from
``torch.nn`` by copying arrays.

Gradients are overwritten, not accumulated, by each ``backward``. A layer keeps a reference to
its forward input (and BatchNorm2d with ``relu=True`` and BasicBlock to their output) until the
next ``forward``: do not modify those arrays in place in between.
"""

from __future__ import annotations

import contextlib
import math
import numbers
import os

import numpy as np

import npfast
from npfast import _npfast

__all__ = [
    "Module",
    "Conv2d",
    "MaxPool2d",
    "ReLU",
    "Flatten",
    "Linear",
    "Sequential",
    "SoftmaxCrossEntropy",
    "CrossEntropyLoss",
    "SGD",
    "Adam",
    "AdamW",
    "ConvTranspose2d",
    "BatchNorm2d",
    "AdaptiveAvgPool2d",
    "Dropout",
    "Residual",
    "BasicBlock",
    "ResNet",
]

_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


def _float_dtype(dtype):
    d = np.dtype(dtype)
    if d not in _FLOATS:
        raise TypeError(f"dtype must be float32 or float64, got {d}")
    return d


def _rng(rng):
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None or isinstance(rng, numbers.Integral):
        return np.random.default_rng(rng)
    raise TypeError("rng must be None, an int seed or a numpy.random.Generator, "
                    f"got {type(rng).__name__}")


def _positive_int(name, value, minimum=1):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f"{name} must be an int >= {minimum}, got {value!r}")
    return int(value)


def _pair(name, value, minimum):
    """PyTorch's pair rule through npfast's one argument parser, then the layer's minimum."""
    return tuple(_positive_int(name, v, minimum) for v in _npfast._pair(value, name))


def _layout(layout):
    if layout not in ("NCHW", "NHWC"):
        raise ValueError(f"layout must be 'NCHW' or 'NHWC', got {layout!r}")
    return layout


def _check_array(layer, x, arg="x"):
    """TypeError naming the layer and `arg` where x is not a NumPy array (a list has no shape to
    check)."""
    if not isinstance(x, np.ndarray):
        raise TypeError(f"{type(layer).__name__}: {arg} must be a numpy.ndarray, "
                        f"got {type(x).__name__}")


def _check_grad(layer, grad_output, shape, dtype=None):
    """grad_output must be an ndarray of the forward output's shape (and dtype, unless None: the
    layers that work in any dtype): broadcasting or
    reshaping a wrong one would give a wrong gradient silently (probe16, probe19b), where torch
    raises."""
    _check_array(layer, grad_output, "grad_output")
    if grad_output.shape != tuple(shape):
        raise ValueError(f"{type(layer).__name__}: grad_output must have the output's shape "
                         f"{tuple(shape)}, got {grad_output.shape}")
    if dtype is not None and grad_output.dtype != dtype:
        raise TypeError(f"{type(layer).__name__}: grad_output must have the output's dtype "
                        f"{dtype}, got {grad_output.dtype}")


def _dtype_error(layer, got, own):
    """The TypeError for an x of another dtype than the layer's parameters; the hint to build
    the layer for x's dtype only where the layer can take it (float32 / float64: probe19b,
    probe19d)."""
    hint = f" or build the layer with dtype={got}" if got in (np.float32, np.float64) else ""
    return TypeError(f"{type(layer).__name__}: x has dtype {got} but the layer's parameters are "
                     f"{own}; cast x{hint}")


def _check_planes(layer, x):
    """ValueError naming the layer where x is not (N, C, H, W) or unbatched (C, H, W), as torch's
    2-d pooling layers refuse a bare (H, W) plane (probe16: it was pooled as one)."""
    if x.ndim not in (3, 4):
        want = ("(N, H, W, C) or 3-d (H, W, C)" if getattr(layer, "layout", "NCHW") == "NHWC"
                else "(N, C, H, W) or 3-d (C, H, W)")
        raise ValueError(f"{type(layer).__name__}: x must be 4-d {want}, got shape {x.shape}")


def _channels(x, layout):
    """The channel count of a 4-d array in ``layout``, or of an unbatched 3-d one."""
    return x.shape[-1 if layout == "NHWC" else -3]


def _init_conv(layer, in_channels, out_channels, kernel_size, stride, padding, dilation, groups,
               bias, dtype, rng, transposed, layout="NCHW"):
    """Conv2d's and ConvTranspose2d's checked arguments and PyTorch's default initialisation:
    weight, then bias, uniform in +-1/sqrt(fan_in), fan_in from the weight's dimension 1 times
    the kernel size (for a transposed weight (in, out/groups, kh, kw) that is out/groups)."""
    layer.in_channels = _positive_int("in_channels", in_channels)
    layer.out_channels = _positive_int("out_channels", out_channels)
    layer.kernel_size = _pair("kernel_size", kernel_size, 1)
    layer.stride = _pair("stride", stride, 1)
    if isinstance(padding, str) and not transposed:  # PyTorch's Conv2d takes these two
        if padding not in ("same", "valid"):
            raise ValueError(f"padding must be an int, a pair of ints, 'same' or 'valid', "
                             f"got {padding!r}")
        if padding == "same" and layer.stride != (1, 1):  # PyTorch refuses it here too
            raise ValueError(f"padding='same' is not supported for strided convolutions, got "
                             f"stride={stride!r}")
        layer.padding = padding
    else:
        layer.padding = _pair("padding", padding, 0)
    layer.dilation = _pair("dilation", dilation, 1)
    layer.groups = _positive_int("groups", groups)
    layer.layout = _layout(layout)
    if in_channels % groups or out_channels % groups:
        raise ValueError(f"groups={groups} must divide in_channels={in_channels} and "
                         f"out_channels={out_channels}")
    dtype = _float_dtype(dtype)
    gen = _rng(rng)
    first, second = (in_channels, out_channels) if transposed else (out_channels, in_channels)
    shape = (first, second // groups) + layer.kernel_size
    bound = 1.0 / np.sqrt(second // groups * layer.kernel_size[0] * layer.kernel_size[1])
    layer.weight = gen.uniform(-bound, bound, shape).astype(dtype)
    layer.bias = gen.uniform(-bound, bound, out_channels).astype(dtype) if bias else None
    layer.grad_weight = None
    layer.grad_bias = None
    layer._x = None


def _foldable(conv, bn):
    """True when ``bn`` (right after ``conv``) is in eval mode with running statistics, so the
    pair is one convolution (``_conv_bn_forward``)."""
    return (isinstance(conv, Conv2d) and isinstance(bn, BatchNorm2d) and not bn.training
            and bn.running_mean is not None and bn.layout == conv.layout
            and bn.num_features == conv.out_channels
            and bn.running_mean.dtype == conv.weight.dtype)


def _folded_params(conv, bn):
    """The weight and bias of the one convolution equal to ``bn(conv(x))`` with ``bn`` in eval
    mode: the statistics are constants, so BN is a per-channel ``scale * (z - mean) + bias``,
    folded into the weights (``w * scale``) and the bias (``bias + (conv_bias - mean) *
    scale``), computed in float64 and rounded once. The rounding differs from the two-layer
    form by about one float32 ulp of the output (docs/nn.md). One C++ call
    (``_npfast._fold_conv_bn``: NumPy's float64 steps, the same bits) instead of ten NumPy
    operations a layer: 8-45 us a layer, 0.14 ms of an eval forward, serial time that two
    threads cannot share."""
    return _npfast._fold_conv_bn(conv.weight, conv.bias, bn.running_mean, bn.running_var,
                                 bn.weight, bn.bias, bn.eps)


def _conv_bn_forward(conv, bn, x, residual=None):
    """``bn(conv(x))`` with ``bn`` in eval mode (``_foldable``) as one ``conv2d``
    (``_folded_params``; BN's ReLU becomes the conv's fused activation): one pass over the
    output instead of two and no intermediate array. With ``residual`` (bn without ReLU),
    ``relu(bn(conv(x)) + residual)``, a basic block's end, in the conv's epilogue.
    ``bn.backward`` after this forward recomputes the unfolded pair first (eval-mode backward
    is rare; the forward stays cheap)."""
    conv._check_input(x, (3, 4), conv._shape_name())
    if x.ndim == 3 or _channels(x, conv.layout) != conv.in_channels:
        # Unfolded, so that the right layer raises: a channel mismatch is the conv's error, a
        # 3-d input the batch norm's (as torch's BatchNorm2d).
        return bn.forward(conv.forward(x))
    weight, bias = _folded_params(conv, bn)
    conv._x = x
    bn._saved_fwd = _Folded(conv)
    relu = bn.relu or residual is not None
    return npfast.conv2d(x, weight, bias, **conv._args(), activation="relu" if relu else None,
                         residual=residual)


@contextlib.contextmanager
def _in_eval(module):
    """Runs the block with ``module`` and every sub-module in eval mode, then gives each its own
    mode back: a backward reruns its eval forward this way (probe16: after ``m.eval(); y =
    m(x); m.train()``, the rerun in training mode updated the running statistics and gave
    training-mode gradients for an eval forward)."""
    modes = []

    def walk(m):
        modes.append((m, m.training))
        m.training = False
        for _, child in m.named_children():
            walk(child)

    walk(module)
    try:
        yield
    finally:
        for m, mode in modes:
            m.training = mode


class _Folded:
    """BatchNorm2d's saved state after ``_conv_bn_forward``: the conv it was folded into (not a
    Module attribute, so ``named_children`` does not see the conv twice)."""

    def __init__(self, conv):
        self.conv = conv


def _global_mean(h):
    """h.mean(axis=(1, 2)) of an (N, H, W, C) activation, NumPy's bits: threaded in C++ where
    that kernel's order is NumPy's (C-contiguous, C >= 2: every head npfast's convolutions
    feed), NumPy's own mean, as before the kernel, for a one-channel head."""
    h = np.ascontiguousarray(h)
    return _npfast._global_mean_nhwc(h) if h.shape[3] >= 2 else h.mean(axis=(1, 2))


def _forward_layers(layers, x):
    """Runs ``layers`` in order, each Conv2d + eval-mode BatchNorm2d pair as one convolution."""
    i, n = 0, len(layers)
    while i < n:
        if i + 1 < n and _foldable(layers[i], layers[i + 1]):
            x = _conv_bn_forward(layers[i], layers[i + 1], x)
            i += 2
        else:
            x = layers[i].forward(x)
            i += 1
    return x


def _check_distinct(where, named):
    """ValueError where one module object appears twice among the ``(name, module)`` pairs
    `named` and their sub-modules. npfast's modules keep their last forward's state for their
    backward and set (not add) their gradients, so a module used twice (a shared ReLU, tied
    weights) gave wrong gradients silently (probe22c); torch's autograd allows it, npfast.nn does
    not."""
    seen = {}

    def walk(name, m):
        if id(m) in seen:
            raise ValueError(f"{where}: {name} is the same {type(m).__name__} object as "
                             f"{seen[id(m)]}; an npfast.nn module keeps one forward's state for "
                             f"its backward, so each use needs its own instance (reused modules "
                             f"and tied weights are not supported)")
        seen[id(m)] = name
        for n, c in m.named_children():
            walk(f"{name}.{n}", c)
    for name, m in named:
        if m is not None:
            walk(name, m)


class Module:
    """Base class: ``forward(x)``, ``backward(grad_output, input_grad=True)``, ``parameters()``.

    ``layer(x)`` is ``layer.forward(x)``. A module lists its parameter attributes in ``_params``
    (each with its gradient in ``grad_<name>``) and its non-trained state in ``_buffers``
    (BatchNorm2d's running statistics); sub-modules are found among its attributes (lists and
    tuples of modules included), named as in PyTorch (``layer1.0.conv1.weight``).
    ``train()`` / ``eval()`` set ``training`` on the module and every sub-module (BatchNorm2d and
    Dropout behave differently); ``state_dict()`` / ``load_state_dict()`` / ``save()`` / ``load()``
    move parameters and buffers as NumPy arrays (``.npz`` files)."""

    _params = ()
    _buffers = ()
    training = True

    def forward(self, x):
        raise NotImplementedError

    def backward(self, grad_output, *, input_grad=True):
        raise NotImplementedError

    def named_children(self):
        """``(name, module)`` for each direct sub-module, in attribute order."""
        for name, value in vars(self).items():
            if isinstance(value, Module):
                yield name, value
            elif isinstance(value, (list, tuple)):
                for i, v in enumerate(value):
                    if isinstance(v, Module):
                        yield f"{name}.{i}", v

    def parameters(self):
        """List of ``(value, grad)`` pairs, one per parameter array (this module's, then its
        sub-modules' in order); ``grad`` is None before the first ``backward``. Optimisers update
        ``value`` in place."""
        params = [(getattr(self, n), getattr(self, "grad_" + n, None)) for n in self._params
                  if getattr(self, n, None) is not None]
        for _, child in self.named_children():
            params.extend(child.parameters())
        return params

    def _param_slots(self):
        """``(module, name)`` of every parameter ``parameters()`` returns, in its order: what an
        optimiser reads each step without walking the module tree again."""
        slots = [(self, n) for n in self._params if getattr(self, n, None) is not None]
        for _, child in self.named_children():
            slots.extend(child._param_slots())
        return slots

    def train(self, mode=True):
        """Sets training mode (``mode``, a bool) here and in every sub-module; returns self."""
        mode = _npfast._bool(mode, "mode")  # a string "False" would be truthy (PyTorch refuses it)
        self.training = mode
        for _, child in self.named_children():
            child.train(mode)
        return self

    def eval(self):
        """``train(False)``: running statistics in BatchNorm2d, no Dropout. Returns self."""
        return self.train(False)

    def state_dict(self, prefix=""):
        """``{name: array}`` of every parameter and buffer, PyTorch's names and layouts (a
        ``torch.nn`` model of the same structure loads it after ``torch.from_numpy``). The arrays
        are the module's own (not copies)."""
        out = {}
        for n in self._params + self._buffers:
            v = getattr(self, n, None)
            if v is not None:
                out[prefix + n] = v
        for name, child in self.named_children():
            out.update(child.state_dict(prefix + name + "."))
        return out

    def load_state_dict(self, state):
        """Copies every array of ``state`` (a mapping such as ``state_dict()``'s, a torch
        state_dict converted with ``.numpy()``, or ``np.load(path)``) into the module's arrays in
        place. KeyError naming the missing or unexpected keys; ValueError for a shape mismatch."""
        if not hasattr(state, "keys") or not hasattr(state, "__getitem__"):
            raise TypeError(f"load_state_dict: state must be a mapping of names to arrays, got "
                            f"{type(state).__name__}")
        own = self.state_dict()
        missing = sorted(set(own) - set(state))
        extra = sorted(set(state) - set(own))
        if missing or extra:
            raise KeyError(f"load_state_dict: missing keys {missing}, unexpected keys {extra}")
        for k, dst in own.items():
            src = np.asarray(state[k])
            if src.shape != dst.shape:
                raise ValueError(f"load_state_dict: {k} has shape {src.shape}, the module's is "
                                 f"{dst.shape}")
            dst[...] = src
        return self

    def save(self, path):
        """``np.savez(path, **state_dict())``."""
        np.savez(path, **self.state_dict())

    def load(self, path):
        """Loads a file written by ``save`` (``load_state_dict(np.load(path))``); returns self.
        A path without ``.npz`` whose file is missing is tried with it, the name ``save`` wrote
        (np.savez adds the suffix; np.load does not: probe22c)."""
        if (isinstance(path, (str, os.PathLike)) and not os.path.exists(path)
                and os.path.exists(os.fspath(path) + ".npz")):
            path = os.fspath(path) + ".npz"
        with np.load(path) as f:
            return self.load_state_dict({k: f[k] for k in f.files})

    def __call__(self, x):
        return self.forward(x)

    def _saved(self, attr):
        value = getattr(self, attr, None)
        if value is None:
            raise RuntimeError(f"{type(self).__name__}.backward called before forward")
        return value

    def _check_input(self, x, ndim, what):
        """x an ndarray of the layer's dtype with `ndim` axes (a tuple: one of them; None: any
        number from 1)."""
        dtype = self.weight.dtype
        _check_array(self, x)
        if x.dtype != dtype:
            raise _dtype_error(self, x.dtype, dtype)
        ndims = ndim if isinstance(ndim, tuple) else (ndim,)
        if (x.ndim < 1) if ndim is None else (x.ndim not in ndims):
            raise ValueError(f"{type(self).__name__}: x must be {what}, got shape {x.shape}")


class Conv2d(Module):
    """2-D convolution layer (cross-correlation, like ``torch.nn.Conv2d``) over NCHW (or NHWC)
    arrays.

    Parameters
    ----------
    in_channels, out_channels : int
        Channels of the input and of the output; ``groups`` must divide both.
    kernel_size, stride, padding, dilation : int or pair of ints
        As in ``torch.nn.Conv2d`` (zero padding; ``padding`` may be 0, the others >= 1;
        ``padding`` may also be ``'same'`` (stride 1) or ``'valid'``, as PyTorch).
    groups : int
        Grouped convolution: ``weight`` has shape ``(out_channels, in_channels // groups, kh, kw)``.
    bias : bool
        Whether to add a learned per-channel bias (``self.bias``, shape ``(out_channels,)``).
    dtype : float32 or float64
        Parameter dtype; inputs must match it.
    rng : None, int or numpy.random.Generator
        Source for the initial weights: uniform in ``±1/sqrt(fan_in)`` (PyTorch's default).
    layout : "NCHW" or "NHWC"
        Layout of the input, output and gradients (the weight keeps PyTorch's layout).

    ``forward`` calls ``npfast.conv2d``; ``backward`` calls ``npfast.conv2d_backward`` and sets
    ``grad_weight`` and ``grad_bias``. Errors: ValueError for bad sizes, TypeError for a bad dtype.
    """

    _params = ("weight", "bias")

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1,
                 groups=1, bias=True, *, dtype=np.float32, rng=None, layout="NCHW"):
        _init_conv(self, in_channels, out_channels, kernel_size, stride, padding, dilation, groups,
                   bias, dtype, rng, transposed=False, layout=layout)

    def _args(self):
        return dict(stride=self.stride, padding=self.padding, dilation=self.dilation,
                    groups=self.groups, layout=self.layout)

    def _shape_name(self):
        return ("(N, H, W, C) or (H, W, C)" if self.layout == "NHWC" else
                "(N, C, H, W) or (C, H, W)")

    def forward(self, x):
        """x: (N, in_channels, H, W) -> (N, out_channels, Ho, Wo) (NHWC: channels last);
        unbatched (in_channels, H, W) -> (out_channels, Ho, Wo), as torch."""
        self._check_input(x, (3, 4), self._shape_name())
        if _channels(x, self.layout) != self.in_channels:
            raise ValueError(f"Conv2d: x has {_channels(x, self.layout)} channels "
                             f"(shape {x.shape}), the layer expects "
                             f"in_channels={self.in_channels}")
        self._x = x
        return npfast.conv2d(x, self.weight, self.bias, **self._args())

    def backward(self, grad_output, *, input_grad=True):
        """Sets grad_weight (and grad_bias); returns d loss / d x, or None if not input_grad."""
        return self._backward(grad_output, input_grad, None)

    def _backward(self, grad_output, input_grad, residual):
        """``backward``; with ``residual`` (input_grad), d loss / d x + residual, added in
        conv2d_backward's epilogue (a residual connection's other branch, as in BasicBlock)."""
        x = self._saved("_x")
        mask = (bool(input_grad), True, self.bias is not None)
        gx, gw, gb = npfast.conv2d_backward(grad_output, x, self.weight, **self._args(),
                                            output_mask=mask, residual=residual)
        self.grad_weight, self.grad_bias = gw, gb
        return gx

    def __repr__(self):
        return (f"Conv2d({self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}, padding={self.padding}, dilation={self.dilation}, "
                f"groups={self.groups}, bias={self.bias is not None}, dtype={self.weight.dtype}"
                + (f", layout={self.layout!r})" if self.layout != "NCHW" else ")"))


class MaxPool2d(Module):
    """2-D max pooling (``torch.nn.MaxPool2d``) that records the argmax of each window.

    ``kernel_size``, ``stride`` (default: ``kernel_size``), ``padding``, ``dilation``,
    ``return_indices`` (``forward`` returns ``(output, indices)``), ``ceil_mode`` as in PyTorch,
    in its positional order. ``forward`` calls ``npfast.max_pool2d(..., return_indices=True)``
    and keeps the indices (``self.indices``: int64, flat ``h * W + w`` within each plane);
    ``backward`` routes each gradient to its window's maximum with ``npfast.max_pool2d_backward``
    (gradients of overlapping windows add up). Works in the input's dtype; no parameters.
    ``layout``: "NCHW" or "NHWC" (input, output and gradients), as the convolutions take.
    """

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices=False,
                 ceil_mode=False, *, layout="NCHW"):
        self.kernel_size = _pair("kernel_size", kernel_size, 1)
        self.stride = self.kernel_size if stride is None else _pair("stride", stride, 1)
        self.padding = _pair("padding", padding, 0)
        self.dilation = _pair("dilation", dilation, 1)
        self.return_indices = _npfast._bool(return_indices, "return_indices")
        self.ceil_mode = _npfast._bool(ceil_mode, "ceil_mode")
        self.layout = _layout(layout)
        self.indices = None
        self._shape = self._out = None

    def forward(self, x):
        """x: (N, C, H, W) -> (N, C, Ho, Wo) (NHWC: (N, H, W, C) -> (N, Ho, Wo, C))."""
        _check_array(self, x)
        _check_planes(self, x)
        out, self.indices = npfast.max_pool2d(
            x, self.kernel_size, stride=self.stride, padding=self.padding, dilation=self.dilation,
            ceil_mode=self.ceil_mode, return_indices=True, layout=self.layout)
        self._shape = tuple(x.shape)
        self._out = (out.shape, out.dtype)
        return (out, self.indices) if self.return_indices else out

    def backward(self, grad_output, *, input_grad=True):
        """Returns d loss / d x (shape of the forward input), or None if not input_grad."""
        shape = self._saved("_shape")
        if not input_grad:
            return None
        # The output's shape and dtype (the input gradient takes grad_output's dtype; a wrong
        # shape was reported as the indices', which the caller never passed: probe19d).
        _check_grad(self, grad_output, *self._out)
        return npfast.max_pool2d_backward(grad_output, self.indices, shape, layout=self.layout)

    def __repr__(self):
        return (f"MaxPool2d(kernel_size={self.kernel_size}, stride={self.stride}, "
                f"padding={self.padding}, dilation={self.dilation}, ceil_mode={self.ceil_mode}, "
                f"layout={self.layout!r})")


class ReLU(Module):
    """max(x, 0), element-wise (NumPy; NaN stays NaN). The gradient passes where x > 0 or x is
    NaN, as PyTorch's (``x <= 0`` blocks it: 0 at exactly 0)."""

    def __init__(self):
        self._mask = None

    def forward(self, x):
        _check_array(self, x)
        self._mask = ~(x <= 0)
        return np.asarray(np.maximum(x, 0))  # an array also for a 0-d x (NumPy: a scalar)

    def backward(self, grad_output, *, input_grad=True):
        mask = self._saved("_mask")
        if not input_grad:
            return None
        _check_grad(self, grad_output, mask.shape)
        # 0 where blocked whatever the gradient there (a NaN or inf times 0 was NaN: review19)
        return np.asarray(np.where(mask, grad_output, grad_output.dtype.type(0)))

    def __repr__(self):
        return "ReLU()"


class Flatten(Module):
    """(N, ...) -> (N, prod(...)): a reshape (a view when x is contiguous)."""

    def __init__(self):
        self._shape = None

    def forward(self, x):
        _check_array(self, x)
        if x.ndim < 2:  # dimensions 1 onwards, as PyTorch's (its IndexError; a ValueError)
            raise np.exceptions.AxisError(f"Flatten: input must have at least 2 dimensions "
                                          f"(N, ...), got shape {x.shape}")
        self._shape = x.shape
        # The size, not -1: a batch of 0 has no size to infer it from.
        return x.reshape(x.shape[0], math.prod(x.shape[1:]))

    def backward(self, grad_output, *, input_grad=True):
        shape = self._saved("_shape")
        if not input_grad:
            return None
        _check_grad(self, grad_output, (shape[0], math.prod(shape[1:])))
        return np.reshape(grad_output, shape)

    def __repr__(self):
        return "Flatten()"


class Linear(Module):
    """Fully connected layer ``y = x @ weight.T + bias`` (``torch.nn.Linear``).

    ``weight`` has shape ``(out_features, in_features)``, ``bias`` ``(out_features,)``; both start
    uniform in ``±1/sqrt(in_features)`` (PyTorch's default). ``forward`` and ``backward`` use
    ``npfast.matmul``. ``dtype`` and ``rng`` as for ``Conv2d``. ``x`` is ``(..., in_features)``
    (any leading axes, as PyTorch), the output ``(..., out_features)``.
    """

    _params = ("weight", "bias")

    def __init__(self, in_features, out_features, bias=True, *, dtype=np.float32, rng=None):
        self.in_features = _positive_int("in_features", in_features)
        self.out_features = _positive_int("out_features", out_features)
        dtype = _float_dtype(dtype)
        gen = _rng(rng)
        bound = 1.0 / np.sqrt(in_features)
        self.weight = gen.uniform(-bound, bound, (out_features, in_features)).astype(dtype)
        self.bias = gen.uniform(-bound, bound, out_features).astype(dtype) if bias else None
        self.grad_weight = None
        self.grad_bias = None
        self._x = None

    def forward(self, x):
        """x: (..., in_features) -> (..., out_features)."""
        self._check_input(x, None, "(..., in_features)")
        if x.shape[-1] != self.in_features:
            raise ValueError(f"Linear: x has {x.shape[-1]} features (shape {x.shape}), the layer "
                             f"expects in_features={self.in_features}")
        self._x = x
        # The leading axes as one: a view where NumPy can make one (a copy otherwise).
        y = npfast.matmul(x.reshape(-1, self.in_features), self.weight.T)
        if self.bias is not None:
            y += self.bias
        return y.reshape(x.shape[:-1] + (self.out_features,))

    def backward(self, grad_output, *, input_grad=True):
        """Sets grad_weight (and grad_bias); returns d loss / d x, or None if not input_grad."""
        x = self._saved("_x")
        _check_grad(self, grad_output, x.shape[:-1] + (self.out_features,), self.weight.dtype)
        g = grad_output.reshape(-1, self.out_features)
        self.grad_weight = npfast.matmul(g.T, x.reshape(-1, self.in_features))
        self.grad_bias = g.sum(axis=0) if self.bias is not None else None
        return npfast.matmul(g, self.weight).reshape(x.shape) if input_grad else None

    def __repr__(self):
        return (f"Linear({self.in_features}, {self.out_features}, bias={self.bias is not None}, "
                f"dtype={self.weight.dtype})")


class Sequential(Module):
    """Layers applied in order; ``backward`` runs them in reverse.

    ``backward(grad, input_grad=False)`` skips the gradient with respect to the network's input
    (the first layer's most expensive part when training), and returns None.
    """

    def __init__(self, *layers):
        for i, layer in enumerate(layers):
            if not isinstance(layer, Module):
                raise TypeError(f"layer {i} must be an npfast.nn.Module, "
                                f"got {type(layer).__name__}")
        _check_distinct("Sequential", [(f"layer {i}", m) for i, m in enumerate(layers)])
        self.layers = list(layers)

    def forward(self, x):
        return _forward_layers(self.layers, x)

    def backward(self, grad_output, *, input_grad=True):
        grad = grad_output
        for i in range(len(self.layers) - 1, -1, -1):
            grad = self.layers[i].backward(grad, input_grad=input_grad or i > 0)
        return grad

    def named_children(self):
        for i, layer in enumerate(self.layers):
            yield str(i), layer

    def __getitem__(self, i):
        """A layer; a slice is a Sequential of those layers (the same objects), as PyTorch's."""
        if isinstance(i, slice):
            return Sequential(*self.layers[i])
        return self.layers[i]

    def __len__(self):
        return len(self.layers)

    def __iter__(self):
        return iter(self.layers)

    def __repr__(self):
        inner = "".join(f"\n  ({i}): {layer!r}" for i, layer in enumerate(self.layers))
        return f"Sequential({inner}\n)"


class ConvTranspose2d(Module):
    """2-D transposed convolution layer (``torch.nn.ConvTranspose2d``) over NCHW arrays (or NHWC,
    ``layout="NHWC"``; the weight keeps PyTorch's layout).

    ``weight`` has shape ``(in_channels, out_channels // groups, kh, kw)`` and starts, like
    ``bias``, uniform in ``±1/sqrt(fan_in)`` with PyTorch's fan_in for this layout,
    ``out_channels // groups * kh * kw``. ``stride``, ``padding``, ``output_padding``,
    ``dilation``, ``groups`` as in PyTorch. ``forward`` calls ``npfast.conv_transpose2d``,
    ``backward`` ``npfast.conv_transpose2d_backward``.
    """

    _params = ("weight", "bias")

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0,
                 output_padding=0, groups=1, bias=True, dilation=1, *, dtype=np.float32,
                 rng=None, layout="NCHW"):
        self.output_padding = _pair("output_padding", output_padding, 0)
        _init_conv(self, in_channels, out_channels, kernel_size, stride, padding, dilation, groups,
                   bias, dtype, rng, transposed=True, layout=layout)

    def _args(self):
        return dict(stride=self.stride, padding=self.padding, output_padding=self.output_padding,
                    groups=self.groups, dilation=self.dilation, layout=self.layout)

    _shape_name = Conv2d._shape_name

    def forward(self, x):
        """x: (N, in_channels, H, W) -> (N, out_channels, Ho, Wo) (NHWC: channels last);
        unbatched (in_channels, H, W) -> (out_channels, Ho, Wo), as torch."""
        self._check_input(x, (3, 4), self._shape_name())
        if _channels(x, self.layout) != self.in_channels:
            raise ValueError(f"ConvTranspose2d: x has {_channels(x, self.layout)} channels "
                             f"(shape {x.shape}), "
                             f"the layer expects in_channels={self.in_channels}")
        self._x = x
        return npfast.conv_transpose2d(x, self.weight, self.bias, **self._args())

    def backward(self, grad_output, *, input_grad=True):
        x = self._saved("_x")
        mask = (bool(input_grad), True, self.bias is not None)
        gx, gw, gb = npfast.conv_transpose2d_backward(grad_output, x, self.weight, **self._args(),
                                                      output_mask=mask)
        self.grad_weight, self.grad_bias = gw, gb
        return gx

    def __repr__(self):
        return (f"ConvTranspose2d({self.in_channels}, {self.out_channels}, "
                f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"output_padding={self.output_padding}, dilation={self.dilation}, "
                f"groups={self.groups}, bias={self.bias is not None}, dtype={self.weight.dtype}"
                + (f", layout={self.layout!r})" if self.layout != "NCHW" else ")"))


class BatchNorm2d(Module):
    """Batch normalisation over the channels of NCHW (or NHWC) arrays (``torch.nn.BatchNorm2d``).

    ``weight`` (ones) and ``bias`` (zeros) are the affine parameters (None when
    ``affine=False``); ``running_mean`` (zeros), ``running_var`` (ones) and
    ``num_batches_tracked`` are buffers (in ``state_dict()``, not in ``parameters()``). Training
    mode normalises with the batch's statistics and updates the running ones in place
    (``momentum``, unbiased variance, as PyTorch; ``momentum=None``: the cumulative average,
    factor ``1 / num_batches_tracked``); eval mode uses the running ones.
    ``relu=True`` fuses a following ReLU into both passes (``BatchNorm2d(c, relu=True)`` replaces
    ``BatchNorm2d(c), ReLU()``); ``layout="NHWC"`` takes channels-last arrays. Calls
    ``npfast.batch_norm`` / ``npfast.batch_norm_backward``.
    """

    _params = ("weight", "bias")
    _buffers = ("running_mean", "running_var", "num_batches_tracked")

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True,
                 track_running_stats=True, *, relu=False, layout="NCHW", dtype=np.float32):
        self.num_features = _positive_int("num_features", num_features)
        if not isinstance(eps, numbers.Real) or not eps >= 0:
            raise ValueError(f"eps must be a number >= 0, got {eps!r}")
        if momentum is not None and (not isinstance(momentum, numbers.Real) or
                                     not 0 <= momentum <= 1):
            raise ValueError(f"momentum must be a number in [0, 1] or None, got {momentum!r}")
        dtype = _float_dtype(dtype)
        self.eps, self.relu = float(eps), _npfast._bool(relu, "relu")
        self.momentum = None if momentum is None else float(momentum)
        self.layout = _layout(layout)
        self.weight = np.ones(num_features, dtype) if affine else None
        self.bias = np.zeros(num_features, dtype) if affine else None
        if track_running_stats:
            self.running_mean = np.zeros(num_features, dtype)
            self.running_var = np.ones(num_features, dtype)
            self.num_batches_tracked = np.zeros((), np.int64)
        else:
            self.running_mean = self.running_var = self.num_batches_tracked = None
        self.grad_weight = None
        self.grad_bias = None
        self._saved_fwd = None

    def forward(self, x):
        return self._forward(x, None)

    def _forward(self, x, residual):
        """``forward``; with ``residual`` (this layer without its own ReLU), ``relu(bn(x) +
        residual)`` in batch_norm's element-wise pass: a basic block's end (BasicBlock). The
        backward then needs that output as ``relu_output`` (``_backward``)."""
        _check_array(self, x)
        if x.ndim != 4:
            raise ValueError(f"BatchNorm2d: x must be 4-d ({self.layout}), got shape {x.shape}")
        if _channels(x, self.layout) != self.num_features:
            raise ValueError(f"BatchNorm2d: x has {_channels(x, self.layout)} channels (shape "
                             f"{x.shape}, {self.layout}), the layer has num_features="
                             f"{self.num_features}")
        own = self.weight if self.weight is not None else self.running_mean
        if own is not None and x.dtype != own.dtype:  # (no parameters, no statistics: any float)
            raise _dtype_error(self, x.dtype, own.dtype)
        relu = self.relu or residual is not None
        batch_stats = self.training or self.running_mean is None
        if batch_stats:
            momentum = self.momentum
            if self.training and self.num_batches_tracked is not None:
                self.num_batches_tracked += 1
                if momentum is None:  # PyTorch's cumulative moving average
                    momentum = 1.0 / float(self.num_batches_tracked)
            y, mean, invstd = npfast.batch_norm(
                x, self.running_mean if self.training else None,
                self.running_var if self.training else None, self.weight, self.bias,
                training=True, momentum=0.0 if momentum is None else momentum, eps=self.eps,
                relu=relu,
                layout=self.layout, residual=residual)
        else:
            y = npfast.batch_norm(x, self.running_mean, self.running_var, self.weight, self.bias,
                                  training=False, eps=self.eps, relu=relu, layout=self.layout,
                                  residual=residual)
            mean = self.running_mean.copy()
            invstd = (1.0 / np.sqrt(self.running_var.astype(np.float64) + self.eps)).astype(x.dtype)
        self._saved_fwd = (x, y if self.relu else None, mean, invstd, batch_stats)
        return y

    def backward(self, grad_output, *, input_grad=True):
        return self._backward(grad_output, input_grad, None)

    def _backward(self, grad_output, input_grad, relu_output):
        """``backward``; ``relu_output`` (the output of a ReLU that follows this layer, possibly
        after other additions, as in BasicBlock) masks grad_output where it is not > 0 inside
        batch_norm_backward's fused ReLU pass, instead of a separate multiply."""
        saved = self._saved("_saved_fwd")
        if isinstance(saved, _Folded):  # folded into the conv (_conv_bn_forward): unfold it
            with _in_eval(self):  # the folded forward was an eval one, whatever the mode now
                self.forward(saved.conv.forward(saved.conv._x))
            saved = self._saved_fwd
        x, y, mean, invstd, batch_stats = saved
        if relu_output is not None:
            y = relu_output  # BN's own fused ReLU (y) is then the identity on those values
        mask = (bool(input_grad), self.weight is not None, self.bias is not None)
        gx, gw, gb = npfast.batch_norm_backward(grad_output, x, self.weight, mean, invstd,
                                                training=batch_stats, output=y,
                                                layout=self.layout, output_mask=mask)
        self.grad_weight, self.grad_bias = gw, gb
        return gx

    def __repr__(self):
        return (f"BatchNorm2d({self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.weight is not None}, relu={self.relu}, layout={self.layout!r})")


class AdaptiveAvgPool2d(Module):
    """Average pooling to a fixed output size (``torch.nn.AdaptiveAvgPool2d``), NCHW.

    ``output_size`` an int or pair; output cell (i, j) averages rows
    ``floor(i*H/oh) : ceil((i+1)*H/oh)`` (likewise columns). ``AdaptiveAvgPool2d(1)`` is the
    global average pool. Forward: ``npfast.adaptive_avg_pool2d``; backward spreads each
    gradient evenly over its window (NumPy, one slice-add per output cell)."""

    def __init__(self, output_size):
        self.output_size = _pair("output_size", output_size, 1)
        self._shape = self._dtype = None

    def forward(self, x):
        _check_array(self, x)
        _check_planes(self, x)
        out = npfast.adaptive_avg_pool2d(x, self.output_size)
        self._shape, self._dtype = x.shape, out.dtype
        return out

    def backward(self, grad_output, *, input_grad=True):
        shape = self._saved("_shape")
        if not input_grad:
            return None
        h, w = shape[-2:]
        oh, ow = self.output_size
        _check_grad(self, grad_output, tuple(shape[:-2]) + (oh, ow), self._dtype)
        if (oh, ow) == (1, 1):
            g = grad_output / grad_output.dtype.type(h * w)
            return np.ascontiguousarray(np.broadcast_to(g, shape))
        gx = np.zeros(shape, grad_output.dtype)
        for i in range(oh):
            h0, h1 = i * h // oh, -(-(i + 1) * h // oh)
            for j in range(ow):
                w0, w1 = j * w // ow, -(-(j + 1) * w // ow)
                area = grad_output.dtype.type((h1 - h0) * (w1 - w0))
                gx[..., h0:h1, w0:w1] += (grad_output[..., i, j] / area)[..., None, None]
        return gx

    def __repr__(self):
        return f"AdaptiveAvgPool2d(output_size={self.output_size})"


class Dropout(Module):
    """Zeroes each element with probability ``p`` in training and scales the rest by
    ``1 / (1 - p)`` (``torch.nn.Dropout``); the identity in eval mode. ``rng``: None, a seed or
    a ``numpy.random.Generator``, drawn from at each training forward."""

    def __init__(self, p=0.5, *, rng=None):
        if not isinstance(p, numbers.Real) or not 0 <= p <= 1:
            raise ValueError(f"p must be a number in [0, 1], got {p!r}")
        self.p = float(p)
        self._gen = _rng(rng)
        self._mask = None
        self._shape = None

    def forward(self, x):
        _check_array(self, x)
        if self.training and self.p > 0 and x.dtype.kind != "f":  # torch raises there too
            raise TypeError(f"Dropout: x must be a floating array in training, got dtype "
                            f"{x.dtype}")
        self._shape = x.shape  # after the checks: a refused call keeps the last forward's
        if not self.training or self.p == 0:
            self._mask = False
            return x
        if self.p == 1:
            self._mask = np.zeros(x.shape, x.dtype)
        else:
            keep = self._gen.random(x.shape) >= self.p
            self._mask = keep.astype(x.dtype) * x.dtype.type(1.0 / (1.0 - self.p))
        return np.asarray(x * self._mask)  # an array also for a 0-d x

    def backward(self, grad_output, *, input_grad=True):
        if self._mask is None:
            raise RuntimeError("Dropout.backward called before forward")
        if not input_grad:
            return None
        _check_grad(self, grad_output, self._shape)
        return grad_output if self._mask is False else np.asarray(grad_output * self._mask)

    def __repr__(self):
        return f"Dropout(p={self.p})"


class Residual(Module):
    """``body(x) + shortcut(x)`` (``shortcut`` None: the identity), the residual connection.

    ``backward`` sends the gradient through both branches and adds their input gradients. A
    ResNet basic block is ``Sequential(Residual(body, shortcut), ReLU())``; see ``BasicBlock``."""

    def __init__(self, body, shortcut=None):
        for name, m in (("body", body), ("shortcut", shortcut)):
            if (m is not None or name == "body") and not isinstance(m, Module):
                raise TypeError(f"{name} must be an npfast.nn.Module, got {type(m).__name__}")
        _check_distinct("Residual", [("body", body), ("shortcut", shortcut)])
        self.body = body
        self.shortcut = shortcut

    def forward(self, x):
        y = self.body.forward(x)
        s = x if self.shortcut is None else self.shortcut.forward(x)
        if y.shape != s.shape:
            raise ValueError(f"Residual: body gives shape {y.shape}, shortcut {s.shape}")
        # Into a new array (from npfast's pool: no fresh pages a step), never into the body's
        # output: a body may keep the array it returns for its backward (BatchNorm2d's fused
        # ReLU mask, BasicBlock's output) or hand back its input or a view of it (Flatten,
        # Dropout in eval). The dtype is NumPy's (and torch's) promotion of the two.
        return np.add(y, s, out=npfast.empty(y.shape, np.result_type(y, s)))

    def backward(self, grad_output, *, input_grad=True):
        gb = self.body.backward(grad_output, input_grad=input_grad)
        if self.shortcut is None:
            gs = grad_output
        else:
            gs = self.shortcut.backward(grad_output, input_grad=input_grad)
        if not input_grad:
            return None
        return gb + gs

    def __repr__(self):
        return f"Residual(\n  body={self.body!r},\n  shortcut={self.shortcut!r}\n)"


class BasicBlock(Module):
    """ResNet's basic block (torchvision's ``BasicBlock``): conv3x3(stride)-BN-ReLU-conv3x3-BN,
    plus the input (or, when the stride or the channel count changes, a 1x1 conv(stride)-BN
    ``downsample``), then ReLU. Convolutions have no bias; the first BN fuses its ReLU.
    Attribute names follow torchvision (``conv1``, ``bn1``, ``conv2``, ``bn2``,
    ``downsample.0``, ``downsample.1``), so ``state_dict()`` keys match. ``layout`` is every
    layer's (input and output in it)."""

    def __init__(self, in_channels, out_channels, stride=1, *, dtype=np.float32, rng=None,
                 layout="NCHW"):
        gen = _rng(rng)
        kw = dict(bias=False, dtype=dtype, rng=gen, layout=layout)
        self.conv1 = Conv2d(in_channels, out_channels, 3, stride, 1, **kw)
        self.bn1 = BatchNorm2d(out_channels, relu=True, dtype=dtype, layout=layout)
        self.conv2 = Conv2d(out_channels, out_channels, 3, 1, 1, **kw)
        self.bn2 = BatchNorm2d(out_channels, dtype=dtype, layout=layout)
        self.downsample = None
        if stride != 1 or in_channels != out_channels:
            self.downsample = Sequential(Conv2d(in_channels, out_channels, 1, stride, **kw),
                                         BatchNorm2d(out_channels, dtype=dtype, layout=layout))
        self._out = None

    def forward(self, x):
        h = _forward_layers((self.conv1, self.bn1), x)
        s = x if self.downsample is None else self.downsample(x)
        if self.bn2.relu:  # not the block built here: the shortcut after bn2's own ReLU
            y = _forward_layers((self.conv2, self.bn2), h)
            y += s
            self._out = np.maximum(y, 0, out=y)
        elif _foldable(self.conv2, self.bn2):  # eval: all in conv2's epilogue
            self._out = _conv_bn_forward(self.conv2, self.bn2, h, residual=s)
        else:  # the shortcut and the ReLU in bn2's element-wise pass
            self._out = self.bn2._forward(self.conv2.forward(h), s)
        return self._out

    def backward(self, grad_output, *, input_grad=True):
        # The final ReLU's gradient mask is `out > 0`: the two BNs before the addition take
        # `out` as their fused-ReLU output (no masked copy of grad_output), the identity
        # shortcut adds grad_output where out > 0.
        out = self._saved("_out")
        g2 = self.bn2._backward(grad_output, True, out)
        gx = self.conv1.backward(self.bn1.backward(self.conv2.backward(g2)),
                                 input_grad=input_grad)
        # The identity shortcut's gradient is added in one threaded pass (_relu_grad_add):
        # NumPy's `gx += grad_output * (out > 0)` made two temporaries and three passes on one
        # thread (1.6 ms of a 64 ms step, batch 64 of 32x32x16). The downsample's conv adds the
        # body's gradient as it writes its own (a 1x1 stride-2 conv reaches a quarter of the
        # pixels: no separate pass over the whole array).
        if self.downsample is None:
            if input_grad:
                _npfast._relu_grad_add(gx, grad_output, out)
            return gx
        conv, bn = self.downsample
        return conv._backward(bn._backward(grad_output, True, out), input_grad, gx)

    def __repr__(self):
        return (f"BasicBlock(conv1={self.conv1!r}, bn1={self.bn1!r}, conv2={self.conv2!r}, "
                f"bn2={self.bn2!r}, downsample={self.downsample!r})")


class ResNet(Module):
    """A small ResNet (examples/train_resnet.py, the benchmark's train-step network): a 3x3
    conv-BN-ReLU stem, three stages of one ``BasicBlock`` each (``widths`` channels; the second
    and third downsample with stride 2), global average pooling and a linear head.

    Attribute names follow torchvision's ResNet (``conv1``, ``bn1``, ``layer1.0.conv1``, ...,
    ``fc``), so ``state_dict()`` keys match a torch.nn model built the same way. The stem's BN
    fuses its ReLU; convolutions have no bias.

    Input and the input gradient are NCHW. With ``channels_last=True`` (the default) the
    network transposes the input once and runs every layer up to the pooling on NHWC arrays
    (their ``layout``), in training as in eval: the convolutions compute on channels-last data
    anyway, so this spares each layer's NCHW <-> NHWC copies of its input, output and
    gradients (docs/nn.md). ``channels_last=False`` runs NCHW throughout; the two give the
    same results up to rounding (the strided layers' input gradients sum in another order)."""

    def __init__(self, in_channels=1, num_classes=10, widths=(16, 32, 64), *, dtype=np.float32,
                 rng=0, channels_last=True):
        if len(widths) != 3:
            raise ValueError(f"widths must be 3 channel counts, got {widths!r}")
        # Named as the caller's arguments (the layers' own checks name theirs: probe22c).
        for w in widths:
            _positive_int("widths", w)
        _positive_int("num_classes", num_classes)
        gen = _rng(rng)
        w0 = widths[0]
        self.channels_last = bool(channels_last)
        layout = "NHWC" if self.channels_last else "NCHW"
        self.conv1 = Conv2d(in_channels, w0, 3, 1, 1, bias=False, dtype=dtype, rng=gen,
                            layout=layout)
        self.bn1 = BatchNorm2d(w0, relu=True, dtype=dtype, layout=layout)
        stages = []
        for i, w in enumerate(widths):
            prev = widths[max(i - 1, 0)]
            stride = 1 if i == 0 else 2
            stages.append(Sequential(BasicBlock(prev, w, stride, dtype=dtype, rng=gen,
                                                layout=layout)))
        self.layer1, self.layer2, self.layer3 = stages
        self.avgpool = AdaptiveAvgPool2d(1)
        self.flatten = Flatten()
        self.fc = Linear(widths[-1], num_classes, dtype=dtype, rng=gen)

    def forward(self, x):
        self._eval_input = None
        blocks = [b for stage in (self.layer1, self.layer2, self.layer3) for b in stage]
        pairs = [(self.conv1, self.bn1)]
        for b in blocks:
            pairs += [(b.conv1, b.bn1), (b.conv2, b.bn2)] + ([tuple(b.downsample)]
                                                            if b.downsample is not None else [])
        if (not self.training and all(isinstance(b, BasicBlock) and not b.bn2.relu
                                      for b in blocks)
                and all(_foldable(c, bn) for c, bn in pairs) and isinstance(x, np.ndarray)
                and x.ndim == 4 and x.dtype == self.conv1.weight.dtype
                and x.shape[1] == self.conv1.in_channels):
            self._eval_input = x
            return self._forward_channels_last(x, blocks)
        return self._forward_unfolded(x)

    def _stem_input(self, x):
        """x (NCHW) as the stem's NHWC input. A stem of few channels runs an NCHW-only algorithm
        (the direct kernel), which conv2d (and conv2d_backward) feed NHWC views of NCHW memory
        without a copy: the transposed view, not a transposed copy that conv2d transposes back
        (0.3 ms of a 0.9 ms stem, batch 64 of 32x32x3). A native stem gets a contiguous copy."""
        xt = x.transpose(0, 2, 3, 1)
        c = self.conv1
        native = _npfast._conv2d_algorithm(xt, c.weight, **dict(c._args(), layout="NHWC")) in (
            "implicit_gemm", "winograd", "gemm_1x1")
        return np.ascontiguousarray(xt) if native else xt

    def _forward_unfolded(self, x):
        """The layer-by-layer forward (training; any mode after ``backward`` of an eval
        forward), channels-last from the stem to the pooling when ``channels_last``."""
        if not self.channels_last:
            return _forward_layers([layer for _, layer in self.named_children()], x)
        self.conv1._check_input(x, 4, "(N, C, H, W)")
        if x.shape[1] != self.conv1.in_channels:
            raise ValueError(f"ResNet: x has {x.shape[1]} channels (shape {x.shape}), the "
                             f"network expects in_channels={self.conv1.in_channels}")
        body = (self.conv1, self.bn1, self.layer1, self.layer2, self.layer3)
        h = _forward_layers(body, self._stem_input(x))
        self._pooled_shape = h.shape
        if self.avgpool.output_size == (1, 1):  # global pool over NHWC: a mean over (H, W)
            # h.mean(axis=(1, 2))'s bits, threaded, 0.1 ms -> 17 us (serial time at 2 threads)
            return self.fc.forward(_global_mean(h))
        return _forward_layers([self.avgpool, self.flatten, self.fc],
                               np.ascontiguousarray(h.transpose(0, 3, 1, 2)))

    def _forward_channels_last(self, x, blocks):
        """Eval forward with every conv-BN pair folded (``_folded_params``) and the activations
        channels-last after the stem: the implicit-GEMM and Winograd convolutions compute on
        channels-last data anyway, so NHWC arrays spare each layer its NCHW -> NHWC copy and
        the transpose of its output (same algorithms, same bits as the NCHW forward: 0.8x its
        time on the example's network). Keeps no per-layer state; ``backward`` reruns the NCHW
        forward first.

        The activations live in three buffers, each layer writing into one whose contents are
        dead (a block's output into its input's once the shortcut and conv1 have read it), so
        the smaller later layers write memory the earlier ones just touched instead of fresh
        arrays that are cold after other work (right after a torch forward, every output's
        first write read its lines from DRAM)."""
        bufs = [None] * 3

        def conv_bn(conv, bn, h, slot, residual=None):
            weight, bias = _folded_params(conv, bn)
            relu = bn.relu or residual is not None
            n, hh, ww, c = h.shape
            _, o, oh, ow = _npfast._conv2d_output_shape(
                (n, c, hh, ww), weight.shape, conv.stride, conv.padding, conv.dilation, conv.groups)
            size = n * oh * ow * o
            if bufs[slot] is None or bufs[slot].size < size:
                bufs[slot] = npfast.empty(size, weight.dtype)
            return npfast.conv2d(h, weight, bias, **dict(conv._args(), layout="NHWC"),
                                 out=bufs[slot][:size].reshape(n, oh, ow, o),
                                 activation="relu" if relu else None, residual=residual)

        cur = 0
        h = conv_bn(self.conv1, self.bn1, self._stem_input(x), cur)
        for b in blocks:
            free = [k for k in range(3) if k != cur]
            if b.downsample is None:  # h is the shortcut: conv2 writes the third buffer
                s, (t_slot, cur) = h, free
            else:  # the shortcut and conv1 read h last: conv2 overwrites it
                s, t_slot = conv_bn(*b.downsample, h, free[0]), free[1]
            h = conv_bn(b.conv2, b.bn2, conv_bn(b.conv1, b.bn1, h, t_slot), cur, residual=s)
        oh, ow = self.avgpool.output_size
        if (oh, ow) != (1, 1):
            return _forward_layers([self.avgpool, self.flatten, self.fc],
                                   np.ascontiguousarray(h.transpose(0, 3, 1, 2)))
        return self.fc.forward(_global_mean(h))

    def backward(self, grad_output, *, input_grad=True):
        if getattr(self, "_eval_input", None) is not None:  # after _forward_channels_last
            x, self._eval_input = self._eval_input, None
            with _in_eval(self):  # that forward was an eval one, whatever the mode now
                self._forward_unfolded(x)
        layers = [layer for _, layer in self.named_children()]
        if not self.channels_last:
            g = grad_output
            for i in range(len(layers) - 1, -1, -1):
                g = layers[i].backward(g, input_grad=input_grad or i > 0)
            return g
        shape = self._saved("_pooled_shape")
        g = self.fc.backward(grad_output)
        if self.avgpool.output_size == (1, 1):  # AdaptiveAvgPool2d's backward, channels-last
            g = np.ascontiguousarray(np.broadcast_to(
                (g / g.dtype.type(shape[1] * shape[2]))[:, None, None, :], shape))
        else:
            g = self.avgpool.backward(self.flatten.backward(g))
            g = np.ascontiguousarray(g.transpose(0, 2, 3, 1))
        body = (self.conv1, self.bn1, self.layer1, self.layer2, self.layer3)
        for i in range(len(body) - 1, -1, -1):
            g = body[i].backward(g, input_grad=input_grad or i > 0)
        return np.ascontiguousarray(g.transpose(0, 3, 1, 2)) if input_grad else None


class SoftmaxCrossEntropy:
    """Mean cross-entropy of softmax(logits) against integer labels (``torch.nn.CrossEntropyLoss``).

    ``forward(logits, labels)`` takes logits ``(N, C)`` float32/float64 and labels ``(N,)`` of an
    integer dtype in ``[0, C)`` and returns the mean loss as a Python float (computed stably via
    log-sum-exp). ``backward(grad=1.0)`` returns d loss / d logits,
    ``(softmax - onehot) * grad / N``, in the logits' dtype. Errors: ValueError for bad shapes or
    out-of-range labels, TypeError for non-integer labels or non-float logits.
    """

    def __init__(self):
        self.probs = None
        self._labels = None

    def forward(self, logits, labels):
        logits = np.asarray(logits)
        labels = np.asarray(labels)
        if logits.dtype not in _FLOATS:
            raise TypeError(f"logits must be float32 or float64, got {logits.dtype}")
        if logits.ndim != 2 or logits.shape[0] == 0 or logits.shape[1] == 0:
            raise ValueError(f"logits must be (N, C) with N, C >= 1, got shape {logits.shape}")
        if not np.issubdtype(labels.dtype, np.integer):
            raise TypeError(f"labels must have an integer dtype, got {labels.dtype}")
        if labels.shape != (logits.shape[0],):
            raise ValueError(f"labels must have shape ({logits.shape[0]},) to match logits "
                             f"{logits.shape}, got {labels.shape}")
        if labels.min() < 0 or labels.max() >= logits.shape[1]:
            raise ValueError(f"labels must lie in [0, {logits.shape[1]}), got values in "
                             f"[{labels.min()}, {labels.max()}]")
        shifted = logits - logits.max(axis=1, keepdims=True)
        exp = np.exp(shifted)
        total = exp.sum(axis=1, keepdims=True)
        self.probs = exp / total
        self._labels = labels
        rows = np.arange(len(labels))
        log_probs = shifted[rows, labels] - np.log(total[:, 0])
        return float(-log_probs.mean(dtype=np.float64))

    def backward(self, grad=1.0):
        if self.probs is None:
            raise RuntimeError("SoftmaxCrossEntropy.backward called before forward")
        if np.ndim(grad) != 0:
            # The loss is a scalar: an array would broadcast over the classes (probe24b).
            raise ValueError(
                f"SoftmaxCrossEntropy.backward: grad must be a scalar (the loss's gradient), got "
                f"shape {np.shape(grad)}"
            )
        g = self.probs.copy()
        g[np.arange(len(self._labels)), self._labels] -= 1
        g *= g.dtype.type(grad / len(self._labels))
        return g

    def __call__(self, logits, labels):
        return self.forward(logits, labels)

    def __repr__(self):
        return "SoftmaxCrossEntropy()"


def _optimizer_params(opt):
    """The optimised module's ``(value, grad)`` pairs, as ``parameters()`` gives them. For an
    npfast Module (``parameters`` not overridden) the module tree is walked once, at the first
    step (0.9 ms of a ResNet step went to walking it), and the arrays read from the cached
    ``(module, name)`` slots, so parameters and gradients replaced since are still seen."""
    module = opt.module
    if not isinstance(module, Module) or type(module).parameters is not Module.parameters:
        params = list(module.parameters())  # a generator would be spent by the checks below
    else:
        if opt._slots is None:
            opt._slots = module._param_slots()
        params = [(getattr(m, n), getattr(m, "grad_" + n, None)) for m, n in opt._slots]
    # Every gradient checked before any parameter moves: a step refused half-way had updated
    # the parameters before the bad one (and Adam's step count) (probe19b). One array listed
    # twice would take two steps (a module used twice in a tree Sequential does not check:
    # probe22c).
    seen = set()
    for i, (value, grad) in enumerate(params):
        if id(value) in seen:
            raise ValueError(f"parameter {i} (shape {value.shape}) is listed twice: a module "
                             f"used twice (tied weights are not supported by npfast.nn)")
        seen.add(id(value))
        if grad is None:
            raise RuntimeError(f"parameter {i} (shape {value.shape}) has no gradient: call "
                               f"backward before step")
        if np.shape(grad) != value.shape:
            raise ValueError(f"parameter {i} has shape {value.shape} but its gradient "
                             f"{np.shape(grad)}")
    return params


class SGD:
    """Stochastic gradient descent with momentum (``torch.optim.SGD``: its arguments in its
    positional order).

    ``module`` is any object with ``parameters()`` (a layer or a ``Sequential``); ``step()`` reads
    the current gradients and updates every parameter in place::

        d = grad + weight_decay * value
        velocity = momentum * velocity + (1 - dampening) * d   (velocity = d on the first step)
        d = d + momentum * velocity if nesterov else velocity
        value -= lr * d

    Errors: ValueError for a negative ``lr``, ``momentum``, ``dampening`` or ``weight_decay``,
    and for ``nesterov`` without momentum or with dampening (as PyTorch); RuntimeError from
    ``step()`` if a parameter has no gradient yet.
    """

    def __init__(self, module, lr=1e-3, momentum=0.0, dampening=0.0, weight_decay=0.0,
                 nesterov=False):
        for name, v in (("lr", lr), ("momentum", momentum), ("dampening", dampening),
                        ("weight_decay", weight_decay)):
            if not isinstance(v, numbers.Real) or not v >= 0:
                raise ValueError(f"{name} must be a number >= 0, got {v!r}")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("nesterov momentum requires a momentum and zero dampening")
        if not callable(getattr(module, "parameters", None)):
            raise TypeError(f"module must have a parameters() method, got {type(module).__name__}")
        self.module = module
        self.lr = float(lr)
        self.momentum = float(momentum)
        self.dampening = float(dampening)
        self.weight_decay = float(weight_decay)
        self.nesterov = bool(nesterov)
        self._velocity = None
        self._slots = None

    def step(self):
        params = _optimizer_params(self)
        if self._velocity is None:
            self._velocity = [None] * len(params)
        for i, (value, grad) in enumerate(params):
            t = value.dtype.type
            d = grad + t(self.weight_decay) * value if self.weight_decay else grad
            if self.momentum:
                v = self._velocity[i]
                if v is None:
                    v = self._velocity[i] = np.array(d, dtype=value.dtype, copy=True)
                else:
                    v *= t(self.momentum)
                    v += d if not self.dampening else t(1 - self.dampening) * d
                d = d + t(self.momentum) * v if self.nesterov else v
            value -= t(self.lr) * d


class CrossEntropyLoss(SoftmaxCrossEntropy):
    """``torch.nn.CrossEntropyLoss``'s name for ``SoftmaxCrossEntropy`` (mean reduction, integer
    labels): ``forward(logits, labels)`` -> float, ``backward()`` -> d loss / d logits."""

    def __repr__(self):
        return "CrossEntropyLoss()"


class Adam:
    """Adam (``torch.optim.Adam``, no amsgrad), updating ``module.parameters()`` in place.

    Per parameter, with step count t (from 1)::

        g = grad + weight_decay * value                       (L2, coupled: Adam)
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g * g
        value -= lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)

    in that order of operations (PyTorch's), in the parameter's dtype. Errors: ValueError for a
    negative lr / eps / weight_decay or betas outside [0, 1); RuntimeError from ``step()`` if a
    parameter has no gradient yet."""

    _decoupled = False

    def __init__(self, module, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        for name, v in (("lr", lr), ("eps", eps), ("weight_decay", weight_decay)):
            if not isinstance(v, numbers.Real) or not v >= 0:
                raise ValueError(f"{name} must be a number >= 0, got {v!r}")
        try:
            pair = tuple(betas)
        except TypeError:
            pair = ()
        if len(pair) != 2 or not all(isinstance(b, numbers.Real) and 0 <= b < 1 for b in pair):
            raise ValueError(f"betas must be two numbers in [0, 1), got {betas!r}")
        if not callable(getattr(module, "parameters", None)):
            raise TypeError(f"module must have a parameters() method, got {type(module).__name__}")
        self.module = module
        self.lr, self.eps, self.weight_decay = float(lr), float(eps), float(weight_decay)
        self.betas = (float(pair[0]), float(pair[1]))
        self.t = 0
        self._m = self._v = None
        self._slots = None

    def step(self):
        params = _optimizer_params(self)
        if self._m is None:
            self._m = [np.zeros_like(v) for v, _ in params]
            self._v = [np.zeros_like(v) for v, _ in params]
        self.t += 1
        b1, b2 = self.betas
        bc1 = 1 - b1 ** self.t
        bc2_sqrt = np.sqrt(1 - b2 ** self.t)
        for i, (value, grad) in enumerate(params):
            t = value.dtype.type
            if self.weight_decay and self._decoupled:
                value *= t(1 - self.lr * self.weight_decay)
            elif self.weight_decay:
                grad = grad + t(self.weight_decay) * value
            m, v = self._m[i], self._v[i]
            m *= t(b1)
            m += t(1 - b1) * grad
            v *= t(b2)
            v += t(1 - b2) * grad * grad
            denom = np.sqrt(v) / t(bc2_sqrt) + t(self.eps)
            value -= t(self.lr / bc1) * (m / denom)


class AdamW(Adam):
    """AdamW (``torch.optim.AdamW``): Adam with decoupled weight decay, ``value *= 1 - lr *
    weight_decay`` before the Adam step (default weight_decay 0.01)."""

    _decoupled = True

    def __init__(self, module, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2):
        super().__init__(module, lr, betas, eps, weight_decay)
