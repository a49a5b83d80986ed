"""Image grids: many images ``(N, C, H, W)`` tiled into one picture."""

from __future__ import annotations

import math
import os

import numpy as np
import torch


def make_grid(x: torch.Tensor, nrow: int | None = None, padding: int = 2,
              pad_value: float = 1.0) -> np.ndarray:
    """Tile ``(N, C, H, W)`` images in ``[0, 1]`` into an ``(H', W')`` (C = 1) or ``(H', W', C)``
    float array; ``nrow`` images per row (default: a square-ish grid)."""
    if x.dim() != 4:
        raise ValueError(f"expected images (N, C, H, W), got shape {tuple(x.shape)}")
    n, c, h, w = x.shape
    nrow = nrow or math.ceil(math.sqrt(n))
    rows = math.ceil(n / nrow)
    grid = np.full((c, rows * (h + padding) + padding, nrow * (w + padding) + padding), pad_value,
                   dtype=np.float32)
    imgs = x.detach().float().cpu().clamp(0, 1).numpy()
    for k in range(n):
        r, col = divmod(k, nrow)
        top, left = padding + r * (h + padding), padding + col * (w + padding)
        grid[:, top:top + h, left:left + w] = imgs[k]
    return grid[0] if c == 1 else grid.transpose(1, 2, 0)  # (H', W') or (H', W', C)


def save_grid(x: torch.Tensor, path: str | os.PathLike, nrow: int | None = None) -> None:
    """Write :func:`make_grid` of ``x`` as a PNG."""
    import matplotlib.image

    grid = make_grid(x, nrow)
    matplotlib.image.imsave(path, grid, cmap="gray" if grid.ndim == 2 else None, vmin=0, vmax=1)
