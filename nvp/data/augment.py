"""Data augmentation on batches of images."""

from __future__ import annotations

import torch


def random_hflip(x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """Flip each image of a batch left-right with probability 1/2.

    ``x`` has shape (N, C, H, W) (any shape whose first dimension is the batch and last
    dimension the width works). The coin flips are drawn in one call, so there is no
    Python loop over the images; pass a ``generator`` for reproducible flips. Returns a
    new tensor; ``x`` is not modified.
    """
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"x must be a torch.Tensor, got {type(x).__name__}")
    if x.dim() < 2:
        raise ValueError(f"x must be a batch of images (N, ..., W), got shape {tuple(x.shape)}")
    device = generator.device if generator is not None else x.device
    flip = torch.rand(x.shape[0], generator=generator, device=device) < 0.5
    flip = flip.to(x.device).view(-1, *([1] * (x.dim() - 1)))
    return torch.where(flip, x.flip(-1), x)
