"""Shared fixtures: seeded RNG that does not leak, and weight randomisation.

A freshly built coupling is the identity (its last convolution starts at zero), which would make
every log-det test pass trivially; :func:`randomize_` gives every parameter and every batch-norm
statistic random values first.
"""

from __future__ import annotations

import pytest
import torch

from nvp.trace import randomize_


@pytest.fixture(autouse=True)
def seed():
    """Every test starts from the same RNG state and gives it back afterwards."""
    with torch.random.fork_rng():
        torch.manual_seed(0)
        yield


__all__ = ["randomize_"]  # the tests import it from here
