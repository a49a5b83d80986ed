"""The one interface every invertible piece of Real NVP shares.

A flow maps ``(x, sldj) -> (y, sldj + log|det dy/dx|)``. With ``reverse=True`` it computes the
inverse and *subtracts* the log-determinant, so running a flow forward and then in reverse gives
back both ``x`` and the ``sldj`` you started with. ``sldj`` is the running *sum of log-determinants
of the Jacobian*, one number per example, shape ``(B,)``.

Composition adds log-determinants (chain rule, ``det(AB) = det(A) det(B)``), which is what
:class:`FlowSequence` does; its inverse runs the children in reverse order.
"""

from __future__ import annotations

import torch
from torch import nn


class Flow(nn.Module):
    """Base class: ``forward(x, sldj, reverse=False) -> (y, sldj)``."""

    def forward(
        self, x: torch.Tensor, sldj: torch.Tensor, reverse: bool = False
    ) -> tuple[torch.Tensor, torch.Tensor]:
        raise NotImplementedError


class FlowSequence(Flow):
    """Children applied in order; in reverse, the inverses applied in the
    opposite order.

    ``f = f_n ∘ … ∘ f_1``  ⇒  ``log|det J_f| = Σ_k log|det J_{f_k}|``.
    """

    def __init__(self, *flows: Flow) -> None:
        super().__init__()
        self.flows = nn.ModuleList(flows)

    def forward(
        self, x: torch.Tensor, sldj: torch.Tensor, reverse: bool = False,
        context: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """``context`` (conditional couplings only) is passed to every child."""
        flows = reversed(self.flows) if reverse else self.flows
        for flow in flows:
            if context is None:
                x, sldj = flow(x, sldj, reverse)
            else:
                x, sldj = flow(x, sldj, reverse, context=context)
        return x, sldj

    def __len__(self) -> int:
        return len(self.flows)

    def __getitem__(self, i: int) -> Flow:
        return self.flows[i]
