"""Image grids for the command line: tile a batch into one array and write it as a PNG.

No plotting library: a PNG is a signature, an ``IHDR`` chunk (size, bit depth, colour type),
``IDAT`` chunks of zlib-compressed scanlines (each prefixed by its filter type, 0 = none) and an
``IEND`` chunk, each chunk ``length | type | data | CRC-32(type + data)`` (PNG specification,
W3C 2003, §5 and §11). ``nvp.book.plot`` re-exports both functions for the book.
"""

from __future__ import annotations

import math
import os
import struct
import zlib
from pathlib import Path

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


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_bytes(image: np.ndarray) -> bytes:
    """An 8-bit PNG of ``image`` in ``[0, 1]``: ``(H, W)`` grey or ``(H, W, 3)`` RGB."""
    if image.ndim == 2:
        colour_type = 0  # greyscale
    elif image.ndim == 3 and image.shape[2] == 3:
        colour_type = 2  # RGB
    else:
        raise ValueError(f"expected (H, W) or (H, W, 3), got shape {image.shape}")
    pixels = np.round(np.clip(image, 0.0, 1.0) * 255).astype(np.uint8)
    h, w = pixels.shape[:2]
    rows = pixels.reshape(h, -1)  # (H, W·channels)
    raw = np.concatenate([np.zeros((h, 1), np.uint8), rows], axis=1)  # filter byte 0 per row
    header = struct.pack(">IIBBBBB", w, h, 8, colour_type, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header)
            + _chunk(b"IDAT", zlib.compress(raw.tobytes(), 9)) + _chunk(b"IEND", b""))


def save_grid(x: torch.Tensor, path: str | os.PathLike, nrow: int | None = None) -> None:
    """Write :func:`make_grid` of ``x`` as a PNG (written whole, then renamed into place)."""
    path = Path(path)
    data = png_bytes(make_grid(x, nrow))
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)
