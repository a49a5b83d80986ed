"""Shared fixture: a seeded RNG that does not leak between tests.

Weight randomisation lives in the package (``nvp.testing.randomize_``): a freshly built coupling is
the identity, which would make every log-det test pass trivially.
"""

from __future__ import annotations

import pytest
import torch


@pytest.fixture(autouse=True)
def seed():
    """Every test starts from the same RNG state and gives it back afterwards."""
    with torch.random.fork_rng():
        torch.manual_seed(0)
        yield


