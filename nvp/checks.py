"""Input validation for the public entry points.

Every check runs before the model touches its input, so bad input never changes any state
(batch-norm running statistics included), and each message says what to do instead.
"""

from __future__ import annotations

import torch


def check_tensor(x: object, name: str = "x") -> torch.Tensor:
    """A floating-point tensor, or a ``TypeError`` that says how to get one."""
    if not isinstance(x, torch.Tensor):
        raise TypeError(
            f"{name} must be a torch.Tensor of shape (B, C, H, W), got {type(x).__name__}; "
            "convert with torch.as_tensor(...)"
        )
    if not x.is_floating_point():
        hint = " (divide uint8 images by 255)" if x.dtype == torch.uint8 else ""
        raise TypeError(f"{name} must be a floating-point tensor, got dtype {x.dtype}{hint}")
    return x


def check_shape(x: torch.Tensor, in_channels: int, factor: int, name: str = "x") -> None:
    """Shape ``(B, in_channels, H, W)`` with ``B ≥ 1`` and ``H, W`` multiples of ``factor``."""
    if x.dim() != 4:
        raise ValueError(
            f"{name} must have shape (B, C, H, W), got {tuple(x.shape)}; "
            "add a batch dimension with x.unsqueeze(0)" if x.dim() == 3 else
            f"{name} must have shape (B, C, H, W), got {tuple(x.shape)}"
        )
    b, c, h, w = x.shape
    if b == 0:
        raise ValueError(f"{name} is an empty batch (B = 0)")
    if c != in_channels:
        raise ValueError(f"{name} has {c} channels but the model was built for {in_channels}")
    if h % factor or w % factor or h == 0 or w == 0:
        raise ValueError(
            f"{name} has spatial size {h}×{w}, but this model squeezes it "
            f"{factor.bit_length() - 1} time(s), so height and width must be positive "
            f"multiples of {factor} "
            f"(e.g. {factor * 7}, {factor * 8}, {factor * 16}); pad or crop the images, "
            "or use fewer scales"
        )


def check_finite(x: torch.Tensor, name: str = "x") -> None:
    """No NaN or ±inf (one host sync)."""
    if not bool(torch.isfinite(x).all()):
        raise ValueError(f"{name} contains NaN or inf values")


def check_unit_interval(x: torch.Tensor, name: str = "x") -> None:
    """Values in ``[0, 1]`` and finite (one host sync; NaN fails every comparison)."""
    if not bool(((x >= 0) & (x <= 1)).all()):
        check_finite(x, name)
        lo, hi = x.min().item(), x.max().item()
        raise ValueError(
            f"{name} must hold pixel values in [0, 1], got values in [{lo:.4g}, {hi:.4g}]; "
            "divide 8-bit images by 255 (and undo any normalisation such as (x - mean) / std)"
        )


def check_noise(noise: object, x: torch.Tensor) -> None:
    """Dequantization noise: a float tensor of ``x``'s shape with values in ``[0, 1]``."""
    check_tensor(noise, "noise")
    if noise.shape != x.shape:
        raise ValueError(f"noise must have the shape of x, {tuple(x.shape)}, "
                         f"got {tuple(noise.shape)}")
    if not bool(((noise >= 0) & (noise <= 1)).all()):
        raise ValueError("noise must be uniform draws in [0, 1) (torch.rand), the same for "
                         "uniform and variational dequantization")
