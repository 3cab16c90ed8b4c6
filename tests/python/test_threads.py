"""The thread pool seen from Python: fork safety, concurrent callers, thread-count invariance."""

import multiprocessing
import os
import threading

import numpy as np
import pytest

import npfast


def _child_convert(q):
    a = np.arange(4_000_000, dtype=np.uint8).reshape(2000, 2000)
    q.put(float(npfast.convert(a, np.float32, 0.5).sum(dtype=np.float64)))


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_pool_works_in_forked_child(threads):
    npfast.set_num_threads(2)
    a = np.arange(4_000_000, dtype=np.uint8).reshape(2000, 2000)
    want = float(npfast.convert(a, np.float32, 0.5).sum(dtype=np.float64))  # pool now running
    ctx = multiprocessing.get_context("fork")
    q = ctx.Queue()
    p = ctx.Process(target=_child_convert, args=(q,))
    p.start()
    p.join(60)
    assert p.exitcode == 0
    assert q.get(timeout=5) == want


def test_concurrent_python_threads_match_serial(threads):
    npfast.set_num_threads(2)
    rng = np.random.default_rng(0)
    inputs = [rng.integers(0, 256, (700, 900), dtype=np.uint8) for _ in range(8)]
    want = [npfast.convert(a, np.float64, 1 / 255, 0.5) for a in inputs]
    got = [None] * len(inputs)

    def work(i):
        for _ in range(5):
            got[i] = npfast.convert(inputs[i], np.float64, 1 / 255, 0.5)

    ts = [threading.Thread(target=work, args=(i,)) for i in range(len(inputs))]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    for g, w in zip(got, want):
        assert np.array_equal(g, w)
