"""PyTorch, the anchor most kernels are compared with.

requirements/test.txt installs it (`make test`), so it is imported where needed. Where it is truly
unavailable, `torch` and `F` are None and only the tests marked `needs_torch` skip: every other
test in the same file still runs.
"""

import pytest

try:
    import torch
    import torch.nn.functional as F
except ImportError:  # only a checkout without the test requirements
    torch = F = None

needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch (requirements/test.txt) is not installed")
