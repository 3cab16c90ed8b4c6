"""Every tolerance the Python tests compare float results with: one entry per op and dtype.

TOL[op][dtype] = (rtol, atol). atol is in units of the comparison's `scale`: 1 for the tests'
N(0, 1)-sized data, or the size of the terms an output element sums where a test's data are not
(a filter: sum |k| * max(1, max |x|)). Ops computed by the same arithmetic share an entry.
matmul has a bound that grows with k instead: assert_matmul_close.
"""

import numpy as np

_F32, _F64 = np.dtype(np.float32), np.dtype(np.float64)

_FILTER = {_F32: (1e-6, 4e-6), _F64: (1e-14, 4e-14)}  # one fma chain over the taps
_CONV = {_F32: (2e-4, 2e-4), _F64: (1e-11, 1e-11)}  # float64 passed at 1e-12 on every ISA
_AVG = {_F32: (2e-6, 2e-6), _F64: (1e-13, 1e-13)}  # a window sum, then one multiply

TOL = {
    "correlate2d": _FILTER,
    "convolve2d": _FILTER,
    "ndimage.correlate": _FILTER,
    "ndimage.convolve": _FILTER,
    # Winograd F(2x2,3x3) and the GEMM paths sum in another order than the anchor's direct loop.
    "conv2d": _CONV,
    "conv2d_backward": _CONV,
    # The transposed convolution runs on conv2d's gradient paths (GEMM + col2im or a conv).
    "conv_transpose2d": _CONV,
    "conv_transpose2d_backward": _CONV,
    # Statistics summed in double, then one fma per element in the input's dtype (float32's
    # rounding of x - mean and of the per-channel constants against torch's order).
    "batch_norm": {_F32: (1e-5, 1e-5), _F64: (1e-12, 1e-12)},
    "batch_norm_backward": {_F32: (1e-4, 1e-5), _F64: (1e-11, 1e-12)},
    "avg_pool2d": _AVG,
    "avg_pool2d_backward": _AVG,
    "adaptive_avg_pool2d": _AVG,
    # Gradients of overlapping windows are summed: in output order, as the anchor does.
    "max_pool2d_backward": {_F32: (1e-6, 0.0), _F64: (1e-14, 0.0)},
    "normalize": {_F32: (2e-7, 1e-7), _F64: (1e-14, 1e-14)},  # one fma per element in double
    # npfast.nn layers and three SGD steps of a small net against PyTorch autograd.
    "nn": {_F32: (2e-4, 2e-5), _F64: (1e-10, 1e-12)},
    "sgd": {_F32: (1e-3, 1e-5), _F64: (1e-9, 1e-12)},
    # examples/train_digits.py: two float64 epochs of three implementations of one network.
    "train_digits": {_F64: (1e-9, 0.0)},
}


def tol(op, dtype, scale=1.0):
    """The keyword arguments of np.testing.assert_allclose for `op` in `dtype`."""
    rtol, atol = TOL[op][np.dtype(dtype)]
    return dict(rtol=rtol, atol=atol * scale)


def filter_scale(x, k):
    """The size of the terms one filter output sums: sum |k| * max(1, max |x|)."""
    k = np.abs(np.asarray(k, np.float64))
    x = np.abs(np.asarray(x, np.float64))
    return k.sum() * max(1.0, x.max(initial=0.0))


def assert_matmul_close(got, a, b):
    """matmul's tolerance: the error bound of a k-term dot product in the input precision,
    4 (k + 2) eps (|a| @ |b|), against the float64 product."""
    want = np.matmul(a.astype(np.float64), b.astype(np.float64))
    assert got.shape == want.shape and got.dtype == a.dtype
    k = a.shape[-1]
    eps = np.finfo(a.dtype).eps
    bound = 4 * (k + 2) * eps * np.matmul(np.abs(a).astype(np.float64), np.abs(b).astype(np.float64))
    err = np.abs(got.astype(np.float64) - want)
    assert (err <= bound + np.finfo(a.dtype).tiny).all(), float((err - bound).max())
