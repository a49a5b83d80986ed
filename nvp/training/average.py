"""Polyak averaging of the weights, for evaluation and sampling (Polyak & Juditsky 1992).

After every optimisation step ``θ̄ ← d·θ̄ + (1 − d)·θ`` (an exponential moving average, EMA), with
``d = min(decay, (1 + n)/(10 + n))`` after ``n`` updates, so that the first steps' weights, far
from any good model, are forgotten quickly. The average sits in the middle of the region that the
last few hundred noisy Adam steps wander around, which usually scores better than any one of them.
Batch-norm running statistics are averaged the same way.
"""

from __future__ import annotations

import copy
from typing import Any

import torch
from torch import nn


def lerp_all_(targets: list[torch.Tensor], sources: list[torch.Tensor], weight: float) -> None:
    """``a ← a + w·(v − a)`` for every pair, in place.

    ``torch._foreach_lerp_`` (a private PyTorch API, present since torch 2.0 and in 2.13) does it
    in a few fused kernels instead of one per tensor (hundreds per step on a GPU); without it,
    the public per-tensor ``lerp_``. ``tests/test_perf_paths.py`` notices when the private one
    goes away or stops agreeing with the public one.
    """
    fused = getattr(torch, "_foreach_lerp_", None)
    if fused is not None:
        fused(targets, sources, weight)
        return
    for a, v in zip(targets, sources, strict=True):
        a.lerp_(v, weight)


class WeightAverage:
    """A copy of ``model`` whose tensors follow the model's by an exponential moving average.

    Args:
        model: the model being trained (not a DDP or compiled wrapper: its own tensors).
        decay: ``d`` in ``θ̄ ← d·θ̄ + (1 − d)·θ``, e.g. 0.999 (an average over ~1,000 steps).
    """

    def __init__(self, model: nn.Module, decay: float) -> None:
        self.decay = decay
        self.updates = 0
        self.model = copy.deepcopy(model).eval().requires_grad_(False)
        live, avg = model.state_dict(), self.model.state_dict()  # tensors shared with the modules
        self._pairs = [(avg[k], v) for k, v in live.items()]
        self._floats = [(a, v) for a, v in self._pairs if a.is_floating_point()]

    @torch.no_grad()
    def update(self) -> None:
        """One step of the average (call after ``optimizer.step()``)."""
        self.updates += 1
        d = min(self.decay, (1 + self.updates) / (10 + self.updates))
        averaged, live = zip(*self._floats, strict=True)
        lerp_all_(list(averaged), list(live), 1.0 - d)
        for a, v in self._pairs:
            if not a.is_floating_point():
                a.copy_(v)  # batch counters

    def state_dict(self) -> dict[str, Any]:
        return self.model.state_dict()

    def load_state_dict(self, state: dict[str, Any], updates: int) -> None:
        self.model.load_state_dict(state)
        self.updates = updates
