"""Dequantization, uniform or learned (Flow++: Ho et al. 2019, §3.1; chapter 9).

A flow has a *density* ``p(x̃)`` on continuous values; images are 8-bit. Dequantization fills
each pixel's bin with noise ``u ∈ [0, 1)^D``, ``x̃ = (255·x + u)/256`` (``x = k/255``), and the
probability of the 8-bit image is bounded below by (Jensen's inequality)::

    log P(x) = log E_q[p(x̃) / q(u | x)] − D log 256
            ≥ E_q[log p(x̃) − log q(u | x)] − D log 256                    (the bound)

* **uniform** (Theis et al. 2016; the paper, §4.1): ``q = U[0, 1)^D``, ``log q = 0``. The bound is
  loose by ``KL(q ‖ p(u | x))``: the flow is pushed to make its density flat inside every bin,
  which smooth maps do badly.
* **variational**: ``q(u | x)`` is itself a small flow conditioned on the image, trained with the
  model on the same bound. Every image gets noise shaped to where ``p`` puts its mass::

      u₀ ~ U(0, 1)^D,   ε = logit(u₀),   y = g(ε; x),   u = σ(y)
      log q(u | x) = −log|det ∂u/∂u₀| = −Σ_k Σ s_k − Σ log σ'(y) + Σ log σ'(ε)

  with ``g`` a few checkerboard :class:`~nvp.AffineCoupling` layers whose s/t networks also see
  the image, ``Σ s_k`` their log-determinants, and ``log σ'(a) = −softplus(a) − softplus(−a)``.
  The couplings start as the identity, so ``u = u₀`` and ``log q = 0``: the learned dequantizer
  starts as exactly the uniform one, and training moves it away only to raise the bound.

Both take the same uniform noise ``u₀`` (drawn by the caller, so a trainer can draw it once per
global batch) and return ``(x̃, log q(u | x))``, shape ``((B, C, H, W), (B,))``.
"""

from __future__ import annotations

import typing
from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

from .coupling import CHECKERBOARD, AffineCoupling
from .preprocess import dequantize

Dequantization = Literal["uniform", "variational"]
DEQUANTIZATIONS = typing.get_args(Dequantization)
# float32 ``torch.rand`` can return exactly 0, where logit is −∞; the clamp moves only that value
_TINY = 2.0**-24


def log_sigmoid_derivative(a: torch.Tensor) -> torch.Tensor:
    """``log σ'(a) = log σ(a) + log σ(−a) = −softplus(a) − softplus(−a)``, per example ``(B,)``."""
    return -(F.softplus(a) + F.softplus(-a)).flatten(1).sum(-1)


class UniformDequantizer(nn.Module):
    """``x̃ = (255·x + u₀)/256`` with ``log q = 0`` (no parameters)."""

    def forward(self, x: torch.Tensor, u0: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return dequantize(x, noise=u0), x.new_zeros(x.shape[0])


class VariationalDequantizer(nn.Module):
    """``q(u | x)``: uniform noise reshaped by a flow conditioned on the
    image (Flow++ §3.1).

    Args:
        in_channels: image channels.
        mid_channels: width of the s/t ResNets.
        num_blocks: residual blocks per s/t ResNet.
        num_couplings: checkerboard couplings (masks alternate).
    """

    def __init__(
        self,
        in_channels: int = 1,
        mid_channels: int = 16,
        num_blocks: int = 2,
        num_couplings: int = 4,
    ) -> None:
        super().__init__()
        self.couplings = nn.ModuleList(
            AffineCoupling(
                in_channels, mid_channels, num_blocks, CHECKERBOARD,
                reverse_mask=i % 2 == 1, context_channels=in_channels,
            )
            for i in range(num_couplings)
        )

    def flow(self, u: torch.Tensor, x: torch.Tensor, reverse: bool = False
             ) -> tuple[torch.Tensor, torch.Tensor]:
        """``u₀ -> (u, log|det ∂u/∂u₀|)`` given images ``x``.

        With ``reverse=True``: ``u -> (u₀, log|det ∂u₀/∂u|)``.
        """
        # the image, centred: what s and t condition on
        context = 2.0 * x - 1.0
        a = torch.logit(u)  # ε (forward) or y (reverse)
        ldj = -log_sigmoid_derivative(a)  # log ∂logit(u)/∂u = −log σ'(a)
        couplings = reversed(self.couplings) if reverse else self.couplings
        for coupling in couplings:
            a, ldj = coupling(a, ldj, reverse, context=context)
        ldj = ldj + log_sigmoid_derivative(a)  # log ∂σ(a)/∂a
        return torch.sigmoid(a), ldj

    def forward(
        self, x: torch.Tensor, u0: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        u, ldj = self.flow(u0.clamp(_TINY, 1.0 - _TINY), x)
        # log q(u | x) = −log|det ∂u/∂u₀|
        return dequantize(x, noise=u), -ldj


def make_dequantizer(kind: Dequantization, in_channels: int) -> nn.Module:
    """``"uniform"`` or ``"variational"``."""
    if kind == "uniform":
        return UniformDequantizer()
    if kind == "variational":
        return VariationalDequantizer(in_channels)
    raise ValueError(f"dequantization must be one of {DEQUANTIZATIONS}, got {kind!r}")
