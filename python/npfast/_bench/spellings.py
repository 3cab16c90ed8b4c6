"""The code users write today, as the issues report it: the anchors' side of the report."""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import as_strided


def conv2d_as_strided_dot(img: np.ndarray, k: np.ndarray) -> np.ndarray:
    """'same' 3x3 correlation as patches from as_strided and one np.dot (zero padding)."""
    kh, kw = k.shape
    p = np.pad(img, ((kh // 2, kh - 1 - kh // 2), (kw // 2, kw - 1 - kw // 2)))
    h, w = img.shape
    s0, s1 = p.strides
    patches = as_strided(p, shape=(h, w, kh, kw), strides=(s0, s1, s0, s1))
    return np.dot(patches.reshape(h * w, kh * kw), k.ravel()).reshape(h, w)


def conv_cnn_python_loop(x: np.ndarray, w: np.ndarray, stride: int) -> np.ndarray:
    """Filters x windows in Python loops: x (C, H, W), w (O, C, kh, kw)."""
    o_n, _, kh, kw = w.shape
    _, h, wd = x.shape
    oh, ow = (h - kh) // stride + 1, (wd - kw) // stride + 1
    out = np.zeros((o_n, oh, ow), dtype=x.dtype)
    for o in range(o_n):
        for i in range(oh):
            for j in range(ow):
                window = x[:, i * stride:i * stride + kh, j * stride:j * stride + kw]
                out[o, i, j] = np.sum(window * w[o])
    return out


def conv_cnn_numpy_dot(x: np.ndarray, w: np.ndarray, stride: int) -> np.ndarray:
    """The same conv as im2col (as_strided) + np.dot."""
    o_n, c, kh, kw = w.shape
    _, h, wd = x.shape
    oh, ow = (h - kh) // stride + 1, (wd - kw) // stride + 1
    s0, s1, s2 = x.strides
    cols = as_strided(x, shape=(oh, ow, c, kh, kw), strides=(s1 * stride, s2 * stride, s0, s1, s2))
    return np.dot(w.reshape(o_n, -1), cols.reshape(oh * ow, -1).T).reshape(o_n, oh, ow)


def maxpool_numpy(a: np.ndarray, k: int):
    """Non-overlapping k x k max-pool of a 2-D array with flat argmax indices, vectorised."""
    h, w = (a.shape[0] // k) * k, (a.shape[1] // k) * k
    blocks = a[:h, :w].reshape(h // k, k, w // k, k).transpose(0, 2, 1, 3).reshape(h // k, w // k, k * k)
    arg = blocks.argmax(axis=2)
    out = np.take_along_axis(blocks, arg[..., None], axis=2)[..., 0]
    rows = np.arange(h // k)[:, None] * k + arg // k
    cols = np.arange(w // k)[None, :] * k + arg % k
    return out, rows * a.shape[1] + cols


def maxpool_python_loop(x: np.ndarray, k: int):
    """(N, C, H, W) max-pool with indices in Python loops (what tutorials write)."""
    n, c, h, w = x.shape
    oh, ow = h // k, w // k
    out = np.empty((n, c, oh, ow), x.dtype)
    idx = np.empty((n, c, oh, ow), np.int64)
    for b in range(n):
        for ch in range(c):
            for i in range(oh):
                for j in range(ow):
                    win = x[b, ch, i * k:i * k + k, j * k:j * k + k]
                    a = int(np.argmax(win))
                    out[b, ch, i, j] = win.flat[a]
                    idx[b, ch, i, j] = (i * k + a // k) * w + j * k + a % k
    return out, idx
