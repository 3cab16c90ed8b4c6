"""Shared fixtures: run a test once per ISA kernel path this CPU runs, with every ISA cap and
thread count a test sets restored however the test ends."""

import contextlib

import pytest

import npfast
from npfast import _npfast

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
