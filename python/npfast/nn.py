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

The heavy work goes through npfast: ``conv2d`` / ``conv2d_backward`` (Conv2d), ``max_pool2d``
with indices / ``max_pool2d_backward`` (MaxPool2d) and ``matmul`` (Linear). ReLU, Flatten, the
softmax and the SGD update are a few NumPy element-wise operations. Layers work in float32 or
float64 (the ``dtype`` of their parameters); inputs must have that dtype. Arrays are NCHW, and
weights have PyTorch's layouts and default initialisation, so a model converts to and from
``torch.nn`` by copying arrays.

Gradients are overwritten, not accumulated, by each ``backward``. A layer keeps a reference to
its forward input until the next ``forward``: do not modify that array in place in between.
"""

from __future__ import annotations

import numbers

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
    "SGD",
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


class Module:
    """Base class: ``forward(x)``, ``backward(grad_output, input_grad=True)``, ``parameters()``.

    ``layer(x)`` is ``layer.forward(x)``. Subclasses without parameters inherit an empty
    ``parameters()``."""

    def forward(self, x):
        raise NotImplementedError

    def backward(self, grad_output, *, input_grad=True):
        raise NotImplementedError

    def parameters(self):
        """List of ``(value, grad)`` pairs, one per parameter array; ``grad`` is None before the
        first ``backward``. Optimisers update ``value`` in place."""
        return []

    def __call__(self, x):
        return self.forward(x)

    def _saved(self, attr):
        value = getattr(self, attr, None)
        if value is None:
            raise RuntimeError(f"{type(self).__name__}.backward called before forward")
        return value

    def _check_input(self, x, ndim, what):
        dtype = self.weight.dtype
        if not isinstance(x, np.ndarray):
            raise TypeError(f"{type(self).__name__}: x must be a numpy.ndarray, "
                            f"got {type(x).__name__}")
        if x.dtype != dtype:
            raise TypeError(f"{type(self).__name__}: x has dtype {x.dtype} but the layer's "
                            f"parameters are {dtype}; cast x or build the layer with "
                            f"dtype={x.dtype}")
        if x.ndim != ndim:
            raise ValueError(f"{type(self).__name__}: x must be {what}, got shape {x.shape}")


class Conv2d(Module):
    """2-D convolution layer (cross-correlation, like ``torch.nn.Conv2d``) over NCHW arrays.

    Parameters
    ----------
    in_channels, out_channels : int
        Channels of the input and of the output; ``groups`` must divide both.
    kernel_size, stride, padding, dilation : int or pair of ints
        As in ``torch.nn.Conv2d`` (zero padding; ``padding`` may be 0, the others >= 1).
    groups : int
        Grouped convolution: ``weight`` has shape ``(out_channels, in_channels // groups, kh, kw)``.
    bias : bool
        Whether to add a learned per-channel bias (``self.bias``, shape ``(out_channels,)``).
    dtype : float32 or float64
        Parameter dtype; inputs must match it.
    rng : None, int or numpy.random.Generator
        Source for the initial weights: uniform in ``±1/sqrt(fan_in)`` (PyTorch's default).

    ``forward`` calls ``npfast.conv2d``; ``backward`` calls ``npfast.conv2d_backward`` and sets
    ``grad_weight`` and ``grad_bias``. Errors: ValueError for bad sizes, TypeError for a bad dtype.
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1,
                 groups=1, bias=True, *, dtype=np.float32, rng=None):
        self.in_channels = _positive_int("in_channels", in_channels)
        self.out_channels = _positive_int("out_channels", out_channels)
        self.kernel_size = _pair("kernel_size", kernel_size, 1)
        self.stride = _pair("stride", stride, 1)
        self.padding = _pair("padding", padding, 0)
        self.dilation = _pair("dilation", dilation, 1)
        self.groups = _positive_int("groups", groups)
        if in_channels % groups or out_channels % groups:
            raise ValueError(f"groups={groups} must divide in_channels={in_channels} and "
                             f"out_channels={out_channels}")
        dtype = _float_dtype(dtype)
        gen = _rng(rng)
        fan_in = in_channels // groups * self.kernel_size[0] * self.kernel_size[1]
        bound = 1.0 / np.sqrt(fan_in)
        shape = (out_channels, in_channels // groups) + self.kernel_size
        self.weight = gen.uniform(-bound, bound, shape).astype(dtype)
        self.bias = gen.uniform(-bound, bound, out_channels).astype(dtype) if bias else None
        self.grad_weight = None
        self.grad_bias = None
        self._x = None

    def _args(self):
        return dict(stride=self.stride, padding=self.padding, dilation=self.dilation,
                    groups=self.groups)

    def forward(self, x):
        """x: (N, in_channels, H, W) -> (N, out_channels, Ho, Wo)."""
        self._check_input(x, 4, "(N, C, H, W)")
        if x.shape[1] != self.in_channels:
            raise ValueError(f"Conv2d: x has {x.shape[1]} channels (shape {x.shape}), "
                             f"the layer expects in_channels={self.in_channels}")
        self._x = x
        return npfast.conv2d(x, self.weight, self.bias, **self._args())

    def backward(self, grad_output, *, input_grad=True):
        """Sets grad_weight (and grad_bias); returns d loss / d x, or None if not input_grad."""
        x = self._saved("_x")
        mask = (bool(input_grad), True, self.bias is not None)
        gx, gw, gb = npfast.conv2d_backward(grad_output, x, self.weight, **self._args(),
                                            output_mask=mask)
        self.grad_weight, self.grad_bias = gw, gb
        return gx

    def parameters(self):
        params = [(self.weight, self.grad_weight)]
        if self.bias is not None:
            params.append((self.bias, self.grad_bias))
        return params

    def __repr__(self):
        return (f"Conv2d({self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}, padding={self.padding}, dilation={self.dilation}, "
                f"groups={self.groups}, bias={self.bias is not None}, dtype={self.weight.dtype})")


class MaxPool2d(Module):
    """2-D max pooling (``torch.nn.MaxPool2d``) that records the argmax of each window.

    ``kernel_size``, ``stride`` (default: ``kernel_size``), ``padding``, ``dilation``,
    ``ceil_mode`` as in PyTorch. ``forward`` calls ``npfast.max_pool2d(..., return_indices=True)``
    and keeps the indices (``self.indices``: int64, flat ``h * W + w`` within each plane);
    ``backward`` routes each gradient to its window's maximum with ``npfast.max_pool2d_backward``
    (gradients of overlapping windows add up). Works in the input's dtype; no parameters.
    """

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False):
        self.kernel_size = _pair("kernel_size", kernel_size, 1)
        self.stride = self.kernel_size if stride is None else _pair("stride", stride, 1)
        self.padding = _pair("padding", padding, 0)
        self.dilation = _pair("dilation", dilation, 1)
        self.ceil_mode = bool(ceil_mode)
        self.indices = None
        self._shape = None

    def forward(self, x):
        """x: (N, C, H, W) -> (N, C, Ho, Wo)."""
        out, self.indices = npfast.max_pool2d(
            x, self.kernel_size, stride=self.stride, padding=self.padding, dilation=self.dilation,
            ceil_mode=self.ceil_mode, return_indices=True)
        self._shape = tuple(x.shape)
        return out

    def backward(self, grad_output, *, input_grad=True):
        """Returns d loss / d x (shape of the forward input), or None if not input_grad."""
        shape = self._saved("_shape")
        if not input_grad:
            return None
        return npfast.max_pool2d_backward(grad_output, self.indices, shape)

    def __repr__(self):
        return (f"MaxPool2d(kernel_size={self.kernel_size}, stride={self.stride}, "
                f"padding={self.padding}, dilation={self.dilation}, ceil_mode={self.ceil_mode})")


class ReLU(Module):
    """max(x, 0), element-wise (NumPy). The gradient at exactly 0 is 0, as in PyTorch."""

    def __init__(self):
        self._mask = None

    def forward(self, x):
        self._mask = x > 0
        return np.maximum(x, 0)

    def backward(self, grad_output, *, input_grad=True):
        mask = self._saved("_mask")
        return np.multiply(grad_output, mask) if input_grad else None

    def __repr__(self):
        return "ReLU()"


class Flatten(Module):
    """(N, ...) -> (N, prod(...)): a reshape (a view when x is contiguous)."""

    def __init__(self):
        self._shape = None

    def forward(self, x):
        self._shape = x.shape
        return x.reshape(x.shape[0], -1)

    def backward(self, grad_output, *, input_grad=True):
        shape = self._saved("_shape")
        return np.reshape(grad_output, shape) if input_grad else None

    def __repr__(self):
        return "Flatten()"


class Linear(Module):
    """Fully connected layer ``y = x @ weight.T + bias`` (``torch.nn.Linear``).

    ``weight`` has shape ``(out_features, in_features)``, ``bias`` ``(out_features,)``; both start
    uniform in ``±1/sqrt(in_features)`` (PyTorch's default). ``forward`` and ``backward`` use
    ``npfast.matmul``. ``dtype`` and ``rng`` as for ``Conv2d``.
    """

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
        """x: (N, in_features) -> (N, out_features)."""
        self._check_input(x, 2, "(N, in_features)")
        if x.shape[1] != self.in_features:
            raise ValueError(f"Linear: x has {x.shape[1]} features (shape {x.shape}), the layer "
                             f"expects in_features={self.in_features}")
        self._x = x
        y = npfast.matmul(x, self.weight.T)
        if self.bias is not None:
            y += self.bias
        return y

    def backward(self, grad_output, *, input_grad=True):
        """Sets grad_weight (and grad_bias); returns d loss / d x, or None if not input_grad."""
        x = self._saved("_x")
        self.grad_weight = npfast.matmul(grad_output.T, x)
        self.grad_bias = grad_output.sum(axis=0) if self.bias is not None else None
        return npfast.matmul(grad_output, self.weight) if input_grad else None

    def parameters(self):
        params = [(self.weight, self.grad_weight)]
        if self.bias is not None:
            params.append((self.bias, self.grad_bias))
        return params

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
        self.layers = list(layers)

    def forward(self, x):
        for layer in self.layers:
            x = layer.forward(x)
        return x

    def backward(self, grad_output, *, input_grad=True):
        grad = grad_output
        for i in range(len(self.layers) - 1, -1, -1):
            grad = self.layers[i].backward(grad, input_grad=input_grad or i > 0)
        return grad

    def parameters(self):
        return [p for layer in self.layers for p in layer.parameters()]

    def __getitem__(self, i):
        return self.layers[i]

    def __len__(self):
        return len(self.layers)

    def __iter__(self):
        return iter(self.layers)

    def __repr__(self):
        inner = "".join(f"\n  ({i}): {layer!r}" for i, layer in enumerate(self.layers))
        return f"Sequential({inner}\n)"


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
        g = self.probs.copy()
        g[np.arange(len(self._labels)), self._labels] -= 1
        g *= g.dtype.type(grad / len(self._labels))
        return g

    def __call__(self, logits, labels):
        return self.forward(logits, labels)

    def __repr__(self):
        return "SoftmaxCrossEntropy()"


class SGD:
    """Stochastic gradient descent with momentum (``torch.optim.SGD``, no dampening/nesterov).

    ``module`` is any object with ``parameters()`` (a layer or a ``Sequential``); ``step()`` reads
    the current gradients and updates every parameter in place::

        d = grad + weight_decay * value
        velocity = momentum * velocity + d     (velocity = d on the first step)
        value -= lr * velocity

    Errors: ValueError for a negative ``lr``, ``momentum`` or ``weight_decay``; RuntimeError from
    ``step()`` if a parameter has no gradient yet.
    """

    def __init__(self, module, lr, momentum=0.0, weight_decay=0.0):
        for name, v in (("lr", lr), ("momentum", momentum), ("weight_decay", weight_decay)):
            if not isinstance(v, numbers.Real) or not v >= 0:
                raise ValueError(f"{name} must be a number >= 0, got {v!r}")
        if not callable(getattr(module, "parameters", None)):
            raise TypeError(f"module must have a parameters() method, got {type(module).__name__}")
        self.module = module
        self.lr = float(lr)
        self.momentum = float(momentum)
        self.weight_decay = float(weight_decay)
        self._velocity = None

    def step(self):
        params = self.module.parameters()
        if self._velocity is None:
            self._velocity = [None] * len(params)
        for i, (value, grad) in enumerate(params):
            if grad is None:
                raise RuntimeError(f"parameter {i} (shape {value.shape}) has no gradient: call "
                                   f"backward before step")
            d = grad + value.dtype.type(self.weight_decay) * value if self.weight_decay else grad
            if self.momentum:
                v = self._velocity[i]
                if v is None:
                    v = self._velocity[i] = np.array(d, dtype=value.dtype, copy=True)
                else:
                    v *= value.dtype.type(self.momentum)
                    v += d
                d = v
            value -= value.dtype.type(self.lr) * d
