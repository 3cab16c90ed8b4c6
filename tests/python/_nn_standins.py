"""Test-only stand-ins for the npfast kernels that npfast.nn calls, for a checkout that lacks them.

npfast.nn and examples/train_digits.py call ``npfast.conv2d``, ``npfast.conv2d_backward``,
``npfast.max_pool2d``, ``npfast.max_pool2d_backward`` and ``npfast.matmul``. While those kernels
live on other branches, the nn tests patch these reference versions into the ``npfast`` module
(``install_missing``), and only for the names npfast does not define; a checkout with the real
kernels tests the real kernels. The stand-ins have the kernels' signatures and are built from
PyTorch (functional ops + autograd) and NumPy. They never go on the library's path.
"""

import warnings

import numpy as np

NAMES = ("conv2d", "conv2d_backward", "max_pool2d", "max_pool2d_backward", "matmul")


def _torch():
    import torch  # imported lazily: a checkout with the real kernels needs no torch here

    return torch


def _t(a):
    return _torch().from_numpy(np.ascontiguousarray(a))


def _np(t):
    return t.detach().numpy().copy()


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1, *, out=None):
    """torch.nn.functional.conv2d on NCHW NumPy arrays."""
    F = _torch().nn.functional
    y = _np(F.conv2d(_t(input), _t(weight), None if bias is None else _t(bias),
                     stride=stride, padding=padding, dilation=dilation, groups=groups))
    if out is None:
        return y
    out[...] = y
    return out


def conv2d_backward(grad_output, input, weight, stride=1, padding=0, dilation=1, groups=1,
                    output_mask=(True, True, True)):
    """(grad_input, grad_weight, grad_bias) of conv2d as autograd computes them; None where
    output_mask is False."""
    torch = _torch()
    x = _t(input).requires_grad_(bool(output_mask[0]))
    w = _t(weight).requires_grad_(bool(output_mask[1]))
    b = torch.zeros(weight.shape[0], dtype=w.dtype, requires_grad=bool(output_mask[2]))
    y = torch.nn.functional.conv2d(x, w, b, stride=stride, padding=padding, dilation=dilation,
                                   groups=groups)
    wanted = [t for t, m in zip((x, w, b), output_mask) if m]
    grads = iter(torch.autograd.grad(y, wanted, _t(grad_output)) if wanted else ())
    return tuple(_np(next(grads)) if m else None for m in output_mask)


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """torch.nn.functional.max_pool2d; indices are int64, flat h * W + w within each plane."""
    F = _torch().nn.functional
    res = F.max_pool2d(_t(input), kernel_size, stride=stride, padding=padding, dilation=dilation,
                       ceil_mode=ceil_mode, return_indices=return_indices)
    if return_indices:
        return _np(res[0]), _np(res[1])
    return _np(res)


def max_pool2d_backward(grad_output, indices, input_shape):
    """Scatter-adds grad_output into zeros of input_shape at the recorded argmax indices."""
    torch = _torch()
    n, c, h, w = input_shape
    g = _t(grad_output).reshape(n * c, -1)
    grad = torch.zeros((n * c, h * w), dtype=g.dtype)
    grad.scatter_add_(1, _t(indices).reshape(n * c, -1), g)
    return _np(grad.reshape(n, c, h, w))


def matmul(a, b, *, out=None):
    """numpy.matmul for 2-D and batched 3-D operands."""
    return np.matmul(a, b, out=out)


def install_missing(monkeypatch, npfast):
    """Patches a stand-in into ``npfast`` for each kernel it lacks; returns the patched names.

    Warns (so the pytest summary says so) when it patches anything."""
    missing = [name for name in NAMES if not hasattr(npfast, name)]
    for name in missing:
        monkeypatch.setattr(npfast, name, globals()[name], raising=False)
    if missing:
        warnings.warn("npfast lacks " + ", ".join(missing) + "; the nn tests use the torch "
                      "stand-ins from tests/python/_nn_standins.py for them", stacklevel=3)
    return missing


def patched(monkeypatch, npfast):
    """Generator for an autouse fixture: install_missing, and while stand-ins are in use, PyTorch
    on one thread (the stand-ins' calls are tiny; on a busy machine torch's thread team spends
    far longer waiting than computing). Restores the thread count afterwards."""
    missing = install_missing(monkeypatch, npfast)
    if not missing:
        yield missing
        return
    torch = _torch()
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield missing
    finally:
        torch.set_num_threads(before)
