"""Shared fixtures: seeded RNG that does not leak, and weight randomisation.

A freshly built coupling is the identity (its last convolution starts at zero), which would make
every log-det test pass trivially; :func:`randomize_` gives every parameter and every batch-norm
statistic random values first.
"""

from __future__ import annotations

import pytest
import torch
from torch import nn


@pytest.fixture(autouse=True)
def seed():
    """Every test starts from the same RNG state and gives it back afterwards."""
    with torch.random.fork_rng():
        torch.manual_seed(0)
        yield


def randomize_(module: nn.Module, std: float = 0.3) -> nn.Module:
    """Perturb every parameter and batch-norm running statistic in place; returns the module."""
    with torch.no_grad():
        for p in module.parameters():
            p.add_(std * torch.randn_like(p))
        for m in module.modules():
            if isinstance(m, nn.modules.batchnorm._BatchNorm):
                m.running_mean.normal_(0.0, 0.5)
                m.running_var.uniform_(0.5, 2.0)
    return module
