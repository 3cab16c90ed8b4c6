"""npfast's memory pool inside Numba-compiled code (optional: ``pip install npfast[numba]``).

Numba's runtime (NRT) allocates every array that compiled code makes (``np.zeros``,
``np.empty``, ``np.ones``, the temporaries of array expressions) with ``malloc``, so a loop
that allocates a big array gets fresh pages from the OS each time and pays a page fault per
page. After ``install()`` those allocations come from npfast's caching pool instead, and the
same code reuses warm memory::

    import npfast.numba

    npfast.numba.install()          # or: with npfast.numba.installed(): ...

    @numba.njit
    def f(n):
        mat = np.zeros((n, n))      # a warm pool block, cleared
        ...

``npfast.zeros`` and ``npfast.empty`` can also be called inside ``@njit`` code (installed or
not); there ``npfast.zeros`` keeps its own zeroing policy (fresh zero pages from the OS when the
pool has no block, a SIMD clear of a warm one). There they take native dtypes but float16
(Numba has none) and ``order='C'`` only; others are typing errors.

Notes
-----
* ``install()`` is process-wide: it switches NRT's allocator for every thread, including
  threads started earlier and Numba's parallel workers (unlike ``npfast.memory.numpy_pool()``,
  which follows NumPy's per-context handler).
* A block always goes back to the allocator that made it: blocks allocated before
  ``install()`` may be freed after it and the reverse.
* Arrays that NumPy (not compiled code) allocates are not affected: use
  ``npfast.memory.install()`` / ``numpy_pool()`` for those.

See docs/memory.md ("Numba") for how it works and what it costs.
"""

from __future__ import annotations

import contextlib
import threading

import llvmlite.binding as _llvm
import numpy as np
from llvmlite import ir
from numba.core import cgutils, types
from numba.core.errors import TypingError
# Importing nrt sets NRT's allocator to CPython's raw one (nrt.py, at import): it must have run
# before _attach() looks for exactly that.
from numba.core.runtime import _nrt_python
from numba.core.runtime.nrt import MemInfo
from numba.extending import intrinsic, overload
from numba.np.arrayobj import _parse_shape, make_array, populate_array
from numba.np.numpy_support import as_dtype, from_dtype

from . import _npfast

__all__ = ["install", "installed", "is_installed", "uninstall"]

_lock = threading.Lock()
_attached = False

# The dtypes npfast.zeros / npfast.empty accept (as in Python, but float16: Numba has no float16
# arrays).
_DTYPES = {np.dtype(t) for t in ("?", "u1", "i1", "u2", "i2", "u4", "i4", "u8", "i8", "f4", "f8",
                                  "c8", "c16")}


def _attach() -> None:
    """Finds NRT's allocator and registers npfast's allocation functions with the JIT (once)."""
    global _attached
    with _lock:
        if _attached:
            return
        # Finding NRT's system allocator may fail on a Numba with another runtime layout: then
        # install() raises, while npfast.zeros / npfast.empty in @njit still work.
        _npfast._nrt_attach(_nrt_python.c_helpers["get_api"])
        empty, zeros = _npfast._nrt_allocators()
        # By name, not as constants in the code: functions cached on disk (cache=True) link
        # against the addresses of the process that loads them.
        _llvm.add_symbol("npfast_nrt_empty", empty)
        _llvm.add_symbol("npfast_nrt_zeros", zeros)
        # Numba's np.zeros clears with llvm.memset, a call to `memset`: code compiled from now
        # on calls npfast's, which clears zeros the pool's way (memory::zero_fill) while
        # install() is on and is the C library's memset otherwise.
        _llvm.add_symbol("memset", _npfast._nrt_memset())
        _attached = True


def _self_test() -> None:
    """After the first switch: an NRT allocation must come from the pool."""
    addr = _nrt_python.meminfo_alloc(64)  # NRT_MemInfo_alloc: the MemInfo starts the block
    ok = _npfast._nrt_owns(addr)
    MemInfo(addr)  # takes the reference and releases it
    if not ok:
        _npfast._nrt_switch(False)
        raise RuntimeError("npfast.numba: Numba's allocator did not switch; this Numba version "
                           "is not supported")


_tested = False


def install() -> None:
    """Make arrays allocated by Numba-compiled code come from npfast's pool, in every thread,
    until ``uninstall()``. Installing twice is harmless.

    Raises RuntimeError when this Numba version's runtime cannot be hooked.
    """
    global _tested
    _attach()
    _npfast._nrt_switch(True)
    if not _tested:
        _self_test()
        _tested = True


def uninstall() -> None:
    """Give Numba's runtime its own allocator back (CPython's raw malloc). Arrays allocated from
    the pool meanwhile stay valid and return to the pool when they die."""
    if _attached:
        _npfast._nrt_switch(False)


def is_installed() -> bool:
    """True while Numba-compiled code allocates from npfast's pool."""
    return _npfast._nrt_installed()


@contextlib.contextmanager
def installed():
    """Context manager: ``install()`` inside the ``with`` block, the previous state after it.
    Process-wide, like ``install()``."""
    was = is_installed()
    install()
    try:
        yield
    finally:
        if not was:
            uninstall()


# ---- npfast.zeros / npfast.empty inside @njit -----------------------------------------------


def _dtype_of(dtype, name):
    if dtype is None or isinstance(dtype, (types.NoneType, types.Omitted)):
        return types.float64
    if isinstance(dtype, types.NumberClass):
        nb = dtype.instance_type
    elif isinstance(dtype, types.DType):
        nb = dtype.dtype
    elif isinstance(dtype, types.StringLiteral):
        nb = from_dtype(np.dtype(dtype.literal_value))
    else:
        raise TypingError(f"npfast.{name}: dtype must be a NumPy dtype, got {dtype}")
    if not isinstance(nb, (types.Number, types.Boolean)) or as_dtype(nb) not in _DTYPES:
        raise TypingError(f"npfast.{name}: unsupported dtype {nb}")
    return nb


def _ndim_of(shape, name):
    if isinstance(shape, types.Integer):
        return 1
    if isinstance(shape, types.BaseTuple) and all(isinstance(t, types.Integer) for t in shape):
        return len(shape)
    raise TypingError(f"npfast.{name}: shape must be an int or a tuple of ints, got {shape}")


def _pool_array_intrinsic(symbol, name):
    @intrinsic
    def alloc(typingctx, shape, dtype):
        arrtype = types.Array(_dtype_of(dtype, name), _ndim_of(shape, name), "C")

        def codegen(context, builder, sig, args):
            # As numba.np.arrayobj._empty_nd_impl, with npfast's allocator.
            shapes = _parse_shape(context, builder, sig.args[0], args[0])
            intp = context.get_value_type(types.intp)
            itemsize = context.get_constant(types.intp, context.get_abi_sizeof(
                context.get_data_type(arrtype.dtype)))
            n = context.get_constant(types.intp, 1)
            overflow = ir.Constant(ir.IntType(1), 0)
            for s in shapes:
                prod = builder.smul_with_overflow(n, s)
                n = builder.extract_value(prod, 0)
                overflow = builder.or_(overflow, builder.extract_value(prod, 1))
            strides = [itemsize]
            for s in reversed(shapes[1:]):
                strides.append(builder.mul(strides[-1], s))
            strides = list(reversed(strides))[: len(shapes)]
            prod = builder.smul_with_overflow(n, itemsize)
            nbytes = builder.extract_value(prod, 0)
            overflow = builder.or_(overflow, builder.extract_value(prod, 1))
            with builder.if_then(overflow, likely=False):
                context.call_conv.return_user_exc(builder, ValueError, (
                    "array is too big; `arr.size * arr.dtype.itemsize` is larger than the "
                    "maximum possible size.",))
            fnty = ir.FunctionType(cgutils.voidptr_t, [intp])
            fn = cgutils.get_or_insert_function(builder.module, fnty, symbol)
            meminfo = builder.call(fn, [nbytes])
            with builder.if_then(cgutils.is_null(builder, meminfo), likely=False):
                context.call_conv.return_user_exc(builder, MemoryError, (
                    f"npfast.{name}: cannot allocate the array",))
            data = context.nrt.meminfo_data(builder, meminfo)
            ary = make_array(arrtype)(context, builder)
            populate_array(ary,
                           data=builder.bitcast(data, context.get_data_type(
                               arrtype.dtype).as_pointer()),
                           shape=cgutils.pack_array(builder, shapes, ty=intp),
                           strides=cgutils.pack_array(builder, strides, ty=intp),
                           itemsize=itemsize, meminfo=meminfo)
            return ary._getvalue()

        return arrtype(shape, dtype), codegen

    return alloc


def _check_c_order(order, name):
    """order='C' (or left out) only: compiled code makes C-contiguous arrays, as Numba's own
    np.empty does (which takes no order)."""
    if order is None or order == "C" or isinstance(order, (types.Omitted, types.NoneType)):
        return
    if isinstance(order, types.StringLiteral) and order.literal_value in ("C", "c"):
        return
    raise TypingError(f"npfast.{name}: only order='C' inside @njit, got {order}")


def _overload_pool_array(pyfunc, symbol, name):
    """Makes `pyfunc` (npfast.empty or npfast.zeros) callable in @njit code."""
    alloc = _pool_array_intrinsic(symbol, name)

    @overload(pyfunc)
    def ol(shape, dtype=None, order="C"):
        _dtype_of(dtype, name)
        _ndim_of(shape, name)
        _check_c_order(order, name)

        def impl(shape, dtype=None, order="C"):
            return alloc(shape, dtype)

        return impl


_overload_pool_array(_npfast.empty, "npfast_nrt_empty", "empty")
_overload_pool_array(_npfast.zeros, "npfast_nrt_zeros", "zeros")


def _init_extension() -> None:
    """Numba's ``numba_extensions`` entry point: importing this module registers the
    overloads and the allocation symbols."""


_attach()
