"""``with eval_mode(model): ...``: the one "run in eval mode and restore" helper of the package.

Batch norm (paper §3.7) behaves differently in training mode (the batch's statistics) and in eval
mode (running averages): scoring, sampling and checking a model use eval mode, and must hand the
model back in the mode they found it, even when the block raises.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from torch import nn


@contextmanager
def eval_mode(module: nn.Module) -> Iterator[nn.Module]:
    """``with eval_mode(model): ...`` runs the block in eval mode (batch norm uses its running
    statistics), then puts back the mode the module had, even if the block raises."""
    was_training = module.training
    module.eval()
    try:
        yield module
    finally:
        module.train(was_training)
