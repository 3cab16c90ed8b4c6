"""Shared fixtures: run a test once per ISA kernel path (skipping, with a reason, the ones
this CPU lacks), and the optional anchors."""

import pytest

import npfast
from npfast import _npfast

ALL_ISAS = ["scalar", "avx2", "avx512"]


@pytest.fixture(params=ALL_ISAS)
def isa(request):
    name = request.param
    if name not in _npfast._isas_available():
        pytest.skip(f"this CPU cannot run {name}")
    before = _npfast._isa()
    _npfast._set_isa(name)
    try:
        yield name
    finally:
        _npfast._set_isa(before)


@pytest.fixture
def threads():
    """Restores the thread count a test changes."""
    before = npfast.get_num_threads()
    yield
    npfast.set_num_threads(before)
