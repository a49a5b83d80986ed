"""Squeezing (paper §3.6, Figure 3) and the alternate ordering used before factoring out.

``squeeze`` turns each 2×2 spatial block into 4 channels: ``(B, C, H, W) -> (B, 4C, H/2, W/2)``.
Output channel ``4c + k`` holds the sub-image of input channel ``c`` at offset
``k = 2·dy + dx`` in every 2×2 block, so each new channel is a subsampled copy of the image.

``squeeze_alt`` uses the same blocks but orders the offsets ``(0,0), (1,1), (0,1), (1,0)`` and
groups channels by offset (``k·C + c``). Its first half of channels is then one colour of a
checkerboard of the original pixels and its second half the other colour: splitting it in two,
as the multi-scale architecture does, factors out a checkerboard of every channel.

Both are permutations of the entries, so ``log|det| = 0``.
"""

from __future__ import annotations

import torch

from .flows import Flow

# Offsets k = 2·dy + dx in the alternate order: (0,0), (1,1), (0,1), (1,0)
_ALT_ORDER = (0, 3, 1, 2)
_ALT_INVERSE = (0, 2, 3, 1)  # _ALT_INVERSE[_ALT_ORDER[i]] == i


def _reorder(x: torch.Tensor, order: tuple[int, ...]) -> torch.Tensor:
    """``x[:, order]`` as one stack of views: indexing with a tuple would build an index tensor
    from Python data, a host-to-device copy on a GPU, twice per training step."""
    return torch.stack([x[:, k] for k in order], dim=1)


def squeeze(x: torch.Tensor) -> torch.Tensor:
    """``(B, C, H, W) -> (B, 4C, H/2, W/2)``, channel ``4c + 2·dy + dx``."""
    b, c, h, w = x.shape
    x = x.view(b, c, h // 2, 2, w // 2, 2)  # (B, C, H/2, dy, W/2, dx)
    x = x.permute(0, 1, 3, 5, 2, 4)  # (B, C, dy, dx, H/2, W/2)
    return x.reshape(b, 4 * c, h // 2, w // 2)  # (B, 4C, H/2, W/2)


def unsqueeze(x: torch.Tensor) -> torch.Tensor:
    """Inverse of :func:`squeeze`: ``(B, 4C, H/2, W/2) -> (B, C, H, W)``."""
    b, c4, h, w = x.shape
    x = x.view(b, c4 // 4, 2, 2, h, w)  # (B, C, dy, dx, H/2, W/2)
    x = x.permute(0, 1, 4, 2, 5, 3)  # (B, C, H/2, dy, W/2, dx)
    return x.reshape(b, c4 // 4, 2 * h, 2 * w)  # (B, C, H, W)


def squeeze_alt(x: torch.Tensor) -> torch.Tensor:
    """``(B, C, H, W) -> (B, 4C, H/2, W/2)``, channels grouped by offset in the alternate order."""
    b, c, h, w = x.shape
    x = x.view(b, c, h // 2, 2, w // 2, 2)  # (B, C, H/2, dy, W/2, dx)
    x = x.permute(0, 3, 5, 1, 2, 4).reshape(b, 4, c, h // 2, w // 2)  # (B, k, C, H/2, W/2)
    x = _reorder(x, _ALT_ORDER)  # (B, k', C, H/2, W/2): offsets (0,0), (1,1), (0,1), (1,0)
    return x.reshape(b, 4 * c, h // 2, w // 2)  # (B, 4C, H/2, W/2)


def unsqueeze_alt(x: torch.Tensor) -> torch.Tensor:
    """Inverse of :func:`squeeze_alt`: ``(B, 4C, H/2, W/2) -> (B, C, H, W)``."""
    b, c4, h, w = x.shape
    c = c4 // 4
    x = _reorder(x.view(b, 4, c, h, w), _ALT_INVERSE)  # (B, k, C, H/2, W/2), k = 2·dy + dx
    x = x.view(b, 2, 2, c, h, w).permute(0, 3, 4, 1, 5, 2)  # (B, C, H/2, dy, W/2, dx)
    return x.reshape(b, c, 2 * h, 2 * w)  # (B, C, H, W)


class Squeeze(Flow):
    """:func:`squeeze` (or :func:`squeeze_alt`) as a flow; a permutation, so ``log|det| = 0``."""

    def __init__(self, alt_order: bool = False) -> None:
        super().__init__()
        self.alt_order = alt_order

    def forward(
        self, x: torch.Tensor, sldj: torch.Tensor, reverse: bool = False
    ) -> tuple[torch.Tensor, torch.Tensor]:
        if self.alt_order:
            return (unsqueeze_alt(x) if reverse else squeeze_alt(x)), sldj
        return (unsqueeze(x) if reverse else squeeze(x)), sldj
