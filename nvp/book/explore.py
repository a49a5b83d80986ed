"""Exploring a trained Real NVP through its latent space (paper §3.6, §4.2, App. D; chapter 8).

A Real NVP model is a bijection ``x ↔ z``, so every image has exactly one latent code and every
code one image. That makes the latent space easy to explore:

* :func:`encode` / :func:`decode`: ``z = f(x̃)`` and ``x̃ = f⁻¹(z)``, deterministic, in eval
  mode.
* :func:`sample_x_tilde` / :func:`quantize`: where to encode. The model was trained on dequantized
  images ``x̃ = (255·x + u)/256`` with ``u`` from its own dequantization ``q(u | x)`` (uniform,
  or learned: :mod:`nvp.vardeq`); those are the images whose codes it made look like
  ``N(0, I)``. The exact pixel values ``k/255`` sit at the edges of their bins, where the model
  was never trained, and their codes land far out. So the latent experiments encode ``x̃`` drawn
  from ``q``, and :func:`quantize` takes decoded images back to 8-bit values.
* :func:`interpolate`: decode points on a path between the codes of two images. The paper
  (§4.2, eq. 19, Figure 6) uses ``z(φ) = cos φ · z₀ + sin φ · z₁`` for ``φ ∈ [0, π/2]``: when
  ``z₀, z₁`` are independent ``N(0, I)`` draws, every point on that arc is again ``N(0, I)``,
  whereas the straight line ``(1 − t) z₀ + t z₁`` has variance ``(1 − t)² + t² < 1`` inside.
* :func:`resample_latents` / :func:`resample_scales`: the multi-scale architecture factors out
  half of the dimensions at each scale (paper §3.6; :func:`nvp.book.trace.latent_scales` says
  which entry leaves where). Keeping the latents of some scales and drawing the others afresh shows
  what each scale encodes (paper §3.6 and Appendix D).
* :func:`nearest_neighbours`: L2 nearest training images, to ask whether samples are copies.

Bits/dim of single images: :func:`nvp.image_bits_per_dim`. Rows of images in one figure:
:func:`nvp.book.plot.image_grid` with ``rows=True``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import torch

from ..mode import eval_mode
from ..model import RealNVP
from .trace import latent_scales


def _device(model: RealNVP) -> torch.device:
    return next(model.parameters()).device


@torch.no_grad()
def sample_x_tilde(model: RealNVP, x: torch.Tensor,
                   generator: torch.Generator | None = None) -> torch.Tensor:
    """``x̃ = (255·x + u)/256``, ``u`` drawn from the model's own
    dequantization ``q(u | x)``, in eval mode: images ``(N, C, H, W)``
    where the model was trained."""
    dev = _device(model)
    u0 = torch.rand(x.shape, generator=generator, dtype=x.dtype)  # U[0, 1)
    with eval_mode(model):
        x_tilde, _ = model.dequantizer(x.to(dev), u0.to(dev))
    return x_tilde.cpu()  # (N, C, H, W)


def quantize(x_tilde: torch.Tensor) -> torch.Tensor:
    """The 8-bit image ``k/255`` whose bin ``[k/256, (k+1)/256)`` holds
    ``x̃``: ``k = ⌊256·x̃⌋``."""
    return (x_tilde * 256).floor().clamp(0, 255) / 255


@torch.no_grad()
def encode(model: RealNVP, x: torch.Tensor, batch_size: int = 256) -> torch.Tensor:
    """``z = f(x)`` of images ``x`` ``(N, C, H, W)`` in ``[0, 1]``, without dequantization.

    Runs in eval mode (batch norm uses its running statistics) and restores the mode after.
    """
    return _batched(model, x, batch_size, dequantize=False)


@torch.no_grad()
def decode(model: RealNVP, z: torch.Tensor, batch_size: int = 256) -> torch.Tensor:
    """``x = f⁻¹(z)``: images ``(N, C, H, W)`` in ``[0, 1]`` (eval mode)."""
    return _batched(model, z, batch_size, reverse=True)


def _batched(model: RealNVP, x: torch.Tensor, batch_size: int, **kwargs: bool) -> torch.Tensor:
    """``model(x, **kwargs)[0]`` in batches, in eval mode (restored after), on the CPU."""
    with eval_mode(model):
        out = [model(x[i:i + batch_size].to(_device(model)), **kwargs)[0]
               for i in range(0, len(x), batch_size)]
    return torch.cat(out).cpu()  # (N, C, H, W)


def interpolate_latents(
    z0: torch.Tensor, z1: torch.Tensor, steps: int = 8, method: str = "arc"
) -> torch.Tensor:
    """``steps`` points from ``z0`` to ``z1``, both ends included:
    ``(steps, *z0.shape)``.

    ``method="arc"``: ``cos φ · z₀ + sin φ · z₁``, ``φ = t·π/2`` (paper
    eq. 19; keeps the variance of independent Gaussian codes at 1).
    ``method="linear"``: ``(1 − t) z₀ + t z₁``.
    """
    if z0.shape != z1.shape:
        raise ValueError(f"z0 and z1 must have the same shape, "
                         f"got {z0.shape} and {z1.shape}")
    if steps < 2:
        raise ValueError(f"steps must be at least 2, got {steps}")
    t = torch.linspace(0.0, 1.0, steps, dtype=z0.dtype, device=z0.device)
    if method == "arc":
        a, b = torch.cos(t * math.pi / 2), torch.sin(t * math.pi / 2)
    elif method == "linear":
        a, b = 1.0 - t, t
    else:
        raise ValueError(f"method must be 'arc' or 'linear', got {method!r}")
    # broadcast the weights over every entry of z
    shape = (steps,) + (1,) * z0.dim()
    return a.view(shape) * z0 + b.view(shape) * z1  # (steps, *z0.shape)


def interpolate(
    model: RealNVP, x0: torch.Tensor, x1: torch.Tensor, steps: int = 8, method: str = "arc",
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Decode ``steps`` points between the codes of images ``x0`` and ``x1`` (each ``(C, H, W)``),
    encoded from :func:`sample_x_tilde` (so the codes are where the prior lives).

    Returns ``(steps, C, H, W)`` in ``[0, 1]``; the ends quantize back to ``x0`` and ``x1``.
    """
    z = encode(model, sample_x_tilde(model, torch.stack((x0, x1)), generator))  # (2, C, H, W)
    return decode(model, interpolate_latents(z[0], z[1], steps, method))  # (steps, C, H, W)


def resample_latents(
    z: torch.Tensor,
    levels: torch.Tensor,
    scales: Iterable[int],
    n: int = 1,
    temperature: float = 1.0,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """``n`` copies of every code in ``z`` ``(B, C, H, W)``, the entries of
    ``scales`` redrawn: ``(B, n, C, H, W)``.

    ``z' = m ⊙ T·ε + (1 − m) ⊙ z``, ``ε ~ N(0, I)``, where the mask ``m``
    marks the entries whose level (``levels``, from
    :func:`nvp.book.trace.latent_scales`) is in ``scales``.
    """
    scales = sorted({int(s) for s in scales})
    chosen = torch.tensor(scales, dtype=levels.dtype)
    mask = torch.isin(levels, chosen)  # (C, H, W), True: redraw
    b = z.shape[0]
    z = z.unsqueeze(1).expand(b, n, *z.shape[1:])  # (B, n, C, H, W)
    eps = torch.randn(z.shape, generator=generator, dtype=z.dtype)
    eps = (eps * temperature).to(z.device)
    # the mask broadcasts over (B, n)
    return torch.where(mask.to(z.device), eps, z)


def resample_scales(
    model: RealNVP,
    x: torch.Tensor,
    scales: Iterable[int],
    n: int = 1,
    temperature: float = 1.0,
    generator: torch.Generator | None = None,
    levels: torch.Tensor | None = None,
) -> torch.Tensor:
    """Keep the latents of images ``x`` but those of ``scales``, which are
    redrawn ``n`` times: :func:`sample_x_tilde` (one draw per image), encode,
    :func:`resample_latents`, decode. Resampling the fine scale (0) and
    keeping the coarse one is the experiment of the paper's Appendix D.

    Args:
        x: images ``(B, C, H, W)`` in ``[0, 1]``.
        scales: indices in ``0 … num_scales − 1`` to resample (none: a
            plain reconstruction).
        levels: :func:`nvp.book.trace.latent_scales` of ``model`` for this
            image shape, if already computed (it is found again otherwise).

    Returns:
        ``(B, n, C, H, W)``: ``n`` variations of every image.
    """
    scales = sorted({int(s) for s in scales})
    if any(not 0 <= s < model.num_scales for s in scales):
        raise ValueError(f"scales must be in 0..{model.num_scales - 1}, "
                         f"got {scales}")
    if levels is None:
        levels = latent_scales(model, x.shape[1:])  # (C, H, W)
    z = encode(model, sample_x_tilde(model, x, generator))  # (B, C, H, W)
    z = resample_latents(z, levels, scales, n, temperature, generator)
    out = decode(model, z.flatten(0, 1))  # (B·n, C, H, W)
    return out.view(*z.shape[:2], *x.shape[1:])  # (B, n, C, H, W)


def nearest_neighbours(
    queries: torch.Tensor, data: torch.Tensor, k: int = 3, chunk: int = 4096
) -> tuple[torch.Tensor, torch.Tensor]:
    """The ``k`` nearest images of ``data`` to every query, by L2 distance.

    ``‖q − d‖² = ‖q‖² − 2 q·d + ‖d‖²``: one matrix product per chunk of
    ``data``, no Python loop over images. Returns ``(distances, indices)``,
    both ``(Q, k)``, nearest first.
    """
    q = queries.flatten(1).double()  # (Q, D)
    q_sq = q.pow(2).sum(1, keepdim=True)  # (Q, 1)
    best_d = q.new_full((len(q), 0), 0.0)  # (Q, 0): grows to (Q, k)
    best_i = torch.empty(len(q), 0, dtype=torch.long)
    for start in range(0, len(data), chunk):
        d = data[start:start + chunk].flatten(1).double()  # (N_c, D)
        dist = (q_sq - 2.0 * q @ d.T + d.pow(2).sum(1)).clamp_min(0.0).sqrt()
        index = torch.arange(start, start + len(d)).expand(len(q), -1)
        cand_d = torch.cat((best_d, dist), dim=1)  # (Q, k + N_c)
        cand_i = torch.cat((best_i, index), dim=1)  # (Q, k + N_c)
        best_d, pos = cand_d.topk(min(k, cand_d.shape[1]), dim=1,
                                  largest=False)  # (Q, k)
        best_i = cand_i.gather(1, pos)  # (Q, k)
    return best_d.float(), best_i
