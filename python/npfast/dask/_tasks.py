"""What every npfast.dask task needs: the npfast kernel travelling with the graph, npfast's
thread count inside tasks, and small helpers on dask arrays and chunks."""

from __future__ import annotations

import contextlib
import math
import multiprocessing
import os
import sys
import threading

import dask
import dask.array as da
import numpy as np

import npfast

ENV_THREADS = "NPFAST_DASK_THREADS"


# ---------------------------------------------------------------------------------------------
# Kernels travel with the graph


def _import_kernel(module: str, attr: str):
    import importlib

    return getattr(importlib.import_module(module), attr)


class _Kernel:
    """An npfast function resolved when the graph is built.

    Compiled (nanobind) functions cannot be pickled, so they travel by module and name and are
    looked up again in the worker; Python functions travel as themselves (cloudpickle).
    """

    def __init__(self, name: str, fn=None):
        self.name = name
        self.fn = getattr(npfast, name, None) if fn is None else fn
        if self.fn is None:
            raise NotImplementedError(f"npfast.{name} is not available in this build of npfast")

    def __call__(self, *args, **kwargs):
        return self.fn(*args, **kwargs)

    def token(self):
        """Identifies the function for graph key names."""
        fn = self.fn
        return (self.name, getattr(fn, "__module__", None), getattr(fn, "__qualname__", None))

    def __reduce__(self):
        if type(self.fn).__name__ == "nb_func":
            return (_resolved_kernel, (self.name, self.fn.__module__, self.fn.__name__))
        return (_Kernel, (self.name, self.fn))


def _resolved_kernel(name, module, attr):
    return _Kernel(name, _import_kernel(module, attr))


# ---------------------------------------------------------------------------------------------
# npfast threads inside tasks


class _Threads:
    """What a task needs to choose its npfast thread count: the user's override and, when a
    distributed client existed at graph-build time, how many task slots each host has."""

    def __init__(self, threads, host_slots):
        if threads is not None:
            if isinstance(threads, bool) or not isinstance(threads, (int, np.integer)):
                raise TypeError(f"threads: expected an int or None, got {threads!r} "
                                f"({type(threads).__name__})")
            if not 1 <= threads <= 1024:
                raise ValueError(f"threads: must be between 1 and 1024, got {threads}")
            threads = int(threads)
        self.threads = threads
        self.host_slots = host_slots

    def count(self):
        """npfast threads for a task starting now, or None to leave the setting alone."""
        if self.threads is not None:
            return self.threads
        env = os.environ.get(ENV_THREADS, "").strip()
        if env:
            try:
                n = int(env)
            except ValueError:
                raise ValueError(
                    f"{ENV_THREADS}: expected a positive integer, got {env!r}") from None
            if not 1 <= n <= 1024:
                raise ValueError(f"{ENV_THREADS}: must be between 1 and 1024, got {n}")
            return n
        cores = npfast._npfast.usable_cores()
        worker = _current_worker()
        if worker is not None:
            host = _host_of(worker.address)
            slots = self.host_slots.get(host) or _worker_nthreads(worker)
        elif threading.current_thread() is not threading.main_thread() or \
                multiprocessing.parent_process() is not None:
            # dask's threaded scheduler, or a process of its multiprocessing pool: as many
            # concurrent tasks as its pool has workers (default: the cores)
            slots = dask.config.get("num_workers", None) or cores
        else:
            return None  # synchronous scheduler: one task at a time, the caller's own setting
        return max(1, cores // max(1, slots))


def _current_worker():
    dist = sys.modules.get("distributed")
    if dist is None:
        return None
    try:
        return dist.get_worker()
    except ValueError:
        return None


def _worker_nthreads(worker) -> int:
    state = getattr(worker, "state", None)
    return int(getattr(state, "nthreads", None) or getattr(worker, "nthreads", 1) or 1)


def _host_of(address: str) -> str:
    return address.split("://")[-1].rsplit(":", 1)[0]


def _host_slots() -> dict:
    """{host: task slots} of the current distributed client's workers ({} without one)."""
    dist = sys.modules.get("distributed")
    if dist is None:
        return {}
    try:
        client = dist.default_client()
        workers = client.scheduler_info(n_workers=-1)["workers"]
    except Exception:  # no client, or a client we cannot ask: fall back to per-worker counts
        return {}
    slots: dict = {}
    for addr, info in workers.items():
        host = info.get("host") or _host_of(addr)
        slots[host] = slots.get(host, 0) + int(info.get("nthreads", 1))
    return slots


_share_lock = threading.Lock()
_share_users = 0
_share_saved = 1


@contextlib.contextmanager
def _thread_share(spec: _Threads):
    """Sets npfast's (process-wide) thread count for the tasks running now; the setting found
    before the first of them is restored when the last one ends."""
    global _share_users, _share_saved
    n = spec.count()
    if n is None:
        yield
        return
    with _share_lock:
        if _share_users == 0:
            _share_saved = npfast.get_num_threads()
        _share_users += 1
        if npfast.get_num_threads() != n:
            npfast.set_num_threads(n)
    try:
        yield
    finally:
        with _share_lock:
            _share_users -= 1
            if _share_users == 0 and npfast.get_num_threads() != _share_saved:
                npfast.set_num_threads(_share_saved)


def _run(spec: _Threads, fn, *args, **kwargs):
    with _thread_share(spec):
        return fn(*args, **kwargs)


# ---------------------------------------------------------------------------------------------
# Small helpers


def _as_dask(a, name: str) -> da.Array:
    if not isinstance(a, da.Array):
        try:
            a = da.asarray(np.asarray(a))
        except Exception as exc:
            dtype = getattr(a, "dtype", None)  # an ndarray dask cannot wrap: say its dtype
            raise TypeError(f"{name}: expected a dask or NumPy array of numbers, got "
                            f"{type(a).__name__}" + (f" of dtype {dtype}" if dtype is not None
                                                     else "")) from exc
    if any(math.isnan(c) for cs in a.chunks for c in cs):
        raise ValueError(f"{name}: chunk sizes are unknown (NaN); call "
                         f"{name}.compute_chunk_sizes() first")
    return a


def _small(a, name: str) -> np.ndarray:
    """A kernel-sized operand (filter, weight, bias): computed if lazy, kept in the graph."""
    if a is None:
        return None
    # A copy: the graph's key names reflect these values, so the caller changing its array
    # later must not change what the graph computes.
    return np.array(a.compute() if isinstance(a, da.Array) else a, copy=True)


def _merge_small(chunks: tuple, minimum: int) -> tuple:
    """Chunk sizes with neighbours merged until each is >= minimum (one chunk if too few)."""
    if minimum <= 0 or all(c >= minimum for c in chunks):
        return tuple(chunks)
    out = []
    acc = 0
    for c in chunks:
        acc += c
        if acc >= minimum:
            out.append(acc)
            acc = 0
    if acc:
        if out:
            out[-1] += acc
        else:
            out.append(acc)
    return tuple(out)


def _bounds(chunks: tuple) -> list:
    """[0, c0, c0 + c1, ..., n]"""
    return [0] + list(np.cumsum(chunks, dtype=np.int64).tolist())
