"""Lazy strided window operators (conv2d, max_pool2d, avg_pool2d): each output block is
computed from the input window it reads."""

from __future__ import annotations

import operator
from bisect import bisect_right

import numpy as np
from dask.array.core import Array
from dask.base import tokenize
from dask.highlevelgraph import HighLevelGraph

from npfast import _npfast

from ._tasks import _Kernel, _Threads, _as_dask, _bounds, _host_slots, _small, _thread_share


# ---------------------------------------------------------------------------------------------
# Strided windows: conv2d and pooling


def _no_images(x, ranks):
    """An input of x's plane shape and dtype with no data (a first axis of length 0): the
    in-memory function called on it checks every argument as it would on x, with its own
    exception classes and messages (npfast.AnchorValueError where torch raises RuntimeError;
    probe20d: the graph's own checks raised plain ValueError / TypeError), and reads nothing.
    A rank the function refuses (`ranks`: those it takes) keeps x's own shape, as zeros of
    stride 0 (nothing allocated), so that its message names that shape (review20)."""
    if x.ndim not in ranks:
        return np.broadcast_to(np.zeros((), x.dtype), x.shape)
    return np.zeros((0,) + tuple(x.shape if x.ndim == 2 else x.shape[1:]), x.dtype)


class _Axis:
    """One spatial axis of a strided window operator (torch's output-size rule)."""

    def __init__(self, n, k, s, p, d, ceil_mode):
        self.n, self.s, self.p = n, s, p
        self.keff = d * (k - 1) + 1
        # The C++ rule the in-memory functions use (torch's, ceil_mode included).
        self.out = _npfast._pool_output_length(n, k, s, p, d, ceil_mode)

    def out_chunks(self, in_chunks) -> tuple:
        """Output chunks following the input chunks: a chunk edge at input row b becomes an
        edge at the first output whose window starts at or after b."""
        edges = {0, self.out}
        for b in _bounds(in_chunks)[1:-1]:
            edges.add(min(self.out, max(0, -(-(b + self.p) // self.s))))
        e = sorted(edges)
        return tuple(b - a for a, b in zip(e[:-1], e[1:]))

    def window(self, o0, o1):
        """(start, stop, q0): input rows a block of outputs [o0, o1) reads, and where output o0
        sits in the kernel's output on those rows (the kernel pads by p at both ends).

        The start is a multiple of the stride, at or before o0's window start less the padding,
        so the kernel's strided grid on the block is the global one and its left padding only
        feeds outputs before q0; the stop is where o1 - 1's window ends (or the image's end, where
        the kernel's right padding and ceil_mode then act as on the whole image)."""
        # The start also stays inside the image (conv2d padding may exceed the kernel, so
        # whole blocks of outputs can lie in the padding); any smaller multiple works too.
        m = max(0, min(o0 - -(-self.p // self.s), (self.n - 1) // self.s))
        start = m * self.s
        stop = max(start + 1, min(self.n, (o1 - 1) * self.s - self.p + self.keff))
        return start, stop, o0 - m


def _windowed(x, ah: _Axis, aw: _Axis, out_lead_chunks, call, spec, dtypes, token):
    """Builds out[..., oh, ow] from tasks that each read the input window of one output block.

    x: dask array (..., H, W). call(window, lead_index, origin) -> ndarray or tuple of
    ndarrays: the kernel applied to an input window whose first element is input row/column
    `origin`. out_lead_chunks: chunks of the output's leading axes (one output block per input
    block there). dtypes: one dtype per output of call. token: what identifies the operation
    (names the graph's keys). Returns one dask array per output of call.

    One graph layer of plain tasks (a window may draw on any number of input chunks, so chunks
    smaller than the halo need no rechunking), plus one selection layer per output if call
    returns several arrays.
    """
    hb, wb = _bounds(x.chunks[-2]), _bounds(x.chunks[-1])
    och, ocw = ah.out_chunks(x.chunks[-2]), aw.out_chunks(x.chunks[-1])
    ohb, owb = _bounds(och), _bounds(ocw)
    name = "npfast-" + tokenize(x.name, token, och, ocw)
    hwin = [ah.window(ohb[i], ohb[i + 1]) for i in range(len(och))]
    wwin = [aw.window(owb[j], owb[j + 1]) for j in range(len(ocw))]
    hpieces = [_pieces(hb, hs, he) for hs, he, _ in hwin]
    wpieces = [_pieces(wb, ws, we) for ws, we, _ in wwin]
    layer = {}
    for lead in np.ndindex(*x.numblocks[:-2]):
        in_lead_shape = tuple(c[i] for c, i in zip(x.chunks[:-2], lead))
        for i, (hs, he, hq) in enumerate(hwin):
            for j, (ws, we, wq) in enumerate(wwin):
                rows, cols = hpieces[i], wpieces[j]
                keys = [(x.name,) + lead + (r, c) for r, _ in rows for c, _ in cols]
                place = [(rs, cs) for _, rs in rows for _, cs in cols]
                block = _WindowBlock(call, spec, lead, in_lead_shape + (he - hs, we - ws), place,
                                     (hq, wq), (och[i], ocw[j]), (hs, ws))
                layer[(name,) + lead + (i, j)] = (block, *keys)
    chunks = tuple(out_lead_chunks) + (och, ocw)
    if len(dtypes) == 1:
        graph = HighLevelGraph.from_collections(name, layer, dependencies=[x])
        return [Array(graph, name, chunks, meta=np.empty((0,) * len(chunks), dtypes[0]))]
    graph = HighLevelGraph.from_collections(name, layer, dependencies=[x])
    tuples = Array(graph, name, chunks, meta=np.empty((0,) * len(chunks), dtypes[0]))
    outs = []
    for n, dt in enumerate(dtypes):
        part = f"{name}-{n}"
        sel = {(part,) + k[1:]: (operator.getitem, k, n) for k in layer}
        g = HighLevelGraph.from_collections(part, sel, dependencies=[tuples])
        outs.append(Array(g, part, chunks, meta=np.empty((0,) * len(chunks), dt)))
    return outs


def _pieces(bounds, start, stop):
    """[(chunk index, (offset in chunk, offset in window, length))] covering [start, stop)."""
    out = []
    c = max(0, bisect_right(bounds, start) - 1)
    while c < len(bounds) - 1 and bounds[c] < stop:
        lo, hi = max(start, bounds[c]), min(stop, bounds[c + 1])
        if hi > lo:
            out.append((c, (lo - bounds[c], lo - start, hi - lo)))
        c += 1
    return out


class _WindowBlock:
    """The task computing one output block: assemble its input window from the input chunks
    it overlaps (a view when it lies in one), run the kernel, keep the block's outputs."""

    def __init__(self, call, spec, lead, shape, place, q0, out_hw, origin):
        self.call, self.spec, self.lead, self.shape = call, spec, lead, shape
        self.place, self.q0, self.out_hw, self.origin = place, q0, out_hw, origin

    def __call__(self, *parts):
        if len(parts) == 1:
            (r, c) = self.place[0]
            win = parts[0][..., r[0]:r[0] + r[2], c[0]:c[0] + c[2]]
        else:
            win = np.empty(self.shape, parts[0].dtype)
            for part, (r, c) in zip(parts, self.place):
                win[..., r[1]:r[1] + r[2], c[1]:c[1] + c[2]] = part[..., r[0]:r[0] + r[2],
                                                                       c[0]:c[0] + c[2]]
        with _thread_share(self.spec):
            res = self.call(win, self.lead, self.origin)
        q0, hw = self.q0, self.out_hw
        sl = (Ellipsis, slice(q0[0], q0[0] + hw[0]), slice(q0[1], q0[1] + hw[1]))
        if isinstance(res, tuple):
            return tuple(np.ascontiguousarray(r[sl]) for r in res)
        return np.ascontiguousarray(res[sl])


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1, *,
           threads=None):
    """Lazy ``npfast.conv2d`` (``torch.nn.functional.conv2d`` semantics) of a dask array.

    Parameters
    ----------
    input : dask.array.Array or array_like
        (N, C, H, W) (or unbatched (C, H, W)); chunked along N, H and W freely. The channel
        axis is rechunked so each chunk holds whole groups (one chunk when ``groups == 1``).
    weight : array_like
        (O, C // groups, kh, kw), embedded in the graph.
    bias : array_like, optional
        (O,).
    stride, padding, dilation : int or pair of ints
        As in PyTorch; ``padding`` may also be "valid", or "same" when stride is 1 and
        ``dilation * (k - 1)`` is even on both axes: npfast.dask's windows pad symmetrically
        (``npfast.conv2d`` itself also takes an odd total, padding the extra row and column at
        the bottom and right as PyTorch).
    groups : int
        As in PyTorch.
    threads : int, optional
        npfast threads per task; default: a share of the cores.

    Returns
    -------
    dask.array.Array
        (N, O, OH, OW) (or (O, OH, OW)); computing it equals ``npfast.conv2d`` on the whole
        array. Windows straddling chunk edges are computed from both chunks, zero padding is
        applied only at the image's edges.

    Raises
    ------
    ValueError, TypeError
        Bad shapes or parameters (also those the kernel reports for a probe call made when the
        graph is built).
    """
    x = _as_dask(input, "input")
    w = _small(weight, "weight")
    b = _small(bias, "bias")
    unbatched = x.ndim == 3
    if unbatched:
        x = x[None]
    _npfast.conv2d(_no_images(x, (4,)), w, b, stride, padding, dilation, groups)
    # (Ranks, shapes and every argument were checked by the in-memory call above.)
    s, pads, d, groups = _npfast._conv2d_params(w.shape[2:], stride, padding, dilation, groups)
    shape = _npfast._conv2d_output_shape(x.shape, w.shape, stride, padding, dilation, groups)
    if x.shape[1] == 0:
        # No input channels: every image's result is the bias alone (npfast.conv2d's answer),
        # one image of it broadcast over the batch's chunks (probe18c: channel chunks on
        # group boundaries divided by C / groups = 0).
        import dask.array as da
        one = _npfast.conv2d(np.zeros((1, 0) + x.shape[2:], x.dtype), w, b, stride, padding,
                             dilation, groups)
        out = da.broadcast_to(da.from_array(one, chunks=one.shape), tuple(shape),
                              chunks=(x.chunks[0],) + tuple((n,) for n in shape[1:]))
        return out[0] if unbatched else out
    if pads[0] != pads[1] or pads[2] != pads[3]:
        raise ValueError(f"padding={padding!r} pads unequally ({pads}: top, bottom, left, "
                         "right); npfast.dask pads symmetrically: pass explicit padding instead")
    p = (pads[0], pads[2])
    c, o = x.shape[1], w.shape[0]
    kernel = _Kernel("conv2d")
    spec = _Threads(threads, _host_slots())
    ah = _Axis(x.shape[2], w.shape[2], s[0], p[0], d[0], False)
    aw = _Axis(x.shape[3], w.shape[3], s[1], p[1], d[1], False)
    probe = kernel(np.zeros((1, c, ah.keff, aw.keff), x.dtype), w, b, s, p, d, groups)
    cpg, opg = c // groups, o // groups
    # Channel chunks on group boundaries: chunk edges rounded up to whole groups.
    edges = sorted({min(c, -(-e // cpg) * cpg) for e in _bounds(x.chunks[1])})
    cchunks = tuple(bb - a for a, bb in zip(edges[:-1], edges[1:]) if bb > a)
    if groups == 1:
        cchunks = (c,)
    x = x.rechunk({1: cchunks})
    gbounds = [e // cpg for e in _bounds(cchunks)]
    call = _ConvCall(kernel, w, b, p, s, d, gbounds, opg)
    ochunks = tuple((g1 - g0) * opg for g0, g1 in zip(gbounds[:-1], gbounds[1:]))
    token = ("conv2d", kernel.token(), w, b, s, p, d, groups, spec.threads, spec.host_slots)
    (out,) = _windowed(x, ah, aw, (x.chunks[0], ochunks), call, spec, [probe.dtype], token)
    return out[0] if unbatched else out


class _ConvCall:
    """conv2d on one input window holding the groups [g0, g1) of its channel chunk."""

    def __init__(self, kernel, w, b, p, s, d, gbounds, opg):
        self.kernel, self.w, self.b = kernel, w, b
        self.p, self.s, self.d, self.gbounds, self.opg = p, s, d, gbounds, opg

    def __call__(self, win, lead, origin):
        g0, g1 = self.gbounds[lead[1]], self.gbounds[lead[1] + 1]
        o0, o1 = g0 * self.opg, g1 * self.opg
        b = None if self.b is None else self.b[o0:o1]
        return self.kernel(win, self.w[o0:o1], b, self.s, self.p, self.d, g1 - g0)


def _pool_setup(x, kernel_size, stride, padding, dilation, ceil_mode):
    # Arguments already checked by the in-memory function (_no_images); here only parsed.
    k = _npfast._pair(kernel_size, "kernel_size")
    s = k if stride is None or (isinstance(stride, (tuple, list)) and len(stride) == 0) \
        else _npfast._pair(stride, "stride")
    p, d = _npfast._pair(padding, "padding"), _npfast._pair(dilation, "dilation")
    ah = _Axis(x.shape[-2], k[0], s[0], p[0], d[0], ceil_mode)
    aw = _Axis(x.shape[-1], k[1], s[1], p[1], d[1], ceil_mode)
    return k, s, p, d, ah, aw


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False, *, threads=None):
    """Lazy ``npfast.max_pool2d`` (``torch.nn.functional.max_pool2d`` semantics).

    Parameters
    ----------
    input : dask.array.Array or array_like
        (N, C, H, W), (C, H, W) or (H, W), chunked along every axis freely.
    kernel_size, stride, padding, dilation, ceil_mode : as in PyTorch
        ``stride`` defaults to ``kernel_size``.
    return_indices : bool
        Also return the argmax indices, flat over each plane's H * W, as PyTorch does (the
        per-block indices are turned into indices of the whole plane).
    threads : int, optional
        npfast threads per task; default: a share of the cores.

    Returns
    -------
    dask.array.Array, or a pair (values, indices)
        Computing it equals ``npfast.max_pool2d`` on the whole array, bit for bit.

    Raises
    ------
    ValueError, TypeError
        Bad shapes or parameters (also those the kernel reports for a probe call made when the
        graph is built).
    """
    x = _as_dask(input, "input")
    _npfast.max_pool2d(_no_images(x, (2, 3, 4)), kernel_size, stride, padding, dilation, ceil_mode,
                       return_indices)
    ceil_mode = _npfast._bool(ceil_mode, "ceil_mode")
    return_indices = _npfast._bool(return_indices, "return_indices")
    k, s, p, d, ah, aw = _pool_setup(x, kernel_size, stride, padding, dilation, ceil_mode)
    kernel = _Kernel("max_pool2d")
    spec = _Threads(threads, _host_slots())
    probe = kernel(np.zeros((1,) * (x.ndim - 2) + (ah.keff, aw.keff), x.dtype), k, s, p, d,
                   ceil_mode, return_indices)
    dtypes = [probe[0].dtype, probe[1].dtype] if return_indices else [probe.dtype]
    call = _MaxPoolCall(kernel, k, s, p, d, ceil_mode, return_indices,
                        x.shape[-1])
    token = ("max_pool2d", kernel.token(), k, s, p, d, ceil_mode, return_indices,
             spec.threads, spec.host_slots)
    outs = _windowed(x, ah, aw, x.chunks[:-2], call, spec, dtypes, token)
    return tuple(outs) if return_indices else outs[0]


class _MaxPoolCall:
    def __init__(self, kernel, k, s, p, d, ceil_mode, return_indices, width):
        self.kernel, self.k, self.s, self.p, self.d = kernel, k, s, p, d
        self.ceil_mode, self.return_indices, self.width = ceil_mode, return_indices, width

    def __call__(self, win, lead, origin):
        res = self.kernel(win, self.k, self.s, self.p, self.d, self.ceil_mode,
                          self.return_indices)
        if not self.return_indices:
            return res
        vals, idx = res
        # Indices of the window (flat over its rows x cols) -> of the whole plane.
        wcols = win.shape[-1]
        r, c = np.divmod(idx, wcols)
        idx = (r + origin[0]) * self.width + (c + origin[1])
        return vals, idx.astype(res[1].dtype, copy=False)


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None, *, threads=None):
    """Lazy ``npfast.avg_pool2d`` (``torch.nn.functional.avg_pool2d`` semantics).

    Parameters
    ----------
    input : dask.array.Array or array_like
        (N, C, H, W), (C, H, W) or (H, W), chunked along every axis freely.
    kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override :
        As in PyTorch; ``stride`` defaults to ``kernel_size``. Each block is computed with the
        kernel's own padding at the image's edges, so divisors (padding counted or not,
        ``ceil_mode`` windows hanging over the end) are those of the whole-image call.
    threads : int, optional
        npfast threads per task; default: a share of the cores.

    Returns
    -------
    dask.array.Array
        Computing it equals ``npfast.avg_pool2d`` on the whole array, bit for bit.

    Raises
    ------
    ValueError, TypeError
        Bad shapes or parameters (also those the kernel reports for a probe call).
    """
    x = _as_dask(input, "input")
    _npfast.avg_pool2d(_no_images(x, (2, 3, 4)), kernel_size, stride, padding, ceil_mode,
                       count_include_pad, divisor_override)
    ceil_mode = _npfast._bool(ceil_mode, "ceil_mode")
    count_include_pad = _npfast._bool(count_include_pad, "count_include_pad")
    k, s, p, _, ah, aw = _pool_setup(x, kernel_size, stride, padding, 1, ceil_mode)
    kernel = _Kernel("avg_pool2d")
    spec = _Threads(threads, _host_slots())
    args = (k, s, p, ceil_mode, count_include_pad, divisor_override)
    probe = kernel(np.zeros((1,) * (x.ndim - 2) + (ah.keff, aw.keff), x.dtype), *args)
    call = _AvgPoolCall(kernel, args)
    token = ("avg_pool2d", kernel.token(), args, spec.threads, spec.host_slots)
    (out,) = _windowed(x, ah, aw, x.chunks[:-2], call, spec, [probe.dtype], token)
    return out


class _AvgPoolCall:
    def __init__(self, kernel, args):
        self.kernel, self.args = kernel, args

    def __call__(self, win, lead, origin):
        return self.kernel(win, *self.args)
