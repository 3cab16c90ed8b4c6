"""Test-only stand-ins for npfast kernels that another branch provides.

Each has the signature of the npfast function it stands in for and is built from the anchor
(SciPy or PyTorch), so the dask layer's halo, stride and boundary logic can be tested before the
real kernels are merged. Never imported by the library: tests put them onto ``npfast`` with
``monkeypatch`` only while ``npfast`` lacks the name.
"""

from __future__ import annotations

import contextlib

import numpy as np
import scipy.signal
import torch
import torch.nn.functional as F

import npfast


@contextlib.contextmanager
def _one_torch_thread():
    # Tiny blocks on a loaded 2-core machine: torch's spinning intra-op threads cost ~25 ms a call.
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _stack(fn, in1, in2, mode, boundary, fillvalue, out):
    in1 = np.asarray(in1)
    in2 = np.asarray(in2)
    if in1.ndim < 2 or in2.ndim != 2:
        raise ValueError(f"in1 must be (..., H, W) and in2 2-D; got {in1.shape}, {in2.shape}")
    flat = in1.reshape((-1,) + in1.shape[-2:])
    planes = [fn(p, in2, mode=mode, boundary=boundary, fillvalue=fillvalue) for p in flat]
    res = np.stack(planes).reshape(in1.shape[:-2] + planes[0].shape)
    res = res.astype(np.result_type(in1.dtype, in2.dtype), copy=False)
    if out is not None:
        out[...] = res
        return out
    return res


def correlate2d(in1, in2, mode="full", boundary="fill", fillvalue=0, *, out=None):
    return _stack(scipy.signal.correlate2d, in1, in2, mode, boundary, fillvalue, out)


def convolve2d(in1, in2, mode="full", boundary="fill", fillvalue=0, *, out=None):
    return _stack(scipy.signal.convolve2d, in1, in2, mode, boundary, fillvalue, out)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    b = None if bias is None else torch.from_numpy(np.ascontiguousarray(bias))
    with _one_torch_thread():
        res = F.conv2d(torch.from_numpy(np.ascontiguousarray(input)),
                       torch.from_numpy(np.ascontiguousarray(weight)), b, stride, padding,
                       dilation, groups)
        return res.numpy()


def _pool_input(a):
    a = np.ascontiguousarray(a)
    if a.ndim == 2:
        return torch.from_numpy(a)[None], 2
    if a.ndim in (3, 4):
        return torch.from_numpy(a), a.ndim
    raise ValueError(f"input must be (N, C, H, W), (C, H, W) or (H, W); got shape {a.shape}")


def _pool_output(t, ndim):
    t = t.numpy()
    return t[0] if ndim == 2 else t


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    t, ndim = _pool_input(input)
    with _one_torch_thread():
        res = F.max_pool2d(t, kernel_size, stride, padding, dilation, ceil_mode, return_indices)
    if return_indices:
        return _pool_output(res[0], ndim), _pool_output(res[1], ndim)
    return _pool_output(res, ndim)


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None):
    t, ndim = _pool_input(input)
    with _one_torch_thread():
        res = F.avg_pool2d(t, kernel_size, stride, padding, ceil_mode, count_include_pad,
                           divisor_override)
    return _pool_output(res, ndim)


def threads_probe(a, dtype, scale=1.0, offset=0.0, *, out=None):
    """A convert-shaped kernel whose output is the npfast thread count it ran with."""
    return np.full(np.shape(a), npfast.get_num_threads(), dtype=np.int64)
