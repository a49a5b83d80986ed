"""Pre-processing: uniform dequantization and the logit transform (paper §4.1).

Pixels are integers ``k / 255``. A continuous density on them can put unbounded mass on those
points, so we add uniform noise inside each of the 256 bins (Theis et al. 2016)::

    x̃ = (255·x + u) / 256,   u ~ U[0, 1)                         (dequantization)

The flow then models the logit of a slightly shrunk image, with data constraint β (0.9)::

    p = ((2x̃ − 1)·β + 1) / 2        ∈ [0.05, 0.95]   (keeps the logit away from ±∞)
    y = logit(p) = log p − log(1 − p)

Its Jacobian is diagonal, with ``∂y/∂x̃ = β / (p (1 − p))``. Since
``softplus(y) = −log(1 − p)`` and ``softplus(−y) = −log p``, and
``softplus(log(1 − β) − log β) = log(1/β) = −log β``::

    log ∂y/∂x̃ = softplus(y) + softplus(−y) − softplus(log(1 − β) − log β)

which is exactly what :class:`Logit` adds to ``sldj``.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from .flows import Flow


def dequantize(
    x: torch.Tensor,
    generator: torch.Generator | None = None,
    noise: torch.Tensor | None = None,
) -> torch.Tensor:
    """Uniform dequantization ``x̃ = (255·x + u) / 256``, ``u ~ U[0, 1)``.

    ``u = noise`` if given. ``x`` holds pixel values ``k/255``; each lands
    uniformly inside its bin ``[k/256, (k+1)/256)``. (In float32, ``u``
    just below 1 can round ``x̃`` up onto the bin's upper edge, at most 1.0;
    :class:`Logit` is finite on all of ``[0, 1]``, so this is harmless.)
    """
    u = (torch.rand(x.shape, generator=generator, dtype=x.dtype,
                    device=x.device)
         if noise is None else noise)
    return (x * 255.0 + u) / 256.0


class Logit(Flow):
    """``y = logit(((2x − 1)·β + 1)/2)`` with its exact log-determinant (paper §4.1).

    Args:
        data_constraint: β in (0, 1); the logit sees values in ``[(1 − β)/2, (1 + β)/2]``.
    """

    def __init__(self, data_constraint: float = 0.9) -> None:
        super().__init__()
        if not 0.0 < data_constraint < 1.0:
            raise ValueError(f"data_constraint must be in (0, 1), got {data_constraint}")
        self.data_constraint = float(data_constraint)
        # softplus(log(1 − β) − log β) = log(1/β), a constant per dimension
        beta = self.data_constraint
        self._log_inv_beta = math.log1p(math.exp(math.log(1 - beta) - math.log(beta)))

    def log_det(self, y: torch.Tensor) -> torch.Tensor:
        """``log|det ∂y/∂x̃|`` per example ``(B,)``, from the logits ``y``
        (paper §4.1)."""
        # log ∂y/∂x̃ per dimension: softplus(y) + softplus(−y) − log(1/β);
        # summed per example
        ldj = F.softplus(y) + F.softplus(-y) - self._log_inv_beta
        return ldj.flatten(1).sum(-1)

    def forward(
        self, x: torch.Tensor, sldj: torch.Tensor, reverse: bool = False
    ) -> tuple[torch.Tensor, torch.Tensor]:
        beta = self.data_constraint
        if reverse:
            y = x
            p = torch.sigmoid(y)
            # undo the data constraint β
            x = ((2.0 * p - 1.0) / beta + 1.0) / 2.0
            return x, sldj - self.log_det(y)
        p = ((2.0 * x - 1.0) * beta + 1.0) / 2.0  # ∈ [(1 − β)/2, (1 + β)/2]
        y = p.log() - (1.0 - p).log()
        return y, sldj + self.log_det(y)
