"""Held-out bits/dim, one path: per image, and :func:`evaluate` as their mean (paper §4.1).

An image's bits/dim is ``−log₂ P(x) / D``, bounded with dequantization noise ``u``::

    −log₂ P(x) / D ≤ −(log N(z; 0, I) + log|det ∂z/∂x̃| − log q(u | x)) / (D ln 2) + 8

(``log q = 0`` for uniform noise; :mod:`nvp.vardeq`). The noise comes from a seeded generator,
so numbers are comparable between epochs and between models; eval mode, restored after.
"""

from __future__ import annotations

import torch
from torch import nn

from ..loss import bits_per_dim
from ..testing import eval_mode


@torch.no_grad()
def image_bits_per_dim(
    model: nn.Module,
    data: torch.Tensor,
    draws: int = 1,
    seed: int = 0,
    batch_size: int = 500,
    device: torch.device | str | None = None,
) -> torch.Tensor:
    """Bits/dim of every image of ``data`` ``(N, C, H, W)`` (values ``k/255``), averaged over
    ``draws`` dequantization draws: ``(N,)`` float64 on the CPU.

    The noise is drawn on ``data``'s device from ``seed``; the model runs on ``device`` (default:
    the model's own).
    """
    device = torch.device(device) if device is not None else next(model.parameters()).device
    gen = torch.Generator(device=data.device).manual_seed(seed)
    total = torch.zeros(len(data), dtype=torch.float64)
    with eval_mode(model):
        for _ in range(draws):
            for i in range(0, len(data), batch_size):
                x = data[i:i + batch_size]  # (b, C, H, W)
                u = torch.rand(x.shape, generator=gen, dtype=x.dtype, device=x.device)
                z, sldj = model(x.to(device), noise=u.to(device))
                total[i:i + len(x)] += bits_per_dim(z, sldj).double().cpu()
    return total / draws


def evaluate(
    model: nn.Module,
    data: torch.Tensor,
    batch_size: int = 500,
    draws: int = 1,
    seed: int = 0,
    device: torch.device | str | None = None,
) -> float:
    """Mean bits/dim over ``data``: the mean of :func:`image_bits_per_dim`."""
    return image_bits_per_dim(model, data, draws, seed, batch_size, device).mean().item()
