"""Shared fixtures: run a test once per ISA kernel path this CPU runs, with every ISA cap and
thread count a test sets restored however the test ends."""

import contextlib
import os

import pytest

import npfast
from npfast import _npfast


def pytest_configure(config):
    """Under pytest-xdist (`make test` runs `pytest -n $(JOBS)`: one worker a core) the anchors' own
    thread pools run on one thread in each worker. Two workers with PyTorch's two OpenMP threads
    each put four spinning threads on two cores, and a test making many small torch calls then
    waits at every barrier for a thread that is off its core (test_conv_nonfinite.py: 10 s with
    one torch thread, 160 s with two, on two busy cores). npfast's own thread count is untouched:
    the tests set it where they test it, and its pool yields its core while it spins."""
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        return
    try:
        import torch
    except ImportError:
        return
    torch.set_num_threads(1)


# The ISA paths this CPU runs, narrowest first, from the one place that knows them.
ISAS = npfast.config()["isas_available"]


@contextlib.contextmanager
def isa_cap(name):
    """Runs the block with npfast's kernels capped at `name`; restores the previous ISA however the
    block exits, so a failing test cannot leave a cap for the tests after it."""
    before = _npfast._isa()
    try:
        _npfast._set_isa(name)
        yield name
    finally:
        _npfast._set_isa(before)


@pytest.fixture(params=ISAS)
def isa(request):
    """Runs the test once on each ISA path in ISAS."""
    with isa_cap(request.param) as name:
        yield name


@pytest.fixture
def keep_isa():
    """Restores the ISA for a test that sets it (or tries to) itself."""
    with isa_cap(_npfast._isa()):
        yield


@pytest.fixture
def threads():
    """Restores the thread count a test changes."""
    before = npfast.get_num_threads()
    try:
        yield
    finally:
        npfast.set_num_threads(before)
