"""The book's tiny demonstration model: the recipe of the shipped model, scaled down so that a
chapter trains it for a few dozen steps in seconds on a CPU (chapters 6 and 7)."""

from __future__ import annotations

from typing import Any

from ..training.config import Config

# What makes it tiny and plain, against nvp.Config()'s shipped recipe: 8 channels and one block
# (about 40 k parameters instead of 1.2 M), the paper's uniform noise, a constant rate, no weight
# averaging, float32 without the precision probe (its timing would vary the run).
TINY = dict(mid_channels=8, num_blocks=1, dequantization="uniform", lr_schedule="constant",
            ema=0.0, precision="fp32")


def tiny_config(**changes: Any) -> Config:
    """``nvp.Config`` of the tiny model (:data:`TINY`), with ``changes`` on top: a chapter
    says only what it changes, e.g. ``tiny_config(batch_size=16, validation=0)``."""
    return Config(**{**TINY, **changes})
