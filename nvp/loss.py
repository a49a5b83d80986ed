"""Maximum-likelihood objective, bits per dimension and the paper's L2 penalty (paper §4.1).

With ``z, sldj = model(x)`` on dequantized data ``x̃ ∈ [0, 1)^D``::

    log p(x̃) = log N(z; 0, I) + sldj,    log N(z; 0, I) = −½ Σ (z² + log 2π)

A dequantized image spreads the probability of one 8-bit image over a cube of side 1/256, so the
discrete probability is ``P(x) ≈ p(x̃) · 256^(−D)`` and::

    bits/dim = −log₂ P(x) / D = −(log N(z) + sldj) / (D ln 2) + 8
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn

NUM_BINS = 256  # 8-bit pixels


def gaussian_log_prob(z: torch.Tensor) -> torch.Tensor:
    """``log N(z; 0, I)`` per example, shape ``(B,)``."""
    return (-0.5 * (z.pow(2) + math.log(2 * math.pi))).flatten(1).sum(-1)


def nll(z: torch.Tensor, sldj: torch.Tensor) -> torch.Tensor:
    """Negative log-likelihood of the 8-bit images in nats, per example
    ``(B,)``: ``−(log N(z) + sldj) + D·log 256``."""
    d = z[0].numel()
    return -(gaussian_log_prob(z) + sldj) + d * math.log(NUM_BINS)


def bits_per_dim(z: torch.Tensor, sldj: torch.Tensor) -> torch.Tensor:
    """``nll / (D ln 2)`` per example ``(B,)``; includes the 8 bits of the
    1/256 bins."""
    return nll(z, sldj) / (z[0].numel() * math.log(2))


def weight_norm_scales(model: nn.Module) -> list[nn.Parameter]:
    """The magnitudes ``g`` of every weight-normalised layer
    (``w = g · v / ‖v‖``)."""
    return [p for name, p in model.named_parameters()
            if name.endswith("parametrizations.weight.original0")]


def l2_penalty(
    scales: nn.Module | Sequence[torch.Tensor], coefficient: float = 5e-5
) -> torch.Tensor:
    """``coefficient · Σ g²`` over the weight-norm scales only
    (paper §4.1: 5·10⁻⁵).

    ``scales``: a model (its scales are found with
    :func:`weight_norm_scales`) or that list, found once: a trainer passes
    the list, so every step is one reduction over all magnitudes instead of
    one per layer (hundreds of kernels on a GPU).
    """
    if isinstance(scales, nn.Module):
        scales = weight_norm_scales(scales)
    if not scales:
        return torch.zeros(())
    magnitudes = torch.cat([g.reshape(-1) for g in scales])
    return coefficient * magnitudes.square().sum()
